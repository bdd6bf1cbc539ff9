import t from 'tap'
import { expandSlice, parseSystemdPath, SystemdManager, unitCgroupPath, unitName } from '../../../src/cgroups/systemd.js'
import type { CgroupManager } from '../../../src/cgroups/manager.js'

t.test('slice:prefix:name', async (t) => {
  t.same(parseSystemdPath('system.slice:docker:abc', 'x'), { slice: 'system.slice', prefix: 'docker', name: 'abc' })
  t.same(parseSystemdPath(':cri-containerd:abc', 'x'), { slice: 'system.slice', prefix: 'cri-containerd', name: 'abc' })
  t.same(parseSystemdPath('', 'id1'), { slice: 'system.slice', prefix: 'runt', name: 'id1' })
  t.throws(() => parseSystemdPath('/a/b', 'x'), {
    message:
      'linux.cgroupsPath: expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "/a/b" instead',
  })
  t.throws(() => parseSystemdPath('a.slice:p:', 'x'), { message: /unit name/ })
})

t.test('unit names and slice paths', async (t) => {
  t.equal(unitName({ slice: 's', prefix: 'docker', name: 'abc' }), 'docker-abc.scope')
  t.equal(unitName({ slice: 's', prefix: '', name: 'abc' }), 'abc.scope')
  t.equal(unitName({ slice: 's', prefix: 'p', name: 'my.slice' }), 'my.slice')
  t.equal(expandSlice('-.slice'), '/')
  t.equal(expandSlice('system.slice'), '/system.slice')
  t.equal(expandSlice('kubepods-burstable-pod1.slice'), '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice')
  for (const bad of ['a', '.slice', 'a--b.slice', '-a.slice', 'a/b.slice'])
    t.throws(() => expandSlice(bad), { message: `linux.cgroupsPath: invalid slice name: ${bad}` })
  t.equal(unitCgroupPath({ slice: 'a-b.slice', prefix: 'runt', name: 'c' }), '/a.slice/a-b.slice/runt-c.scope')
  t.equal(unitCgroupPath({ slice: '-.slice', prefix: 'runt', name: 'c' }), '/runt-c.scope')
})

t.test('without systemd: a clear error, nothing created', async (t) => {
  let created = false
  const fsm = { create: () => (created = true) } as unknown as CgroupManager
  const m = new SystemdManager({ slice: 'system.slice', prefix: 'runt', name: 'c' }, fsm, () => false)
  t.throws(() => m.create(), { message: /systemd is not running on this host/ })
  const up = new SystemdManager({ slice: 'system.slice', prefix: 'runt', name: 'c' }, fsm, () => true)
  t.throws(() => up.create(), { message: /runt-c\.scope in system\.slice over D-Bus is not implemented yet/ })
  t.notOk(created)
})

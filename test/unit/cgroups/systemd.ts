import t from 'tap'
import {
  expandSlice,
  inUnit,
  parseSystemdPath,
  startUnitArgs,
  stopUnitArgs,
  SystemdManager,
  unitCgroupPath,
  unitName,
} from '../../../src/cgroups/systemd.js'
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
  t.throws(() => m.create(42), { message: /systemd is not running on this host/ })
  t.notOk(created)
})

const UNIT = { slice: 'machine-a.slice', prefix: 'runt', name: 'c1' }

t.test('StartTransientUnit and StopUnit as busctl arguments', async (t) => {
  const bus = ['org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager']
  t.same(startUnitArgs(UNIT, 1234, 'runt container c1'), [
    'call', '--system', ...bus, 'StartTransientUnit', 'ssa(sv)a(sa(sv))', 'runt-c1.scope', 'fail',
    '5',
    'Description', 's', 'runt container c1',
    'Slice', 's', 'machine-a.slice',
    'Delegate', 'b', 'true',
    'DefaultDependencies', 'b', 'false',
    'PIDs', 'au', '1', '1234',
    '0',
  ]) // prettier-ignore
  t.same(stopUnitArgs(UNIT), ['call', '--system', ...bus, 'StopUnit', 'ss', 'runt-c1.scope', 'replace'])
})

t.test('inUnit reads /proc/<pid>/cgroup, v1 and v2', async (t) => {
  t.ok(inUnit('12:pids:/x\n1:name=systemd:/machine.slice/machine-a.slice/runt-c1.scope\n', UNIT))
  t.ok(inUnit('0::/machine.slice/machine-a.slice/runt-c1.scope\n', UNIT))
  t.notOk(inUnit('0::/machine.slice/machine-a.slice/runt-c1.scope/sub\n', UNIT))
  t.notOk(inUnit('0::/user.slice\n', UNIT))
})

/** A SystemdManager over fakes: busctl answers `answer`, the pid shows up after `moveAfter` polls. */
function fake(answer: { status: number; stderr?: string }, moveAfter = 2) {
  const calls: string[][] = []
  const log: string[] = []
  const fsm = {
    create: () => (log.push('fs create'), true),
    removeCreated: () => log.push('fs removeCreated'),
    destroy: () => log.push('fs destroy'),
  } as unknown as CgroupManager
  let polls = 0
  const m = new SystemdManager(
    UNIT,
    fsm,
    () => true,
    (args) => (calls.push(args), log.push(args[5]!), { status: answer.status, stdout: '', stderr: answer.stderr ?? '' }),
    () => (++polls > moveAfter ? '0::/machine.slice/machine-a.slice/runt-c1.scope\n' : '0::/runt/c1\n'),
    () => {},
  )
  return { m, calls, log, polls: () => polls }
}

t.test('create: directories, then the scope with the pid, then wait until systemd moved it', async (t) => {
  const f = fake({ status: 0 })
  t.equal(f.m.create(1234), true, 'what the cgroupfs driver created')
  t.same(f.log, ['fs create', 'StartTransientUnit'])
  t.equal(f.polls(), 3, 'polled until the pid was in the scope')
  t.match(f.calls[0], ['call', '--system'])
  f.m.destroy()
  t.same(f.log.slice(2), ['StopUnit', 'fs destroy'], 'destroy stops the unit, then removes what is left')
})

t.test('create: a failed StartTransientUnit says why and leaves nothing', async (t) => {
  const f = fake({ status: 1, stderr: 'Call failed: Access denied\n' })
  t.throws(() => f.m.create(1234), { message: '--systemd-cgroup: StartTransientUnit runt-c1.scope: Call failed: Access denied' })
  t.same(f.log, ['fs create', 'StartTransientUnit', 'fs removeCreated'], 'no StopUnit for a unit never started')
})

t.test('create: a pid systemd never moves is an error, and the unit is stopped', async (t) => {
  const f = fake({ status: 0 }, Infinity)
  t.throws(() => f.m.create(1234), { message: /did not move pid 1234 into runt-c1\.scope within 10 s/ })
  t.same(f.log, ['fs create', 'StartTransientUnit', 'StopUnit', 'fs removeCreated'])
  t.throws(() => f.m.create(), { message: /needs the pid/ })
})

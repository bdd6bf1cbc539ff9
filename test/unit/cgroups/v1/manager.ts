// The v1 driver against a temp-dir tree: creation (cpuset parents filled in, the unified
// hierarchy joined on hybrid hosts), joining, freezing, stats, kill and removal.

import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { newManager } from '../../../../src/cgroups/open.js'
import { V1Manager } from '../../../../src/cgroups/v1/manager.js'
import { CONTROLLERS, v1Host } from '../../../fixtures/fake-kernel.js'

t.test('create, join, freeze, kill, destroy', async (t) => {
  const { k, host } = v1Host(t.testdir({}), { hybrid: true })
  const m = newManager({ id: 'c1', cgroupsPath: '/pod/c1', systemd: false, host, io: k })
  const paths = m.paths()
  t.equal(paths.memory, path.join(k.root, 'memory/pod/c1'))
  t.equal(paths['name=systemd'], path.join(k.root, 'systemd/pod/c1'))
  t.equal(paths[''], path.join(k.root, 'unified/pod/c1'), 'hybrid: the unified hierarchy too')
  t.notOk(m.exists())
  t.equal(m.create(), true, 'created the leaf')
  t.equal(k.get('cpuset/pod/cpuset.cpus'), '0-3', 'cpuset parent filled from its parent')
  t.equal(k.get('cpuset/pod/c1/cpuset.mems'), '0')
  m.addPid(4242)
  t.same(m.pids(), [4242])
  t.equal(k.get('memory/pod/c1/cgroup.procs'), '4242\n')
  t.equal(k.get('unified/pod/c1/cgroup.procs'), '4242\n')

  m.freeze()
  t.ok(m.isFrozen())
  t.equal(k.get('freezer/pod/c1/freezer.state'), 'FROZEN')
  m.thaw()
  t.notOk(m.isFrozen())

  t.ok(m.killAll(), 'cgroup.kill in the unified hierarchy')
  t.same(k.writesTo('unified/pod/c1/cgroup.kill'), ['1'])

  // A second create over the same, populated cgroup is refused (runc).
  const again = newManager({ id: 'c1', cgroupsPath: '/pod/c1', systemd: false, host, io: k })
  t.throws(() => again.create(), { message: "container's cgroup is not empty: 1 process(es) found" })

  for (const c of [...CONTROLLERS, 'unified']) k.set(`${c.replace('name=', '')}/pod/c1/cgroup.procs`, '')
  m.destroy()
  t.notOk(fs.existsSync(path.join(k.root, 'memory/pod/c1')))
  t.notOk(fs.existsSync(path.join(k.root, 'unified/pod/c1')))
  t.ok(fs.existsSync(path.join(k.root, 'memory/pod')), 'parents stay (runc)')
})

t.test('reuse of an existing empty cgroup; a frozen one is refused', async (t) => {
  const { k, host } = v1Host(t.testdir({}))
  const first = newManager({ id: 'c', cgroupsPath: '/c', systemd: false, host, io: k })
  first.create()
  const second = newManager({ id: 'c', cgroupsPath: '/c', systemd: false, host, io: k })
  t.equal(second.create(), false, 'empty: reused, not ours')
  k.set('freezer/c/freezer.state', 'FROZEN')
  t.throws(() => newManager({ id: 'c', cgroupsPath: '/c', systemd: false, host, io: k }).create(), {
    message: "container's cgroup unexpectedly frozen",
  })
})

t.test('a failed create leaves nothing behind', async (t) => {
  const { k, host } = v1Host(t.testdir({}))
  k.failures.set('cpuset/a/cpuset.cpus', 'EACCES')
  const m = newManager({ id: 'c', cgroupsPath: '/a/b', systemd: false, host, io: k })
  t.throws(() => m.create(), { message: /linux.cgroupsPath: write "0-3" to .*cpuset\/a\/cpuset.cpus: permission denied/ })
  for (const c of CONTROLLERS) t.notOk(fs.existsSync(path.join(k.root, c.replace('name=', ''), 'a')), `${c} cleaned`)
  // removeCreated after a successful create, with a process that already left
  const ok = newManager({ id: 'c', cgroupsPath: '/x/y', systemd: false, host, io: k })
  ok.create()
  ok.removeCreated()
  t.notOk(fs.existsSync(path.join(k.root, 'memory/x')), 'parents it made are removed too')
})

t.test('from recorded paths; stats', async (t) => {
  const { k, host } = v1Host(t.testdir({}))
  const m = newManager({ id: 'c', cgroupsPath: '/c', systemd: false, host, io: k, hugePageSizes: () => ['2MB'] })
  m.create()
  k.set('pids/c/pids.current', '3')
  const rec = V1Manager.fromPaths(m.paths(), k, () => ['2MB'])
  t.same(rec.paths(), m.paths())
  t.ok(rec.exists())
  const s = rec.stats()
  t.equal(s.cpu.usage.total, 5000n)
  t.same(s.cpu.usage.percpu, [3000n, 2000n])
  t.same(s.cpu.usage.percpuUser, [2000n, 1500n])
  t.same(s.cpu.usage.percpuKernel, [1000n, 500n])
  t.equal(s.cpu.usage.user, 100_000_000n, '10 ticks of 10 ms')
  t.equal(s.cpu.usage.kernel, 50_000_000n)
  t.same(s.cpu.throttling, { periods: 10n, throttledPeriods: 2n, throttledTime: 3000n })
  t.same(s.cpuset.cpus, [0, 1, 2, 3])
  t.equal(s.cpuset.schedRelaxDomainLevel, -1n)
  t.same(s.memory.usage, { usage: 1000n, max: 2000n, failcnt: 0n, limit: 9223372036854771712n })
  t.equal(s.memory.swap.usage, 1500n)
  t.equal(s.memory.cache, 4096n)
  t.equal(s.memory.raw.get('rss'), 8192n)
  t.same(s.pids, { current: 3n, limit: 0n }, '"max" reads as 0')
  t.same(s.blkio.ioServiceBytesRecursive, [
    { major: 8n, minor: 0n, op: 'Read', value: 4096n },
    { major: 8n, minor: 0n, op: 'Write', value: 8192n },
  ])
  t.same(s.hugetlb.get('2MB'), { usage: 0n, max: 0n, failcnt: 0n })
  t.equal(rec.oomKills(), 0n)
  k.set('memory/c/memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n')
  t.equal(rec.oomKills(), 2n)
  t.notOk(rec.killAll(), 'no cgroup.kill without a unified hierarchy')
})

t.test('no freezer mounted', async (t) => {
  const { k, host } = v1Host(t.testdir({}), { controllers: ['memory', 'devices'] })
  const m = newManager({ id: 'c', cgroupsPath: '/c', systemd: false, host, io: k })
  m.create()
  t.notOk(m.isFrozen())
  t.throws(() => m.freeze(), { message: 'the freezer cgroup controller is not available on this host' })
})

// The v2 driver against a temp-dir tree: controllers enabled on the way down, cgroup.type
// checks, joining, freezing through cgroup.freeze/cgroup.events, kill, stats and removal.

import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { newManager, managerFromRecord } from '../../../../src/cgroups/open.js'
import { statsJson, encodeJson } from '../../../../src/cgroups/stats.js'
import { v2Host } from '../../../fixtures/fake-kernel.js'

t.test('create enables every controller down to the leaf', async (t) => {
  const { k, host, mp } = v2Host(t.testdir({}))
  const m = newManager({ id: 'c1', cgroupsPath: '/kubepods/pod1/c1', systemd: false, host, io: k })
  t.same(m.paths(), { '': path.join(mp, 'kubepods/pod1/c1') })
  t.equal(m.create(), true)
  const enabled = '+cpuset +cpu +io +memory +hugetlb +pids +rdma'
  t.same(k.writesTo('cg/cgroup.subtree_control'), [enabled], 'in the root')
  t.same(k.writesTo('cg/kubepods/cgroup.subtree_control'), [enabled])
  t.same(k.writesTo('cg/kubepods/pod1/cgroup.subtree_control'), [enabled])
  t.same(k.writesTo('cg/kubepods/pod1/c1/cgroup.subtree_control'), [], 'not in the leaf (it holds the processes)')
  t.equal(k.get('cg/kubepods/pod1/c1/cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma')

  m.addPid(77)
  t.same(m.pids(), [77])
  m.freeze()
  t.ok(m.isFrozen())
  t.match(k.get('cg/kubepods/pod1/c1/cgroup.events'), /frozen 1/)
  m.thaw()
  t.notOk(m.isFrozen())
  t.ok(m.killAll())
  t.same(k.writesTo('cg/kubepods/pod1/c1/cgroup.kill'), ['1'])

  const rec = managerFromRecord({ cgroupPaths: m.paths() }, k)!
  t.equal(rec.kind, 'v2')
  t.same(rec.pids(), [77])
  k.set('cg/kubepods/pod1/c1/cgroup.procs', '')
  fs.mkdirSync(path.join(mp, 'kubepods/pod1/c1/sub'))
  rec.destroy()
  t.notOk(fs.existsSync(path.join(mp, 'kubepods/pod1/c1')), 'removed with its sub-cgroups')
  t.ok(fs.existsSync(path.join(mp, 'kubepods/pod1')))
})

t.test('relative and default paths; a cgroup in a threaded subtree', async (t) => {
  const { k, host, mp } = v2Host(t.testdir({}))
  t.same(newManager({ id: 'c', cgroupsPath: 'mine/c', systemd: false, host, io: k }).paths(), {
    '': path.join(mp, 'user.slice/mine/c'),
  })
  t.same(newManager({ id: 'c', systemd: false, host, io: k }).paths(), { '': path.join(mp, 'runt/c') })
  fs.mkdirSync(path.join(mp, 'th'))
  fs.writeFileSync(path.join(mp, 'th/cgroup.type'), 'threaded')
  fs.writeFileSync(path.join(mp, 'th/cgroup.subtree_control'), '')
  fs.writeFileSync(path.join(mp, 'th/cgroup.controllers'), '')
  const m = newManager({ id: 'c', cgroupsPath: '/th/c', systemd: false, host, io: k })
  t.throws(() => m.create(), {
    message: /^linux.cgroupsPath: cannot enter cgroupv2 .*\/th with domain controllers -- it is in threaded mode$/,
  })
  t.notOk(fs.existsSync(path.join(mp, 'th/c')))
})

t.test('a controller the kernel will not enable is reported when needed', async (t) => {
  const { k, host } = v2Host(t.testdir({}))
  const orig = k.write.bind(k)
  k.write = (f, d) => {
    if (f.endsWith('cg/cgroup.subtree_control') && d.includes('memory')) throw Object.assign(new Error('x'), { code: 'EBUSY' })
    orig(f, d)
  }
  const m = newManager({ id: 'c', cgroupsPath: '/c', systemd: false, host, io: k })
  m.create()
  t.throws(() => m.apply({ memory: { limit: 1 << 20 } }, { devices: null, update: false }), {
    message:
      /^linux.resources.memory: the memory controller is not enabled for .*\/cg\/c \(available: cpuset cpu io hugetlb pids rdma\)$/,
  })
})

t.test('stats in runc shape', async (t) => {
  const { k, host } = v2Host(t.testdir({}))
  const m = newManager({ id: 'c', cgroupsPath: '/c', systemd: false, host, io: k, hugePageSizes: () => ['2MB', '1GB'] })
  m.create()
  k.set('cg/c/memory.max', '1048576')
  k.set('cg/c/memory.swap.max', 'max')
  k.set('cg/c/memory.swap.current', '100')
  k.set('cg/c/memory.events', 'max 3\noom 1\noom_kill 1\n')
  k.set('cg/c/pids.max', '64')
  k.set('cg/c/memory.pressure', 'some avg10=1.25 avg60=0.00 avg300=0.00 total=5\n')
  const s = m.stats()
  t.same(s.cpu.usage, { total: 300_000n, percpu: [], percpuKernel: [], percpuUser: [], kernel: 100_000n, user: 200_000n })
  t.same(s.cpu.throttling, { periods: 4n, throttledPeriods: 1n, throttledTime: 7000n })
  t.equal(s.cpu.psi?.some.avg10, 0.5)
  t.same(s.memory.usage, { usage: 4096n, limit: 1048576n, max: 8192n, failcnt: 3n })
  t.same(s.memory.swap, { usage: 4196n, limit: (1n << 64n) - 1n, max: 0n, failcnt: 0n }, 'v1-style memory+swap')
  t.equal(s.memory.cache, 8192n, 'file pages')
  t.same(s.pids, { current: 1n, limit: 64n })
  t.same(s.blkio.ioServiceBytesRecursive, [
    { major: 8n, minor: 0n, op: 'Read', value: 4096n },
    { major: 8n, minor: 0n, op: 'Write', value: 8192n },
  ])
  t.same(
    s.blkio.ioServicedRecursive.map((e) => e.value),
    [1n, 2n],
  )
  t.same([...s.hugetlb.keys()], ['2MB'], 'only sizes with files')
  t.same(s.cpuset.cpus, [0, 1])
  t.equal(m.oomKills(), 1n)
  const json = encodeJson(statsJson(s))
  t.match(
    json,
    /"memory":\{"cache":8192,"usage":\{"limit":1048576,"usage":4096,"max":8192,"failcnt":3\},"swap":\{"limit":18446744073709551615,"usage":4196,"failcnt":0\}/,
  )
  t.match(json, /"psi":\{"some":\{"avg10":1.25,"avg60":0,"avg300":0,"total":5\}/)
})

// Every linux.resources field on cgroup v1, against a temp-dir tree: the files written, their
// order where it matters, and the errors naming the field.

import t, { type Test } from 'tap'
import { newManager } from '../../../../src/cgroups/open.js'
import type { LinuxResources } from '../../../../src/spec/schema.js'
import { captureWarnings, v1Host } from '../../../fixtures/fake-kernel.js'

const warnings = captureWarnings()

function setup(t: Test, controllers?: string[]) {
  const { k, host } = v1Host(t.testdir({}), controllers ? { controllers } : {})
  const m = newManager({ id: 'c', cgroupsPath: '/c', systemd: false, host, io: k })
  m.create()
  k.writes = []
  const apply = (r: LinuxResources) => m.apply(r, { devices: null, update: false })
  return { k, m, apply }
}

t.test('memory: useHierarchy', async (t) => {
  const { k, apply } = setup(t)
  apply({ memory: { useHierarchy: true } })
  t.same(k.writesTo('memory/c/memory.use_hierarchy'), ['1'], 'written, alone enough to need the memory controller')
  k.failures.set('memory/c/memory.use_hierarchy', 'EINVAL')
  t.throws(() => apply({ memory: { useHierarchy: false } }), {
    message: /^linux.resources.memory.useHierarchy: this kernel does not allow non-hierarchical memory accounting in /,
  })
  k.failures.set('memory/c/memory.use_hierarchy', 'EBUSY')
  t.throws(() => apply({ memory: { useHierarchy: true } }), {
    message: /^linux.resources.memory.useHierarchy: write "1" to .*memory.use_hierarchy: /,
  })
})

t.test('memory', async (t) => {
  const { k, apply } = setup(t)
  apply({ memory: { limit: 100 << 20, reservation: 50 << 20, swap: 200 << 20, swappiness: 10, disableOOMKiller: true } })
  t.same(
    k.writes.map((w) => `${w.file}=${w.data}`),
    [
      'memory/c/memory.limit_in_bytes=104857600',
      'memory/c/memory.memsw.limit_in_bytes=209715200',
      'memory/c/memory.soft_limit_in_bytes=52428800',
      'memory/c/memory.oom_control=1',
      'memory/c/memory.swappiness=10',
    ],
    'the current limit (unlimited) is above the new swap: memory first',
  )
  k.writes = []
  k.set('memory/c/memory.limit_in_bytes', String(100 << 20))
  apply({ memory: { limit: 300 << 20, swap: 400 << 20 } })
  t.same(
    k.writes.map((w) => w.file.split('/').pop()),
    ['memory.memsw.limit_in_bytes', 'memory.limit_in_bytes'],
    'growing: swap first',
  )
  k.writes = []
  apply({ memory: { limit: -1 } })
  t.same(
    k.writes.map((w) => `${w.file.split('/').pop()}=${w.data}`),
    ['memory.memsw.limit_in_bytes=-1', 'memory.limit_in_bytes=-1'],
    'unlimited memory: unlimited swap',
  )
  t.throws(() => apply({ memory: { swappiness: 101 } }), {
    message: 'linux.resources.memory.swappiness: invalid memory swappiness value: 101 (valid range is 0-100)',
  })
  k.failures.set('memory/c/memory.limit_in_bytes', 'EBUSY')
  t.throws(() => apply({ memory: { limit: 4096 } }), {
    message: 'linux.resources.memory.limit: unable to set memory limit to 4096 (current usage: 1000, peak usage: 2000)',
  })
  k.failures.set('memory/c/memory.soft_limit_in_bytes', 'EINVAL')
  t.throws(() => apply({ memory: { reservation: 5 } }), {
    message: /^linux.resources.memory.reservation: write "5" to .*memory.soft_limit_in_bytes: invalid argument$/,
  })
})

t.test('memory: kernel limits and a kernel without swap accounting', async (t) => {
  const { k, apply } = setup(t)
  warnings.length = 0
  apply({ memory: { kernel: 1 << 20, kernelTCP: 1 << 20 } })
  t.same(k.writesTo('memory/c/memory.kmem.limit_in_bytes'), ['1048576'])
  t.same(warnings, [], 'the file took the value')
  k.set('memory/c/memory.kmem.limit_in_bytes', '9223372036854771712')
  const fs = await import('node:fs')
  // A kernel that accepts the write and ignores it:
  const origWrite = k.write.bind(k)
  k.write = (file, data) => {
    if (!file.endsWith('memory.kmem.limit_in_bytes')) origWrite(file, data)
  }
  apply({ memory: { kernel: 1 << 20 } })
  t.match(warnings[0], /linux.resources.memory.kernel: the kernel accepted memory.kmem.limit_in_bytes but does not enforce it/)
  k.write = origWrite
  fs.rmSync(`${k.root}/memory/c/memory.kmem.tcp.limit_in_bytes`)
  apply({ memory: { kernelTCP: 1 << 20 } })
  t.match(warnings.at(-1), /kernelTCP: memory.kmem.tcp.limit_in_bytes is not supported by this kernel; ignored/)
  fs.rmSync(`${k.root}/memory/c/memory.memsw.limit_in_bytes`)
  t.throws(() => apply({ memory: { limit: 100, swap: 200 } }), {
    message: /^linux.resources.memory.swap: swap limits are not supported/,
  })
})

t.test('cpu and cpuset', async (t) => {
  const { k, apply } = setup(t)
  apply({
    cpu: {
      shares: 512,
      quota: 50000,
      period: 100000,
      burst: 1000,
      realtimeRuntime: 950000,
      realtimePeriod: 1000000,
      idle: 1,
      cpus: '0-1',
      mems: '0',
    },
  })
  t.same(
    k.writes.map((w) => `${w.file}=${w.data}`),
    [
      'cpuset/c/cpuset.cpus=0-1',
      'cpuset/c/cpuset.mems=0',
      'cpu/c/cpu.shares=512',
      'cpu/c/cpu.cfs_period_us=100000',
      'cpu/c/cpu.cfs_burst_us=1000',
      'cpu/c/cpu.cfs_quota_us=50000',
      'cpu/c/cpu.idle=1',
      'cpu/c/cpu.rt_period_us=1000000',
      'cpu/c/cpu.rt_runtime_us=950000',
    ],
  )
  k.writes = []
  k.failures.set('cpu/c/cpu.cfs_period_us', 'EINVAL')
  apply({ cpu: { quota: 10000, period: 20000 } })
  t.same(
    k.writes.map((w) => w.file.split('/').pop()),
    ['cpu.cfs_quota_us', 'cpu.cfs_period_us'],
    'period retried after quota',
  )
  k.writes = []
  k.failures.set('cpu/c/cpu.rt_period_us', 'EINVAL')
  apply({ cpu: { realtimeRuntime: 1000, realtimePeriod: 2000 } })
  t.same(
    k.writes.map((w) => w.file.split('/').pop()),
    ['cpu.rt_runtime_us', 'cpu.rt_period_us'],
    'rt period retried after runtime',
  )
  k.failures.set('cpu/c/cpu.cfs_period_us', 'EINVAL')
  t.throws(() => apply({ cpu: { period: 20000 } }), { message: /linux.resources.cpu.period: write "20000" .*invalid argument/ })
  // The kernel clamps shares: say so.
  const orig = k.write.bind(k)
  k.write = (f, d) => orig(f, f.endsWith('cpu.shares') ? '262144' : d)
  t.throws(() => apply({ cpu: { shares: 1 << 20 } }), {
    message: 'linux.resources.cpu.shares: the maximum allowed cpu-shares is 262144',
  })
  k.write = (f, d) => orig(f, f.endsWith('cpu.shares') ? '2' : d)
  t.throws(() => apply({ cpu: { shares: 1 } }), { message: 'linux.resources.cpu.shares: the minimum allowed cpu-shares is 2' })
})

t.test('pids, blkio, hugetlb, network, rdma', async (t) => {
  const { k, apply } = setup(t)
  apply({
    pids: { limit: 0 },
    blockIO: {
      weight: 500,
      leafWeight: 300,
      weightDevice: [{ major: 8, minor: 0, weight: 600, leafWeight: 200 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
      throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 2097152 }],
      throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
      throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 200 }],
    },
    hugepageLimits: [{ pageSize: '2MB', limit: 4 << 21 }],
    network: {
      classID: 0x100001,
      priorities: [
        { name: 'eth0', priority: 5 },
        { name: 'lo', priority: 1 },
      ],
    },
    rdma: { mlx4_0: { hcaHandles: 2, hcaObjects: 2000 } },
  })
  t.same(
    k.writes.map((w) => `${w.file}=${w.data}`),
    [
      'pids/c/pids.max=0',
      'blkio/c/blkio.bfq.weight=500',
      'blkio/c/blkio.leaf_weight=300',
      'blkio/c/blkio.bfq.weight_device=8:0 600',
      'blkio/c/blkio.leaf_weight_device=8:0 200',
      'blkio/c/blkio.throttle.read_bps_device=8:0 1048576',
      'blkio/c/blkio.throttle.write_bps_device=8:0 2097152',
      'blkio/c/blkio.throttle.read_iops_device=8:0 100',
      'blkio/c/blkio.throttle.write_iops_device=8:16 200',
      'hugetlb/c/hugetlb.2MB.limit_in_bytes=8388608',
      'hugetlb/c/hugetlb.2MB.rsvd.limit_in_bytes=8388608',
      'net_cls/c/net_cls.classid=1048577',
      'net_prio/c/net_prio.ifpriomap=eth0 5',
      'net_prio/c/net_prio.ifpriomap=lo 1',
      'rdma/c/rdma.max=mlx4_0 hca_handle=2 hca_object=2000',
    ],
  )
  k.writes = []
  apply({ pids: { limit: -1 } })
  t.same(k.writesTo('pids/c/pids.max'), ['max'])
  const fs = await import('node:fs')
  fs.writeFileSync(`${k.root}/blkio/c/blkio.weight`, '500')
  fs.writeFileSync(`${k.root}/blkio/c/blkio.weight_device`, '')
  k.writes = []
  apply({ blockIO: { weight: 200, weightDevice: [{ major: 8, minor: 0, weight: 100 }] } })
  t.same(
    k.writes.map((w) => w.file.split('/').pop()),
    ['blkio.weight', 'blkio.weight_device'],
    'CFQ files when present',
  )
  fs.rmSync(`${k.root}/hugetlb/c/hugetlb.2MB.rsvd.limit_in_bytes`)
  k.writes = []
  apply({ hugepageLimits: [{ pageSize: '2MB', limit: 0 }] })
  t.same(
    k.writes.map((w) => w.file.split('/').pop()),
    ['hugetlb.2MB.limit_in_bytes'],
    'no rsvd file: skipped',
  )
  t.throws(() => apply({ hugepageLimits: [{ pageSize: '3MB', limit: 0 }] }), {
    message: /^linux.resources.hugepageLimits\[0\]: hugetlb.3MB.limit_in_bytes does not exist in/,
  })
})

t.test('what the host cannot do is an error naming the field', async (t) => {
  const { apply } = setup(t, ['cpu', 'memory', 'devices', 'blkio'])
  t.throws(() => apply({ unified: { 'memory.high': '1' } }), {
    message: /^linux.resources.unified: cannot use unified on cgroup v1/,
  })
  t.throws(() => apply({ pids: { limit: 10 } }), {
    message: 'linux.resources.pids.limit: the pids cgroup controller is not available on this host (not mounted)',
  })
  t.throws(() => apply({ hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }), {
    message: /^linux.resources.hugepageLimits: the hugetlb/,
  })
  t.throws(() => apply({ network: { classID: 1 } }), { message: /^linux.resources.network.classID: the net_cls/ })
  t.throws(() => apply({ network: { priorities: [{ name: 'lo', priority: 1 }] } }), {
    message: /^linux.resources.network.priorities: the net_prio/,
  })
  t.throws(() => apply({ rdma: { x: { hcaHandles: 1 } } }), { message: /^linux.resources.rdma: the rdma/ })
  t.throws(() => apply({ cpu: { cpus: '0' } }), { message: /^linux.resources.cpu.cpus: the cpuset/ })
  const fs = await import('node:fs')
  const { k, apply: apply2 } = setup(t)
  fs.rmSync(`${k.root}/blkio/c/blkio.bfq.weight`)
  t.throws(() => apply2({ blockIO: { weight: 100 } }), {
    message: /^linux.resources.blockIO.weight: neither blkio.weight nor blkio.bfq.weight exists/,
  })
})

t.test('devices: applied on create, left alone on update', async (t) => {
  const { k, m } = setup(t)
  m.apply(
    {},
    {
      devices: [
        { type: 'a', major: -1, minor: -1, access: 'rwm', allow: false },
        { type: 'c', major: 1, minor: 3, access: 'rwm', allow: true },
      ],
      update: false,
    },
  )
  t.same(
    k.writes.map((w) => `${w.file.split('/').pop()} ${w.data}`),
    ['devices.deny a *:* rwm', 'devices.allow c 1:3 rwm'],
  )
  k.writes = []
  m.apply({}, { devices: null, update: true })
  t.same(k.writes, [])
})

t.test('realtime: budgets of the parents runt made grow to fit', async (t) => {
  const { k, host } = v1Host(t.testdir({}))
  const m = newManager({ id: 'c1', systemd: false, host, io: k })
  m.create()
  m.apply({ cpu: { realtimeRuntime: 10000, realtimePeriod: 1000000 } }, { devices: null, update: false })
  t.equal(k.get('cpu/runt/cpu.rt_runtime_us'), '10000', 'the default parent got a budget')
  t.equal(k.get('cpu/runt/c1/cpu.rt_runtime_us'), '10000')
  const m2 = newManager({ id: 'c2', systemd: false, host, io: k })
  m2.create()
  m2.apply({ cpu: { realtimeRuntime: 20000 } }, { devices: null, update: false })
  t.equal(k.get('cpu/runt/cpu.rt_runtime_us'), '30000', 'grown by what the new container needs')
  t.equal(k.get('cpu/runt/c2/cpu.rt_runtime_us'), '20000')

  // A parent runt did not make keeps its budget: the error says which.
  const fs = await import('node:fs')
  fs.mkdirSync(`${k.root}/cpu/theirs`)
  fs.writeFileSync(`${k.root}/cpu/theirs/cpu.rt_runtime_us`, '0')
  const m3 = newManager({ id: 'c3', cgroupsPath: '/theirs/c3', systemd: false, host, io: k })
  m3.create()
  t.throws(() => m3.apply({ cpu: { realtimeRuntime: 1000 } }, { devices: null, update: false }), {
    message:
      /^linux.resources.cpu.realtimeRuntime: write "1000" to .*theirs\/c3\/cpu.rt_runtime_us: invalid argument \(the realtime budget of .*\/cpu\/theirs, 0 us, must cover all its children's\)$/,
  })
  t.throws(
    () => m.apply({ cpu: { realtimeRuntime: 2000000 } }, { devices: null, update: false }),
    {
      message: /invalid argument \(the realtime budget of .*\/cpu\/runt, 30000 us/,
    },
    'beyond what the root has',
  )
})

// Every linux.resources field on cgroup v2, against a temp-dir tree: the v1-to-v2 conversions
// runc makes, the files and their order, errors naming the field, warnings where runc ignores.

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import { newManager } from '../../../../src/cgroups/open.js'
import type { LinuxResources } from '../../../../src/spec/schema.js'
import type { BpfOps } from '../../../../src/cgroups/devices/apply.js'
import { captureWarnings, v2Host } from '../../../fixtures/fake-kernel.js'

const warnings = captureWarnings()

function setup(t: Test, controllers?: string[]) {
  const { k, host } = v2Host(t.testdir({}), controllers)
  const bpfCalls: string[] = []
  const bpf: BpfOps = {
    openDir: () => 3,
    close: () => {},
    load: (insns) => (bpfCalls.push(`load ${insns.length / 8}`), 4),
    query: () => [],
    attach: () => void bpfCalls.push('attach'),
    detachId: () => {},
  }
  const m = newManager({ id: 'c', cgroupsPath: '/c', systemd: false, host, io: k, bpf: () => bpf })
  m.create()
  k.writes = []
  const apply = (r: LinuxResources, update = false) => m.apply(r, { devices: null, update })
  const seq = () => k.writes.map((w) => `${w.file.replace('cg/c/', '')}=${w.data}`)
  return { k, m, apply, seq, bpfCalls }
}

t.test('memory: limit, reservation, memory+swap converted', async (t) => {
  const { k, apply, seq } = setup(t)
  apply({ memory: { limit: 100, reservation: 50, swap: 300 } })
  t.same(seq(), ['memory.swap.max=200', 'memory.max=100', 'memory.low=50'])
  k.writes = []
  apply({ memory: { limit: -1 } })
  t.same(seq(), ['memory.swap.max=max', 'memory.max=max'], 'unlimited memory: unlimited swap')
  k.writes = []
  apply({ memory: { limit: 100, swap: 100 } })
  t.same(seq(), ['memory.swap.max=0', 'memory.max=100'], 'equal: swap off')
  t.throws(() => apply({ memory: { swap: 100 } }), {
    message: 'linux.resources.memory.swap: unable to set swap limit without memory limit',
  })
  fs.rmSync(`${k.root}/cg/c/memory.swap.max`)
  k.writes = []
  apply({ memory: { limit: 100, swap: 100 } })
  t.same(seq(), ['memory.max=100'], 'no swap accounting: "0" is already true')
  t.throws(() => apply({ memory: { limit: 100, swap: 200 } }), {
    message: /^linux.resources.memory.swap: memory.swap.max does not exist/,
  })
})

t.test('memory: checkBeforeUpdate, and what v2 ignores', async (t) => {
  const { k, apply } = setup(t)
  t.throws(() => apply({ memory: { limit: 4096, checkBeforeUpdate: true } }, true), {
    message: 'linux.resources.memory.limit: rejecting memory limit 4096 <= usage 4096',
  })
  t.throws(() => apply({ memory: { limit: 1 << 20, swap: 2048, checkBeforeUpdate: true } }, true), {
    message: 'linux.resources.memory.swap: rejecting memory+swap limit 2048 <= usage 4096',
  })
  apply({ memory: { limit: 4096, checkBeforeUpdate: true } }, false)
  t.same(k.writesTo('cg/c/memory.max'), ['4096'], 'only on update')
  warnings.length = 0
  apply({ memory: { swappiness: 10, disableOOMKiller: true, kernel: 1, kernelTCP: 1, useHierarchy: false } })
  t.same(warnings, [
    'linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness; ignored',
    'linux.resources.memory.disableOOMKiller: cgroup v2 cannot disable the OOM killer; ignored',
    'linux.resources.memory.kernel: cgroup v2 accounts kernel memory in memory.max; ignored',
    'linux.resources.memory.kernelTCP: cgroup v2 accounts kernel memory in memory.max; ignored',
    'linux.resources.memory.useHierarchy: cgroup v2 memory accounting is always hierarchical; ignored',
  ])
  warnings.length = 0
  k.writes = []
  apply({ memory: { useHierarchy: true } })
  t.same([warnings, k.writes], [[], []], 'true is what v2 does anyway')
})

t.test('cpu: shares to weight, quota and period to cpu.max, burst, idle', async (t) => {
  const { k, apply, seq } = setup(t)
  apply({ cpu: { shares: 1024, quota: 50000, period: 100000, burst: 2000, idle: 0 } })
  t.same(seq(), ['cpu.idle=0', 'cpu.weight=100', 'cpu.max.burst=2000', 'cpu.max=50000 100000'])
  k.writes = []
  apply({ cpu: { period: 20000 } })
  t.same(seq(), ['cpu.max=max 20000'])
  k.writes = []
  k.failures.set('cg/c/cpu.max.burst', 'EINVAL')
  apply({ cpu: { quota: 10000, burst: 50000 } })
  t.same(seq(), ['cpu.max=10000', 'cpu.max.burst=50000'], 'burst retried after cpu.max')
  t.throws(() => apply({ cpu: { realtimeRuntime: 100 } }), {
    message:
      'linux.resources.cpu.realtimeRuntime: realtime scheduling limits need the cgroup v1 cpu controller; cgroup v2 has none',
  })
  t.throws(() => apply({ cpu: { realtimePeriod: 100 } }), { message: /^linux.resources.cpu.realtimePeriod:/ })
  k.writes = []
  apply({ cpu: { cpus: '1', mems: '0' } })
  t.same(seq(), ['cpuset.cpus=1', 'cpuset.mems=0'])
})

t.test('io: weights (io.weight or BFQ) and throttles to io.max', async (t) => {
  const { k, apply, seq } = setup(t)
  const throttles = {
    throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 100 }],
    throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 200 }],
    throttleReadIOPSDevice: [{ major: 8, minor: 16, rate: 10 }],
    throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 20 }],
  }
  apply({ blockIO: { weight: 500, ...throttles } })
  t.same(seq(), ['io.weight=4950', 'io.max=8:0 rbps=100', 'io.max=8:0 wbps=200', 'io.max=8:16 riops=10', 'io.max=8:16 wiops=20'])
  t.throws(() => apply({ blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 100 }] } }), {
    message: /^linux.resources.blockIO.weightDevice\[0\]: per-device weights need the BFQ I\/O scheduler/,
  })
  k.set('cg/c/io.bfq.weight', 'default 100\n')
  k.writes = []
  warnings.length = 0
  apply({ blockIO: { weight: 500, leafWeight: 10, weightDevice: [{ major: 8, minor: 0, weight: 300, leafWeight: 5 }] } })
  t.same(seq(), ['io.bfq.weight=500', 'io.bfq.weight=8:0 300'], 'BFQ takes v1 weights as they are')
  t.equal(warnings.length, 2, 'leaf weights: warned')
  k.set('cg/c/io.bfq.weight', '100\n')
  t.throws(
    () => apply({ blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 1 }] } }),
    { message: /kernel 5\.4\+/ },
    'old BFQ',
  )
})

t.test('pids, hugetlb (with rsvd), rdma, unified', async (t) => {
  const { apply, seq } = setup(t)
  apply({
    pids: { limit: 100 },
    hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
    rdma: { mlx5_1: { hcaHandles: 3 } },
    unified: { 'memory.high': '1000000', 'io.max': '8:0 rbps=1\n8:16 wbps=2\n' },
  })
  t.same(seq(), [
    'pids.max=100',
    'hugetlb.2MB.max=4194304',
    'hugetlb.2MB.rsvd.max=4194304',
    'rdma.max=mlx5_1 hca_handle=3',
    'memory.high=1000000',
    'io.max=8:0 rbps=1',
    'io.max=8:16 wbps=2',
  ])
  t.throws(() => apply({ unified: { '../x': '1' } }), {
    message: 'linux.resources.unified["../x"]: must be a file name (no slashes)',
  })
  t.throws(() => apply({ unified: { nodot: '1' } }), {
    message: 'linux.resources.unified["nodot"]: must be in the form CONTROLLER.PARAMETER',
  })
  t.throws(() => apply({ unified: { 'misc.max': '1' } }), {
    message:
      /^linux.resources.unified\["misc.max"\]: the misc controller is not enabled for .* \(available: cpuset cpu io memory hugetlb pids rdma\)$/,
  })
  t.throws(() => apply({ network: { classID: 1 } }), {
    message: /^linux.resources.network: net_cls and net_prio exist only in cgroup v1/,
  })
})

t.test('devices: an eBPF program on create, nothing on update', async (t) => {
  const { m, bpfCalls } = setup(t)
  m.apply({}, { devices: [{ type: 'c', major: 1, minor: 3, access: 'rwm', allow: true }], update: false })
  t.same(bpfCalls, ['load 13', 'attach'])
  m.apply({}, { devices: null, update: true })
  t.equal(bpfCalls.length, 2)
})

t.test('without the controllers', async (t) => {
  const { apply } = setup(t, ['cpu'])
  t.throws(() => apply({ pids: { limit: 1 } }), {
    message: /^linux.resources.pids.limit: the pids controller is not enabled .*\(available: cpu\)$/,
  })
  t.throws(() => apply({ hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }), {
    message: /^linux.resources.hugepageLimits\[0\]: the hugetlb controller/,
  })
  t.throws(() => apply({ blockIO: { weight: 100 } }), { message: /^linux.resources.blockIO: the io controller/ })
})

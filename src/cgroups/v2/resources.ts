// linux.resources written to a cgroup v2 directory, in runc's order (pids, memory, io, cpu,
// devices, cpuset, hugetlb, rdma, unified), converting the v1-shaped spec as runc does:
// shares -> cpu.weight, memory+swap -> memory.swap.max, blkio weight -> io.weight or
// io.bfq.weight. What v2 cannot express is an error naming the field (realtime, network), or a
// warning where runc silently ignores it (swappiness, disableOOMKiller, kernel, leafWeight,
// useHierarchy false).

import { int64ToBigInt as i64, uint64ToBigInt as u64, type LinuxResources } from '../../spec/schema.js'
import { logger } from '../../log.js'
import { cgroupError, type CgDir } from '../fs.js'
import { applyDevicesV2, type BpfOps } from '../devices/apply.js'
import type { DeviceRule } from '../devices/rules.js'
import { blkioToIoWeight, cpuMax, numToStr, pidsMax, sharesToWeight, swapToV2 } from '../convert.js'
import { rdmaLine } from '../v1/resources.js'

type Mem = NonNullable<LinuxResources['memory']>
type Cpu = NonNullable<LinuxResources['cpu']>
type BlockIO = NonNullable<LinuxResources['blockIO']>

const F = 'linux.resources'

export type V2ApplyOptions = {
  /** The device rules to enforce; null leaves the device filter alone (update does). */
  devices: DeviceRule[] | null
  bpf: () => BpfOps
  /** An update (checkBeforeUpdate applies only then). */
  update: boolean
}

/** Throws unless `ctrl` is enabled for this cgroup (listed in its cgroup.controllers). */
function requireController(d: CgDir, ctrl: string, field: string): void {
  const text = d.read('cgroup.controllers')
  if (text === null) return // not a cgroup2 directory we can inspect; let the write say why
  const have = text.trim().split(/\s+/).filter(Boolean)
  if (!have.includes(ctrl))
    throw cgroupError(
      field,
      `the ${ctrl} controller is not enabled for ${d.path} (available: ${have.length ? have.join(' ') : 'none'})`,
    )
}

export function applyV2(d: CgDir, r: LinuxResources, opts: V2ApplyOptions): void {
  const c = r.cpu
  if (c && (c.realtimeRuntime || c.realtimePeriod))
    throw cgroupError(
      `${F}.cpu.${c.realtimeRuntime ? 'realtimeRuntime' : 'realtimePeriod'}`,
      'realtime scheduling limits need the cgroup v1 cpu controller; cgroup v2 has none',
    )
  if (r.network && (r.network.classID !== undefined || r.network.priorities?.length))
    throw cgroupError(`${F}.network`, 'net_cls and net_prio exist only in cgroup v1; use eBPF network programs on cgroup v2')

  if (r.pids?.limit !== undefined) {
    requireController(d, 'pids', `${F}.pids.limit`)
    d.write(`${F}.pids.limit`, 'pids.max', pidsMax(i64(r.pids.limit)))
  }
  if (r.memory) setMemory(d, r.memory, opts.update)
  if (r.blockIO) setIo(d, r.blockIO)
  if (c) setCpu(d, c)
  if (opts.devices) applyDevicesV2(d.path, opts.devices, opts.bpf())
  if (c?.cpus || c?.mems) {
    requireController(d, 'cpuset', `${F}.cpu.${c.cpus ? 'cpus' : 'mems'}`)
    if (c.cpus) d.write(`${F}.cpu.cpus`, 'cpuset.cpus', c.cpus)
    if (c.mems) d.write(`${F}.cpu.mems`, 'cpuset.mems', c.mems)
  }
  r.hugepageLimits?.forEach((h, i) => {
    const field = `${F}.hugepageLimits[${i}]`
    requireController(d, 'hugetlb', field)
    const v = u64(h.limit).toString()
    d.write(field, `hugetlb.${h.pageSize}.max`, v)
    const code = d.tryWrite(`hugetlb.${h.pageSize}.rsvd.max`, v)
    if (code && code !== 'ENOENT') throw d.writeError(field, `hugetlb.${h.pageSize}.rsvd.max`, v, code)
  })
  for (const [dev, lim] of Object.entries(r.rdma ?? {})) {
    requireController(d, 'rdma', `${F}.rdma.${dev}`)
    d.write(`${F}.rdma.${dev}`, 'rdma.max', rdmaLine(dev, lim))
  }
  for (const [key, value] of Object.entries(r.unified ?? {})) setUnified(d, key, value)
}

function setMemory(d: CgDir, m: Mem, update: boolean): void {
  const warn = (k: string, why: string) => logger().warn(`${F}.memory.${k}: ${why}; ignored`)
  if (m.swappiness !== undefined) warn('swappiness', 'cgroup v2 has no per-cgroup swappiness')
  if (m.disableOOMKiller) warn('disableOOMKiller', 'cgroup v2 cannot disable the OOM killer')
  if (m.kernel) warn('kernel', 'cgroup v2 accounts kernel memory in memory.max')
  if (m.kernelTCP) warn('kernelTCP', 'cgroup v2 accounts kernel memory in memory.max')
  if (m.useHierarchy === false) warn('useHierarchy', 'cgroup v2 memory accounting is always hierarchical')
  const limit = i64(m.limit ?? 0)
  const swapSpec = i64(m.swap ?? 0)
  const reservation = i64(m.reservation ?? 0)
  if (limit === 0n && swapSpec === 0n && reservation === 0n) return
  requireController(d, 'memory', `${F}.memory`)
  if (update && m.checkBeforeUpdate) checkUsage(d, limit, swapSpec)
  const swap = swapToV2(swapSpec, limit)
  let swapStr = numToStr(swap)
  // memory and memory+swap equal: no swap at all.
  if (swapStr === '' && swap === 0n && swapSpec > 0n) swapStr = '0'
  if (swapStr !== '') {
    const code = d.tryWrite('memory.swap.max', swapStr)
    // Without swap accounting there is no file: "max" and "0" are then already true.
    if (code && !(code === 'ENOENT' && (swapStr === 'max' || swapStr === '0')))
      throw d.writeError(`${F}.memory.swap`, 'memory.swap.max', swapStr, code)
  }
  const max = numToStr(limit)
  if (max) d.write(`${F}.memory.limit`, 'memory.max', max)
  const low = numToStr(reservation)
  if (low) d.write(`${F}.memory.reservation`, 'memory.low', low)
}

/** checkBeforeUpdate: refuse a limit at or below current usage (v2 would OOM-kill instead). */
function checkUsage(d: CgDir, limit: bigint, swap: bigint): void {
  const text = d.read('memory.current')?.trim()
  if (!text || !/^\d+$/.test(text)) return // best effort, as runc
  const usage = BigInt(text)
  if (swap > 0n && swap <= usage) throw cgroupError(`${F}.memory.swap`, `rejecting memory+swap limit ${swap} <= usage ${usage}`)
  if (limit > 0n && limit <= usage) throw cgroupError(`${F}.memory.limit`, `rejecting memory limit ${limit} <= usage ${usage}`)
}

function setIo(d: CgDir, b: BlockIO): void {
  if (b.leafWeight) logger().warn(`${F}.blockIO.leafWeight: cgroup v2 has no leaf weights; ignored`)
  const throttles: [keyof BlockIO, string][] = [
    ['throttleReadBpsDevice', 'rbps'],
    ['throttleWriteBpsDevice', 'wbps'],
    ['throttleReadIOPSDevice', 'riops'],
    ['throttleWriteIOPSDevice', 'wiops'],
  ]
  const weighted = !!b.weight || (b.weightDevice ?? []).some((w) => w.weight)
  const throttled = throttles.some(([k]) => (b[k] as unknown[] | undefined)?.length)
  if (!weighted && !throttled) return
  requireController(d, 'io', `${F}.blockIO`)
  // BFQ takes the v1 weight range as is; otherwise io.weight with runc's conversion.
  const bfq = d.has('io.bfq.weight')
  // Per-device weights need BFQ >= 5.4, whose io.bfq.weight reads "default N" and device lines.
  const perDevice = bfq && !/^\s*\d+\s*$/.test(d.read('io.bfq.weight') ?? '')
  if (b.weight) {
    if (bfq) d.write(`${F}.blockIO.weight`, 'io.bfq.weight', b.weight)
    else d.write(`${F}.blockIO.weight`, 'io.weight', blkioToIoWeight(b.weight))
  }
  b.weightDevice?.forEach((w, i) => {
    if (w.leafWeight) logger().warn(`${F}.blockIO.weightDevice[${i}].leafWeight: cgroup v2 has no leaf weights; ignored`)
    if (!w.weight) return
    const field = `${F}.blockIO.weightDevice[${i}]`
    if (!perDevice)
      throw cgroupError(
        field,
        'per-device weights need the BFQ I/O scheduler with per-device support (io.bfq.weight, kernel 5.4+)',
      )
    d.write(field, 'io.bfq.weight', `${w.major}:${w.minor} ${w.weight}`)
  })
  for (const [key, name] of throttles) {
    const list = b[key] as { major: number; minor: number; rate: number }[] | undefined
    list?.forEach((t, i) => d.write(`${F}.blockIO.${key}[${i}]`, 'io.max', `${t.major}:${t.minor} ${name}=${u64(t.rate)}`))
  }
}

function setCpu(d: CgDir, c: Cpu): void {
  const quota = i64(c.quota ?? 0)
  const period = u64(c.period ?? 0)
  const weight = sharesToWeight(u64(c.shares ?? 0))
  if (c.idle === undefined && weight === 0n && quota === 0n && period === 0n && c.burst === undefined) return
  requireController(d, 'cpu', `${F}.cpu`)
  if (c.idle !== undefined) d.write(`${F}.cpu.idle`, 'cpu.idle', i64(c.idle))
  if (weight !== 0n) d.write(`${F}.cpu.shares`, 'cpu.weight', weight)
  let burstLater = false
  if (c.burst !== undefined) {
    const burst = u64(c.burst)
    const code = d.tryWrite('cpu.max.burst', burst)
    // A larger burst can be refused while the old quota is in place: retry after cpu.max.
    if (code === 'EINVAL' && quota !== 0n) burstLater = true
    else if (code) throw d.writeError(`${F}.cpu.burst`, 'cpu.max.burst', burst, code)
  }
  if (quota !== 0n || period !== 0n) {
    d.write(`${F}.cpu.${quota !== 0n ? 'quota' : 'period'}`, 'cpu.max', cpuMax(quota, period))
    if (burstLater) d.write(`${F}.cpu.burst`, 'cpu.max.burst', u64(c.burst!))
  }
}

/** A raw v2 file: "controller.knob" in this cgroup's directory, never a path; written line by line. */
function setUnified(d: CgDir, key: string, value: string): void {
  const field = `${F}.unified[${JSON.stringify(key)}]`
  if (key.includes('/') || key === '.' || key === '..' || key === '') throw cgroupError(field, 'must be a file name (no slashes)')
  const lines = value.split('\n').filter((l) => l !== '')
  for (const line of lines.length ? lines : ['']) {
    const code = d.tryWrite(key, line)
    if (!code) continue
    if (code === 'ENOENT' || code === 'EPERM' || code === 'EACCES') {
      const dot = key.indexOf('.')
      if (dot <= 0) throw cgroupError(field, 'must be in the form CONTROLLER.PARAMETER')
      const ctrl = key.slice(0, dot)
      if (ctrl !== 'cgroup') requireController(d, ctrl, field)
    }
    throw d.writeError(field, key, line, code)
  }
}

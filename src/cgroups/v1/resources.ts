// linux.resources written to cgroup v1 control files, controller by controller, in runc's
// order and with runc's write-ordering rules (memory before or after memsw depending on the
// current limit, cfs period retried after quota, rt period after runtime). Every failure names
// the spec field. The caller gives one CgDir per controller; nothing here creates cgroups.

import * as path from 'node:path'
import { int64ToBigInt as i64, uint64ToBigInt as u64, type LinuxResources } from '../../spec/schema.js'
import { logger } from '../../log.js'
import { CgDir, cgroupError } from '../fs.js'
import { applyDevicesV1 } from '../devices/apply.js'
import type { DeviceRule } from '../devices/rules.js'

type Mem = NonNullable<LinuxResources['memory']>
type Cpu = NonNullable<LinuxResources['cpu']>
type BlockIO = NonNullable<LinuxResources['blockIO']>

const F = 'linux.resources'

/** Which controllers a resources object needs, with the field that needs each. */
export function neededV1(r: LinuxResources, devices: boolean): Map<string, string> {
  const need = new Map<string, string>()
  const m = r.memory
  const c = r.cpu
  const b = r.blockIO
  if (c && (c.cpus || c.mems)) need.set('cpuset', `${F}.cpu.${c.cpus ? 'cpus' : 'mems'}`)
  if (
    c &&
    (c.shares || c.quota || c.period || c.burst !== undefined || c.realtimeRuntime || c.realtimePeriod || c.idle !== undefined)
  )
    need.set('cpu', `${F}.cpu`)
  if (devices) need.set('devices', `${F}.devices`)
  if (
    m &&
    (m.limit ||
      m.reservation ||
      m.swap ||
      m.kernel ||
      m.kernelTCP ||
      m.swappiness !== undefined ||
      m.disableOOMKiller ||
      m.useHierarchy !== undefined)
  )
    need.set('memory', `${F}.memory`)
  if (r.pids?.limit !== undefined) need.set('pids', `${F}.pids.limit`)
  if (
    b &&
    (b.weight ||
      b.leafWeight ||
      b.weightDevice?.length ||
      b.throttleReadBpsDevice?.length ||
      b.throttleWriteBpsDevice?.length ||
      b.throttleReadIOPSDevice?.length ||
      b.throttleWriteIOPSDevice?.length)
  )
    need.set('blkio', `${F}.blockIO`)
  if (r.hugepageLimits?.length) need.set('hugetlb', `${F}.hugepageLimits`)
  if (r.network?.classID !== undefined) need.set('net_cls', `${F}.network.classID`)
  if (r.network?.priorities?.length) need.set('net_prio', `${F}.network.priorities`)
  if (r.rdma && Object.keys(r.rdma).length) need.set('rdma', `${F}.rdma`)
  return need
}

export type V1ApplyOptions = {
  /** The device rules to enforce; null leaves the devices cgroup alone (update does). */
  devices: DeviceRule[] | null
  /** Whether an ancestor's realtime budget may be raised (one runt created). */
  mayGrowRt?: (dir: string) => boolean
}

/** Write `r` into the container's v1 cgroups. `dirs` maps a controller to its directory. */
export function applyV1(dirs: Map<string, CgDir>, r: LinuxResources, opts: V1ApplyOptions): void {
  if (r.unified && Object.keys(r.unified).length)
    throw cgroupError(`${F}.unified`, 'cannot use unified on cgroup v1 (this host has cgroup v1 controllers)')
  for (const [ctrl, field] of neededV1(r, opts.devices !== null)) {
    if (!dirs.has(ctrl)) throw cgroupError(field, `the ${ctrl} cgroup controller is not available on this host (not mounted)`)
  }
  const d = (c: string) => dirs.get(c)!
  if (r.cpu && (r.cpu.cpus || r.cpu.mems)) setCpuset(d('cpuset'), r.cpu)
  if (dirs.has('cpu') && r.cpu) setCpu(d('cpu'), r.cpu, opts.mayGrowRt)
  if (opts.devices) applyDevicesV1(d('devices'), opts.devices)
  if (dirs.has('memory') && r.memory) setMemory(d('memory'), r.memory)
  if (r.pids?.limit !== undefined) {
    const lim = i64(r.pids.limit)
    d('pids').write(`${F}.pids.limit`, 'pids.max', lim < 0n ? 'max' : lim.toString())
  }
  if (dirs.has('blkio') && r.blockIO) setBlkio(d('blkio'), r.blockIO)
  r.hugepageLimits?.forEach((h, i) => {
    const dir = d('hugetlb')
    const field = `${F}.hugepageLimits[${i}]`
    const v = u64(h.limit).toString()
    dir.write(field, `hugetlb.${h.pageSize}.limit_in_bytes`, v)
    const code = dir.tryWrite(`hugetlb.${h.pageSize}.rsvd.limit_in_bytes`, v)
    if (code && code !== 'ENOENT') throw dir.writeError(field, `hugetlb.${h.pageSize}.rsvd.limit_in_bytes`, v, code)
  })
  if (r.network?.classID !== undefined) d('net_cls').write(`${F}.network.classID`, 'net_cls.classid', r.network.classID)
  r.network?.priorities?.forEach((p, i) =>
    d('net_prio').write(`${F}.network.priorities[${i}]`, 'net_prio.ifpriomap', `${p.name} ${p.priority}`),
  )
  for (const [dev, lim] of Object.entries(r.rdma ?? {})) d('rdma').write(`${F}.rdma.${dev}`, 'rdma.max', rdmaLine(dev, lim))
}

export function rdmaLine(dev: string, lim: { hcaHandles?: number; hcaObjects?: number }): string {
  let s = dev
  if (lim.hcaHandles !== undefined) s += ` hca_handle=${lim.hcaHandles}`
  if (lim.hcaObjects !== undefined) s += ` hca_object=${lim.hcaObjects}`
  return s
}

function setCpuset(d: CgDir, c: Cpu): void {
  if (c.cpus) d.write(`${F}.cpu.cpus`, 'cpuset.cpus', c.cpus)
  if (c.mems) d.write(`${F}.cpu.mems`, 'cpuset.mems', c.mems)
}

function readUint(d: CgDir, name: string): bigint | null {
  const t = d.read(name)?.trim()
  if (t === undefined || t === '') return null
  if (t === 'max') return (1n << 64n) - 1n
  return /^-?\d+$/.test(t) ? BigInt(t) : null
}

function setCpu(d: CgDir, c: Cpu, mayGrowRt?: (dir: string) => boolean): void {
  const shares = u64(c.shares ?? 0)
  if (shares !== 0n) {
    d.write(`${F}.cpu.shares`, 'cpu.shares', shares)
    // The kernel clamps shares silently: read back and say what it took.
    const got = readUint(d, 'cpu.shares')
    if (got !== null && got < shares) throw cgroupError(`${F}.cpu.shares`, `the maximum allowed cpu-shares is ${got}`)
    if (got !== null && got > shares) throw cgroupError(`${F}.cpu.shares`, `the minimum allowed cpu-shares is ${got}`)
  }
  const quota = i64(c.quota ?? 0)
  const period = u64(c.period ?? 0)
  // A smaller period can be refused (EINVAL) while the old quota/period ratio exceeds the
  // parent's; when a quota is also being set, retry the period after it.
  let periodLater = false
  if (period !== 0n) {
    const code = d.tryWrite('cpu.cfs_period_us', period)
    if (code === 'EINVAL' && quota !== 0n) periodLater = true
    else if (code) throw d.writeError(`${F}.cpu.period`, 'cpu.cfs_period_us', period, code)
  }
  let burstLater = false
  if (c.burst !== undefined) {
    const burst = u64(c.burst)
    const code = d.tryWrite('cpu.cfs_burst_us', burst)
    if (code === 'ENOENT') logger().warn(`${F}.cpu.burst: cpu.cfs_burst_us is not supported by this kernel; ignored`)
    else if (code === 'EINVAL' && quota !== 0n) burstLater = true
    else if (code) throw d.writeError(`${F}.cpu.burst`, 'cpu.cfs_burst_us', burst, code)
  }
  if (quota !== 0n) {
    d.write(`${F}.cpu.quota`, 'cpu.cfs_quota_us', quota)
    if (periodLater) d.write(`${F}.cpu.period`, 'cpu.cfs_period_us', period)
    if (burstLater) d.write(`${F}.cpu.burst`, 'cpu.cfs_burst_us', u64(c.burst!))
  }
  if (c.idle !== undefined) d.write(`${F}.cpu.idle`, 'cpu.idle', i64(c.idle))
  setRealtime(d, c, mayGrowRt)
}

/**
 * cpu.rt_period_us and cpu.rt_runtime_us depend on each other: period first, retried last. A
 * runtime the parent's budget cannot cover is refused (EINVAL); parents `mayGrow` allows (the
 * ones runt made) then get just enough budget, outermost first, and the write is retried.
 */
export function setRealtime(d: CgDir, c: Cpu, mayGrow: (dir: string) => boolean = () => false): void {
  const rtPeriod = u64(c.realtimePeriod ?? 0)
  const rtRuntime = i64(c.realtimeRuntime ?? 0)
  let later = false
  if (rtPeriod !== 0n) {
    const code = d.tryWrite('cpu.rt_period_us', rtPeriod)
    if (code === 'EINVAL' && rtRuntime !== 0n) later = true
    else if (code) throw d.writeError(`${F}.cpu.realtimePeriod`, 'cpu.rt_period_us', rtPeriod, code)
  }
  if (rtRuntime !== 0n) {
    const field = `${F}.cpu.realtimeRuntime`
    let code = d.tryWrite('cpu.rt_runtime_us', rtRuntime)
    if (code === 'EINVAL' && rtRuntime > 0n && growRtBudget(d, rtRuntime, mayGrow))
      code = d.tryWrite('cpu.rt_runtime_us', rtRuntime)
    if (code === 'EINVAL') {
      const parent = path.dirname(d.path)
      throw cgroupError(
        field,
        `write "${rtRuntime}" to ${d.file('cpu.rt_runtime_us')}: invalid argument (the realtime budget of ${parent}, ${rtOf(d, parent)} us, must cover all its children's)`,
      )
    }
    if (code) throw d.writeError(field, 'cpu.rt_runtime_us', rtRuntime, code)
    if (later) d.write(`${F}.cpu.realtimePeriod`, 'cpu.rt_period_us', rtPeriod)
  }
}

function rtOf(d: CgDir, dir: string): bigint {
  const t = new CgDir(dir, d.io).read('cpu.rt_runtime_us')?.trim() ?? ''
  return /^-?\d+$/.test(t) ? BigInt(t) : 0n
}

/** Raise the realtime budgets of the container's ancestors so that `runtime` fits. */
function growRtBudget(d: CgDir, runtime: bigint, mayGrow: (dir: string) => boolean): boolean {
  const io = d.io
  // Ancestors below the hierarchy's root (whose parent is not a cgroup), innermost first.
  const chain: string[] = []
  for (let p = path.dirname(d.path); io.exists(path.join(path.dirname(p), 'cpu.rt_runtime_us')); p = path.dirname(p))
    chain.push(p)
  const plan: [string, bigint][] = []
  let childOld = rtOf(d, d.path)
  let childNew = runtime
  for (const a of chain) {
    let sum = 0n
    for (const sub of io.subdirs(a)) sum += rtOf(d, path.join(a, sub))
    const need = sum - childOld + childNew
    const cur = rtOf(d, a)
    if (need <= cur) break
    if (!mayGrow(a)) return false
    plan.push([a, need])
    childOld = cur
    childNew = need
  }
  for (const [a, need] of plan.reverse()) if (new CgDir(a, io).tryWrite('cpu.rt_runtime_us', need)) return false
  return plan.length > 0
}

function setMemory(d: CgDir, m: Mem): void {
  const limit = i64(m.limit ?? 0)
  let swap = i64(m.swap ?? 0)
  // memory -1 with no swap given means both unlimited (if swap accounting exists).
  if (limit === -1n && swap === 0n && d.has('memory.memsw.limit_in_bytes')) swap = -1n
  const setLimit = () => {
    if (limit === 0n) return
    const code = d.tryWrite('memory.limit_in_bytes', limit)
    if (!code) return
    if (code === 'EBUSY') {
      const usage = readUint(d, 'memory.usage_in_bytes')
      const peak = readUint(d, 'memory.max_usage_in_bytes')
      throw cgroupError(
        `${F}.memory.limit`,
        `unable to set memory limit to ${limit} (current usage: ${usage}, peak usage: ${peak})`,
      )
    }
    throw d.writeError(`${F}.memory.limit`, 'memory.limit_in_bytes', limit, code)
  }
  const setSwap = () => {
    if (swap === 0n) return
    if (!d.has('memory.memsw.limit_in_bytes'))
      throw cgroupError(
        `${F}.memory.swap`,
        'swap limits are not supported: this kernel has no swap accounting (memory.memsw.limit_in_bytes)',
      )
    d.write(`${F}.memory.swap`, 'memory.memsw.limit_in_bytes', swap)
  }
  // memsw must stay >= memory: raise swap first when it grows past the current limit.
  const cur = limit !== 0n && swap !== 0n ? readUint(d, 'memory.limit_in_bytes') : null
  if (cur !== null && (swap === -1n || cur < swap)) {
    setSwap()
    setLimit()
  } else {
    setLimit()
    setSwap()
  }
  setKernel(d, 'kernel', 'memory.kmem.limit_in_bytes', m.kernel)
  setKernel(d, 'kernelTCP', 'memory.kmem.tcp.limit_in_bytes', m.kernelTCP)
  const res = i64(m.reservation ?? 0)
  if (res !== 0n) d.write(`${F}.memory.reservation`, 'memory.soft_limit_in_bytes', res)
  if (m.disableOOMKiller) d.write(`${F}.memory.disableOOMKiller`, 'memory.oom_control', '1')
  if (m.swappiness !== undefined) {
    const s = u64(m.swappiness)
    if (s > 100n) throw cgroupError(`${F}.memory.swappiness`, `invalid memory swappiness value: ${s} (valid range is 0-100)`)
    d.write(`${F}.memory.swappiness`, 'memory.swappiness', s)
  }
  if (m.useHierarchy !== undefined) setUseHierarchy(d, m.useHierarchy)
}

/**
 * memory.use_hierarchy. Writing the value it has always succeeds; since Linux 5.11 it is always
 * 1 and 0 is refused (EINVAL), as it is on older kernels under a hierarchical parent.
 */
function setUseHierarchy(d: CgDir, on: boolean): void {
  const field = `${F}.memory.useHierarchy`
  const code = d.tryWrite('memory.use_hierarchy', on ? '1' : '0')
  if (code === 'EINVAL' && !on)
    throw cgroupError(field, `this kernel does not allow non-hierarchical memory accounting in ${d.path}`)
  if (code) throw d.writeError(field, 'memory.use_hierarchy', on ? '1' : '0', code)
}

/**
 * Kernel memory limits are deprecated: newer kernels drop the files or accept writes and ignore
 * them. runc ignores the fields with a warning; we apply them where they still take effect.
 */
function setKernel(d: CgDir, key: string, file: string, v: number | undefined): void {
  if (v === undefined || v === 0) return
  const field = `${F}.memory.${key}`
  const val = i64(v)
  if (!d.has(file)) {
    logger().warn(`${field}: ${file} is not supported by this kernel; ignored`)
    return
  }
  d.write(field, file, val)
  const got = readUint(d, file)
  if (got !== null && val > 0n && (got > val || got < val - 4096n))
    logger().warn(`${field}: the kernel accepted ${file} but does not enforce it (reads back ${got}); ignored`)
}

function setBlkio(d: CgDir, b: BlockIO): void {
  const bfq = !d.has('blkio.weight')
  const weightFile = bfq ? 'blkio.bfq.weight' : 'blkio.weight'
  const weightDeviceFile = bfq ? 'blkio.bfq.weight_device' : 'blkio.weight_device'
  const noWeights = () =>
    `neither blkio.weight nor blkio.bfq.weight exists in ${d.path}: no proportional I/O scheduler (CFQ or BFQ) on this host`
  if (b.weight) {
    if (!d.has(weightFile)) throw cgroupError(`${F}.blockIO.weight`, noWeights())
    d.write(`${F}.blockIO.weight`, weightFile, b.weight)
  }
  if (b.leafWeight) d.write(`${F}.blockIO.leafWeight`, 'blkio.leaf_weight', b.leafWeight)
  b.weightDevice?.forEach((w, i) => {
    const field = `${F}.blockIO.weightDevice[${i}]`
    if (w.weight) {
      if (!d.has(weightDeviceFile)) throw cgroupError(field, noWeights())
      d.write(field, weightDeviceFile, `${w.major}:${w.minor} ${w.weight}`)
    }
    if (w.leafWeight) d.write(field, 'blkio.leaf_weight_device', `${w.major}:${w.minor} ${w.leafWeight}`)
  })
  const throttles: [keyof BlockIO, string][] = [
    ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device'],
    ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device'],
    ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device'],
    ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device'],
  ]
  for (const [key, file] of throttles) {
    const list = b[key] as { major: number; minor: number; rate: number }[] | undefined
    list?.forEach((t, i) => d.write(`${F}.blockIO.${key}[${i}]`, file, `${t.major}:${t.minor} ${u64(t.rate)}`))
  }
}

// Statistics from cgroup v1 files, as runc's fs driver reads them: cpuacct usage (USER_HZ ticks
// to ns), cpu throttling, cpuset, memory (+memsw, kmem, kmem.tcp, memory.stat), pids, blkio
// (throttle counters), hugetlb. A controller that is not mounted leaves its part zero.

import type { CgDir } from '../fs.js'
import {
  emptyStats,
  parseCpuList,
  parseKeyValues,
  parseUint,
  U64_MAX,
  type BlkioEntry,
  type MemoryEntry,
  type Stats,
} from '../stats.js'

const NS_PER_TICK = 10_000_000n // 1e9 / USER_HZ (100 on every Linux ABI runc supports)

const num = (d: CgDir, f: string) => parseUint(d.read(f)) ?? 0n

export function statsV1(dirs: Map<string, CgDir>, hugePageSizes: string[]): Stats {
  const s = emptyStats()
  const acct = dirs.get('cpuacct')
  if (acct) {
    s.cpu.usage.total = num(acct, 'cpuacct.usage')
    s.cpu.usage.percpu = (acct.read('cpuacct.usage_percpu') ?? '').trim().split(/\s+/).filter(Boolean).map(BigInt)
    const st = parseKeyValues(acct.read('cpuacct.stat'))
    s.cpu.usage.user = (st.get('user') ?? 0n) * NS_PER_TICK
    s.cpu.usage.kernel = (st.get('system') ?? 0n) * NS_PER_TICK
    // "cpu user system" then one line per cpu.
    const all = (acct.read('cpuacct.usage_all') ?? '').trim().split('\n').slice(1)
    for (const line of all) {
      const [, user, sys] = line.trim().split(/\s+/)
      if (user === undefined || sys === undefined) continue
      s.cpu.usage.percpuUser.push(BigInt(user))
      s.cpu.usage.percpuKernel.push(BigInt(sys))
    }
  }
  const cpu = dirs.get('cpu')
  if (cpu) {
    const st = parseKeyValues(cpu.read('cpu.stat'))
    s.cpu.throttling.periods = st.get('nr_periods') ?? 0n
    s.cpu.throttling.throttledPeriods = st.get('nr_throttled') ?? 0n
    s.cpu.throttling.throttledTime = st.get('throttled_time') ?? 0n
  }
  const cs = dirs.get('cpuset')
  if (cs) {
    const c = s.cpuset
    c.cpus = parseCpuList(cs.read('cpuset.cpus'))
    c.mems = parseCpuList(cs.read('cpuset.mems'))
    c.cpuExclusive = num(cs, 'cpuset.cpu_exclusive')
    c.memHardwall = num(cs, 'cpuset.mem_hardwall')
    c.memExclusive = num(cs, 'cpuset.mem_exclusive')
    c.memoryMigrate = num(cs, 'cpuset.memory_migrate')
    c.memorySpreadPage = num(cs, 'cpuset.memory_spread_page')
    c.memorySpreadSlab = num(cs, 'cpuset.memory_spread_slab')
    c.memoryPressure = num(cs, 'cpuset.memory_pressure')
    c.schedLoadBalance = num(cs, 'cpuset.sched_load_balance')
    const lvl = (cs.read('cpuset.sched_relax_domain_level') ?? '').trim()
    c.schedRelaxDomainLevel = /^-?\d+$/.test(lvl) ? BigInt(lvl) : 0n
  }
  const mem = dirs.get('memory')
  if (mem) {
    s.memory.raw = parseKeyValues(mem.read('memory.stat'))
    s.memory.cache = s.memory.raw.get('cache') ?? 0n
    s.memory.usage = memoryData(mem, 'memory')
    s.memory.swap = memoryData(mem, 'memory.memsw')
    s.memory.kernel = memoryData(mem, 'memory.kmem')
    s.memory.kernelTCP = memoryData(mem, 'memory.kmem.tcp')
  }
  const pids = dirs.get('pids')
  if (pids) {
    s.pids.current = num(pids, 'pids.current')
    const max = num(pids, 'pids.max')
    // "max" (no limit) is reported as 0, as runc always has.
    s.pids.limit = max === U64_MAX ? 0n : max
  }
  const blkio = dirs.get('blkio')
  if (blkio) {
    // The throttle counters exist whatever the I/O scheduler; the recursive ones since 4.x.
    const pick = (a: string, b: string) => (blkio.has(a) ? a : b)
    s.blkio.ioServiceBytesRecursive = blkioEntries(
      blkio.read(pick('blkio.throttle.io_service_bytes_recursive', 'blkio.throttle.io_service_bytes')),
    )
    s.blkio.ioServicedRecursive = blkioEntries(
      blkio.read(pick('blkio.throttle.io_serviced_recursive', 'blkio.throttle.io_serviced')),
    )
  }
  const huge = dirs.get('hugetlb')
  if (huge) {
    for (const size of hugePageSizes) {
      const p = `hugetlb.${size}`
      if (!huge.has(`${p}.usage_in_bytes`)) continue
      s.hugetlb.set(size, {
        usage: num(huge, `${p}.usage_in_bytes`),
        max: num(huge, `${p}.max_usage_in_bytes`),
        failcnt: num(huge, `${p}.failcnt`),
      })
    }
  }
  return s
}

function memoryData(d: CgDir, prefix: string): MemoryEntry {
  const usage = parseUint(d.read(`${prefix}.usage_in_bytes`))
  if (usage === null) return { limit: 0n, usage: 0n, max: 0n, failcnt: 0n } // swap or kmem not compiled in
  return {
    usage,
    max: num(d, `${prefix}.max_usage_in_bytes`),
    failcnt: num(d, `${prefix}.failcnt`),
    limit: num(d, `${prefix}.limit_in_bytes`),
  }
}

/** "8:0 Read 4096" lines; "Total N" is skipped. */
export function blkioEntries(text: string | null): BlkioEntry[] {
  const out: BlkioEntry[] = []
  for (const line of (text ?? '').split('\n')) {
    const f = line.trim().split(/\s+/)
    if (f.length < 2 || f[0] === 'Total') continue
    const dev = /^(\d+):(\d+)$/.exec(f[0]!)
    if (!dev) continue
    const op = f.length >= 3 ? f[1]! : ''
    const value = f[f.length - 1]!
    if (!/^\d+$/.test(value)) continue
    out.push({ major: BigInt(dev[1]!), minor: BigInt(dev[2]!), op, value: BigInt(value) })
  }
  return out
}

/** The OOM-kill counter of a v1 memory cgroup (memory.oom_control "oom_kill N"). */
export function oomKillsV1(mem: CgDir | undefined): bigint | null {
  if (!mem) return null
  return parseKeyValues(mem.read('memory.oom_control')).get('oom_kill') ?? null
}

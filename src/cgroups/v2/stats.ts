// Statistics from a cgroup v2 directory, mapped onto runc's v1-shaped model as runc's fs2 does:
// cpu.stat usec -> ns, memory.current/max/peak, swap reported as memory+swap, io.stat rbytes/
// wbytes/rios/wios -> Read/Write entries, hugetlb.<size>.{current,max,events}, PSI files.

import type { CgDir } from '../fs.js'
import { emptyStats, parseCpuList, parseKeyValues, parsePSI, parseUint, U64_MAX, type MemoryEntry, type Stats } from '../stats.js'

const num = (d: CgDir, f: string) => parseUint(d.read(f)) ?? 0n

export function statsV2(d: CgDir, hugePageSizes: string[]): Stats {
  const s = emptyStats()
  const cpu = parseKeyValues(d.read('cpu.stat'))
  s.cpu.usage.total = (cpu.get('usage_usec') ?? 0n) * 1000n
  s.cpu.usage.user = (cpu.get('user_usec') ?? 0n) * 1000n
  s.cpu.usage.kernel = (cpu.get('system_usec') ?? 0n) * 1000n
  s.cpu.throttling.periods = cpu.get('nr_periods') ?? 0n
  s.cpu.throttling.throttledPeriods = cpu.get('nr_throttled') ?? 0n
  s.cpu.throttling.throttledTime = (cpu.get('throttled_usec') ?? 0n) * 1000n
  s.cpu.psi = parsePSI(d.read('cpu.pressure'))

  if (d.has('cpuset.cpus.effective')) {
    s.cpuset.cpus = parseCpuList(d.read('cpuset.cpus.effective'))
    s.cpuset.mems = parseCpuList(d.read('cpuset.mems.effective'))
  }

  const raw = parseKeyValues(d.read('memory.stat'))
  if (raw.size) {
    s.memory.raw = raw
    s.memory.cache = raw.get('file') ?? 0n
    const usage = memoryData(d, 'memory')
    const swapOnly = memoryData(d, 'memory.swap')
    s.memory.usage = usage
    // v1 reports memory+swap; do the same (the peak of the sum is unknown: 0).
    s.memory.swap = {
      usage: swapOnly.usage + usage.usage,
      limit: swapOnly.limit === U64_MAX ? U64_MAX : swapOnly.limit + usage.limit,
      max: 0n,
      failcnt: swapOnly.failcnt,
    }
    s.memory.psi = parsePSI(d.read('memory.pressure'))
  }

  s.pids.current = parseUint(d.read('pids.current')) ?? countProcs(d)
  const max = num(d, 'pids.max')
  s.pids.limit = max === U64_MAX ? 0n : max

  for (const line of (d.read('io.stat') ?? '').split('\n')) {
    const [dev, ...items] = line.trim().split(/\s+/)
    const m = /^(\d+):(\d+)$/.exec(dev ?? '')
    if (!m) continue
    const major = BigInt(m[1]!)
    const minor = BigInt(m[2]!)
    for (const item of items) {
      const [k, v] = item.split('=')
      if (v === undefined || !/^\d+$/.test(v)) continue
      const value = BigInt(v)
      if (k === 'rbytes') s.blkio.ioServiceBytesRecursive.push({ major, minor, op: 'Read', value })
      else if (k === 'wbytes') s.blkio.ioServiceBytesRecursive.push({ major, minor, op: 'Write', value })
      else if (k === 'rios') s.blkio.ioServicedRecursive.push({ major, minor, op: 'Read', value })
      else if (k === 'wios') s.blkio.ioServicedRecursive.push({ major, minor, op: 'Write', value })
    }
  }
  s.blkio.psi = parsePSI(d.read('io.pressure'))

  for (const size of hugePageSizes) {
    const p = `hugetlb.${size}`
    if (!d.has(`${p}.current`)) continue
    const events = parseKeyValues(d.read(`${p}.events`))
    s.hugetlb.set(size, { usage: num(d, `${p}.current`), max: num(d, `${p}.max`), failcnt: events.get('max') ?? 0n })
  }
  return s
}

function memoryData(d: CgDir, prefix: string): MemoryEntry {
  const usage = parseUint(d.read(`${prefix}.current`))
  if (usage === null) return { limit: 0n, usage: 0n, max: 0n, failcnt: 0n }
  const events = parseKeyValues(d.read(prefix === 'memory' ? 'memory.events' : 'memory.swap.events'))
  return { usage, limit: num(d, `${prefix}.max`), max: num(d, `${prefix}.peak`), failcnt: events.get('max') ?? 0n }
}

function countProcs(d: CgDir): bigint {
  return BigInt((d.read('cgroup.procs') ?? '').split('\n').filter(Boolean).length)
}

/** The OOM-kill counter (memory.events "oom_kill N"). */
export function oomKillsV2(d: CgDir): bigint | null {
  return parseKeyValues(d.read('memory.events')).get('oom_kill') ?? null
}

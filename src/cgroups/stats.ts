// Container statistics in runc's `events` shape (types/events.go): the model both hierarchies
// fill, the shared parsers (flat keyed files, PSI), and the JSON rendering with Go's omitempty
// rules and exact 64-bit integers (a v1 "unlimited" limit is 2^63-4096, beyond 2^53). Pure.

export type MemoryEntry = { limit: bigint; usage: bigint; max: bigint; failcnt: bigint }
export type BlkioEntry = { major: bigint; minor: bigint; op: string; value: bigint }
export type PSIData = { avg10: number; avg60: number; avg300: number; total: bigint }
export type PSIStats = { some: PSIData; full: PSIData }

export const BLKIO_KEYS = [
  'ioServiceBytesRecursive',
  'ioServicedRecursive',
  'ioQueueRecursive',
  'ioServiceTimeRecursive',
  'ioWaitTimeRecursive',
  'ioMergedRecursive',
  'ioTimeRecursive',
  'sectorsRecursive',
] as const
export type BlkioKey = (typeof BLKIO_KEYS)[number]

export type Stats = {
  cpu: {
    usage: { total: bigint; percpu: bigint[]; percpuKernel: bigint[]; percpuUser: bigint[]; kernel: bigint; user: bigint }
    throttling: { periods: bigint; throttledPeriods: bigint; throttledTime: bigint }
    psi?: PSIStats
  }
  cpuset: {
    cpus: number[]
    cpuExclusive: bigint
    mems: number[]
    memHardwall: bigint
    memExclusive: bigint
    memoryMigrate: bigint
    memorySpreadPage: bigint
    memorySpreadSlab: bigint
    memoryPressure: bigint
    memoryPressureEnabled: bigint
    schedLoadBalance: bigint
    schedRelaxDomainLevel: bigint
  }
  memory: {
    cache: bigint
    usage: MemoryEntry
    swap: MemoryEntry
    kernel: MemoryEntry
    kernelTCP: MemoryEntry
    raw: Map<string, bigint>
    psi?: PSIStats
  }
  pids: { current: bigint; limit: bigint }
  blkio: Record<BlkioKey, BlkioEntry[]> & { psi?: PSIStats }
  hugetlb: Map<string, { usage: bigint; max: bigint; failcnt: bigint }>
}

const entry = (): MemoryEntry => ({ limit: 0n, usage: 0n, max: 0n, failcnt: 0n })

export function emptyStats(): Stats {
  return {
    cpu: {
      usage: { total: 0n, percpu: [], percpuKernel: [], percpuUser: [], kernel: 0n, user: 0n },
      throttling: { periods: 0n, throttledPeriods: 0n, throttledTime: 0n },
    },
    cpuset: {
      cpus: [],
      cpuExclusive: 0n,
      mems: [],
      memHardwall: 0n,
      memExclusive: 0n,
      memoryMigrate: 0n,
      memorySpreadPage: 0n,
      memorySpreadSlab: 0n,
      memoryPressure: 0n,
      memoryPressureEnabled: 0n,
      schedLoadBalance: 0n,
      schedRelaxDomainLevel: 0n,
    },
    memory: { cache: 0n, usage: entry(), swap: entry(), kernel: entry(), kernelTCP: entry(), raw: new Map() },
    pids: { current: 0n, limit: 0n },
    blkio: Object.fromEntries(BLKIO_KEYS.map((k) => [k, []])) as unknown as Stats['blkio'],
    hugetlb: new Map(),
  }
}

export const U64_MAX = (1n << 64n) - 1n

/** A cgroup integer file: "max" is U64_MAX (runc's GetCgroupParamUint); null if unreadable. */
export function parseUint(text: string | null): bigint | null {
  if (text === null) return null
  const t = text.trim()
  if (t === 'max') return U64_MAX
  if (/^\d+$/.test(t)) return BigInt(t) > U64_MAX ? U64_MAX : BigInt(t)
  // A negative value (v1's rt knobs) reads as 0, as runc does.
  if (/^-\d+$/.test(t)) return 0n
  return null
}

/** "key value" lines (memory.stat, cpu.stat, memory.events) in file order. */
export function parseKeyValues(text: string | null): Map<string, bigint> {
  const out = new Map<string, bigint>()
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/)
    if (k && v !== undefined && /^\d+$/.test(v)) out.set(k, BigInt(v))
  }
  return out
}

/** "0-3,8" -> [0, 1, 2, 3, 8] (cpuset lists). */
export function parseCpuList(text: string | null): number[] {
  const out: number[] = []
  for (const part of (text ?? '').trim().split(',')) {
    if (!part) continue
    const [a, b] = part.split('-').map(Number)
    if (a === undefined || Number.isNaN(a)) continue
    for (let i = a; i <= (b ?? a) && i < 65536; i++) out.push(i)
  }
  return out
}

/** A PSI file (cpu.pressure, ...): "some avg10=0.00 avg60=0.00 avg300=0.00 total=0". */
export function parsePSI(text: string | null): PSIStats | undefined {
  if (text === null) return undefined
  const zero = (): PSIData => ({ avg10: 0, avg60: 0, avg300: 0, total: 0n })
  const psi: PSIStats = { some: zero(), full: zero() }
  for (const line of text.split('\n')) {
    const [kind, ...kv] = line.trim().split(/\s+/)
    if (kind !== 'some' && kind !== 'full') continue
    for (const item of kv) {
      const [k, v] = item.split('=')
      if (v === undefined) continue
      if (k === 'total' && /^\d+$/.test(v)) psi[kind].total = BigInt(v)
      else if (k === 'avg10' || k === 'avg60' || k === 'avg300') psi[kind][k] = Number(v)
    }
  }
  return psi
}

// --- rendering ---------------------------------------------------------------------------

type Json = bigint | number | string | boolean | null | Json[] | { [k: string]: Json | undefined }

/** JSON with bigints as exact integers and undefined members left out. */
export function encodeJson(v: Json | undefined): string {
  if (v === undefined || v === null) return 'null'
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '0'
  if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v)
  if (Array.isArray(v)) return '[' + v.map((x) => encodeJson(x)).join(',') + ']'
  const parts: string[] = []
  for (const [k, x] of Object.entries(v)) if (x !== undefined) parts.push(JSON.stringify(k) + ':' + encodeJson(x))
  return '{' + parts.join(',') + '}'
}

// Go's omitempty: a zero number, empty slice or empty map is left out.
const oe = (n: bigint) => (n === 0n ? undefined : n)
const oeList = <T extends Json>(l: T[]) => (l.length ? l : undefined)

function psiJson(p: PSIStats | undefined): Json | undefined {
  if (!p) return undefined
  const d = (x: PSIData) => ({ avg10: x.avg10, avg60: x.avg60, avg300: x.avg300, total: x.total })
  return { some: d(p.some), full: d(p.full) }
}

function memEntry(e: MemoryEntry): Json {
  return { limit: e.limit, usage: oe(e.usage), max: oe(e.max), failcnt: e.failcnt }
}

/** The `data` of a stats event, field for field as runc prints it. */
export function statsJson(s: Stats): Json {
  const raw = [...s.memory.raw.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const blkio: { [k: string]: Json | undefined } = {}
  for (const k of BLKIO_KEYS)
    blkio[k] = oeList(
      s.blkio[k].map((e) => ({ major: oe(e.major), minor: oe(e.minor), op: e.op || undefined, value: oe(e.value) })),
    )
  blkio.psi = psiJson(s.blkio.psi)
  const hugetlb: { [k: string]: Json } = {}
  for (const [size, h] of [...s.hugetlb.entries()].sort(([a], [b]) => (a < b ? -1 : 1)))
    hugetlb[size] = { usage: oe(h.usage), max: oe(h.max), failcnt: h.failcnt }
  const u = s.cpu.usage
  const t = s.cpu.throttling
  const c = s.cpuset
  return {
    cpu: {
      usage: {
        total: oe(u.total),
        percpu: oeList(u.percpu),
        percpu_kernel: oeList(u.percpuKernel),
        percpu_user: oeList(u.percpuUser),
        kernel: u.kernel,
        user: u.user,
      },
      throttling: { periods: oe(t.periods), throttledPeriods: oe(t.throttledPeriods), throttledTime: oe(t.throttledTime) },
      psi: psiJson(s.cpu.psi),
    },
    cpuset: {
      cpus: oeList(c.cpus),
      cpu_exclusive: c.cpuExclusive,
      mems: oeList(c.mems),
      mem_hardwall: c.memHardwall,
      mem_exclusive: c.memExclusive,
      memory_migrate: c.memoryMigrate,
      memory_spread_page: c.memorySpreadPage,
      memory_spread_slab: c.memorySpreadSlab,
      memory_pressure: c.memoryPressure,
      memory_pressure_enabled: c.memoryPressureEnabled,
      sched_load_balance: c.schedLoadBalance,
      sched_relax_domain_level: c.schedRelaxDomainLevel,
    },
    memory: {
      cache: oe(s.memory.cache),
      usage: memEntry(s.memory.usage),
      swap: memEntry(s.memory.swap),
      kernel: memEntry(s.memory.kernel),
      kernelTCP: memEntry(s.memory.kernelTCP),
      raw: raw.length ? Object.fromEntries(raw) : undefined,
      psi: psiJson(s.memory.psi),
    },
    pids: { current: oe(s.pids.current), limit: oe(s.pids.limit) },
    blkio,
    hugetlb,
    intel_rdt: {},
    network_interfaces: null,
  }
}

/** One line of `events` output: {"type":"stats","id":...,"data":{...}} or an oom event. */
export function eventLine(type: 'stats' | 'oom', id: string, stats?: Stats): string {
  return encodeJson({ type, id, data: stats ? statsJson(stats) : undefined }) + '\n'
}

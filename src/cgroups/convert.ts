// The conversions runc makes between the spec (shaped after cgroup v1) and cgroup v2 files,
// and the small value formats both hierarchies share. Pure: no I/O.

import { cgroupError } from './fs.js'

/**
 * cpu.shares (v1, 2..262144, default 1024) to cpu.weight (v2, 1..10000, default 100): the
 * quadratic fit of opencontainers/cgroups >= 0.0.3 (runc >= 1.3.2), which maps the defaults onto
 * each other (1024 -> 100). 0 stays 0 ("unset").
 */
export function sharesToWeight(shares: bigint): bigint {
  if (shares === 0n) return 0n
  if (shares <= 2n) return 1n
  if (shares >= 262144n) return 10000n
  const l = Math.log2(Number(shares))
  const exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0
  return BigInt(Math.ceil(Math.pow(10, exponent)))
}

/** blkio.weight (10..1000) to io.weight (1..10000), linearly; 0 stays 0. */
export function blkioToIoWeight(weight: number): number {
  if (weight === 0) return 0
  return 1 + Math.floor(((weight - 10) * 9999) / 990)
}

/**
 * The spec's memory.swap is memory+swap (v1's memsw); v2's memory.swap.max is swap alone.
 * Returns the v2 value (-1 "max", 0 "unset"), as runc's ConvertMemorySwapToCgroupV2Value.
 */
export function swapToV2(swap: bigint, memory: bigint): bigint {
  const field = 'linux.resources.memory.swap'
  if (memory === -1n && swap === 0n) return -1n
  if (swap === -1n || swap === 0n) return swap
  if (memory === -1n) return swap
  if (memory === 0n) throw cgroupError(field, 'unable to set swap limit without memory limit')
  if (memory < 0n) throw cgroupError('linux.resources.memory.limit', `invalid memory value: ${memory}`)
  if (swap < memory) throw cgroupError(field, 'memory+swap limit should be >= memory limit')
  return swap - memory
}

/** runc's numToStr for v2 files: 0 is "leave alone" (""), -1 is "max". */
export function numToStr(v: bigint): string {
  if (v === 0n) return ''
  if (v === -1n) return 'max'
  return v.toString()
}

/** pids.max: a negative limit is "max"; 0 is a real limit (runc >= 1.4). */
export function pidsMax(limit: bigint): string {
  return limit < 0n ? 'max' : limit.toString()
}

/** cpu.max from quota and period, as runc's fs2: "max" unless quota > 0; period appended if set. */
export function cpuMax(quota: bigint, period: bigint): string {
  let s = quota > 0n ? quota.toString() : 'max'
  if (period !== 0n) s += ' ' + period.toString()
  return s
}

/**
 * Page sizes from /sys/kernel/mm/hugepages entries ("hugepages-2048kB" -> "2MB"), named as the
 * hugetlb controller names its files.
 */
export function hugePageSizes(entries: string[]): string[] {
  const out: string[] = []
  for (const e of entries) {
    const m = /^hugepages-(\d+)kB$/.exec(e)
    if (!m) continue
    const kb = Number(m[1])
    if (kb >= 1 << 20) out.push(`${Math.floor(kb / (1 << 20))}GB`)
    else if (kb >= 1 << 10) out.push(`${Math.floor(kb / (1 << 10))}MB`)
    else out.push(`${kb}KB`)
  }
  return out
}

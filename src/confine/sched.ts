// Encoders for the per-thread process attributes of process.*: scheduler (struct sched_attr),
// ioPriority (ioprio value), execCPUAffinity (cpu lists -> cpu_set_t bytes) and
// linux.personality. Pure: numbers and bytes only; sys/ffi-confine.ts makes the calls.

import { InternalError, RuntimeError } from '../errors.js'

/** sched(7) policies; SCHED_ISO is reserved by Linux and refused by the kernel (EINVAL). */
export const SCHED_POLICY: Readonly<Record<string, number>> = {
  SCHED_OTHER: 0,
  SCHED_FIFO: 1,
  SCHED_RR: 2,
  SCHED_BATCH: 3,
  SCHED_ISO: 4,
  SCHED_IDLE: 5,
  SCHED_DEADLINE: 6,
}

/** linux/sched.h SCHED_FLAG_*. */
export const SCHED_FLAG: Readonly<Record<string, number>> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01,
  SCHED_FLAG_RECLAIM: 0x02,
  SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08,
  SCHED_FLAG_KEEP_PARAMS: 0x10,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
}

/** linux/ioprio.h classes; the value is class << 13 | level. */
export const IOPRIO_CLASS: Readonly<Record<string, number>> = {
  IOPRIO_CLASS_RT: 1,
  IOPRIO_CLASS_BE: 2,
  IOPRIO_CLASS_IDLE: 3,
}
export const IOPRIO_WHO_PROCESS = 1

/** linux/personality.h: PER_LINUX and PER_LINUX32. */
export const PERSONALITY: Readonly<Record<string, number>> = { LINUX: 0x0000, LINUX32: 0x0008 }

/** What sched_setattr(2) gets; 64-bit fields as decimal strings (the plan is JSON). */
export type SchedPlan = {
  policy: string
  policyNumber: number
  flags: number
  nice: number
  priority: number
  runtime: string
  deadline: string
  period: string
}

/** struct sched_attr, SCHED_ATTR_SIZE_VER1 (56 bytes, with the util clamps left 0). */
export function schedAttr(s: SchedPlan): Buffer {
  const b = Buffer.alloc(56)
  b.writeUInt32LE(56, 0) // size
  b.writeUInt32LE(s.policyNumber, 4)
  b.writeBigUInt64LE(BigInt(s.flags), 8)
  b.writeInt32LE(s.nice, 16)
  b.writeUInt32LE(s.priority, 20)
  b.writeBigUInt64LE(BigInt(s.runtime), 24)
  b.writeBigUInt64LE(BigInt(s.deadline), 32)
  b.writeBigUInt64LE(BigInt(s.period), 40)
  return b
}

export function ioprioValue(cls: string, level: number): number {
  const c = IOPRIO_CLASS[cls]
  if (c === undefined) throw new InternalError(`unknown I/O priority class ${cls}`)
  return (c << 13) | level
}

/** The most CPUs a list may name: the kernel's NR_CPUS tops out at 8192. */
export const MAX_CPUS = 8192

/**
 * A cpuset list ("0-3,7", as in cpuset(7)) -> sorted CPU numbers. Throws with a message that
 * names the bad part; an empty list is refused (sched_setaffinity would fail with EINVAL).
 */
export function parseCpuList(list: string): number[] {
  const out = new Set<number>()
  const text = list.trim()
  if (text === '') throw new RuntimeError('empty cpu list', 'EINVAL')
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)(?:\s*-\s*(\d+))?\s*$/.exec(part)
    if (!m) throw new RuntimeError(`invalid cpu list ${JSON.stringify(list)}: bad element ${JSON.stringify(part)}`, 'EINVAL')
    const lo = Number(m[1])
    const hi = m[2] === undefined ? lo : Number(m[2])
    if (hi < lo) throw new RuntimeError(`invalid cpu list ${JSON.stringify(list)}: range ${part.trim()} is reversed`, 'EINVAL')
    if (hi >= MAX_CPUS)
      throw new RuntimeError(`invalid cpu list ${JSON.stringify(list)}: cpu ${hi} is beyond ${MAX_CPUS - 1}`, 'EINVAL')
    for (let c = lo; c <= hi; c++) out.add(c)
  }
  return [...out].sort((a, b) => a - b)
}

/** CPU numbers -> a cpu_set_t bitmap: at least glibc's 1024 bits, in whole 64-bit words. */
export function cpuMask(cpus: number[]): Buffer {
  const max = cpus.length ? Math.max(...cpus) : 0
  const bytes = Math.max(128, Math.ceil((max + 1) / 64) * 8)
  const b = Buffer.alloc(bytes)
  for (const c of cpus) b[c >> 3] = (b[c >> 3] ?? 0) | (1 << (c & 7))
  return b
}

/** Every CPU bit set: the kernel intersects it with the cpuset, so it means "the cgroup's". */
export function allCpusMask(): Buffer {
  return Buffer.alloc(MAX_CPUS / 8, 0xff)
}

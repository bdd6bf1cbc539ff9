// The -ENOSYS stub that goes in front of libseccomp's program, as runc's patchbpf puts it: a
// syscall numbered above the highest one the profile names, on that architecture, is newer
// than the profile and answers ENOSYS instead of the default action's errno. glibc and
// language runtimes take ENOSYS as "this kernel lacks it" and fall back (clone3 -> clone,
// faccessat2 -> faccessat); EPERM they report as a failure. Pure: classic BPF assembled here,
// syscall numbers resolved by the caller through libseccomp.

import * as os from 'node:os'
import { InternalError } from '../errors.js'
import { ENOSYS, SCMP_ACT } from './seccomp.js'

/** AUDIT_ARCH_* values that need special handling; libseccomp's tokens equal them except x32's. */
export const AUDIT_ARCH = {
  X86_64: 0xc000003e,
  S390: 0x00000016,
  S390X: 0x80000016,
} as const
/** SCMP_ARCH_X32: libseccomp's own token; the kernel reports x32 calls as AUDIT_ARCH_X86_64. */
export const SCMP_ARCH_X32 = 0x4000003e
/** __X32_SYSCALL_BIT: set in the number of every x32 syscall. */
export const X32_SYSCALL_BIT = 0x40000000

/** What the stub answers: SCMP_ACT_ERRNO(ENOSYS). */
export const RET_ENOSYS = (SCMP_ACT.ERRNO | ENOSYS) >>> 0

/** The highest syscall number (as the kernel sees it) the profile names on one architecture. */
export type ArchMax = { arch: number; max: number }

/**
 * Per architecture token, the highest number `resolve` gives for any of `names`; negative
 * numbers are libseccomp's pseudo syscalls (a multiplexed call), not kernel numbers. An
 * architecture none of the names exists on is left out (its calls go straight to the filter).
 */
export function highestSyscalls(
  names: readonly string[],
  archs: readonly number[],
  resolve: (arch: number, name: string) => number,
): ArchMax[] {
  const out: ArchMax[] = []
  for (const arch of new Set(archs)) {
    let max = -1
    for (const n of names) max = Math.max(max, resolve(arch, n))
    if (max >= 0) out.push({ arch, max })
  }
  return out
}

// Classic BPF opcodes (linux/filter.h).
const LD_W_ABS = 0x20
const JMP_JA = 0x05
const JMP_JEQ_K = 0x15
const JMP_JGT_K = 0x25
const JMP_JSET_K = 0x45
const RET_K = 0x06
/** offsetof(struct seccomp_data, nr) and (…, arch). */
const OFF_NR = 0
const OFF_ARCH = 4

type Target = string | 0
type Insn = { code: number; jt: Target; jf: Target; k: number; ja?: string }

/**
 * The stub as struct sock_filter[] in host byte order. It loads the arch, jumps to that
 * arch's section (an arch without one goes to the filter, which applies its bad-arch action),
 * loads the syscall number and compares it with the arch's highest; above it returns
 * ERRNO(ENOSYS), otherwise falls into libseccomp's program, which starts right after the stub.
 * On x86-64, x32 calls (X32_SYSCALL_BIT set) have their own highest number, or go straight to
 * the filter when the profile does not list x32. On s390, syscall 0 is the multiplexer that
 * unknown large numbers end up in, and answers ENOSYS as well (runc).
 */
export function enosysStub(maxes: readonly ArchMax[]): Buffer {
  const byNative = new Map<number, { x32?: number; plain?: number }>()
  for (const { arch, max } of maxes) {
    const native = arch === SCMP_ARCH_X32 ? AUDIT_ARCH.X86_64 : arch >>> 0
    const e = byNative.get(native) ?? {}
    if (arch === SCMP_ARCH_X32) e.x32 = max
    else e.plain = max
    byNative.set(native, e)
  }
  const natives = [...byNative.keys()].sort((a, b) => a - b)

  const prog: Insn[] = []
  const labels = new Map<string, number>()
  const label = (name: string) => labels.set(name, prog.length)
  const ld = (off: number) => prog.push({ code: LD_W_ABS, jt: 0, jf: 0, k: off })
  const jmp = (code: number, k: number, jt: Target, jf: Target) => prog.push({ code, jt, jf, k: k >>> 0 })
  const ja = (to: string) => prog.push({ code: JMP_JA, jt: 0, jf: 0, k: 0, ja: to })

  ld(OFF_ARCH)
  for (const n of natives) jmp(JMP_JEQ_K, n, `arch-${n}`, 0)
  ja('filter')
  for (const n of natives) {
    const { x32, plain } = byNative.get(n)!
    label(`arch-${n}`)
    ld(OFF_NR)
    if (n === AUDIT_ARCH.S390 || n === AUDIT_ARCH.S390X) jmp(JMP_JEQ_K, 0, 'enosys', 0)
    if (n === AUDIT_ARCH.X86_64) {
      if (plain !== undefined && x32 !== undefined) {
        jmp(JMP_JSET_K, X32_SYSCALL_BIT, `x32-${n}`, 0)
        jmp(JMP_JGT_K, plain, 'enosys', 'filter')
        label(`x32-${n}`)
        jmp(JMP_JGT_K, x32, 'enosys', 'filter')
      } else if (plain !== undefined) {
        jmp(JMP_JSET_K, X32_SYSCALL_BIT, 'filter', 0)
        jmp(JMP_JGT_K, plain, 'enosys', 'filter')
      } else {
        jmp(JMP_JSET_K, X32_SYSCALL_BIT, 0, 'filter')
        jmp(JMP_JGT_K, x32!, 'enosys', 'filter')
      }
    } else {
      jmp(JMP_JGT_K, plain!, 'enosys', 'filter')
    }
  }
  label('enosys')
  prog.push({ code: RET_K, jt: 0, jf: 0, k: RET_ENOSYS })
  label('filter')

  const le = os.endianness() === 'LE'
  const out = Buffer.alloc(prog.length * 8)
  prog.forEach((insn, i) => {
    const rel = (t: Target): number => {
      if (t === 0) return 0
      const d = labels.get(t)! - (i + 1)
      if (d < 0 || d > 255) throw new InternalError(`seccomp stub: jump to ${t} out of range (${d})`)
      return d
    }
    const k = insn.ja !== undefined ? labels.get(insn.ja)! - (i + 1) : insn.k
    const o = i * 8
    if (le) {
      out.writeUInt16LE(insn.code, o)
      out.writeUInt32LE(k >>> 0, o + 4)
    } else {
      out.writeUInt16BE(insn.code, o)
      out.writeUInt32BE(k >>> 0, o + 4)
    }
    out.writeUInt8(rel(insn.jt), o + 2)
    out.writeUInt8(rel(insn.jf), o + 3)
  })
  return out
}

// The cgroup v2 device filter: a BPF_PROG_TYPE_CGROUP_DEVICE program generated from the
// reduced rule list, instruction for instruction as runc's devicefilter builds it (but for deny
// rules with partial access, see deviceFilter), and its 8-byte encoding. Pure: loading and attaching are sys/bpf.ts's job.
//
// The program reads struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }:
// r2 = device type (low 16 bits of access_type), r3 = access (high 16 bits), r4 = major,
// r5 = minor; then one block per rule ("if it matches, return allow"), then the default.

import { accessBits, DeviceEmulator, type DeviceRule } from './rules.js'
import { InternalError } from '../../errors.js'

/** struct bpf_insn, with an optional symbolic jump target resolved by assemble(). */
export type Insn = { code: number; dst: number; src: number; off: number; imm: number; target?: string; label?: string }

// Opcode parts (linux/bpf_common.h, linux/bpf.h).
const BPF_LDX = 0x01
const BPF_ALU = 0x04
const BPF_JMP = 0x05
const BPF_W = 0x00
const BPF_MEM = 0x60
const BPF_K = 0x00
const BPF_X = 0x08
const BPF_AND = 0x50
const BPF_RSH = 0x70
const BPF_MOV = 0xb0
const BPF_JEQ = 0x10
const BPF_JNE = 0x50
const BPF_EXIT = 0x90

export const BPF_DEVCG_ACC_MKNOD = 1
export const BPF_DEVCG_ACC_READ = 2
export const BPF_DEVCG_ACC_WRITE = 4
export const BPF_DEVCG_DEV_BLOCK = 1
export const BPF_DEVCG_DEV_CHAR = 2

export const LICENSE = 'Apache'

const ins = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm })
export const ldxMemW = (dst: number, src: number, off: number) => ins(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
export const andImm32 = (dst: number, imm: number) => ins(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm)
export const rshImm32 = (dst: number, imm: number) => ins(BPF_ALU | BPF_RSH | BPF_K, dst, 0, 0, imm)
export const movImm32 = (dst: number, imm: number) => ins(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, imm)
export const movReg32 = (dst: number, src: number) => ins(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
export const jneImm = (dst: number, imm: number, target: string): Insn => ({
  ...ins(BPF_JMP | BPF_JNE | BPF_K, dst, 0, 0, imm),
  target,
})
export const jeqImm = (dst: number, imm: number, target: string): Insn => ({
  ...ins(BPF_JMP | BPF_JEQ | BPF_K, dst, 0, 0, imm),
  target,
})
export const jneReg = (dst: number, src: number, target: string): Insn => ({
  ...ins(BPF_JMP | BPF_JNE | BPF_X, dst, src, 0, 0),
  target,
})
export const exit = () => ins(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/** The program for a rule list (the full list, as deviceRules() returns it). */
export function deviceFilter(rules: DeviceRule[]): Insn[] {
  const emu = DeviceEmulator.of(rules)
  const defaultAllow = emu.defaultAllow
  const out: Insn[] = [
    ldxMemW(2, 1, 0),
    andImm32(2, 0xffff),
    ldxMemW(3, 1, 0),
    rshImm32(3, 16),
    ldxMemW(4, 1, 4),
    ldxMemW(5, 1, 8),
  ]
  let block = 0
  for (const [i, r] of emu.reduced().entries()) {
    if (r.type === 'a') {
      // Only the policy switch of a black-list, first: the default below covers it.
      if (i !== 0 || r.allow !== defaultAllow) throw new InternalError('misplaced wildcard device rule')
      continue
    }
    const next = `block-${block + 1}`
    const start = out.length
    out.push(jneImm(2, r.type === 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, next))
    const bits = accessBits(r.access)
    let acc = 0
    if (bits & 1) acc |= BPF_DEVCG_ACC_READ
    if (bits & 2) acc |= BPF_DEVCG_ACC_WRITE
    if (bits & 4) acc |= BPF_DEVCG_ACC_MKNOD
    if (acc !== (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)) {
      if (r.allow) {
        // An allow rule grants a request it covers: (r3 & acc) == r3.
        out.push(movReg32(1, 3), andImm32(1, acc), jneReg(1, 3, next))
      } else {
        // A deny rule refuses a request that asks for any of its access: (r3 & acc) != 0, as
        // the v1 kernel does (match_exception_partial). runc tests r3 ⊆ acc for deny rules too,
        // so its v2 filter lets an O_RDWR open through "deny c 1:5 w"; v1 refuses it.
        out.push(movReg32(1, 3), andImm32(1, acc), jeqImm(1, 0, next))
      }
    }
    if (r.major !== -1) out.push(jneImm(4, r.major, next))
    if (r.minor !== -1) out.push(jneImm(5, r.minor, next))
    out.push(movImm32(0, r.allow ? 1 : 0), exit())
    out[start]!.label = `block-${block}`
    block++
  }
  out.push({ ...movImm32(0, defaultAllow ? 1 : 0), label: `block-${block}` }, exit())
  return out
}

/** Resolve jump targets to offsets and encode each instruction as 8 little-endian bytes. */
export function assemble(prog: Insn[]): Buffer {
  const at = new Map<string, number>()
  prog.forEach((p, i) => p.label !== undefined && at.set(p.label, i))
  const buf = Buffer.alloc(prog.length * 8)
  prog.forEach((p, i) => {
    let off = p.off
    if (p.target !== undefined) {
      const t = at.get(p.target)
      if (t === undefined) throw new InternalError(`no label ${p.target}`)
      off = t - (i + 1)
    }
    buf.writeUInt8(p.code, i * 8)
    buf.writeUInt8((p.dst & 0xf) | ((p.src & 0xf) << 4), i * 8 + 1)
    buf.writeInt16LE(off, i * 8 + 2)
    buf.writeInt32LE(p.imm | 0, i * 8 + 4)
  })
  return buf
}

// bpf(2) for cgroup device programs: load a BPF_PROG_TYPE_CGROUP_DEVICE program, attach it to
// a cgroup directory fd, list what is attached, detach. union bpf_attr is laid out by hand in
// malloc'd memory (it holds pointers); failures are SysErrors naming the bpf command.

import * as ffi from './ffi.js'
import * as C from './constants.js'
import { sysError } from './linux.js'

const BPF_PROG_LOAD = 5
const BPF_PROG_ATTACH = 8
const BPF_PROG_DETACH = 9
const BPF_PROG_GET_FD_BY_ID = 13
const BPF_PROG_QUERY = 16

export const BPF_PROG_TYPE_CGROUP_DEVICE = 15
export const BPF_CGROUP_DEVICE = 6
export const BPF_F_ALLOW_MULTI = 2

// Large enough for every field used here; the kernel requires unknown trailing bytes be zero.
const ATTR_SIZE = 128

/** Copy bytes into fresh malloc'd memory (a multiple of 8 long). */
function place(bytes: Buffer): ffi.Ptr {
  const len = Math.max(8, Math.ceil(bytes.length / 8) * 8)
  const padded = Buffer.alloc(len)
  bytes.copy(padded)
  const p = ffi.malloc(len)
  for (let off = 0; off < len; off += 8) ffi.pokeU64(p, off, padded.readBigUInt64LE(off))
  return p
}

function bpf(cmd: number, name: string, attr: Buffer): { ret: number; attr: Buffer } {
  const mem = place(attr)
  try {
    const r = Number(ffi.syscall(C.SYS.bpf, 'int', cmd, 'void *', mem, 'uint', ATTR_SIZE))
    if (r < 0) throw sysError('bpf', ffi.errno(), undefined, undefined, { cmd: name })
    return { ret: r, attr: ffi.peekU8(mem, ATTR_SIZE) }
  } finally {
    ffi.free(mem)
  }
}

/** Load a cgroup device program (`insns`: encoded struct bpf_insn array); returns its fd. */
export function progLoadCgroupDevice(insns: Buffer, license: string): number {
  const code = place(insns)
  const lic = ffi.cString(license)
  const logSize = 64 * 1024
  const log = ffi.malloc(logSize)
  ffi.pokeU64(log, 0, 0n)
  try {
    const attr = Buffer.alloc(ATTR_SIZE)
    attr.writeUInt32LE(BPF_PROG_TYPE_CGROUP_DEVICE, 0)
    attr.writeUInt32LE(insns.length / 8, 4)
    attr.writeBigUInt64LE(code, 8)
    attr.writeBigUInt64LE(lic, 16)
    attr.writeUInt32LE(1, 24) // log_level: keep the verifier's reason for a rejection
    attr.writeUInt32LE(logSize, 28)
    attr.writeBigUInt64LE(log, 32)
    attr.write('runt_devices', 48, 'latin1') // prog_name[16]
    attr.writeUInt32LE(BPF_CGROUP_DEVICE, 68) // expected_attach_type
    try {
      return bpf(BPF_PROG_LOAD, 'BPF_PROG_LOAD', attr).ret
    } catch (e) {
      const text = ffi.peekU8(log, logSize)
      const end = text.indexOf(0)
      const verifier = text
        .subarray(0, end < 0 ? logSize : end)
        .toString('utf8')
        .trim()
      if (verifier && e instanceof Error) e.message += `; verifier: ${verifier.split('\n').slice(-3).join(' | ')}`
      throw e
    }
  } finally {
    ffi.free(code)
    ffi.free(lic)
    ffi.free(log)
  }
}

export function progAttach(cgroupFd: number, progFd: number, attachType: number, flags: number): void {
  const attr = Buffer.alloc(ATTR_SIZE)
  attr.writeUInt32LE(cgroupFd, 0)
  attr.writeUInt32LE(progFd, 4)
  attr.writeUInt32LE(attachType, 8)
  attr.writeUInt32LE(flags, 12)
  bpf(BPF_PROG_ATTACH, 'BPF_PROG_ATTACH', attr)
}

export function progDetach(cgroupFd: number, progFd: number, attachType: number): void {
  const attr = Buffer.alloc(ATTR_SIZE)
  attr.writeUInt32LE(cgroupFd, 0)
  attr.writeUInt32LE(progFd, 4)
  attr.writeUInt32LE(attachType, 8)
  bpf(BPF_PROG_DETACH, 'BPF_PROG_DETACH', attr)
}

/** Ids of the programs attached directly to the cgroup for `attachType`. */
export function progQuery(cgroupFd: number, attachType: number): number[] {
  const max = 64
  const ids = ffi.malloc(4 * max)
  try {
    const attr = Buffer.alloc(ATTR_SIZE)
    attr.writeUInt32LE(cgroupFd, 0)
    attr.writeUInt32LE(attachType, 4)
    attr.writeBigUInt64LE(ids, 16)
    attr.writeUInt32LE(max, 24)
    const { attr: out } = bpf(BPF_PROG_QUERY, 'BPF_PROG_QUERY', attr)
    const n = Math.min(out.readUInt32LE(24), max)
    const raw = ffi.peekU8(ids, 4 * Math.max(n, 1))
    return Array.from({ length: n }, (_, i) => raw.readUInt32LE(4 * i))
  } finally {
    ffi.free(ids)
  }
}

export function progGetFdById(id: number): number {
  const attr = Buffer.alloc(ATTR_SIZE)
  attr.writeUInt32LE(id, 0)
  return bpf(BPF_PROG_GET_FD_BY_ID, 'BPF_PROG_GET_FD_BY_ID', attr).ret
}

// Checked calls the confinement layer needs beyond sys/linux.ts: rlimit reads, scheduling
// (sched_setattr), I/O priority, CPU affinity, personality, the NUMA memory policy, session
// keyrings, memfd, and loading a raw seccomp BPF program. Each acts on the calling thread where the kernel makes
// that distinction (the main thread, which calls execve), reads errno at once and throws
// SysError, as linux.ts does.

import * as ffi from './ffi.js'
import * as C from './constants.js'
import { sysError } from './linux.js'
import { InternalError } from '../errors.js'

const prlimitGet_ = ffi.libc.func('int prlimit(int pid, int resource, void *newLimit, void *oldLimit)')
const schedSetaffinity_ = ffi.libc.func('int sched_setaffinity(int pid, size_t size, const uint8_t *mask)')

const KEYCTL_SETPERM = 5
const KEYCTL_DESCRIBE = 6
const KEYCTL_JOIN_SESSION_KEYRING = 1
const MFD_CLOEXEC = 1
const SECCOMP_SET_MODE_FILTER = 1

function check(ret: number | bigint, syscall: string, what?: string): number {
  const n = Number(ret)
  if (n < 0) throw sysError(syscall, ffi.errno(), what)
  return n
}

/** A BPF program copied to malloc'd memory with its struct sock_fprog, ready to load. */
export type BpfProgram = { fprog: Buffer; insns: number; mem: ffi.Ptr }

export const confineCalls = {
  /** [soft, hard] of an rlimit of this process. */
  prlimitGet(resource: number, what?: string): [bigint, bigint] {
    const old = Buffer.alloc(16)
    check(prlimitGet_(0, resource, null, old), 'prlimit', what)
    return [old.readBigUInt64LE(0), old.readBigUInt64LE(8)]
  },
  /** sched_setattr(2) on the calling thread, or on `pid`. */
  schedSetattr(attr: Buffer, pid = 0): void {
    check(ffi.syscall(C.SYS.sched_setattr, 'int', pid, 'void *', attr, 'unsigned int', 0), 'sched_setattr')
  },
  /** sched_setaffinity(2) on the calling thread, or on `pid`. */
  schedSetaffinity(mask: Buffer, what?: string, pid = 0): void {
    check(schedSetaffinity_(pid, mask.length, mask), 'sched_setaffinity', what)
  },
  /** ioprio_set(which, who, value): who 0 is the calling thread. */
  ioprioSet(which: number, value: number, who = 0): void {
    check(ffi.syscall(C.SYS.ioprio_set, 'int', which, 'int', who, 'int', value), 'ioprio_set')
  },
  /** personality(2); returns the previous persona. */
  personality(persona: number): number {
    return check(ffi.syscall(C.SYS.personality, 'unsigned long', persona), 'personality')
  },
  /** set_mempolicy(2) on the calling thread: `mode` with its flags or'ed in. */
  setMempolicy(mode: number, mask: Buffer, maxnode: number, detail?: Record<string, string>): void {
    const r = Number(ffi.syscall(C.SYS.set_mempolicy, 'int', mode, 'void *', mask, 'unsigned long', maxnode))
    if (r < 0) throw sysError('set_mempolicy', ffi.errno(), undefined, undefined, detail)
  },
  /** Join (or create) the session keyring `name`; returns its serial. */
  joinSessionKeyring(name: string): number {
    return check(ffi.syscall(C.SYS.keyctl, 'int', KEYCTL_JOIN_SESSION_KEYRING, 'str', name), 'keyctl', name)
  },
  /** KEYCTL_DESCRIBE: "type;uid;gid;perm;description". */
  describeKey(id: number): string {
    const buf = Buffer.alloc(512)
    const n = check(ffi.syscall(C.SYS.keyctl, 'int', KEYCTL_DESCRIBE, 'int', id, 'void *', buf, 'size_t', buf.length), 'keyctl')
    return buf.subarray(0, Math.max(0, Math.min(n, buf.length) - 1)).toString('utf8')
  },
  setKeyPerm(id: number, perm: number): void {
    check(ffi.syscall(C.SYS.keyctl, 'int', KEYCTL_SETPERM, 'int', id, 'unsigned int', perm >>> 0), 'keyctl')
  },
  memfdCreate(name: string): number {
    return check(ffi.syscall(C.SYS.memfd_create, 'str', name, 'unsigned int', MFD_CLOEXEC), 'memfd_create', name)
  },
  /** Copy BPF instructions (8 bytes each) out of the JS heap, with their sock_fprog. */
  bpfProgram(code: Buffer): BpfProgram {
    if (code.length === 0 || code.length % 8 !== 0) throw new InternalError(`bad BPF program of ${code.length} bytes`)
    const mem = ffi.malloc(code.length)
    ffi.koffi.encode(mem, 'uint8_t', Array.from(code), code.length)
    const fprog = Buffer.alloc(16)
    fprog.writeUInt16LE(code.length / 8, 0)
    fprog.writeBigUInt64LE(mem, 8)
    return { fprog, insns: code.length / 8, mem }
  },
  /**
   * seccomp(SECCOMP_SET_MODE_FILTER, flags, prog) on the calling thread (all threads with
   * TSYNC). Returns the listener fd with NEW_LISTENER, else 0. With TSYNC alone, a positive
   * return is the id of a thread that could not be synchronised.
   */
  seccompLoad(prog: BpfProgram, flags: number): number {
    const r = Number(
      ffi.syscall(C.SYS.seccomp, 'unsigned int', SECCOMP_SET_MODE_FILTER, 'unsigned int', flags, 'void *', prog.fprog),
    )
    if (r < 0) throw sysError('seccomp', ffi.errno(), undefined, undefined, { flags: '0x' + flags.toString(16) })
    return r
  },
  /**
   * Whether the kernel knows the filter flags `flags`: with a NULL program it answers EFAULT
   * if it does, EINVAL if it does not (what runc's probe does too).
   */
  seccompFlagsSupported(flags: number): boolean {
    const r = Number(ffi.syscall(C.SYS.seccomp, 'unsigned int', SECCOMP_SET_MODE_FILTER, 'unsigned int', flags, 'void *', null))
    return r < 0 && ffi.errno() === 14 /* EFAULT */
  },
}

export type ConfineCalls = typeof confineCalls

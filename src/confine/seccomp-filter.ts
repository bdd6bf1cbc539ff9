// SeccompPlan -> a BPF program, built by the system's libseccomp and exported (not loaded by
// it), with runc's -ENOSYS stub in front (seccomp-enosys.ts), then loaded by us with one seccomp(2) call right before execve, as runc's patchbpf
// does: libseccomp would set no_new_privs itself and knows no WAIT_KILLABLE_RECV in 2.5. With
// SCMP_ACT_NOTIFY the listener fd goes to the agent at listenerPath with the container
// process state (runtime-spec: seccomp state, fds ["seccompFd"]).

import * as fs from 'node:fs'
import { libseccomp, NR_SCMP_ERROR, SCMP_FLTATR, type ScmpCond, type ScmpCtx } from '../sys/libseccomp-ffi.js'
import type { BpfProgram, ConfineCalls } from '../sys/ffi-confine.js'
import type { Sys } from '../sys/linux.js'
import { sendFds } from '../sys/scm.js'
import { RuntimeError, StepError } from '../errors.js'
import { FILTER_FLAG, type SeccompPlan } from './seccomp.js'
import { enosysStub, highestSyscalls } from './seccomp-enosys.js'

export type FilterLog = (level: 'debug' | 'warning', msg: string) => void

export type CompiledFilter = { program: BpfProgram; flags: number; notify: boolean; bytes: number }

type CompileSys = Pick<ConfineCalls, 'memfdCreate' | 'bpfProgram' | 'seccompFlagsSupported'> & Pick<Sys, 'close'>

/** Build the filter with libseccomp and export it as BPF bytes. */
export function buildBpf(plan: SeccompPlan, memfd: () => number, close: (fd: number) => void, log: FilterLog): Buffer {
  const ctx = libseccomp.init(plan.defaultAction)
  try {
    const archs = [libseccomp.archNative()]
    for (const a of plan.architectures) {
      const token = libseccomp.archResolve(a.name)
      if (token === 0) {
        const v = libseccomp.version()
        throw new StepError(
          a.field,
          new RuntimeError(`architecture "${a.name}" is not known to libseccomp ${v.major}.${v.minor}.${v.micro}`, 'ESECCOMP'),
        )
      }
      libseccomp.archAdd(ctx, token, a.name)
      archs.push(token)
    }
    if (plan.optimize) {
      try {
        libseccomp.attrSet(ctx, SCMP_FLTATR.CTL_OPTIMIZE, 2, 'optimize')
      } catch {
        /* an older libseccomp: a linear filter is still correct */
      }
    }
    for (const rule of plan.rules) {
      rule.names.forEach((name, j) => {
        const nr = libseccomp.resolveName(name)
        if (nr === NR_SCMP_ERROR) {
          // runc: a name this libseccomp does not know is a syscall this kernel lacks.
          log('debug', `${rule.field}.names[${j}]: unknown syscall "${name}" skipped`)
          return
        }
        for (const conds of rule.conditions) {
          const c: ScmpCond[] = conds.map((x) => ({ arg: x.arg, op: x.op, a: BigInt(x.a), b: BigInt(x.b) }))
          try {
            libseccomp.ruleAdd(ctx, rule.action, nr, c, name)
          } catch (e) {
            throw new StepError(`${rule.field}.names[${j}]`, e as Error)
          }
        }
      })
    }
    const filter = exportBpf(ctx, memfd, close)
    if (!plan.enosys) return checkLength(filter)
    // Every architecture the filter covers (libseccomp always keeps the native one) gets a
    // section; runc covers only the listed ones, so a profile without `architectures` would
    // answer EPERM to new syscalls there.
    const maxes = highestSyscalls(plan.enosys, archs, (arch, name) => libseccomp.resolveNameArch(arch, name))
    const stub = enosysStub(maxes)
    log(
      'debug',
      `seccomp: -ENOSYS stub of ${stub.length / 8} instructions above ${maxes.map((m) => `${m.max} (arch 0x${(m.arch >>> 0).toString(16)})`).join(', ') || 'no syscall'}`,
    )
    return checkLength(Buffer.concat([stub, filter]))
  } finally {
    libseccomp.release(ctx)
  }
}

function exportBpf(ctx: ScmpCtx, memfd: () => number, close: (fd: number) => void): Buffer {
  const fd = memfd()
  try {
    libseccomp.exportBpf(ctx, fd)
    const size = fs.fstatSync(fd).size
    const buf = Buffer.alloc(size)
    let off = 0
    while (off < size) {
      const n = fs.readSync(fd, buf, off, size - off, off)
      if (n === 0) break
      off += n
    }
    return buf.subarray(0, off)
  } finally {
    close(fd)
  }
}

/** BPF_MAXINSNS: the kernel refuses a longer filter with a bare EINVAL; say why, at create. */
const MAX_INSNS = 4096

function checkLength(bpf: Buffer): Buffer {
  const n = bpf.length / 8
  if (n > MAX_INSNS)
    throw new StepError(
      'linux.seccomp',
      new RuntimeError(`the filter compiles to ${n} BPF instructions; the kernel takes at most ${MAX_INSNS}`, 'ESECCOMP'),
    )
  return bpf
}

/**
 * Compile while host paths are visible (libseccomp is loaded from the host). Load flags are
 * checked against the kernel now, so an unsupported one fails create, not start.
 */
export function compileFilter(plan: SeccompPlan, sys: CompileSys, log: FilterLog): CompiledFilter {
  let flags = plan.flags
  if (plan.notify) flags |= FILTER_FLAG.NEW_LISTENER
  if (
    flags & FILTER_FLAG.WAIT_KILLABLE_RECV &&
    !sys.seccompFlagsSupported(FILTER_FLAG.NEW_LISTENER | FILTER_FLAG.WAIT_KILLABLE_RECV)
  ) {
    log('warning', 'linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is not supported by this kernel; ignored')
    flags &= ~FILTER_FLAG.WAIT_KILLABLE_RECV
  }
  // A listener and TSYNC together need TSYNC_ESRCH (seccomp(2)), as runc sets it.
  if (flags & FILTER_FLAG.TSYNC && flags & FILTER_FLAG.NEW_LISTENER) flags |= FILTER_FLAG.TSYNC_ESRCH
  for (const [name, bit] of [
    ['SECCOMP_FILTER_FLAG_LOG', FILTER_FLAG.LOG],
    ['SECCOMP_FILTER_FLAG_SPEC_ALLOW', FILTER_FLAG.SPEC_ALLOW],
    ['SECCOMP_FILTER_FLAG_TSYNC', FILTER_FLAG.TSYNC],
  ] as const) {
    if (flags & bit && !sys.seccompFlagsSupported(bit))
      throw new StepError('linux.seccomp.flags', new RuntimeError(`${name} is not supported by this kernel`, 'ESECCOMP'))
  }
  const bpf = buildBpf(plan, () => sys.memfdCreate('runt-seccomp'), sys.close, log)
  return { program: sys.bpfProgram(bpf), flags, notify: plan.notify, bytes: bpf.length }
}

/** Load the filter on this thread (all threads with TSYNC); the listener fd, or -1. */
export function loadFilter(f: CompiledFilter, sys: Pick<ConfineCalls, 'seccompLoad'>): number {
  const r = sys.seccompLoad(f.program, f.flags)
  if (f.notify) return r
  if (f.flags & FILTER_FLAG.TSYNC && r > 0)
    throw new RuntimeError(`seccomp: thread ${r} could not be synchronised (SECCOMP_FILTER_FLAG_TSYNC)`, 'ESECCOMP')
  return -1
}

/** runtime-spec's "containerProcessState", sent with the listener fd. */
export type ContainerProcessState = {
  ociVersion: string
  fds: string[]
  pid: number
  metadata?: string
  state: Record<string, unknown>
}

/** One message: the state as JSON, the listener fd as SCM_RIGHTS (runc's SendRawFd). */
export function sendListenerFd(sock: number, state: ContainerProcessState, fd: number): void {
  sendFds(sock, Buffer.from(JSON.stringify(state)), [fd])
}

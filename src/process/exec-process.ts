// The process `runt exec` starts, forked at the very end by the exec init (A) as a libc-only
// chain (B), so that no runtime process is ever reachable from the container:
//
// - A runs the sealed binary in the host's user and pid namespaces: the container cannot see
//   it. B is born in the container's pid namespace (A joins it for its children around the
//   clone alone: the runtime cannot start a thread meanwhile) as a child of `runt exec`
//   (CLONE_PARENT). Until its execve, B's /proc/<pid>/exe is the sealed binary
//   and its memory belongs to the host's user namespace, so CAP_SYS_PTRACE inside a user
//   namespace is not enough to touch it (runc's init has the same property).
// - B joins the user (and time) namespace, keeps only stdio, the preserved fds and its two
//   sync pipes, sets the memory policy, switches credentials and capabilities in runc's order,
//   sets no_new_privs and loads the seccomp filter: all as plain libc calls prepared by A.
// - A chain cannot branch, so B reports errno after those steps (0 when every call
//   succeeded) and waits; A applies what it can apply from outside (oom_score_adj,
//   scheduler, I/O priority, affinity, the seccomp listener to its agent) and says go, or
//   kills B. After execve B's sync pipes close: EOF means exec'd, 4 bytes are execve's errno.

import * as C from '../sys/constants.js'
import { capsetArgs, linux as sys, sysError } from '../sys/linux.js'
import { confineCalls } from '../sys/ffi-confine.js'
import { CloneChain } from '../sys/clone-chain.js'
import { RuntimeError } from '../errors.js'
import type { InitConfig } from './init-config.js'
import type { ConfinePlan } from '../confine/plan.js'
import type { CompiledFilter } from '../confine/seccomp-filter.js'
import { credentialSteps, type CredStep } from '../confine/steps.js'
import { stdioStats, stdioToChown } from '../confine/credentials.js'
import { trace } from '../log.js'
import { schedAttr, cpuMask, allCpusMask, IOPRIO_WHO_PROCESS } from '../confine/sched.js'
import { nodeMask } from '../confine/mempolicy.js'

const F_DUPFD_CLOEXEC = 1030
const KEYCTL_JOIN_SESSION_KEYRING = 1
const SECCOMP_SET_MODE_FILTER = 1
const CAP_SYS_ADMIN = 21n

export type ExecProcessInput = {
  cfg: InitConfig
  plan: ConfinePlan
  filter: CompiledFilter | null
  /** The program, resolved in the container. */
  exe: string
  /** The container's user and time namespaces to join (fds of A), if it has them. */
  userFd?: number
  timeFd?: number
  /** The container's pid namespace, joined for the clone of B only (an fd of A). */
  pidFd?: number
  /** setgroups(2) is allowed in the user namespace the process ends up in. */
  setgroups: boolean
  /** The LSM exec attr file (/proc/thread-self/attr/...), and what to write to it. */
  lsmAttr?: { path: string; value: string }
  /** An fd of the host's /proc (A is outside the container's pid namespace). */
  hostProc: number
  /** Send the seccomp listener fd of process `pid` to its agent. */
  handOver: (fd: number, pid: number) => void
  warn: (msg: string) => void
  /** Put this process into the container's cgroup, so that B is born there. */
  enterCgroup: () => void
  /** Right after the fork: back to the runtime's own cgroup (the process stays in the container's). */
  leaveCgroup?: () => void
}

/** capset(2)'s arguments in `chain` memory. */
function capsetInChain(chain: CloneChain, eff: bigint, prm: bigint, inh: bigint): [bigint, bigint] {
  const [hdr, data] = capsetArgs(eff, prm, inh)
  return [chain.bytes(hdr), chain.bytes(data)]
}

/** The credential steps as calls of B's chain, one per step, in their order. */
export function chainSteps(
  chain: CloneChain,
  steps: CredStep[],
  x: Pick<ExecProcessInput, 'lsmAttr' | 'filter'>,
  E: number,
): void {
  for (const s of steps) chainStep(chain, s, x, E)
}

function chainStep(chain: CloneChain, s: CredStep, x: Pick<ExecProcessInput, 'lsmAttr' | 'filter'>, E: number): void {
  switch (s.op) {
    case 'capbset-drop':
      chain.call('prctl', C.PR_CAPBSET_DROP, s.bit, 0, 0, 0)
      break
    case 'keepcaps':
      chain.call('prctl', C.PR_SET_KEEPCAPS, s.on, 0, 0, 0)
      break
    case 'setgroups': {
      const gids = Buffer.alloc(4 * Math.max(s.gids.length, 1))
      s.gids.forEach((g, i) => gids.writeUInt32LE(g, 4 * i))
      chain.call('syscall', C.SYS.setgroups, s.gids.length, chain.bytes(gids))
      break
    }
    case 'setresgid':
      chain.call('syscall', C.SYS.setresgid, s.gid, s.gid, s.gid)
      break
    case 'setresuid':
      chain.call('syscall', C.SYS.setresuid, s.uid, s.uid, s.uid)
      break
    case 'capset':
      chain.call('syscall', C.SYS.capset, ...capsetInChain(chain, s.sets.effective, s.sets.permitted, s.sets.inheritable))
      break
    case 'ambient-clear':
      chain.call('prctl', C.PR_CAP_AMBIENT, C.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
      break
    case 'ambient-raise':
      chain.call('prctl', C.PR_CAP_AMBIENT, C.PR_CAP_AMBIENT_RAISE, s.bit, 0, 0)
      break
    case 'personality':
      chain.call('syscall', C.SYS.personality, s.persona)
      break
    case 'lsm-exec': {
      // The first free fd is E+3: that is what openat returns. Both closed before seccomp, whose
      // listener is then E+2 again.
      const rel = x.lsmAttr!.path.replace(/^\/proc\//, '')
      chain.call('openat', E + 2, rel, C.O_WRONLY | C.O_CLOEXEC, 0)
      const v = Buffer.from(x.lsmAttr!.value)
      chain.call('write', E + 3, chain.bytes(v), v.length)
      chain.call('close', E + 3)
      chain.call('close', E + 2)
      break
    }
    case 'no-new-privs':
      chain.call('prctl', C.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
      break
    case 'seccomp':
      chain.call('syscall', C.SYS.seccomp, SECCOMP_SET_MODE_FILTER, x.filter!.flags, chain.bytes(x.filter!.program.fprog))
      break
  }
}

/** Fork B; returns its host pid once it has exec'd, or throws what went wrong. */
export function spawnExecProcess(x: ExecProcessInput): number {
  const { cfg, plan } = x
  const p = cfg.process
  // B's status pipe; E+1 its go pipe; E+2 the host's /proc while B needs it, then the first
  // free fd.
  const E = 3 + cfg.extraFds
  const pipe = () =>
    sys.pipe2(C.O_CLOEXEC).map((fd) => {
      // Above B's final layout, so the dup2s below cannot clobber one with the other.
      const high = sys.fcntl(fd, F_DUPFD_CLOEXEC, E + 3)
      sys.close(fd)
      return high
    }) as [number, number]
  const [statusR, statusW] = pipe()
  const [goR, goW] = pipe()

  // Capabilities held beyond the configured sets until the filter is loaded (see
  // confine/confinement.ts): CAP_SYS_ADMIN to load it without no_new_privs. CAP_SYS_NICE is not
  // needed: A sets the scheduler and I/O priority from outside.
  const held = p.caps.effective & p.caps.permitted
  const extra = x.filter && !p.noNewPrivileges ? (1n << CAP_SYS_ADMIN) & ~held : 0n
  const steps = credentialSteps({
    uid: p.uid,
    gid: p.gid,
    additionalGids: p.additionalGids,
    setgroups: x.setgroups,
    caps: p.caps,
    extra,
    lastCap: cfg.lastCap,
    ...(plan.personality ? { personality: plan.personality.persona } : {}),
    lsmExec: x.lsmAttr !== undefined,
    noNewPrivileges: p.noNewPrivileges,
    seccomp: x.filter !== null,
  })
  for (const n of steps.notes) trace(n)

  const chain = new CloneChain()
  const errnoPtr = CloneChain.errnoAddress()
  const zero = () => chain.call('memset', errnoPtr, 0, 4)
  zero()
  // A call whose errno is thrown away: the one before it is kept for the status report.
  const saved = chain.buffer(8)
  const ignoringErrno = (fn: string, ...args: Parameters<CloneChain['call']>[1][]) => {
    chain.call('memcpy', saved, errnoPtr, 4)
    chain.call(fn, ...args)
    chain.call('memcpy', errnoPtr, saved, 4)
  }
  // rlimits first, while B is still A's twin (host root with every capability): raising a
  // hard limit needs CAP_SYS_RESOURCE in the host's user namespace, and once B has switched
  // uid A could only set them through prlimit's cross-credential check.
  for (const r of plan.rlimits) {
    const lim = Buffer.alloc(16)
    lim.writeBigUInt64LE(BigInt(r.soft), 0)
    lim.writeBigUInt64LE(BigInt(r.hard), 8)
    chain.call('prlimit', 0, r.resource, chain.bytes(lim), 0)
  }
  if (x.userFd !== undefined) chain.call('setns', x.userFd, C.CLONE_NEWUSER)
  if (x.timeFd !== undefined) chain.call('setns', x.timeFd, C.CLONE_NEWTIME)
  // The stdio to the process's user, as the init does (credentials.ts chownStdio). Owners are
  // seen here from outside a user namespace B joins, so there only /dev/null is skipped. What
  // may not be changed is left as it is: each call's errno is thrown away.
  const stdio = stdioToChown(stdioStats(sys), x.userFd === undefined ? p.uid : undefined)
  for (const fd of stdio) ignoringErrno('fchown', fd, p.uid, 0xffffffff)
  // The LSM label is written through the host's procfs (A's fd), never the container's /proc,
  // which a container with CAP_SYS_ADMIN in its user namespace may have remounted or covered
  // with a bind of another file (CVE-2025-52881); "thread-self" there names B all the same,
  // since B has a pid in the host's namespace too. Copied first: the pipes sit above E+2, and
  // the dup2s below may reuse A's fd number.
  if (x.lsmAttr) chain.call('dup2', x.hostProc, E + 2)
  // Only stdio, the preserved fds and our two pipes from here on.
  chain.call('dup2', statusW, E)
  chain.call('dup2', goR, E + 1)
  chain.call('fcntl', E, C.F_SETFD, C.FD_CLOEXEC)
  chain.call('fcntl', E + 1, C.F_SETFD, C.FD_CLOEXEC)
  chain.call('syscall', C.SYS.close_range, x.lsmAttr ? E + 3 : E + 2, 0xffffffff, 0)
  if (!cfg.noNewKeyring) {
    // runc's exec joins the container's session keyring; a kernel without keyrings is fine,
    // so whatever errno keyctl leaves is thrown away.
    ignoringErrno('syscall', C.SYS.keyctl, KEYCTL_JOIN_SESSION_KEYRING, chain.str(`_ses.${cfg.id}`))
  }
  // The terminal before the filter: after the load only the status write, the go read and
  // execve are left (a notifying rule on them would wait for an agent that has no fd yet).
  if (p.terminal) {
    chain.call('setsid')
    chain.call('ioctl', 0, C.TIOCSCTTY, 0)
  }
  // linux.memoryPolicy on B, the thread that execs (the policy is per thread and survives
  // execve): before the user switch and the filter, which may forbid set_mempolicy, as runc's
  // setns init has it. Its errno is the status report's, like every step's.
  const mp = plan.memoryPolicy
  if (mp) {
    const { mask, maxnode } = nodeMask(mp.nodes)
    chain.call('syscall', C.SYS.set_mempolicy, mp.value, chain.bytes(mask), maxnode)
  }
  // The user switch and the lockdown, in the order confine/steps.ts holds for the init too.
  const { bounding, ids, caps, binds, final } = steps
  chainSteps(chain, [...bounding, ...ids, ...caps, ...binds, ...final], x, E)
  const one = chain.buffer(8)
  chain.call('write', E, errnoPtr, 4)
  chain.call('read', E + 1, one, 1)
  chain.call('execve', x.exe, chain.strArray(p.args), chain.strArray(p.env))
  chain.call('write', E, errnoPtr, 4)
  const launch = chain.prepare(C.CLONE_PARENT)

  let pid = 0
  try {
    // Last before the fork: what A does in the container's cgroup is charged to it, and
    // throttled under its cpu quota.
    x.enterCgroup()
    pid = x.pidFd === undefined ? launch() : launchInPidNs(launch, x.pidFd, x.hostProc)
    // Born in the container's cgroup: what we do from here to our exit is the runtime's.
    x.leaveCgroup?.()
    sys.close(statusW)
    sys.close(goR)
    const st = Buffer.alloc(4)
    if (readFull(statusR, st) !== 4) throw new RuntimeError('the exec process died while being set up', 'EEXEC')
    const setupErrno = st.readInt32LE(0)
    if (setupErrno !== 0) {
      const e = sysError('setup', setupErrno)
      throw new RuntimeError(
        `unable to set up the process (namespaces, memory policy, credentials or seccomp): ${e.message.replace(/^setup: /, '')}`,
        e.code,
      )
    }
    if (x.filter?.notify) x.handOver(sys.pidfdGetfd(pidfdOf(pid), E + 2), pid)
    applyFromOutside(x, pid)
    sys.write(goW, Buffer.from('g'))
    const ex = Buffer.alloc(4)
    if (readFull(statusR, ex) === 4) {
      const e = sysError('execve', ex.readInt32LE(0), x.exe)
      throw new RuntimeError(`exec: "${p.args[0]}": ${e.message.replace(/^execve [^:]*: /, '')}`, e.code)
    }
    return pid
  } catch (e) {
    if (pid) {
      try {
        sys.kill(pid, 9)
      } catch {
        /* gone */
      }
    }
    throw e
  } finally {
    for (const fd of [statusR, goW]) sys.close(fd)
    if (!pid) for (const fd of [statusW, goR]) sys.close(fd)
    chain.release()
    for (const fd of pidfds.values()) sys.close(fd)
    pidfds.clear()
  }
}

/**
 * clone(2) with the pid namespace for children set to `pidFd`'s, then our own again. Nothing
 * but the clone runs in between: a thread the runtime started in that window could not be
 * created (EINVAL) and would abort it.
 */
function launchInPidNs(launch: () => number, pidFd: number, hostProc: number): number {
  // Our /proc is the container's now (we are chrooted): our own namespace is in the host's.
  const own = sys.openat(hostProc, 'self/ns/pid', C.O_RDONLY)
  try {
    sys.setns(pidFd, C.CLONE_NEWPID, 'container pid namespace')
    try {
      return launch()
    } finally {
      sys.setns(own, C.CLONE_NEWPID, 'own pid namespace')
    }
  } finally {
    sys.close(own)
  }
}

const pidfds = new Map<number, number>()
function pidfdOf(pid: number): number {
  let fd = pidfds.get(pid)
  if (fd === undefined) {
    fd = sys.pidfdOpen(pid)
    pidfds.set(pid, fd)
  }
  return fd
}

function readFull(fd: number, buf: Buffer): number {
  let off = 0
  while (off < buf.length) {
    const n = sys.read(fd, buf.subarray(off), buf.length - off)
    if (n === 0) break
    off += n
  }
  return off
}

/** What A, host root outside the container, sets on B by pid before it execs. */
function applyFromOutside(x: ExecProcessInput, pid: number): void {
  const { plan } = x
  const step = (field: string, fn: () => void) => {
    try {
      fn()
    } catch (e) {
      throw new RuntimeError(`${field}: ${(e as Error).message}`, (e as { code?: string }).code ?? 'EEXEC')
    }
  }
  if (plan.oomScoreAdj !== undefined) {
    step('process.oomScoreAdj', () => {
      const fd = sys.openat(x.hostProc, `${pid}/oom_score_adj`, C.O_WRONLY)
      try {
        sys.write(fd, Buffer.from(String(plan.oomScoreAdj)))
      } finally {
        sys.close(fd)
      }
    })
  }
  const aff = plan.cpuAffinity
  const mask = aff?.final ? cpuMask(aff.final) : aff?.initial ? allCpusMask() : null
  if (mask)
    step('process.execCPUAffinity', () => {
      confineCalls.schedSetaffinity(mask, undefined, pid)
    })
  if (plan.scheduler)
    step('process.scheduler', () => {
      confineCalls.schedSetattr(schedAttr(plan.scheduler!), pid)
    })
  if (plan.ioPriority)
    step('process.ioPriority', () => {
      confineCalls.ioprioSet(IOPRIO_WHO_PROCESS, plan.ioPriority!.value, pid)
    })
}

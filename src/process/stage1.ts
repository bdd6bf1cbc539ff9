// Stage 1 for create and exec: the libc-only child (process/clone-chain.ts) that enters the
// container's namespaces, seals the runtime binary read-only, hands the parent a moment to
// write id maps and time offsets, and execs the init stage. The parent puts the init in its
// cgroup while the init's Node boots; the init unshares its cgroup namespace after that.
//
// Direct path (no user namespace to join): namespaces are created at clone(2) time.
//   clone(flags) -> seal exe -> [setns time] -> [unshare NEWTIME] -> keep fds -> 'S' -> wait 'G'
//   -> [become root of a new user namespace] -> execve(init)
// Late path (a user namespace is joined, or created after joining a time namespace):
//   A: clone(NEWNS) -> seal exe -> [setns time] -> setns user, become root in it
//      -> unshare(everything else) -> clone(CLONE_PARENT) B -> _exit(0)
//   B (pid 1 of the new pid namespace, a child of the parent): the tail of the direct path.
// Rootless exec: clone(0) -> setns user, become root in it -> unshare(NEWNS) -> the rest.
// Either way the parent learns the init's pid from the credentials on the 'S' byte.

import * as C from '../sys/constants.js'
import { CloneChain } from '../sys/clone-chain.js'

export type Stage1Spec = {
  /** Namespaces created at birth. CLONE_NEWNS must be among them (the seal needs it). */
  cloneFlags: number
  /** Files of the runtime to bind read-only over themselves, with the flags their mounts have. */
  seal: { path: string; flags: number }[]
  /** Time namespace to join (stage 1 must be single-threaded for that). */
  timeJoinFd?: number
  /** User namespace to join; stage 1 then becomes root in it. */
  userJoinFd?: number
  /**
   * Rootless exec: the container's user namespace, joined before anything else (a caller
   * without host privilege may create no mount namespace and join no other namespace outside
   * it); stage 1 becomes root in it, then unshares the mount namespace the seal needs.
   * cloneFlags must then be 0.
   */
  userFirstFd?: number
  /** Late path: namespaces to unshare after the joins, then re-clone as pid 1. */
  lateUnshare?: number
  /** Other namespaces to join in the chain, after the user namespace (exec). */
  chainJoins: { fd: number; nstype: number }[]
  timeEarly: boolean
  /**
   * A user namespace was created: once the parent has written the id maps, become its root
   * (our host uid is not mapped in it), or the execve would drop every capability.
   */
  becomeRoot: boolean
  syncFd: number
  /**
   * The parent's fds the child must not hold while it waits: the parent's end of the sync
   * socket (or the child would never read EOF when the parent dies) and the container's lock
   * (or a killed create would keep it locked).
   */
  closeFds: number[]
  /** fds the init must inherit: their CLOEXEC flag is cleared. */
  inheritFds: number[]
  exec: { path: string; argv: string[]; env: string[] }
}

/**
 * Die with the parent (create, exec): a child left waiting for 'G' by a killed parent would
 * wait forever. A parent that died before this call leaves the child reading EOF instead
 * (it holds no copy of the parent's end), and its init exits on the missing bootstrap. The
 * init clears it once it no longer needs the parent (process/init.ts).
 */
function dieWithParent(chain: CloneChain, s: Stage1Spec): void {
  chain.call('prctl', C.PR_SET_PDEATHSIG, C.SIGKILL, 0, 0, 0)
  for (const fd of s.closeFds) chain.call('close', fd)
}

function tail(chain: CloneChain, s: Stage1Spec): void {
  if (s.timeEarly) chain.call('unshare', C.CLONE_NEWTIME)
  // The caller's descriptors that lack close-on-exec (an engine's, a shell's) must not reach
  // the init, which holds what it inherits until `start` inside the container's namespaces:
  // mark everything above stdio close-on-exec, then clear the flag on the fds to pass.
  chain.call('syscall', C.SYS.close_range, 3, 0xffffffff, C.CLOSE_RANGE_CLOEXEC)
  for (const fd of s.inheritFds) chain.call('fcntl', fd, C.F_SETFD, 0)
  const byte = chain.buffer(8)
  chain.call('write', s.syncFd, chain.str('S'), 1)
  chain.call('read', s.syncFd, byte, 1)
  if (s.becomeRoot) {
    chain.call('syscall', C.SYS.setgroups, 0, 0)
    chain.call('syscall', C.SYS.setresgid, 0, 0, 0)
    chain.call('syscall', C.SYS.setresuid, 0, 0, 0)
  }
  chain.call('execve', s.exec.path, chain.strArray(s.exec.argv), chain.strArray(s.exec.env))
}

/** Build the chain for `s` without running it (tests inspect describe()). */
export function buildStage1(s: Stage1Spec): { chain: CloneChain; nested?: CloneChain } {
  const chain = new CloneChain(s.lateUnshare !== undefined ? 0 : 127)
  dieWithParent(chain, s)
  if (s.userFirstFd !== undefined) {
    chain.call('setns', s.userFirstFd, C.CLONE_NEWUSER)
    chain.call('syscall', C.SYS.setresgid, 0, 0, 0)
    chain.call('syscall', C.SYS.setresuid, 0, 0, 0)
    chain.call('unshare', C.CLONE_NEWNS)
  }
  // Our own copy of the mounts must not propagate back to the host before we bind.
  chain.call('mount', null, '/', null, C.MS_REC | C.MS_SLAVE, null)
  for (const f of s.seal) {
    chain.call('mount', f.path, f.path, null, C.MS_BIND, null)
    chain.call('mount', null, f.path, null, C.MS_REMOUNT | C.MS_BIND | C.MS_RDONLY | f.flags, null)
  }
  if (s.timeJoinFd !== undefined) chain.call('setns', s.timeJoinFd, C.CLONE_NEWTIME)
  if (s.userJoinFd !== undefined) {
    chain.call('setns', s.userJoinFd, C.CLONE_NEWUSER)
    // Raw syscalls: glibc's wrappers would try to signal threads this child does not have.
    chain.call('syscall', C.SYS.setresgid, 0, 0, 0)
    chain.call('syscall', C.SYS.setresuid, 0, 0, 0)
  }
  for (const j of s.chainJoins) chain.call('setns', j.fd, j.nstype)
  if (s.lateUnshare === undefined) {
    tail(chain, s)
    return { chain }
  }
  chain.call('unshare', s.lateUnshare)
  const n = chain.nested(127)
  // The grandchild is the parent's child too (CLONE_PARENT), with no death signal of its own.
  n.chain.call('prctl', C.PR_SET_PDEATHSIG, C.SIGKILL, 0, 0, 0)
  tail(n.chain, s)
  chain.call('clone', () => CloneChain.symbol('setcontext'), n.stackTop, C.CLONE_PARENT | C.SIGCHLD, n.entry)
  return { chain, nested: n.chain }
}

/**
 * Build stage 1 now; `launch` then only calls clone(2) and returns the pid it gave (the
 * init's in the direct path). A caller that joins namespaces on its own thread for the clone
 * joins them around launch() alone: the JavaScript runtime may start threads whenever it
 * runs code, and a thread cannot be created while the pid namespace for children differs
 * from the caller's own (clone(2): EINVAL), which aborts the runtime.
 */
export function prepareStage1(s: Stage1Spec): { launch: () => number; release: () => void } {
  const { chain } = buildStage1(s)
  try {
    return { launch: chain.prepare(s.cloneFlags), release: () => chain.release() }
  } catch (e) {
    chain.release()
    throw e
  }
}

// Host-side namespace helpers shared by create and exec: open and check namespaces given by
// path, record what the init must find, join namespaces on this (main) thread around a
// clone and come back, and reap a child that failed.

import * as fs from 'node:fs'
import * as C from '../sys/constants.js'
import { linux as sys } from '../sys/linux.js'
import { RuntimeError, SpecError, withContext } from '../errors.js'
import { NS_INFO, type NamespacePlan, type NsType } from '../plan/namespaces.js'
import type { NsExpectation } from './init-config.js'

// ioctl(NS_GET_NSTYPE) = _IO(0xb7, 0x3): the CLONE_NEW* type of an nsfs file (Linux 4.11).
const NS_GET_NSTYPE = 0xb703

/**
 * The /proc/<pid>/ns name ("net", "uts", ...) of the namespace open at `fd`, or a description
 * of what else it is. Asked of the kernel with NS_GET_NSTYPE, not read from the fd's link: a
 * namespace bind-mounted on a file (`ip netns`, podman's and CNI's /run/netns/<name>) links to
 * that path, not to "net:[4026531993]".
 */
export function nsOfFd(fd: number): string {
  try {
    const type = sys.ioctl(fd, NS_GET_NSTYPE, 0, 'ioctl(NS_GET_NSTYPE)')
    for (const info of Object.values(NS_INFO)) if (info.flag === type) return info.proc
  } catch {
    /* not an nsfs file (ENOTTY): say what it is below */
  }
  try {
    return sys.readlinkat(C.AT_FDCWD, `/proc/self/fd/${fd}`)
  } catch {
    return ''
  }
}

export type OpenedJoin = { type: NsType; fd: number; field: string; path: string }

export function openJoins(ns: Pick<NamespacePlan, 'joins'>): OpenedJoin[] {
  const out: OpenedJoin[] = []
  try {
    for (const j of ns.joins) {
      let fd: number
      try {
        fd = sys.openat(C.AT_FDCWD, j.path, C.O_RDONLY)
      } catch (e) {
        throw new SpecError([{ path: j.field + '.path', message: (e as Error).message }])
      }
      out.push({ type: j.type, fd, field: j.field, path: j.path })
      const kind = nsOfFd(fd)
      if (kind !== NS_INFO[j.type].proc)
        throw new SpecError([
          { path: j.field + '.path', message: `${j.path} is not a ${j.type} namespace${kind ? ` (it is ${kind})` : ''}` },
        ])
    }
  } catch (e) {
    for (const o of out) sys.close(o.fd)
    throw e
  }
  return out
}

/**
 * A mount namespace joined by path must not be the runtime's own: the rootfs would be built in
 * it and pivot_root would re-root every process there (the host's, when runt runs on the host).
 * runc does not check, and pivots. A config that wants the runtime's mount namespace lists
 * none, and gets the chroot road of docs/design.md "No mount namespace".
 */
export function refuseOwnMountNs(j: OpenedJoin): void {
  if (sameInode(expectation('mount', j.fd), expectation('mount', '/proc/self/ns/mnt')))
    throw new SpecError([
      {
        path: j.field + '.path',
        message: `${j.path} is the runtime's own mount namespace: pivot_root there would move the root of every process in it (list no mount namespace to share it)`,
      },
    ])
}

/** The same file: a namespace, a directory (stat's dev and ino). */
export function sameInode(a: { ino: number; dev: number }, b: { ino: number; dev: number }): boolean {
  return a.ino === b.ino && a.dev === b.dev
}

export function expectation(type: NsType, fd: number | string): NsExpectation {
  const st = typeof fd === 'number' ? fs.fstatSync(fd) : fs.statSync(fd)
  return { type, proc: NS_INFO[type].proc, ino: st.ino, dev: st.dev }
}

/** Join namespaces on this (main) thread for the clone, and return how to come back. */
export function enterParentJoins(joins: OpenedJoin[]): () => void {
  const restore: { fd: number; flag: number; type: NsType }[] = []
  const back = () => {
    for (const r of restore.reverse()) {
      try {
        sys.setns(r.fd, r.flag)
      } finally {
        sys.close(r.fd)
      }
    }
  }
  try {
    for (const j of joins) {
      const own = sys.openat(C.AT_FDCWD, `/proc/self/ns/${NS_INFO[j.type].proc}`, C.O_RDONLY)
      restore.push({ fd: own, flag: NS_INFO[j.type].flag, type: j.type })
      try {
        sys.setns(j.fd, NS_INFO[j.type].flag, j.path)
      } catch (e) {
        throw withContext(e as Error, j.field)
      }
    }
  } catch (e) {
    back()
    throw e
  }
  return back
}

let fsUnshared = false
/** setns into a mount namespace needs a private fs_struct on a multithreaded process. */
function unshareFsOnce(): void {
  if (!fsUnshared) sys.unshare(C.CLONE_FS)
  fsUnshared = true
}

/**
 * Run `fn` on this (main) thread inside the mount namespace open at `nsFd` (a container's,
 * whose user namespace we are above), then come back, with our working directory. `fn` must
 * make only synchronous calls, and none that log: a path it opens resolves in that namespace.
 */
export function inMountNamespace<T>(nsFd: number, fn: () => T): T {
  const fds: number[] = []
  try {
    const own = sys.openat(C.AT_FDCWD, '/proc/self/ns/mnt', C.O_RDONLY)
    fds.push(own)
    const cwd = sys.openat(C.AT_FDCWD, '.', C.O_PATH | C.O_DIRECTORY)
    fds.push(cwd)
    unshareFsOnce()
    sys.setns(nsFd, C.CLONE_NEWNS, 'container mount namespace')
    try {
      return fn()
    } finally {
      sys.setns(own, C.CLONE_NEWNS, 'own mount namespace')
      sys.fchdir(cwd, 'working directory')
    }
  } finally {
    for (const fd of fds) sys.close(fd)
  }
}

export function killAndReap(pid: number): void {
  try {
    sys.kill(pid, 9)
  } catch {
    /* gone */
  }
  try {
    sys.waitpid(pid, 0)
  } catch {
    /* not our child, or reaped */
  }
}

/**
 * The init went away: how (its exit status, when it is our child), and, killed while a small
 * memory limit was in force, that the limit is the likely reason (the OOM killer's SIGKILL
 * would otherwise read as "connection reset by peer").
 */
export function initDied(pid: number, memoryLimit?: number): RuntimeError {
  let how = ''
  let killed = 0
  try {
    // It closed its end before the kernel finished it: give it a moment to become a zombie.
    for (let i = 0; i < 20; i++) {
      const [r, status] = sys.waitpid(pid, C.WNOHANG)
      if (r === pid) {
        killed = status & 0x7f
        how = killed ? ` (killed by signal ${killed})` : ` (exit status ${status >> 8})`
        break
      }
      Atomics.wait(PAUSE, 0, 0, 5)
    }
  } catch {
    /* not our child */
  }
  const oom =
    killed === 9 && memoryLimit !== undefined && memoryLimit > 0 && memoryLimit < SMALL_MEMORY
      ? `: linux.resources.memory.limit is ${memoryLimit} bytes, too little for the runtime's init to start`
      : ''
  return new RuntimeError(`container init exited unexpectedly${how}${oom}`, 'EINIT')
}

const PAUSE = new Int32Array(new SharedArrayBuffer(4))
/** Below this the init's start-up can be OOM-killed (issue 19 is to make it need less). */
const SMALL_MEMORY = 64 * 1024 * 1024

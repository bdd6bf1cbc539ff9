// The init's executor of the credential steps (confine/steps.ts holds their order): bounding
// set, keep-caps, groups, gid, uid, capset, ambient. Raw syscalls act on the calling (main)
// thread only, the one that calls execve. And the small pure pieces both executors share.

import * as fs from 'node:fs'
import * as C from '../sys/constants.js'
import type { FileStat, Sys } from '../sys/linux.js'
import { InternalError, SysError } from '../errors.js'
import { capName, type CapSets } from './capabilities.js'
import type { CredStep } from './steps.js'

type CredSys = Pick<Sys, 'prctl' | 'setgroups' | 'setresgid' | 'setresuid' | 'capset'>

/** setgroups(2) is refused in a user namespace whose /proc/<pid>/setgroups says "deny". */
export function setgroupsAllowed(): boolean {
  try {
    return fs.readFileSync('/proc/self/setgroups', 'utf8').trim() !== 'deny'
  } catch {
    return true
  }
}

/**
 * The sets to hold between the user switch and execve: the configured ones plus `extra` in
 * effective and permitted, for steps that come later and need them (loading seccomp without
 * no_new_privs needs CAP_SYS_ADMIN). Inheritable and ambient are never widened: what is in
 * them survives execve (CVE-2022-29162).
 */
export function interimCaps(final: CapSets, extra: bigint): CapSets {
  return { ...final, effective: final.effective | extra, permitted: final.permitted | extra }
}

/**
 * The stdio fds to give to the process's user before the switch, as runc's
 * fixStdioPermissions: a terminal the user can control, pipes a non-root process can reopen
 * through /dev/stdout. Not /dev/null (1:3), nor what the user owns already; `uid` undefined
 * when the owners seen here are in another user namespace than the process's.
 */
export function stdioToChown(stats: (FileStat | null)[], uid: number | undefined): number[] {
  const out: number[] = []
  stats.forEach((st, fd) => {
    if (!st) return
    if (!C.isCharDevice(st, 1, 3) && st.uid !== uid) out.push(fd)
  })
  return out
}

/** fstat of fds 0-2, null for one that is closed. */
export function stdioStats(sys: Pick<Sys, 'fstat'>): (FileStat | null)[] {
  return [0, 1, 2].map((fd) => {
    try {
      return sys.fstat(fd)
    } catch (e) {
      if (e instanceof SysError && e.errnoName === 'EBADF') return null
      throw e
    }
  })
}

/**
 * The init's stdio to the process's user (uid only: /dev/pts may give its own gid). A closed
 * stdio is left alone; so is one we may not change (EPERM: its owner is not mapped here;
 * EROFS; EINVAL), as runc does rather than fail the start.
 */
export function chownStdio(sys: Pick<Sys, 'fstat' | 'fchown'>, uid: number): void {
  for (const fd of stdioToChown(stdioStats(sys), uid)) {
    try {
      sys.fchown(fd, uid, 0xffffffff, `/proc/self/fd/${fd}`)
    } catch (e) {
      if (!(e instanceof SysError) || !['EPERM', 'EROFS', 'EINVAL'].includes(e.errnoName)) throw e
    }
  }
}

/** The one warning for ambient capabilities that could not be raised, named together. */
export function ambientWarning(caps: string[], why: string): string {
  return `process.capabilities.ambient: cannot raise ${caps.join(', ')}: ${why}`
}

/**
 * Carry out the credential steps of confine/steps.ts on this (main) thread, in their order. A
 * capability the kernel does not know (EINVAL on PR_CAPBSET_DROP) is not an error, nor is a
 * kernel without ambient capabilities; an ambient capability that cannot be raised is a
 * warning, as in runc, one for all of them (engines ask for a dozen at every step).
 */
export function runCredSteps(sys: CredSys, steps: CredStep[], warn: (msg: string) => void): void {
  const failed: string[] = []
  let why = ''
  const einvalOk = (fn: () => unknown) => {
    try {
      fn()
    } catch (e) {
      if (!(e instanceof SysError) || e.errnoName !== 'EINVAL') throw e
    }
  }
  for (const s of steps) {
    switch (s.op) {
      case 'capbset-drop':
        einvalOk(() => sys.prctl(C.PR_CAPBSET_DROP, s.bit))
        break
      case 'keepcaps':
        sys.prctl(C.PR_SET_KEEPCAPS, s.on)
        break
      case 'setgroups':
        sys.setgroups(s.gids)
        break
      case 'setresgid':
        sys.setresgid(s.gid, s.gid, s.gid)
        break
      case 'setresuid':
        sys.setresuid(s.uid, s.uid, s.uid)
        break
      case 'capset':
        sys.capset(s.sets.effective, s.sets.permitted, s.sets.inheritable)
        break
      case 'ambient-clear':
        einvalOk(() => sys.prctl(C.PR_CAP_AMBIENT, C.PR_CAP_AMBIENT_CLEAR_ALL))
        break
      case 'ambient-raise':
        try {
          sys.prctl(C.PR_CAP_AMBIENT, C.PR_CAP_AMBIENT_RAISE, s.bit)
        } catch (e) {
          failed.push(capName(s.bit))
          why ||= (e as Error).message
        }
        break
      default:
        throw new InternalError(`${s.op} is not a credential step`)
    }
  }
  if (failed.length) warn(ambientWarning(failed, why))
}

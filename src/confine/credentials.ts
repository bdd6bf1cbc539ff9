// Switch to the container user with the configured capabilities, in runc's order (its
// finalizeNamespace): drop the bounding set while still root (needs CAP_SETPCAP), keep
// capabilities across the uid change (PR_SET_KEEPCAPS), set groups, gid and uid, capset, then
// raise the ambient set (it needs the caps in permitted and inheritable, and a uid change
// clears it). Raw syscalls act on the calling (main) thread only, the one that calls execve.

import * as fs from 'node:fs'
import * as C from '../sys/constants.js'
import type { Sys } from '../sys/linux.js'
import { RuntimeError, SysError } from '../errors.js'
import { capName, type CapSets } from './capabilities.js'

export type CredentialPlan = {
  uid: number
  gid: number
  additionalGids: number[]
  caps: CapSets
  lastCap: number
}

type CredSys = Pick<Sys, 'prctl' | 'setgroups' | 'setresgid' | 'setresuid' | 'capset'>

/** setgroups(2) is refused in a user namespace whose /proc/<pid>/setgroups says "deny". */
export function setgroupsAllowed(): boolean {
  try {
    return fs.readFileSync('/proc/self/setgroups', 'utf8').trim() !== 'deny'
  } catch {
    return true
  }
}

/** PR_CAPBSET_DROP every capability the kernel knows that the bounding set leaves out. */
export function dropBoundingSet(sys: Pick<Sys, 'prctl'>, plan: CredentialPlan): void {
  for (let bit = 0; bit <= plan.lastCap; bit++) {
    if (plan.caps.bounding & (1n << BigInt(bit))) continue
    try {
      sys.prctl(C.PR_CAPBSET_DROP, bit)
    } catch (e) {
      // EINVAL: the kernel does not know this capability.
      if (!(e instanceof SysError) || e.errnoName !== 'EINVAL') throw e
    }
  }
}

/** groups, gid, uid with PR_SET_KEEPCAPS on, so the permitted set survives a uid change. */
export function setUser(sys: CredSys, plan: CredentialPlan, allowSetgroups: boolean): void {
  sys.prctl(C.PR_SET_KEEPCAPS, 1)
  if (allowSetgroups) sys.setgroups(plan.additionalGids)
  else if (plan.additionalGids.length)
    throw new RuntimeError('cannot set additional gids: setgroups is denied in this user namespace', 'EUSER')
  sys.setresgid(plan.gid, plan.gid, plan.gid)
  sys.setresuid(plan.uid, plan.uid, plan.uid)
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

/** The one warning for ambient capabilities that could not be raised, named together. */
export function ambientWarning(caps: string[], why: string): string {
  return `process.capabilities.ambient: cannot raise ${caps.join(', ')}: ${why}`
}

/**
 * capset to `sets`, clear PR_SET_KEEPCAPS, then clear and raise the ambient set. A cap that
 * cannot be raised is a warning, as in runc (it must be in permitted and inheritable).
 */
export function applyCaps(sys: CredSys, sets: CapSets, lastCap: number, warn: (msg: string) => void): void {
  sys.capset(sets.effective, sets.permitted, sets.inheritable)
  sys.prctl(C.PR_SET_KEEPCAPS, 0)
  try {
    sys.prctl(C.PR_CAP_AMBIENT, C.PR_CAP_AMBIENT_CLEAR_ALL)
  } catch (e) {
    // EINVAL: a kernel without ambient capabilities (before 4.3).
    if (!(e instanceof SysError) || e.errnoName !== 'EINVAL') throw e
  }
  // One warning for all of them: engines (buildah) ask for a dozen at every step.
  const failed: string[] = []
  let why = ''
  for (let bit = 0; bit <= lastCap; bit++) {
    if (!(sets.ambient & (1n << BigInt(bit)))) continue
    try {
      sys.prctl(C.PR_CAP_AMBIENT, C.PR_CAP_AMBIENT_RAISE, bit)
    } catch (e) {
      failed.push(capName(bit))
      why ||= (e as Error).message
    }
  }
  if (failed.length) warn(ambientWarning(failed, why))
}

// Switch to the container user with the configured capabilities, in runc's order: drop the
// bounding set (needs CAP_SETPCAP), keep capabilities across the uid change, set groups, gid
// and uid, then capset and raise the ambient set. Raw syscalls act on the calling (main)
// thread only, the one that later calls execve.

import * as fs from 'node:fs'
import * as C from '../sys/constants.js'
import type { Sys } from '../sys/linux.js'
import { SysError } from '../errors.js'
import type { CapSets } from './capabilities.js'

export type CredentialPlan = {
  uid: number
  gid: number
  additionalGids: number[]
  caps: CapSets
  lastCap: number
}

/** setgroups(2) is refused in a user namespace whose /proc/<pid>/setgroups says "deny". */
export function setgroupsAllowed(): boolean {
  try {
    return fs.readFileSync('/proc/self/setgroups', 'utf8').trim() !== 'deny'
  } catch {
    return true
  }
}

export function dropBoundingSet(sys: Sys, plan: CredentialPlan): void {
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

export function setUser(sys: Sys, plan: CredentialPlan, allowSetgroups: boolean): void {
  sys.prctl(C.PR_SET_KEEPCAPS, 1)
  if (allowSetgroups) sys.setgroups(plan.additionalGids)
  else if (plan.additionalGids.length) throw new Error('cannot set additional gids: setgroups is denied in this user namespace')
  sys.setresgid(plan.gid, plan.gid, plan.gid)
  sys.setresuid(plan.uid, plan.uid, plan.uid)
  sys.prctl(C.PR_SET_KEEPCAPS, 0)
}

export function applyCaps(sys: Sys, plan: CredentialPlan): void {
  sys.capset(plan.caps.effective, plan.caps.permitted, plan.caps.inheritable)
  sys.prctl(C.PR_CAP_AMBIENT, C.PR_CAP_AMBIENT_CLEAR_ALL)
  for (let bit = 0; bit <= plan.lastCap; bit++) {
    if (plan.caps.ambient & (1n << BigInt(bit))) sys.prctl(C.PR_CAP_AMBIENT, C.PR_CAP_AMBIENT_RAISE, bit)
  }
}

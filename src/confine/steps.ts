// The one ordered list of the kernel calls that switch a process to the container's user and
// lock it down, in runc's order (its finalizeNamespace and standard_init): drop the bounding
// set while still root, keep capabilities across the uid change, groups, gid, uid, the
// interim capability sets, ambient, then what binds the program execve will run
// (personality, the LSM exec label, no_new_privs) and last the final sets and the seccomp
// filter. Two executors are driven by it: the init's, on its own main thread
// (confine/confinement.ts), and the exec process's libc chain (process/exec-process.ts). Pure.

import { RuntimeError } from '../errors.js'
import { ambientWarning, interimCaps } from './credentials.js'
import { capName, type CapSets } from './capabilities.js'

export type CredStep =
  | { op: 'capbset-drop'; bit: number }
  | { op: 'keepcaps'; on: 0 | 1 }
  | { op: 'setgroups'; gids: number[] }
  | { op: 'setresgid'; gid: number }
  | { op: 'setresuid'; uid: number }
  | { op: 'capset'; sets: CapSets; final: boolean }
  | { op: 'ambient-clear' }
  | { op: 'ambient-raise'; bit: number }
  | { op: 'personality'; persona: number }
  | { op: 'lsm-exec' }
  | { op: 'no-new-privs' }
  | { op: 'seccomp' }

export type CredInput = {
  uid: number
  gid: number
  additionalGids: number[]
  /** setgroups(2) is allowed in the user namespace the process ends up in. */
  setgroups: boolean
  caps: CapSets
  /** Held beyond the configured sets until lockdown (confinement.ts explains which, why). */
  extra: bigint
  lastCap: number
  personality?: number
  lsmExec: boolean
  noNewPrivileges: boolean
  seccomp: boolean
}

const CAP_SYS_ADMIN = 21n

export type CredSteps = {
  /** While root with every capability: the bounding set. */
  bounding: CredStep[]
  /** Groups, gid, uid, with keep-caps so that the permitted set survives. */
  ids: CredStep[]
  /** The interim sets and ambient. */
  caps: CredStep[]
  /** What binds the program execve will run. */
  binds: CredStep[]
  /** The final capability sets and the seccomp filter, in the order the filter allows. */
  final: CredStep[]
  /**
   * Ambient capabilities that cannot be raised (not in permitted and inheritable): a debug
   * record, not a warning. The kernel never raises them, runc 1.1 says nothing, and `runc
   * spec`'s own default config asks for three: a warning on every default run helps no one.
   */
  notes: string[]
}

export function credentialSteps(c: CredInput): CredSteps {
  const bounding: CredStep[] = []
  for (let bit = 0; bit <= c.lastCap; bit++)
    if (!(c.caps.bounding & (1n << BigInt(bit)))) bounding.push({ op: 'capbset-drop', bit })

  const ids: CredStep[] = [{ op: 'keepcaps', on: 1 }]
  if (c.setgroups) ids.push({ op: 'setgroups', gids: c.additionalGids })
  else if (c.additionalGids.length)
    throw new RuntimeError('cannot set additional gids: setgroups is denied in this user namespace', 'EUSER')
  ids.push({ op: 'setresgid', gid: c.gid }, { op: 'setresuid', uid: c.uid })

  const interim = interimCaps(c.caps, c.extra)
  const caps: CredStep[] = [{ op: 'capset', sets: interim, final: false }, { op: 'keepcaps', on: 0 }, { op: 'ambient-clear' }]
  // A capability is raised into ambient only from permitted and inheritable (prctl(2)).
  const raisable = c.caps.ambient & interim.permitted & interim.inheritable
  const unraisable: string[] = []
  for (let bit = 0; bit <= c.lastCap; bit++) {
    const b = 1n << BigInt(bit)
    if (raisable & b) caps.push({ op: 'ambient-raise', bit })
    else if (c.caps.ambient & b) unraisable.push(capName(bit))
  }
  const notes = unraisable.length ? [ambientWarning(unraisable, 'not in permitted and inheritable')] : []

  const binds: CredStep[] = []
  if (c.personality !== undefined) binds.push({ op: 'personality', persona: c.personality })
  if (c.lsmExec) binds.push({ op: 'lsm-exec' })
  if (c.noNewPrivileges) binds.push({ op: 'no-new-privs' })

  // Without no_new_privs, seccomp(2) needs CAP_SYS_ADMIN: then the final capset follows the
  // filter (which must allow capset). Otherwise the final sets come first and execve is the
  // only call the filter sees. No extra capability held: the interim sets are the final ones.
  const finalCaps: CredStep = { op: 'capset', sets: c.caps, final: true }
  const adminForFilter = c.seccomp && (c.extra & (1n << CAP_SYS_ADMIN)) !== 0n
  const final: CredStep[] = []
  if (c.extra && !adminForFilter) final.push(finalCaps)
  if (c.seccomp) final.push({ op: 'seccomp' })
  if (adminForFilter) final.push(finalCaps)

  return { bounding, ids, caps, binds, final, notes }
}

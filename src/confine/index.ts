// Confinement applied by the init stage around the credential switch: what must happen while
// still privileged (applyEarly) and what must come last, right before execve (applyLate).
// The order is runc's; seccomp is loaded last so the runtime's own calls are not filtered.

import * as fs from 'node:fs'
import * as C from '../sys/constants.js'
import type { Sys } from '../sys/linux.js'
import type { InitConfig } from '../process/init-config.js'
import { StepError } from '../errors.js'

/** What the confinement layer carries in ProcessConfig.confine. */
export type ConfinePlan = {
  oomScoreAdj?: number
  rlimits: { type: string; resource: number; soft: string; hard: string; field: string }[]
}

const KEYCTL_JOIN_SESSION_KEYRING = 1

/** Load what is needed later while host paths are still visible (libraries). */
export function preload(_cfg: InitConfig): void {}

export function applyEarly(cfg: InitConfig, sys: Sys): void {
  const plan = cfg.process.confine as ConfinePlan
  if (cfg.mode === 'create' && !cfg.noNewKeyring) {
    // A fresh session keyring, so the container cannot see the host's keys.
    const name = Buffer.from(`_ses.${cfg.id}\0`)
    sys.rawSyscall(C.SYS.keyctl, 'int', KEYCTL_JOIN_SESSION_KEYRING, 'void *', name)
  }
  if (plan.oomScoreAdj !== undefined) {
    try {
      fs.writeFileSync('/proc/self/oom_score_adj', String(plan.oomScoreAdj))
    } catch (e) {
      throw new StepError('process.oomScoreAdj', e as Error)
    }
  }
}

export function applyLate(cfg: InitConfig, sys: Sys): void {
  const plan = cfg.process.confine as ConfinePlan
  for (const r of plan.rlimits) {
    try {
      sys.prlimit(r.resource, BigInt(r.soft), BigInt(r.hard), r.type)
    } catch (e) {
      throw new StepError(r.field, e as Error)
    }
  }
  if (cfg.process.noNewPrivileges) sys.prctl(C.PR_SET_NO_NEW_PRIVS, 1)
}

// process.* confinement fields -> the ConfinePlan the init stage applies. Pure.

import type { Spec } from '../spec/schema.js'
import { uint64ToBigInt } from '../spec/schema.js'
import type { ConfinePlan } from './index.js'

/** RLIMIT_* resource numbers (asm-generic/resource.h; the same on x86-64 and aarch64). */
export const RLIMIT_RESOURCES: Readonly<Record<string, number>> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
}

export function planConfinement(spec: Spec): ConfinePlan {
  const p = spec.process
  const plan: ConfinePlan = { rlimits: [] }
  if (!p) return plan
  ;(p.rlimits ?? []).forEach((r, i) => {
    const resource = RLIMIT_RESOURCES[r.type]
    if (resource === undefined) return // the schema already refused unknown types
    plan.rlimits.push({
      type: r.type,
      resource,
      soft: uint64ToBigInt(r.soft).toString(),
      hard: uint64ToBigInt(r.hard).toString(),
      field: `process.rlimits[${i}]`,
    })
  })
  if (p.oomScoreAdj !== undefined) plan.oomScoreAdj = p.oomScoreAdj
  return plan
}

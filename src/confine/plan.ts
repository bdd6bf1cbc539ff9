// config.json -> ConfinePlan: everything the init stage needs to confine the process, checked
// and encoded on the host side so a bad value fails `create` before anything exists. Pure
// given the host facts (confine/host.ts probes them when the caller passes none).

import * as path from 'node:path'
import type { Spec } from '../spec/schema.js'
import { uint64ToBigInt } from '../spec/schema.js'
import { InternalError, SpecError, type SpecIssue } from '../errors.js'
import { probeHost, type ConfineHost } from './host.js'
import { IOPRIO_CLASS, PERSONALITY, SCHED_FLAG, SCHED_POLICY, ioprioValue, parseCpuList, type SchedPlan } from './sched.js'
import { checkSysctl } from './sysctl.js'
import { planSeccomp, type SeccompPlan } from './seccomp.js'
import { planMemoryPolicy, type MemoryPolicyPlan } from './mempolicy.js'

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

export type RlimitPlan = { type: string; resource: number; soft: string; hard: string; field: string }

/** What the confinement layer carries in ProcessConfig.confine (JSON over the sync socket). */
export type ConfinePlan = {
  rlimits: RlimitPlan[]
  oomScoreAdj?: number
  scheduler?: SchedPlan
  ioPriority?: { class: string; priority: number; value: number }
  cpuAffinity?: { initial?: number[]; final?: number[] }
  personality?: { domain: string; persona: number }
  /** Set only when the host has AppArmor: the profile to change to at execve. */
  apparmorProfile?: string
  /** Set only when the host has SELinux: the label to change to at execve. */
  selinuxLabel?: string
  seccomp?: SeccompPlan
  /** linux.memoryPolicy: set_mempolicy(2) on the thread that execs (create and exec). */
  memoryPolicy?: MemoryPolicyPlan
  /** Said once in the log by the init (not errors: runc warns about these too). */
  warnings: string[]
}

/**
 * The rlimits as resource numbers. The schema admits only the spec's types, and
 * spec/validate.ts refuses duplicates and a soft limit above the hard one: checked there once.
 */
function planRlimits(p: NonNullable<Spec['process']>): RlimitPlan[] {
  return (p.rlimits ?? []).map((r, i) => {
    const resource = RLIMIT_RESOURCES[r.type]
    if (resource === undefined) throw new InternalError(`no resource number for ${r.type}`)
    const soft = uint64ToBigInt(r.soft).toString()
    const hard = uint64ToBigInt(r.hard).toString()
    return { type: r.type, resource, soft, hard, field: `process.rlimits[${i}]` }
  })
}

/** The scheduler as sched_setattr(2) takes it; its values were checked by spec/validate.ts. */
function planScheduler(s: NonNullable<NonNullable<Spec['process']>['scheduler']>): SchedPlan {
  const policyNumber = SCHED_POLICY[s.policy]
  if (policyNumber === undefined) throw new InternalError(`no policy number for ${s.policy}`)
  let flags = 0
  for (const f of s.flags ?? []) flags |= SCHED_FLAG[f] ?? 0
  const nice = s.nice ?? 0
  return {
    policy: s.policy,
    policyNumber,
    flags,
    nice,
    priority: s.priority ?? 0,
    runtime: uint64ToBigInt(s.runtime ?? 0).toString(),
    deadline: uint64ToBigInt(s.deadline ?? 0).toString(),
    period: uint64ToBigInt(s.period ?? 0).toString(),
  }
}

/**
 * Check and encode process.* confinement and the linux.* fields that go with it (sysctl,
 * personality, seccomp, the LSM labels, the memory policy). Throws SpecError naming each bad field.
 */
export function planConfinement(spec: Spec, host: ConfineHost = probeHost()): ConfinePlan {
  const issues: SpecIssue[] = []
  const plan: ConfinePlan = { rlimits: [], warnings: [] }
  const p = spec.process
  const linux = spec.linux

  if (p) {
    plan.rlimits = planRlimits(p)
    if (p.oomScoreAdj !== undefined) plan.oomScoreAdj = p.oomScoreAdj
    if (p.scheduler) plan.scheduler = planScheduler(p.scheduler)
    if (p.ioPriority) {
      if (IOPRIO_CLASS[p.ioPriority.class] === undefined)
        issues.push({ path: 'process.ioPriority.class', message: `unknown class "${p.ioPriority.class}"` })
      else
        plan.ioPriority = {
          class: p.ioPriority.class,
          priority: p.ioPriority.priority,
          value: ioprioValue(p.ioPriority.class, p.ioPriority.priority),
        }
    }
    const aff = p.execCPUAffinity
    if (aff) {
      const cpus: { initial?: number[]; final?: number[] } = {}
      for (const k of ['initial', 'final'] as const) {
        const v = aff[k]
        if (v === undefined || v === '') continue
        try {
          cpus[k] = parseCpuList(v)
        } catch (e) {
          issues.push({ path: `process.execCPUAffinity.${k}`, message: (e as Error).message })
        }
      }
      if (cpus.initial || cpus.final) plan.cpuAffinity = cpus
    }
    if (p.apparmorProfile) {
      if (host.apparmor) plan.apparmorProfile = p.apparmorProfile
      else if (p.apparmorProfile === 'unconfined')
        plan.warnings.push('process.apparmorProfile: AppArmor is not enabled on this host; "unconfined" is what it gets')
      else
        issues.push({
          path: 'process.apparmorProfile',
          message: `AppArmor is not enabled on this host, so profile "${p.apparmorProfile}" cannot be applied`,
        })
    }
    if (p.selinuxLabel) {
      if (host.selinux) plan.selinuxLabel = p.selinuxLabel
      else
        issues.push({
          path: 'process.selinuxLabel',
          message: 'selinux label is specified in config, but selinux is disabled or not supported',
        })
    }
  }

  if (linux?.mountLabel && !host.selinux)
    plan.warnings.push(`linux.mountLabel: SELinux is not enabled on this host; mount label "${linux.mountLabel}" not applied`)

  if (linux?.personality) {
    const persona = PERSONALITY[linux.personality.domain]
    if (persona === undefined)
      issues.push({ path: 'linux.personality.domain', message: `unknown domain "${linux.personality.domain}"` })
    else plan.personality = { domain: linux.personality.domain, persona }
    if (linux.personality.flags?.length)
      plan.warnings.push('linux.personality.flags: the spec defines no personality flags; ignored')
  }

  issues.push(...checkSysctl({ sysctl: linux?.sysctl, namespaces: linux?.namespaces }, host.isHostNs))

  if (linux?.seccomp) {
    const r = planSeccomp(linux.seccomp, (f) => path.resolve(host.cwd, f), p?.noNewPrivileges ?? false)
    issues.push(...r.issues)
    plan.warnings.push(...r.warnings)
    plan.seccomp = r.plan
  }

  if (linux?.memoryPolicy) {
    const r = planMemoryPolicy(linux.memoryPolicy, host.memoryNodes)
    issues.push(...r.issues)
    plan.warnings.push(...r.warnings)
    if (r.plan) plan.memoryPolicy = r.plan
  }

  if (issues.length) throw new SpecError(issues)
  return plan
}

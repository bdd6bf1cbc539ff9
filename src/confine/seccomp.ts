// linux.seccomp -> SeccompPlan: actions as libseccomp's action values (errno/trace data folded
// in), operators as enum scmp_compare, architectures as libseccomp names, load flags as kernel
// bits, and the rules runc would add (a rule that repeats the default action is dropped; one
// with several conditions on the same argument becomes one rule per condition, an OR).
// Pure: syscall names stay names; seccomp-filter.ts resolves them with libseccomp.

import { uint64ToBigInt } from '../spec/schema.js'
import { InternalError, type SpecIssue } from '../errors.js'

/** libseccomp's SCMP_ACT_* values (seccomp.h); ERRNO and TRACE carry 16 bits of data. */
export const SCMP_ACT = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  NOTIFY: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const

/** enum scmp_compare. */
export const SCMP_CMP: Readonly<Record<string, number>> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
}

/** seccomp(2) SECCOMP_FILTER_FLAG_*. */
export const FILTER_FLAG = {
  TSYNC: 1,
  LOG: 2,
  SPEC_ALLOW: 4,
  NEW_LISTENER: 8,
  TSYNC_ESRCH: 16,
  WAIT_KILLABLE_RECV: 32,
} as const

const SPEC_FLAG: Readonly<Record<string, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC: FILTER_FLAG.TSYNC,
  SECCOMP_FILTER_FLAG_LOG: FILTER_FLAG.LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: FILTER_FLAG.SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: FILTER_FLAG.WAIT_KILLABLE_RECV,
}

/** errno data for ERRNO and TRACE when the config gives none: EPERM, as in runc. */
const EPERM = 1
export const ENOSYS = 38
const ACTION_MASK = 0xffff0000

/**
 * Whether the filter gets the -ENOSYS stub (seccomp-enosys.ts). runc adds it unless the
 * default action lets unknown calls through: ALLOW, LOG, and TRACE (a tracer handles new
 * syscalls itself). A default that already answers ENOSYS needs none either.
 */
export function stubApplies(defaultAction: number): boolean {
  const a = (defaultAction & ACTION_MASK) >>> 0
  if (a === SCMP_ACT.ALLOW || a === SCMP_ACT.LOG || a === SCMP_ACT.TRACE) return false
  return defaultAction >>> 0 !== (SCMP_ACT.ERRNO | ENOSYS) >>> 0
}

/** One condition of scmp_arg_cmp; 64-bit data as decimal strings (the plan is JSON). */
export type SeccompCond = { arg: number; op: number; a: string; b: string }

export type SeccompRule = {
  /** config.json path of the syscalls entry, for errors. */
  field: string
  names: string[]
  action: number
  /** Each element is one rule's conditions (AND); several elements are ORed rules. */
  conditions: SeccompCond[][]
}

export type SeccompPlan = {
  defaultAction: number
  /** libseccomp architecture names ("x86", "x32", ...), with the config path of each. */
  architectures: { name: string; field: string }[]
  /** SECCOMP_FILTER_FLAG_* bits asked for (NEW_LISTENER and TSYNC_ESRCH are added at load). */
  flags: number
  rules: SeccompRule[]
  /** Some rule notifies a user-space agent: load with NEW_LISTENER and send it the fd. */
  notify: boolean
  listenerPath?: string
  listenerMetadata?: string
  /** libseccomp's binary-tree optimisation, as runc enables it past 32 syscall entries. */
  optimize: boolean
  /**
   * Every syscall name the profile lists (whatever its action): the highest of them per
   * architecture bounds the -ENOSYS stub (seccomp-enosys.ts). Absent when the default action
   * lets unknown calls through, so no stub is needed.
   */
  enosys?: string[]
}

export type SpecSeccomp = {
  defaultAction: string
  defaultErrnoRet?: number
  architectures?: string[]
  flags?: string[]
  listenerPath?: string
  listenerMetadata?: string
  syscalls?: { names: string[]; action: string; errnoRet?: number; args?: SpecSeccompArg[] }[]
}
type SpecSeccompArg = { index: number; value: number; valueTwo?: number; op: string }

/** An action name (and its errnoRet) -> libseccomp's action value. */
export function actionValue(name: string, errnoRet: number | undefined): number {
  switch (name) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return SCMP_ACT.KILL_THREAD
    case 'SCMP_ACT_KILL_PROCESS':
      return SCMP_ACT.KILL_PROCESS
    case 'SCMP_ACT_TRAP':
      return SCMP_ACT.TRAP
    case 'SCMP_ACT_ERRNO':
      return (SCMP_ACT.ERRNO | ((errnoRet ?? EPERM) & 0xffff)) >>> 0
    case 'SCMP_ACT_TRACE':
      return (SCMP_ACT.TRACE | ((errnoRet ?? EPERM) & 0xffff)) >>> 0
    case 'SCMP_ACT_ALLOW':
      return SCMP_ACT.ALLOW
    case 'SCMP_ACT_LOG':
      return SCMP_ACT.LOG
    case 'SCMP_ACT_NOTIFY':
      return SCMP_ACT.NOTIFY
    default:
      throw new InternalError(`unknown seccomp action ${name}`)
  }
}

/** "SCMP_ARCH_X86_64" -> "x86_64", the name seccomp_arch_resolve_name(3) takes. */
export function archName(spec: string): string {
  return spec.replace(/^SCMP_ARCH_/, '').toLowerCase()
}

function condition(a: SpecSeccompArg): SeccompCond {
  const op = SCMP_CMP[a.op]
  if (op === undefined) throw new InternalError(`unknown seccomp operator ${a.op}`)
  return {
    arg: a.index,
    op,
    a: uint64ToBigInt(a.value).toString(),
    b: uint64ToBigInt(a.valueTwo ?? 0).toString(),
  }
}

/** runc: conditions on distinct arguments form one rule; a repeated argument splits them. */
export function ruleConditions(args: SpecSeccompArg[] | undefined): SeccompCond[][] {
  if (!args || args.length === 0) return [[]]
  const conds = args.map(condition)
  const perArg = new Map<number, number>()
  for (const c of conds) perArg.set(c.arg, (perArg.get(c.arg) ?? 0) + 1)
  const repeated = [...perArg.values()].some((n) => n > 1)
  return repeated ? conds.map((c) => [c]) : [conds]
}

/**
 * Syscalls runt itself makes after the filter is loaded and before the agent holds the
 * listener, which a notifying rule would hold forever: the exec'd process reports its setup
 * with write (as runc's init writes the fd number to its parent, and runc refuses `write` for
 * it), the init hands the fd to the agent with sendmsg, and without no_new_privs the final
 * capset follows the load (see confinement.ts).
 */
function notifyForbidden(noNewPrivileges: boolean): Set<string> {
  return new Set(noNewPrivileges ? ['write', 'sendmsg'] : ['write', 'sendmsg', 'capset'])
}

export type SeccompResult = { plan: SeccompPlan; issues: SpecIssue[]; warnings: string[] }

/**
 * Translate linux.seccomp; `resolvePath` makes listenerPath absolute (from runt's cwd).
 * `noNewPrivileges` is the process's: without it the filter sees the final capset.
 */
export function planSeccomp(sc: SpecSeccomp, resolvePath: (p: string) => string, noNewPrivileges = true): SeccompResult {
  const issues: SpecIssue[] = []
  const warnings: string[] = []
  const at = 'linux.seccomp'
  const defaultAction = actionValue(sc.defaultAction, sc.defaultErrnoRet)
  if (defaultAction === SCMP_ACT.NOTIFY)
    issues.push({
      path: `${at}.defaultAction`,
      message: 'SCMP_ACT_NOTIFY cannot be used as default action',
    })
  const errnoTooBig = (n: number | undefined) => n !== undefined && n > 0xffff
  if (errnoTooBig(sc.defaultErrnoRet))
    issues.push({ path: `${at}.defaultErrnoRet`, message: `expected integer from 0 to 65535, got ${sc.defaultErrnoRet}` })

  let flags = 0
  for (const f of sc.flags ?? []) flags |= SPEC_FLAG[f] ?? 0

  const rules: SeccompRule[] = []
  let notify = false
  ;(sc.syscalls ?? []).forEach((s, i) => {
    const field = `${at}.syscalls[${i}]`
    if (errnoTooBig(s.errnoRet))
      issues.push({ path: `${field}.errnoRet`, message: `expected integer from 0 to 65535, got ${s.errnoRet}` })
    const action = actionValue(s.action, s.errnoRet)
    if (action === SCMP_ACT.NOTIFY) {
      notify = true
      const forbidden = notifyForbidden(noNewPrivileges)
      s.names.forEach((n, j) => {
        if (forbidden.has(n))
          issues.push({
            path: `${field}.names[${j}]`,
            message: `SCMP_ACT_NOTIFY cannot be used for the ${n} syscall${n === 'capset' ? ' without process.noNewPrivileges' : ''}`,
          })
      })
    }
    // libseccomp refuses a rule that repeats the default action (EACCES); runc skips it.
    if (action === defaultAction) return
    const empty = s.names.findIndex((n) => n === '')
    if (empty >= 0) issues.push({ path: `${field}.names[${empty}]`, message: 'empty string is not a valid syscall' })
    rules.push({ field, names: [...s.names], action, conditions: ruleConditions(s.args) })
  })
  if (notify && !sc.listenerPath) issues.push({ path: `${at}.listenerPath`, message: 'required with SCMP_ACT_NOTIFY' })
  // config-linux.md: the state goes to the listener "when the SCMP_ACT_NOTIFY action is used".
  if (!notify && sc.listenerPath)
    warnings.push(`${at}.listenerPath: no SCMP_ACT_NOTIFY rule, so no listener is connected; ignored`)
  if (!notify && flags & FILTER_FLAG.WAIT_KILLABLE_RECV) {
    warnings.push(`${at}.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs a SCMP_ACT_NOTIFY rule; ignored`)
    flags &= ~FILTER_FLAG.WAIT_KILLABLE_RECV
  }

  const plan: SeccompPlan = {
    defaultAction,
    architectures: (sc.architectures ?? []).map((a, i) => ({ name: archName(a), field: `${at}.architectures[${i}]` })),
    flags,
    rules,
    notify,
    optimize: (sc.syscalls ?? []).length > 32,
  }
  if (stubApplies(defaultAction)) plan.enosys = [...new Set((sc.syscalls ?? []).flatMap((s) => s.names))]
  if (notify && sc.listenerPath) plan.listenerPath = resolvePath(sc.listenerPath)
  if (sc.listenerMetadata !== undefined) plan.listenerMetadata = sc.listenerMetadata
  return { plan, issues, warnings }
}

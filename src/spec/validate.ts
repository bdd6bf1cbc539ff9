// Cross-field rules on a schema-checked Spec: what one field means for another (hostname needs
// a UTS namespace, mappings need a user namespace, ...). Pure: no fs, no host probing; rules
// that need host facts belong to the planner. Sysctl rules live elsewhere (they need HostFacts),
// and so do linux.memoryPolicy's (confine/mempolicy.ts, which parses its node list once).

import { SpecError, type SpecIssue } from '../errors.js'
import { closIdProblem, type LinuxNamespaceType, type Process, type Spec } from './schema.js'

export type ValidationResult = { errors: SpecIssue[]; warnings: string[] }

type Out = { error(path: string, message: string): void; warn(message: string): void }
type Rule = (spec: Spec, out: Out) => void

const isAbs = (p: string) => p.startsWith('/')

const hasNs = (spec: Spec, type: LinuxNamespaceType) => (spec.linux?.namespaces ?? []).some((n) => n.type === type)

const nsEntry = (spec: Spec, type: LinuxNamespaceType) => (spec.linux?.namespaces ?? []).find((n) => n.type === type)

/** Linux requires a root filesystem (config.md: REQUIRED on all platforms but Windows). */
const rootRequired: Rule = (spec, out) => {
  if (spec.root === undefined) out.error('root', 'required')
  else if (spec.root.path === '') out.error('root.path', 'must not be empty')
}

/** A rule on a process object; `at` is its path prefix ("process." in config.json, "" alone). */
type ProcessRule = (proc: Process, at: string, out: Out) => void

/** runc: "Cwd property must not be empty", "Cwd must be an absolute path". */
const cwdAbsolute: ProcessRule = (proc, at, out) => {
  if (proc.cwd === '') out.error(`${at}cwd`, 'must not be empty')
  else if (!isAbs(proc.cwd)) out.error(`${at}cwd`, 'must be an absolute path')
}

/** runc: "args must not be empty". */
const argsNonEmpty: ProcessRule = (proc, at, out) => {
  if ((proc.args ?? []).length === 0) out.error(`${at}args`, 'must not be empty')
}

/** config-linux.md: a duplicated namespace type MUST be an error (runc: "duplicated ns"). */
const namespaceUnique: Rule = (spec, out) => {
  const seen = new Set<string>()
  spec.linux?.namespaces?.forEach((ns, i) => {
    if (seen.has(ns.type)) out.error(`linux.namespaces[${i}].type`, `duplicated ns "${ns.type}"`)
    seen.add(ns.type)
  })
}

/** config-linux.md: a namespace path MUST be absolute. */
const namespacePathAbsolute: Rule = (spec, out) => {
  spec.linux?.namespaces?.forEach((ns, i) => {
    if (ns.path !== undefined && ns.path !== '' && !isAbs(ns.path)) {
      out.error(`linux.namespaces[${i}].path`, 'must be an absolute path')
    }
  })
}

/** runc: hostname and domainname can only be set in a UTS namespace of the container's own. */
const utsNamespace: Rule = (spec, out) => {
  if (hasNs(spec, 'uts')) return
  if (spec.hostname) out.error('hostname', 'unable to set hostname without a private UTS namespace')
  if (spec.domainname) out.error('domainname', 'unable to set domainname without a private UTS namespace')
}

/** runc: mappings are meaningless without a user namespace. */
const mappingsNeedUserNamespace: Rule = (spec, out) => {
  if (hasNs(spec, 'user')) return
  const msg = "user namespace mappings specified, but user namespace isn't enabled in the config"
  if (spec.linux?.uidMappings !== undefined) out.error('linux.uidMappings', msg)
  if (spec.linux?.gidMappings !== undefined) out.error('linux.gidMappings', msg)
}

/** A new user namespace (no path) is useless without both maps; a joined one has its own. */
const userNamespaceNeedsMappings: Rule = (spec, out) => {
  const ns = nsEntry(spec, 'user')
  if (ns === undefined || ns.path) return
  if ((spec.linux?.uidMappings ?? []).length === 0) {
    out.error('linux.uidMappings', 'user namespace enabled, but no uid mappings specified')
  }
  if ((spec.linux?.gidMappings ?? []).length === 0) {
    out.error('linux.gidMappings', 'user namespace enabled, but no gid mappings specified')
  }
}

/**
 * runc: offsets need a time namespace. They also need a new one: timens_offsets can only be
 * written before the first process enters the namespace (time_namespaces(7)).
 */
const timeOffsetsNeedTimeNamespace: Rule = (spec, out) => {
  if (spec.linux?.timeOffsets === undefined) return
  const ns = nsEntry(spec, 'time')
  if (ns === undefined) {
    out.error('linux.timeOffsets', "time namespace offsets specified, but time namespace isn't enabled in the config")
  } else if (ns.path) {
    out.error('linux.timeOffsets', 'time namespace offsets cannot be applied to a joined time namespace')
  }
}

/** runc: masking /proc and /sys entries needs a mount namespace of the container's own. */
const maskedPathsNeedMountNamespace: Rule = (spec, out) => {
  if (hasNs(spec, 'mount')) return
  const msg = 'unable to restrict sys entries without a private MNT namespace'
  if ((spec.linux?.maskedPaths ?? []).length > 0) out.error('linux.maskedPaths', msg)
  if ((spec.linux?.readonlyPaths ?? []).length > 0) out.error('linux.readonlyPaths', msg)
}

/**
 * No mount namespace listed shares the runtime's, owned by the runtime's user namespace: root
 * of a container's own user namespace can neither join it nor mount in it (runc fails at its
 * first mount, "operation not permitted").
 */
const userNamespaceNeedsMountNamespace: Rule = (spec, out) => {
  if (hasNs(spec, 'user') && !hasNs(spec, 'mount'))
    out.error('linux.namespaces', "a user namespace needs a mount namespace of its own: it has no privilege over the runtime's")
}

/** config-linux.md: masked and read-only paths MUST be absolute. */
const maskedPathsAbsolute: Rule = (spec, out) => {
  for (const key of ['maskedPaths', 'readonlyPaths'] as const) {
    spec.linux?.[key]?.forEach((p, i) => {
      if (!isAbs(p)) out.error(`linux.${key}[${i}]`, 'must be an absolute path')
    })
  }
}

/** config-linux.md: network devices move into a network namespace, so one must be given. */
const netDevicesNeedNetworkNamespace: Rule = (spec, out) => {
  const devs = spec.linux?.netDevices
  if (devs !== undefined && Object.keys(devs).length > 0 && !hasNs(spec, 'network')) {
    out.error('linux.netDevices', 'unable to move network devices without a private network namespace')
  }
}

/**
 * Network device names as the kernel takes them (dev_valid_name: 1-15 bytes, not "." or "..",
 * no "/", ":" or white space; runc 1.4 checks the same, allowing 16 bytes), a `%d` template
 * at most once in a new name (dev_alloc_name), and no two devices given one name inside.
 */
const netDeviceNamesValid: Rule = (spec, out) => {
  const bad = (n: string) =>
    Buffer.byteLength(n) === 0 || Buffer.byteLength(n) > 15 || n === '.' || n === '..' || /[/:\s]/.test(n)
  const names = new Map<string, string>()
  for (const [key, dev] of Object.entries(spec.linux?.netDevices ?? {})) {
    const at = `linux.netDevices.${key}`
    if (bad(key) || key.includes('%')) out.error(at, `invalid network device name ${JSON.stringify(key)}`)
    const name = dev.name || key
    if (dev.name && (bad(dev.name) || !/^[^%]*(%d[^%]*)?$/.test(dev.name)))
      out.error(`${at}.name`, `invalid network device name ${JSON.stringify(dev.name)}`)
    else if (!name.includes('%')) {
      const other = names.get(name)
      if (other !== undefined) out.error(dev.name ? `${at}.name` : at, `${name} is also the name of ${other} in the container`)
      names.set(name, at)
    }
  }
}

/** A duplicated rlimit type is an error; setrlimit(2) fails with EINVAL when soft > hard. */
const rlimitsValid: ProcessRule = (proc, at, out) => {
  const seen = new Set<string>()
  proc.rlimits?.forEach((rl, i) => {
    if (seen.has(rl.type)) out.error(`${at}rlimits[${i}].type`, `duplicated rlimit "${rl.type}"`)
    seen.add(rl.type)
    if (rl.soft > rl.hard) out.error(`${at}rlimits[${i}].soft`, 'must not exceed hard')
  })
}

/** runc (validator.go scheduler): the checks sched_setattr(2) would fail on. */
const schedulerValid: ProcessRule = (proc, at, out) => {
  const s = proc.scheduler
  if (s === undefined) return
  if (s.nice !== undefined && (s.nice < -20 || s.nice > 19)) {
    out.error(`${at}scheduler.nice`, `expected integer from -20 to 19, got ${s.nice}`)
  }
  if (s.priority && s.policy !== 'SCHED_FIFO' && s.policy !== 'SCHED_RR') {
    out.error(`${at}scheduler.priority`, 'can only be set for SCHED_FIFO or SCHED_RR')
  }
  if (s.policy !== 'SCHED_DEADLINE') {
    for (const key of ['runtime', 'deadline', 'period'] as const) {
      if (s[key]) out.error(`${at}scheduler.${key}`, 'can only be set for SCHED_DEADLINE')
    }
  }
}

/**
 * runc (populateProcessEnvironment): every entry is NAME=VALUE, the name not empty, neither
 * part holding a NUL byte, which execve(2) would cut the string at.
 */
const envValid: ProcessRule = (proc, at, out) => {
  proc.env?.forEach((kv, i) => {
    const eq = kv.indexOf('=')
    if (eq < 0) out.error(`${at}env[${i}]`, "invalid environment variable: missing '='")
    else if (eq === 0) out.error(`${at}env[${i}]`, 'invalid environment variable: name cannot be empty')
    else if (kv.slice(0, eq).includes('\0'))
      out.error(
        `${at}env[${i}]`,
        `invalid environment variable ${JSON.stringify(kv.slice(0, eq))}: name contains nul byte (\\x00)`,
      )
    else if (kv.includes('\0'))
      out.error(
        `${at}env[${i}]`,
        `invalid environment variable ${JSON.stringify(kv.slice(0, eq))}: value contains nul byte (\\x00)`,
      )
  })
}

const PROCESS_RULES: Readonly<Record<string, ProcessRule>> = {
  cwdAbsolute,
  argsNonEmpty,
  rlimitsValid,
  schedulerValid,
  envValid,
}

/** The process rules, when config.json has a process (create without one is allowed). */
const processValid: Rule = (spec, out) => {
  if (spec.process === undefined) return
  for (const rule of Object.values(PROCESS_RULES)) rule(spec.process, 'process.', out)
}

/** config.md: a hook path MUST be absolute. */
const hookPathsAbsolute: Rule = (spec, out) => {
  for (const [phase, list] of Object.entries(spec.hooks ?? {})) {
    list?.forEach((h, i) => {
      if (!isAbs(h.path)) out.error(`hooks.${phase}[${i}].path`, 'must be an absolute path')
    })
  }
}

/** runc only warns for a relative mount destination and resolves it against "/". */
const mountDestinationAbsolute: Rule = (spec, out) => {
  spec.mounts?.forEach((m, i) => {
    if (!isAbs(m.destination)) {
      out.warn(
        `mounts[${i}].destination: relative destination ${JSON.stringify(m.destination)} is deprecated, using it as relative to /`,
      )
    }
  })
}

/** config-linux.md: major and minor are REQUIRED unless the type is p (fifo); path is full. */
const devicesValid: Rule = (spec, out) => {
  spec.linux?.devices?.forEach((d, i) => {
    if (!isAbs(d.path)) out.error(`linux.devices[${i}].path`, 'must be an absolute path')
    if (d.type === 'p') return
    if (d.major === undefined) out.error(`linux.devices[${i}].major`, `required for device type "${d.type}"`)
    if (d.minor === undefined) out.error(`linux.devices[${i}].minor`, `required for device type "${d.type}"`)
  })
}

/** config-linux.md: each weightDevice entry MUST set weight or leafWeight. */
const weightDevicesValid: Rule = (spec, out) => {
  spec.linux?.resources?.blockIO?.weightDevice?.forEach((w, i) => {
    if (w.weight === undefined && w.leafWeight === undefined) {
      out.error(`linux.resources.blockIO.weightDevice[${i}]`, 'must set weight or leafWeight')
    }
  })
}

/** config-linux.md: each rdma entry MUST set hcaHandles or hcaObjects. */
const rdmaValid: Rule = (spec, out) => {
  for (const [dev, lim] of Object.entries(spec.linux?.resources?.rdma ?? {})) {
    if (lim.hcaHandles === undefined && lim.hcaObjects === undefined) {
      out.error(`linux.resources.rdma[${JSON.stringify(dev)}]`, 'must set hcaHandles or hcaObjects')
    }
  }
}

/**
 * config-linux.md (memBwSchema MUST start with "MB:", no newline; no schemata line holds one;
 * closID "/" is the root group, 1.3); runc (any other closID is a name).
 */
const intelRdtValid: Rule = (spec, out) => {
  const rdt = spec.linux?.intelRdt
  if (rdt === undefined) return
  const closId = rdt.closID === undefined ? null : closIdProblem(rdt.closID)
  if (closId) out.error('linux.intelRdt.closID', closId)
  rdt.schemata?.forEach((line, i) => {
    if (line.includes('\n')) out.error(`linux.intelRdt.schemata[${i}]`, 'must not contain a newline')
  })
  const mb = rdt.memBwSchema
  if (mb !== undefined && mb !== '' && (!mb.startsWith('MB:') || mb.includes('\n'))) {
    out.error('linux.intelRdt.memBwSchema', 'must start with "MB:" and be a single line')
  }
}

const ERRNO_ACTIONS = new Set(['SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE'])

/**
 * config-linux.md: errnoRet only with actions that return one; listenerMetadata only with
 * listenerPath. SCMP_ACT_NOTIFY needs a listener to hand the notify fd to (runc rejects it too).
 * A syscall has at most six arguments, so an index above 5 can never match.
 */
const seccompValid: Rule = (spec, out) => {
  const sc = spec.linux?.seccomp
  if (sc === undefined) return
  if (sc.defaultErrnoRet !== undefined && !ERRNO_ACTIONS.has(sc.defaultAction)) {
    out.error('linux.seccomp.defaultErrnoRet', 'only valid with defaultAction SCMP_ACT_ERRNO or SCMP_ACT_TRACE')
  }
  if (sc.listenerMetadata && !sc.listenerPath) {
    out.error('linux.seccomp.listenerMetadata', 'must not be set without listenerPath')
  }
  if (sc.defaultAction === 'SCMP_ACT_NOTIFY' && !sc.listenerPath) {
    out.error('linux.seccomp.defaultAction', 'SCMP_ACT_NOTIFY requires linux.seccomp.listenerPath')
  }
  sc.syscalls?.forEach((s, i) => {
    const at = `linux.seccomp.syscalls[${i}]`
    if (s.errnoRet !== undefined && !ERRNO_ACTIONS.has(s.action)) {
      out.error(`${at}.errnoRet`, 'only valid with action SCMP_ACT_ERRNO or SCMP_ACT_TRACE')
    }
    if (s.action === 'SCMP_ACT_NOTIFY' && !sc.listenerPath) {
      out.error(`${at}.action`, 'SCMP_ACT_NOTIFY requires linux.seccomp.listenerPath')
    }
    s.args?.forEach((a, j) => {
      if (a.index > 5) out.error(`${at}.args[${j}].index`, `expected integer from 0 to 5, got ${a.index}`)
    })
  })
}

/** Every rule, in the order their issues are reported. */
export const RULES: Readonly<Record<string, Rule>> = {
  rootRequired,
  processValid,
  hookPathsAbsolute,
  mountDestinationAbsolute,
  namespaceUnique,
  namespacePathAbsolute,
  utsNamespace,
  mappingsNeedUserNamespace,
  userNamespaceNeedsMappings,
  timeOffsetsNeedTimeNamespace,
  netDevicesNeedNetworkNamespace,
  netDeviceNamesValid,
  maskedPathsNeedMountNamespace,
  userNamespaceNeedsMountNamespace,
  maskedPathsAbsolute,
  devicesValid,
  weightDevicesValid,
  rdmaValid,
  intelRdtValid,
  seccompValid,
}

function collect(run: (out: Out) => void): ValidationResult {
  const errors: SpecIssue[] = []
  const warnings: string[] = []
  run({ error: (path, message) => errors.push({ path, message }), warn: (message) => warnings.push(message) })
  return { errors, warnings }
}

/** Run every cross-field rule. Errors must stop create; warnings are logged and ignored. */
export function validateSpec(spec: Spec): ValidationResult {
  return collect((out) => {
    for (const rule of Object.values(RULES)) rule(spec, out)
  })
}

/** The process rules alone, for an `exec --process` file; paths have no "process." prefix. */
export function validateProcess(proc: Process): ValidationResult {
  return collect((out) => {
    for (const rule of Object.values(PROCESS_RULES)) rule(proc, '', out)
  })
}

/** validateSpec, throwing SpecError on any error; returns the warnings. */
export function assertValidSpec(spec: Spec): string[] {
  const { errors, warnings } = validateSpec(spec)
  if (errors.length > 0) throw new SpecError(errors)
  return warnings
}

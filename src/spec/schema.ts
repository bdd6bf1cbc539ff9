// zod schemas for the Linux part of runtime-spec 1.3 config.json, the spec's enumerations as
// plain arrays, the z.infer types named after specs-go, and the zod-issue -> SpecIssue formatter.
// Pure: no fs, no process. Importing this file must never load zod: zod (spec/zod-lib.ts) is
// required on the first specSchemas() call only, and types come from `import type`.

import { createRequire } from 'node:module'
import type { z as Z } from 'zod'
import type { SpecIssue } from '../errors.js'

// ---------------------------------------------------------------------------------------------
// Enumerations fixed by the spec (config.md, config-linux.md). Plain arrays: cheap to import,
// usable by `features` and by plan code without zod.

export const NAMESPACE_TYPES = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'] as const

export const RLIMIT_TYPES = [
  'RLIMIT_AS',
  'RLIMIT_CORE',
  'RLIMIT_CPU',
  'RLIMIT_DATA',
  'RLIMIT_FSIZE',
  'RLIMIT_LOCKS',
  'RLIMIT_MEMLOCK',
  'RLIMIT_MSGQUEUE',
  'RLIMIT_NICE',
  'RLIMIT_NOFILE',
  'RLIMIT_NPROC',
  'RLIMIT_RSS',
  'RLIMIT_RTPRIO',
  'RLIMIT_RTTIME',
  'RLIMIT_SIGPENDING',
  'RLIMIT_STACK',
] as const

export const SCHED_POLICIES = [
  'SCHED_OTHER',
  'SCHED_FIFO',
  'SCHED_RR',
  'SCHED_BATCH',
  'SCHED_ISO',
  'SCHED_IDLE',
  'SCHED_DEADLINE',
] as const

export const SCHED_FLAGS = [
  'SCHED_FLAG_RESET_ON_FORK',
  'SCHED_FLAG_RECLAIM',
  'SCHED_FLAG_DL_OVERRUN',
  'SCHED_FLAG_KEEP_POLICY',
  'SCHED_FLAG_KEEP_PARAMS',
  'SCHED_FLAG_UTIL_CLAMP_MIN',
  'SCHED_FLAG_UTIL_CLAMP_MAX',
] as const

export const IOPRIO_CLASSES = ['IOPRIO_CLASS_RT', 'IOPRIO_CLASS_BE', 'IOPRIO_CLASS_IDLE'] as const

/** The spec names four values; runc also accepts the recursive spellings, and so do we. */
export const ROOTFS_PROPAGATIONS = [
  'private',
  'shared',
  'slave',
  'unbindable',
  'rprivate',
  'rshared',
  'rslave',
  'runbindable',
] as const

export const DEVICE_TYPES = ['c', 'b', 'u', 'p'] as const
export const DEVICE_CGROUP_TYPES = ['a', 'c', 'b'] as const

export const SECCOMP_ACTIONS = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
] as const

/** The spec's list (libseccomp 2.5) plus the names libseccomp 2.6 added, which engines emit. */
export const SECCOMP_ARCHES = [
  'SCMP_ARCH_X86',
  'SCMP_ARCH_X86_64',
  'SCMP_ARCH_X32',
  'SCMP_ARCH_ARM',
  'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X',
  'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64',
  'SCMP_ARCH_LOONGARCH64',
  'SCMP_ARCH_M68K',
  'SCMP_ARCH_SH',
  'SCMP_ARCH_SHEB',
] as const

export const SECCOMP_FLAGS = [
  'SECCOMP_FILTER_FLAG_TSYNC',
  'SECCOMP_FILTER_FLAG_LOG',
  'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
  'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
] as const

export const SECCOMP_OPERATORS = [
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
] as const

export const PERSONALITY_DOMAINS = ['LINUX', 'LINUX32'] as const

export const MPOL_MODES = [
  'MPOL_DEFAULT',
  'MPOL_BIND',
  'MPOL_INTERLEAVE',
  'MPOL_WEIGHTED_INTERLEAVE',
  'MPOL_PREFERRED',
  'MPOL_PREFERRED_MANY',
  'MPOL_LOCAL',
] as const

export const MPOL_FLAGS = ['MPOL_F_NUMA_BALANCING', 'MPOL_F_RELATIVE_NODES', 'MPOL_F_STATIC_NODES'] as const

/** Clock names accepted as keys of linux.timeOffsets (time_namespaces(7)). */
export const TIME_OFFSET_CLOCKS = ['monotonic', 'boottime'] as const

// ---------------------------------------------------------------------------------------------
// Integers. JSON numbers arrive as doubles: every integer up to 2^53 is exact, larger ones are
// rounded. So 2^64-1 (RLIM_INFINITY, a full seccomp mask) arrives as 2^64 and 2^63-1 as 2^63;
// both are accepted as the type's maximum. Use uint64ToBigInt/int64ToBigInt to get the C value.

type IntKind = 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64'

const INT_RANGES: Record<IntKind, { min: number; max: number; text: string }> = {
  uint16: { min: 0, max: 65535, text: '0 to 65535' },
  int32: { min: -2147483648, max: 2147483647, text: '-2147483648 to 2147483647' },
  uint32: { min: 0, max: 4294967295, text: '0 to 4294967295' },
  int64: { min: -(2 ** 63), max: 2 ** 63, text: '-9223372036854775808 to 9223372036854775807' },
  uint64: { min: 0, max: 2 ** 64, text: '0 to 18446744073709551615' },
}

const U64_MAX = (1n << 64n) - 1n
const I64_MAX = (1n << 63n) - 1n
const I64_MIN = -(1n << 63n)

/** The exact uint64 a parsed uint64 field stands for (2^64, the rounded 2^64-1, clamps to max). */
export function uint64ToBigInt(n: number): bigint {
  const b = BigInt(n)
  return b > U64_MAX ? U64_MAX : b < 0n ? 0n : b
}

/** The exact int64 a parsed int64 field stands for (2^63, the rounded 2^63-1, clamps to max). */
export function int64ToBigInt(n: number): bigint {
  const b = BigInt(n)
  return b > I64_MAX ? I64_MAX : b < I64_MIN ? I64_MIN : b
}

/** Print a number; an integer beyond 2^53 as the exact value it was rounded to, no exponent. */
function showNumber(n: number): string {
  return Number.isInteger(n) && !Number.isSafeInteger(n) ? BigInt(n).toString() : String(n)
}

/**
 * The largest uid or gid a process may be given. (uid_t)-1 means "no change" to setresuid(2),
 * so 4294967295 would leave the process root; runc refuses everything above INT32_MAX.
 */
export const ID_MAX = 2147483647
export const ID_RANGE_MESSAGE = 'uids and gids must be in range 0-2147483647'

/** Why `n` is no uid or gid a process may run as, or null. */
export function idProblem(n: number): string | null {
  return Number.isInteger(n) && n >= 0 && n <= ID_MAX ? null : `${ID_RANGE_MESSAGE}, got ${showNumber(n)}`
}

/**
 * Why linux.intelRdt.closID names no resctrl group one level below the root, or null:
 * config-linux.md 1.3 ("/" is the root group); runc (any other closID is a plain name).
 */
export function closIdProblem(id: string): string | null {
  return id !== '/' && (id === '.' || id === '..' || id.includes('/'))
    ? 'must be a plain name (no "/", not "." or "..") or "/"'
    : null
}

// ---------------------------------------------------------------------------------------------
// Schema construction (lazy).

type ZodNs = typeof Z

function loadZod(): ZodNs {
  // Bun has `require` in ES modules: its bundler sees the literal require() of an ES module
  // and makes zod a chunk loaded at this call, so the commands and the init stage that import
  // this file for its plain tables never load zod. Under tsx there is none, so make one.
  const mod = (
    typeof require === 'function' ? require('./zod-lib.js') : createRequire(import.meta.url)('./zod-lib.js')
  ) as typeof import('./zod-lib.js')
  // One parse per process: generating a fast path with new Function costs more than it saves
  // (measured under V8: -3 ms on create).
  mod.z.config({ jitless: true })
  return mod.z
}

/** The leaves every part below shares, built once per process. */
function leafSchemas(z: ZodNs) {
  // zod schemas are immutable, and building one costs far more than a parse through it (each
  // instance carries its own method closures): the leaves that recur are built once and
  // shared, which halves the building that create and exec pay at every start.
  const ints: Partial<Record<IntKind, ReturnType<typeof intSchema>>> = {}
  const optInts: Partial<Record<IntKind, Z.ZodOptional<ReturnType<typeof intSchema>>>> = {}
  const int = (kind: IntKind) => (ints[kind] ??= intSchema(kind))
  const optInt = (kind: IntKind) => (optInts[kind] ??= int(kind).optional())
  const intSchema = (kind: IntKind) => {
    const r = INT_RANGES[kind]
    return z.number({ error: 'expected integer' }).check((ctx) => {
      const n = ctx.value
      if (!Number.isInteger(n)) {
        ctx.issues.push({ code: 'custom', message: `expected integer, got ${showNumber(n)}`, input: n })
      } else if (n < r.min || n > r.max) {
        ctx.issues.push({ code: 'custom', message: `expected ${kind} (${r.text}), got ${showNumber(n)}`, input: n })
      }
    })
  }
  const intIn = (min: number, max: number) =>
    z.number({ error: 'expected integer' }).check((ctx) => {
      const n = ctx.value
      if (!Number.isInteger(n)) {
        ctx.issues.push({ code: 'custom', message: `expected integer, got ${showNumber(n)}`, input: n })
      } else if (n < min || n > max) {
        ctx.issues.push({ code: 'custom', message: `expected integer from ${min} to ${max}, got ${n}`, input: n })
      }
    })
  const strSchema = z.string()
  const optStrSchema = strSchema.optional()
  const boolSchema = z.boolean()
  const optBoolSchema = boolSchema.optional()
  const strArrSchema = z.array(strSchema, {
    error: (iss) => (iss.code === 'invalid_type' ? 'expected array of strings' : undefined),
  })
  const optStrArrSchema = strArrSchema.optional()
  const str = () => strSchema
  const optStr = () => optStrSchema
  const bool = () => boolSchema
  const optBool = () => optBoolSchema
  const strArr = () => strArrSchema
  const optStrArr = () => optStrArrSchema
  const arr = <T extends Z.ZodType>(item: T) =>
    z.array(item, { error: (iss) => (iss.code === 'invalid_type' ? 'expected array of objects' : undefined) })
  const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
    z.enum(values, { error: (iss) => (iss.code === 'invalid_value' ? `expected one of ${values.join(', ')}` : undefined) })
  const enumArr = <const T extends readonly [string, ...string[]]>(values: T) =>
    z.array(oneOf(values), {
      error: (iss) => (iss.code === 'invalid_type' ? 'expected array of strings' : undefined),
    })
  const strMap = () => z.record(z.string(), z.string(), { error: 'expected object of strings' })

  return { int, optInt, intIn, str, optStr, bool, optBool, strArr, optStrArr, arr, oneOf, enumArr, strMap }
}

type Leaves = ReturnType<typeof leafSchemas>

/** process and its parts: all that `exec --process` needs. */
function processSchemas(z: ZodNs, l: Leaves) {
  const { int, optInt, intIn, str, optStr, optBool, optStrArr, arr, oneOf, enumArr } = l
  // config.md: process.user. The spec says uint32; runc refuses what setresuid would read as -1
  // or that no user namespace can map (ID_MAX).
  const id = () =>
    z.number({ error: 'expected integer' }).check((ctx) => {
      const n = ctx.value
      const problem = Number.isInteger(n) ? idProblem(n) : `expected integer, got ${showNumber(n)}`
      if (problem !== null) ctx.issues.push({ code: 'custom', message: problem, input: n })
    })
  const user = z.object({
    uid: id(),
    gid: id(),
    umask: optInt('uint32'),
    additionalGids: z.array(id()).optional(),
    username: optStr(),
  })

  const box = z.object({ height: int('uint32'), width: int('uint32') })

  const capabilities = z.object({
    bounding: optStrArr(),
    effective: optStrArr(),
    inheritable: optStrArr(),
    permitted: optStrArr(),
    ambient: optStrArr(),
  })

  const rlimit = z.object({ type: oneOf(RLIMIT_TYPES), hard: int('uint64'), soft: int('uint64') })

  const scheduler = z.object({
    policy: oneOf(SCHED_POLICIES),
    nice: optInt('int32'),
    priority: optInt('int32'),
    flags: enumArr(SCHED_FLAGS).optional(),
    runtime: optInt('uint64'),
    deadline: optInt('uint64'),
    period: optInt('uint64'),
  })

  // config.md: ioPriority.priority "ranges from 0 (highest) to 7 (lowest)".
  const ioPriority = z.object({ class: oneOf(IOPRIO_CLASSES), priority: intIn(0, 7) })

  const cpuAffinity = z.object({ initial: optStr(), final: optStr() })

  const process = z.object({
    terminal: optBool(),
    consoleSize: box.optional(),
    user,
    args: optStrArr(),
    commandLine: optStr(),
    env: optStrArr(),
    cwd: str(),
    capabilities: capabilities.optional(),
    rlimits: arr(rlimit).optional(),
    noNewPrivileges: optBool(),
    apparmorProfile: optStr(),
    oomScoreAdj: intIn(-1000, 1000).optional(),
    scheduler: scheduler.optional(),
    selinuxLabel: optStr(),
    ioPriority: ioPriority.optional(),
    execCPUAffinity: cpuAffinity.optional(),
  })

  return { process, user, box, capabilities, rlimit, scheduler, ioPriority, cpuAffinity }
}

/** linux.resources and its parts: all that `update --resources` needs. */
function resourceSchemas(z: ZodNs, l: Leaves) {
  const { int, optInt, str, optStr, bool, optBool, arr, oneOf, strMap } = l
  const deviceCgroup = z.object({
    allow: bool(),
    type: oneOf(DEVICE_CGROUP_TYPES).optional(),
    major: optInt('int64'),
    minor: optInt('int64'),
    access: z
      .string()
      .regex(/^[rwm]*$/, { error: (iss) => `expected a combination of r, w and m, got ${JSON.stringify(iss.input)}` })
      .optional(),
  })

  const memory = z.object({
    limit: optInt('int64'),
    reservation: optInt('int64'),
    swap: optInt('int64'),
    kernel: optInt('int64'),
    kernelTCP: optInt('int64'),
    swappiness: optInt('uint64'),
    disableOOMKiller: optBool(),
    useHierarchy: optBool(),
    checkBeforeUpdate: optBool(),
  })

  const cpu = z.object({
    shares: optInt('uint64'),
    quota: optInt('int64'),
    burst: optInt('uint64'),
    period: optInt('uint64'),
    realtimeRuntime: optInt('int64'),
    realtimePeriod: optInt('uint64'),
    cpus: optStr(),
    mems: optStr(),
    idle: optInt('int64'),
  })

  // 1.2 made limit REQUIRED; runc 1.4 reads it as optional (a pointer), so accept its absence.
  const pids = z.object({ limit: optInt('int64') })

  const weightDevice = z.object({
    major: int('int64'),
    minor: int('int64'),
    weight: optInt('uint16'),
    leafWeight: optInt('uint16'),
  })
  const throttleDevice = z.object({ major: int('int64'), minor: int('int64'), rate: int('uint64') })
  const blockIO = z.object({
    weight: optInt('uint16'),
    leafWeight: optInt('uint16'),
    weightDevice: arr(weightDevice).optional(),
    throttleReadBpsDevice: arr(throttleDevice).optional(),
    throttleWriteBpsDevice: arr(throttleDevice).optional(),
    throttleReadIOPSDevice: arr(throttleDevice).optional(),
    throttleWriteIOPSDevice: arr(throttleDevice).optional(),
  })

  const hugepageLimit = z.object({ pageSize: str(), limit: int('uint64') })

  const interfacePriority = z.object({ name: str(), priority: int('uint32') })
  const network = z.object({ classID: optInt('uint32'), priorities: arr(interfacePriority).optional() })

  const rdma = z.object({ hcaHandles: optInt('uint32'), hcaObjects: optInt('uint32') })

  const resources = z.object({
    devices: arr(deviceCgroup).optional(),
    memory: memory.optional(),
    cpu: cpu.optional(),
    pids: pids.optional(),
    blockIO: blockIO.optional(),
    hugepageLimits: arr(hugepageLimit).optional(),
    network: network.optional(),
    rdma: z.record(z.string(), rdma).optional(),
    unified: strMap().optional(),
  })

  return {
    resources,
    deviceCgroup,
    memory,
    cpu,
    pids,
    blockIO,
    weightDevice,
    throttleDevice,
    hugepageLimit,
    network,
    interfacePriority,
    rdma,
  }
}

/** The whole config.json: the two parts above and the rest. */
function allSchemas(z: ZodNs, l: Leaves, ps: ReturnType<typeof processSchemas>, rs: ReturnType<typeof resourceSchemas>) {
  const { int, optInt, intIn, str, optStr, optBool, strArr, optStrArr, arr, oneOf, enumArr, strMap } = l
  const { process } = ps
  const { resources } = rs
  // defs.json IDMapping: containerID, hostID, size, all uint32 and required.
  const idMapping = z.object({ containerID: int('uint32'), hostID: int('uint32'), size: int('uint32') })

  const root = z.object({ path: str(), readonly: optBool() })

  const mount = z.object({
    destination: str(),
    type: optStr(),
    source: optStr(),
    options: optStrArr(),
    uidMappings: arr(idMapping).optional(),
    gidMappings: arr(idMapping).optional(),
  })

  // config.md: hook timeout "MUST be greater than zero".
  const hook = z.object({
    path: str(),
    args: optStrArr(),
    env: optStrArr(),
    timeout: intIn(1, 2147483647).optional(),
  })
  const hookList = () => arr(hook).optional()
  const hooks = z.object({
    prestart: hookList(),
    createRuntime: hookList(),
    createContainer: hookList(),
    startContainer: hookList(),
    poststart: hookList(),
    poststop: hookList(),
  })

  const namespace = z.object({ type: oneOf(NAMESPACE_TYPES), path: optStr() })

  const timeOffset = z.object({ secs: optInt('int64'), nanosecs: optInt('uint32') })
  const timeOffsets = z.record(z.string(), timeOffset).check((ctx) => {
    for (const key of Object.keys(ctx.value)) {
      if (!(TIME_OFFSET_CLOCKS as readonly string[]).includes(key)) {
        ctx.issues.push({
          code: 'custom',
          message: `unknown clock, expected one of ${TIME_OFFSET_CLOCKS.join(', ')}`,
          path: [key],
          input: ctx.value,
        })
      }
    }
  })

  const device = z.object({
    type: oneOf(DEVICE_TYPES),
    path: str(),
    major: optInt('int64'),
    minor: optInt('int64'),
    fileMode: optInt('uint32'),
    uid: optInt('uint32'),
    gid: optInt('uint32'),
  })

  const netDevice = z.object({ name: optStr() })

  // runtime-spec 1.2.0 had schemata as one string; 1.3 (and runc) use one array item per
  // line. Both are accepted and a string is split into lines.
  const schemata = z
    .union([z.string(), z.array(z.string())], { error: 'expected array of strings' })
    .transform((v) => (typeof v === 'string' ? v.split('\n').filter((l) => l !== '') : v))

  const intelRdt = z.object({
    closID: optStr(),
    l3CacheSchema: optStr(),
    memBwSchema: optStr(),
    schemata: schemata.optional(),
    enableMonitoring: optBool(),
    // Removed in 1.3 in favour of enableMonitoring; still written by 1.2 generators.
    enableCMT: optBool(),
    enableMBM: optBool(),
  })

  const seccompArg = z.object({
    index: int('uint32'),
    value: int('uint64'),
    valueTwo: optInt('uint64'),
    op: oneOf(SECCOMP_OPERATORS),
  })
  const syscall = z.object({
    names: strArr().min(1, { error: 'must contain at least one syscall name' }),
    action: oneOf(SECCOMP_ACTIONS),
    errnoRet: optInt('uint32'),
    args: arr(seccompArg).optional(),
  })
  const seccomp = z.object({
    defaultAction: oneOf(SECCOMP_ACTIONS),
    defaultErrnoRet: optInt('uint32'),
    architectures: enumArr(SECCOMP_ARCHES).optional(),
    flags: enumArr(SECCOMP_FLAGS).optional(),
    listenerPath: optStr(),
    listenerMetadata: optStr(),
    syscalls: arr(syscall).optional(),
  })

  const personality = z.object({ domain: oneOf(PERSONALITY_DOMAINS), flags: optStrArr() })

  const memoryPolicy = z.object({
    mode: oneOf(MPOL_MODES),
    nodes: optStr(),
    flags: enumArr(MPOL_FLAGS).optional(),
  })

  const linux = z.object({
    uidMappings: arr(idMapping).optional(),
    gidMappings: arr(idMapping).optional(),
    sysctl: strMap().optional(),
    resources: resources.optional(),
    cgroupsPath: optStr(),
    namespaces: arr(namespace).optional(),
    devices: arr(device).optional(),
    netDevices: z.record(z.string(), netDevice).optional(),
    seccomp: seccomp.optional(),
    rootfsPropagation: oneOf(ROOTFS_PROPAGATIONS).optional(),
    maskedPaths: optStrArr(),
    readonlyPaths: optStrArr(),
    mountLabel: optStr(),
    intelRdt: intelRdt.optional(),
    personality: personality.optional(),
    timeOffsets: timeOffsets.optional(),
    memoryPolicy: memoryPolicy.optional(),
  })

  // Objects strip unknown properties (STYLE 7.2 rule 10): never .strict(). `root` and `process`
  // are optional here; validate.ts says when they are required.
  const spec = z.object({
    ociVersion: str(),
    process: process.optional(),
    root: root.optional(),
    hostname: optStr(),
    domainname: optStr(),
    mounts: arr(mount).optional(),
    hooks: hooks.optional(),
    annotations: strMap().optional(),
    linux: linux.optional(),
  })

  return {
    ...ps,
    ...rs,
    spec,
    root,
    mount,
    hook,
    hooks,
    linux,
    namespace,
    idMapping,
    timeOffset,
    device,
    netDevice,
    intelRdt,
    seccomp,
    syscall,
    seccompArg,
    personality,
    memoryPolicy,
  }
}

export type SpecSchemas = ReturnType<typeof allSchemas>

type Built = {
  z: ZodNs
  leaves: Leaves
  process?: ReturnType<typeof processSchemas>
  resources?: ReturnType<typeof resourceSchemas>
  all?: SpecSchemas
}
let built: Built | undefined

function base(): Built {
  if (!built) {
    const z = loadZod()
    built = { z, leaves: leafSchemas(z) }
  }
  return built
}

function processPart(): ReturnType<typeof processSchemas> {
  const b = base()
  return (b.process ??= processSchemas(b.z, b.leaves))
}

function resourcesPart(): ReturnType<typeof resourceSchemas> {
  const b = base()
  return (b.resources ??= resourceSchemas(b.z, b.leaves))
}

/** All schemas, built (and zod loaded) on the first call, then cached. */
export function specSchemas(): SpecSchemas {
  const b = base()
  return (b.all ??= allSchemas(b.z, b.leaves, processPart(), resourcesPart()))
}

/**
 * The schema of one of the documents runt reads, building only its part: `exec --process`
 * and `update -r` need a fraction of what config.json does, and pay for no more.
 */
export function documentSchema<K extends 'spec' | 'process' | 'resources'>(kind: K): SpecSchemas[K] {
  if (kind === 'process') return processPart().process as SpecSchemas[K]
  if (kind === 'resources') return resourcesPart().resources as SpecSchemas[K]
  return specSchemas()[kind]
}

/** The config.json schema. */
export function specSchema(): SpecSchemas['spec'] {
  return specSchemas().spec
}

// ---------------------------------------------------------------------------------------------
// Types, named after specs-go.

type Out<K extends keyof SpecSchemas> = Z.output<SpecSchemas[K]>

export type Spec = Out<'spec'>
export type Process = Out<'process'>
export type User = Out<'user'>
export type Box = Out<'box'>
export type LinuxCapabilities = Out<'capabilities'>
export type POSIXRlimit = Out<'rlimit'>
export type Scheduler = Out<'scheduler'>
export type LinuxIOPriority = Out<'ioPriority'>
export type CPUAffinity = Out<'cpuAffinity'>
export type Root = Out<'root'>
export type Mount = Out<'mount'>
export type Hook = Out<'hook'>
export type Hooks = Out<'hooks'>
export type Linux = Out<'linux'>
export type LinuxNamespace = Out<'namespace'>
export type LinuxIDMapping = Out<'idMapping'>
export type LinuxTimeOffset = Out<'timeOffset'>
export type LinuxDevice = Out<'device'>
export type LinuxNetDevice = Out<'netDevice'>
export type LinuxResources = Out<'resources'>
export type LinuxDeviceCgroup = Out<'deviceCgroup'>
export type LinuxMemory = Out<'memory'>
export type LinuxCPU = Out<'cpu'>
export type LinuxPids = Out<'pids'>
export type LinuxBlockIO = Out<'blockIO'>
export type LinuxWeightDevice = Out<'weightDevice'>
export type LinuxThrottleDevice = Out<'throttleDevice'>
export type LinuxHugepageLimit = Out<'hugepageLimit'>
export type LinuxNetwork = Out<'network'>
export type LinuxInterfacePriority = Out<'interfacePriority'>
export type LinuxRdma = Out<'rdma'>
export type LinuxIntelRdt = Out<'intelRdt'>
export type LinuxSeccomp = Out<'seccomp'>
export type LinuxSyscall = Out<'syscall'>
export type LinuxSeccompArg = Out<'seccompArg'>
export type LinuxPersonality = Out<'personality'>
export type LinuxMemoryPolicy = Out<'memoryPolicy'>

export type LinuxNamespaceType = (typeof NAMESPACE_TYPES)[number]
export type RlimitType = (typeof RLIMIT_TYPES)[number]
export type LinuxSchedulerPolicy = (typeof SCHED_POLICIES)[number]
export type LinuxSchedulerFlag = (typeof SCHED_FLAGS)[number]
export type IOPriorityClass = (typeof IOPRIO_CLASSES)[number]
export type RootfsPropagation = (typeof ROOTFS_PROPAGATIONS)[number]
export type LinuxDeviceType = (typeof DEVICE_TYPES)[number]
export type LinuxSeccompAction = (typeof SECCOMP_ACTIONS)[number]
export type LinuxSeccompArch = (typeof SECCOMP_ARCHES)[number]
export type LinuxSeccompFlag = (typeof SECCOMP_FLAGS)[number]
export type LinuxSeccompOperator = (typeof SECCOMP_OPERATORS)[number]
export type LinuxPersonalityDomain = (typeof PERSONALITY_DOMAINS)[number]
export type MemoryPolicyMode = (typeof MPOL_MODES)[number]
export type MemoryPolicyFlag = (typeof MPOL_FLAGS)[number]

// ---------------------------------------------------------------------------------------------
// Issue formatting: zod issues -> {path, message} in JS-ish notation. Pure; it takes the
// fields it reads structurally so tests can feed hand-made issues.

/** The parts of a zod issue the formatter reads. */
export type ZodIssueLike = {
  code: string
  path: readonly PropertyKey[]
  message: string
  input?: unknown
  expected?: string
  values?: readonly unknown[]
  minimum?: number | bigint
  maximum?: number | bigint
  origin?: string
  keys?: readonly string[]
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/** ['linux', 'namespaces', 2, 'type'] -> 'linux.namespaces[2].type'; odd keys as ["a.b"]. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`
    else {
      const key = String(seg)
      if (IDENT.test(key)) out += out === '' ? key : `.${key}`
      else out += `[${JSON.stringify(key)}]`
    }
  }
  return out
}

/** A JSON value's kind as a user would name it: 'array', 'null', 'string', ... */
export function jsonKind(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  return typeof v
}

const EXPECTED_NAMES: Record<string, string> = { record: 'object', int: 'integer', map: 'object' }

/** zod's own messages start with a capital ("Invalid input: ..."); ours start with "expected". */
const ours = (message: string) => /^(expected|must|unknown)\b/.test(message)

function issueMessage(iss: ZodIssueLike): string {
  const missing = !('input' in iss) || iss.input === undefined
  switch (iss.code) {
    case 'invalid_type': {
      if (missing) return 'required'
      const expected = ours(iss.message) ? iss.message : `expected ${EXPECTED_NAMES[iss.expected ?? ''] ?? iss.expected}`
      return `${expected}, got ${jsonKind(iss.input)}`
    }
    case 'invalid_union':
      if (missing) return 'required'
      return ours(iss.message) ? `${iss.message}, got ${jsonKind(iss.input)}` : 'invalid value'
    case 'invalid_value':
      if (ours(iss.message)) return iss.message
      return `expected one of ${(iss.values ?? []).map((v) => String(v)).join(', ')}`
    case 'too_small':
      if (ours(iss.message)) return iss.message
      if (iss.origin === 'array') return `must contain at least ${String(iss.minimum)} item(s)`
      if (iss.origin === 'string') return `must be at least ${String(iss.minimum)} character(s)`
      return `must be at least ${String(iss.minimum)}`
    case 'too_big':
      if (ours(iss.message)) return iss.message
      if (iss.origin === 'array') return `must contain at most ${String(iss.maximum)} item(s)`
      return `must be at most ${String(iss.maximum)}`
    case 'unrecognized_keys':
      return `unknown key(s) ${(iss.keys ?? []).map((k) => JSON.stringify(k)).join(', ')}`
    case 'invalid_format':
      return ours(iss.message) ? iss.message : 'invalid format'
    case 'custom':
      return iss.message
    default:
      return ours(iss.message) ? iss.message : 'invalid value'
  }
}

/** zod issues -> SpecIssue[]; never zod's raw text or JSON. */
export function formatZodIssues(issues: readonly ZodIssueLike[]): SpecIssue[] {
  return issues.map((iss) => ({ path: formatPath(iss.path), message: issueMessage(iss) }))
}

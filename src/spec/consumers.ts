// What runt does with each property of config.json (issue 17: nothing silently ignored). One
// entry per leaf property path of the schema (spec/schema.ts): carried out ("consumed", with
// the file and symbol that read it), refused with an error naming it ("refused"), or left
// alone on purpose as the spec allows ("ignored", with the reason). Plain data, read by
// test/unit/spec/consumers.ts only, which walks the zod schema and fails on a path without an
// entry, on an entry for no path, and on a site whose file lacks its symbol or the property.
// Nothing in the binary imports this file.
//
// Paths: `a.b` for object properties, `a[].b` for array items, `a{}.b` for record values; a
// leaf array or record of scalars is named without the brackets (`mounts[].options`).
// A site is "<file under the repository> <symbol>".

/** "src/cgroups/v1/resources.ts setMemory". */
export type Site = string

export type Consumer =
  /**
   * Carried out. `pending`: the named file is being written on another branch. For an enum,
   * every value must be named in a site's file or in `values` (the table that maps them), unless
   * `anyValue` says how values are translated by rule.
   */
  | { kind: 'consumed'; at: readonly Site[]; note?: string; pending?: true; values?: Site; anyValue?: string }
  /** Always refused, with an error naming the field. */
  | { kind: 'refused'; at: readonly Site[]; note?: string }
  /** Left alone on purpose; `at` is where a warning says so, if one does. */
  | { kind: 'ignored'; reason: string; at?: readonly Site[] }

type Consumed = Extract<Consumer, { kind: 'consumed' }>

const consumed = (...at: Site[]): Consumed => ({ kind: 'consumed', at })
const consumedNote = (note: string, ...at: Site[]): Consumer => ({ kind: 'consumed', at, note })
const ignored = (reason: string, ...at: Site[]): Consumer =>
  at.length ? { kind: 'ignored', reason, at } : { kind: 'ignored', reason }

const CREATE = 'src/process/create.ts'
const CONFINE_PLAN = 'src/confine/plan.ts'
const CONFINEMENT = 'src/confine/confinement.ts'
const ROOTFS_PLAN = 'src/plan/rootfs.ts planRootfs'
const BUILD = 'src/rootfs/build.ts'
const V1 = 'src/cgroups/v1/resources.ts'
const V2 = 'src/cgroups/v2/resources.ts'
const SECCOMP = 'src/confine/seccomp.ts'

/** Hooks: every phase reads path, args, env and timeout the same way; `at` runs the phase. */
function hookEntries(phase: string, at: Site): Record<string, Consumer> {
  return {
    [`hooks.${phase}[].path`]: consumed(at, 'src/hooks.ts runOne', 'src/process/hook-process.ts runOne'),
    [`hooks.${phase}[].args`]: consumed(at, 'src/hooks.ts runOne', 'src/process/hook-process.ts runOne'),
    [`hooks.${phase}[].env`]: consumed(at, 'src/hooks.ts runOne', 'src/process/hook-process.ts runOne'),
    [`hooks.${phase}[].timeout`]: consumed(at, 'src/hooks.ts runOne', 'src/process/hook-process.ts runOne'),
  }
}

const idMapEntries = (prefix: string, ...at: Site[]): Record<string, Consumer> => ({
  [`${prefix}[].containerID`]: consumed(...at),
  [`${prefix}[].hostID`]: consumed(...at),
  [`${prefix}[].size`]: consumed(...at),
})

const throttleEntries = (key: string): Record<string, Consumer> =>
  Object.fromEntries(
    ['major', 'minor', 'rate'].map((k) => [`linux.resources.blockIO.${key}[].${k}`, consumed(`${V1} setBlkio`, `${V2} setIo`)]),
  )

export const CONSUMERS: Readonly<Record<string, Consumer>> = {
  ociVersion: ignored(
    'required by the schema, not compared: config.md gives no rule for a version the runtime does not know, and runc reads no more of it; the state reports the version runt implements (OCI_VERSION)',
  ),

  // --- process ---------------------------------------------------------------------------
  'process.terminal': consumed(`${CREATE} processConfig`, 'src/process/init.ts terminal'),
  'process.consoleSize.height': consumed(`${CREATE} processConfig`, 'src/rootfs/console.ts setWinsize'),
  'process.consoleSize.width': consumed(`${CREATE} processConfig`, 'src/rootfs/console.ts setWinsize'),
  'process.user.uid': consumed(`${CREATE} processConfig`, `${CONFINEMENT} switchUser`),
  'process.user.gid': consumed(`${CREATE} processConfig`, `${CONFINEMENT} switchUser`),
  'process.user.umask': consumed(`${CREATE} processConfig`, `${CONFINEMENT} late`),
  'process.user.additionalGids': consumed(`${CREATE} processConfig`, `${CONFINEMENT} switchUser`),
  'process.user.username': ignored(
    'config.md: the user name is for Windows; on Linux the user is uid and gid (runc ignores it too)',
  ),
  'process.args': consumed(`${CREATE} processConfig`, 'src/process/init.ts lookPath'),
  'process.commandLine': ignored(
    'config.md: "the full command line to be executed on Windows"; Linux runs args (runc ignores it too)',
  ),
  'process.env': consumed(`${CREATE} processConfig`, 'src/process/init.ts execve'),
  'process.cwd': consumed(`${CREATE} processConfig`, 'src/confine/cwd.ts chdirAsRoot'),
  'process.capabilities.bounding': consumed('src/confine/capabilities.ts capSets'),
  'process.capabilities.effective': consumed('src/confine/capabilities.ts capSets'),
  'process.capabilities.inheritable': consumed('src/confine/capabilities.ts capSets'),
  'process.capabilities.permitted': consumed('src/confine/capabilities.ts capSets'),
  'process.capabilities.ambient': consumed('src/confine/capabilities.ts capSets'),
  'process.rlimits[].type': consumed(`${CONFINE_PLAN} planRlimits`, `${CONFINEMENT} rlimits`),
  'process.rlimits[].hard': consumed(`${CONFINE_PLAN} planRlimits`, `${CONFINEMENT} rlimits`),
  'process.rlimits[].soft': consumed(`${CONFINE_PLAN} planRlimits`, `${CONFINEMENT} rlimits`),
  'process.noNewPrivileges': consumed(`${CREATE} processConfig`, `${CONFINEMENT} noNewPrivileges`),
  'process.apparmorProfile': consumedNote(
    'refused when the host has no AppArmor (but "unconfined", which warns)',
    `${CONFINE_PLAN} planConfinement`,
    `${CONFINEMENT} apparmorProfile`,
  ),
  'process.oomScoreAdj': consumed(`${CONFINE_PLAN} planConfinement`, `${CONFINEMENT} oomScoreAdj`),
  'process.scheduler.policy': consumed(`${CONFINE_PLAN} planScheduler`, 'src/confine/sched.ts schedAttr'),
  'process.scheduler.nice': consumed(`${CONFINE_PLAN} planScheduler`, 'src/confine/sched.ts schedAttr'),
  'process.scheduler.priority': consumed(`${CONFINE_PLAN} planScheduler`, 'src/confine/sched.ts schedAttr'),
  'process.scheduler.flags': consumed(`${CONFINE_PLAN} planScheduler`, 'src/confine/sched.ts schedAttr'),
  'process.scheduler.runtime': consumed(`${CONFINE_PLAN} planScheduler`, 'src/confine/sched.ts schedAttr'),
  'process.scheduler.deadline': consumed(`${CONFINE_PLAN} planScheduler`, 'src/confine/sched.ts schedAttr'),
  'process.scheduler.period': consumed(`${CONFINE_PLAN} planScheduler`, 'src/confine/sched.ts schedAttr'),
  'process.selinuxLabel': consumedNote(
    'refused when the host has no SELinux',
    `${CONFINE_PLAN} planConfinement`,
    `${CONFINEMENT} selinuxLabel`,
  ),
  'process.ioPriority.class': consumed(`${CONFINE_PLAN} planConfinement`, 'src/confine/sched.ts ioprioValue'),
  'process.ioPriority.priority': consumed(`${CONFINE_PLAN} planConfinement`, `${CONFINEMENT} ioPriority`),
  'process.execCPUAffinity.initial': consumed(`${CONFINE_PLAN} planConfinement`, `${CONFINEMENT} cpuAffinity`),
  'process.execCPUAffinity.final': consumed(`${CONFINE_PLAN} planConfinement`, `${CONFINEMENT} cpuAffinity`),

  // --- root, names, mounts -----------------------------------------------------------------
  'root.path': consumed(ROOTFS_PLAN, `${CREATE} prepare`),
  'root.readonly': consumed(ROOTFS_PLAN, `${BUILD} finalizeRoot`),
  hostname: consumed(`${CREATE} hostname`, 'src/process/init.ts setNames'),
  domainname: consumed(`${CREATE} domainname`, 'src/process/init.ts setNames'),
  'mounts[].destination': consumed(ROOTFS_PLAN, `${BUILD} mountAll`),
  'mounts[].type': consumed(ROOTFS_PLAN, `${BUILD} mountFs`),
  'mounts[].source': consumed(ROOTFS_PLAN, `${BUILD} mountBind`),
  'mounts[].options': consumed(ROOTFS_PLAN, 'src/plan/mount-options.ts parseMountOptions'),
  ...idMapEntries('mounts[].uidMappings', ROOTFS_PLAN, 'src/process/idmap.ts prepareIdmappedMounts'),
  ...idMapEntries('mounts[].gidMappings', ROOTFS_PLAN, 'src/process/idmap.ts prepareIdmappedMounts'),

  // --- hooks -------------------------------------------------------------------------------
  ...hookEntries('prestart', `${CREATE} prestart`),
  ...hookEntries('createRuntime', `${CREATE} createRuntime`),
  ...hookEntries('createContainer', 'src/process/init.ts createContainer'),
  ...hookEntries('startContainer', 'src/process/init.ts startContainer'),
  ...hookEntries('poststart', 'src/ops/lifecycle.ts poststart'),
  ...hookEntries('poststop', 'src/ops/lifecycle.ts poststop'),

  annotations: consumedNote(
    'config.md: annotations are metadata, not configuration; runt keeps them in the state (state, hooks, seccomp listener) and reads none',
    `${CREATE} stateBase`,
    'src/state/status.ts annotations',
  ),

  // --- linux: user namespace, sysctl ---------------------------------------------------------
  ...idMapEntries('linux.uidMappings', 'src/process/idmap.ts writeUserNsMaps'),
  ...idMapEntries('linux.gidMappings', 'src/process/idmap.ts writeUserNsMaps'),
  'linux.sysctl': consumed('src/confine/sysctl.ts checkSysctl', 'src/process/init.ts writeSysctls'),

  // --- linux.resources -----------------------------------------------------------------------
  'linux.resources.devices[].allow': consumed('src/cgroups/devices/rules.ts deviceRules'),
  'linux.resources.devices[].type': consumed('src/cgroups/devices/rules.ts deviceRules'),
  'linux.resources.devices[].major': consumed('src/cgroups/devices/rules.ts deviceRules'),
  'linux.resources.devices[].minor': consumed('src/cgroups/devices/rules.ts deviceRules'),
  'linux.resources.devices[].access': consumed('src/cgroups/devices/rules.ts deviceRules'),
  'linux.resources.memory.limit': consumed(`${V1} setMemory`, `${V2} setMemory`),
  'linux.resources.memory.reservation': consumed(`${V1} setMemory`, `${V2} setMemory`),
  'linux.resources.memory.swap': consumed(`${V1} setMemory`, `${V2} setMemory`, 'src/cgroups/convert.ts swapToV2'),
  'linux.resources.memory.kernel': consumedNote(
    'v1 only, where the kernel still has the file; warned about on v2 and where it is gone',
    `${V1} setKernel`,
    `${V2} setMemory`,
  ),
  'linux.resources.memory.kernelTCP': consumedNote(
    'v1 only, where the kernel still has the file; warned about on v2 and where it is gone',
    `${V1} setKernel`,
    `${V2} setMemory`,
  ),
  'linux.resources.memory.swappiness': consumedNote('v1 only; warned about on v2', `${V1} setMemory`, `${V2} setMemory`),
  'linux.resources.memory.disableOOMKiller': consumedNote('v1 only; warned about on v2', `${V1} setMemory`, `${V2} setMemory`),
  'linux.resources.memory.useHierarchy': consumedNote(
    'v1 memory.use_hierarchy; v2 is always hierarchical (false is warned about)',
    `${V1} setMemory`,
    `${V2} setMemory`,
  ),
  'linux.resources.memory.checkBeforeUpdate': consumedNote(
    'update on v2; on v1 the kernel itself refuses a limit below usage (EBUSY)',
    `${V2} checkUsage`,
  ),
  'linux.resources.cpu.shares': consumed(`${V1} setCpu`, `${V2} setCpu`),
  'linux.resources.cpu.quota': consumed(`${V1} setCpu`, `${V2} setCpu`),
  'linux.resources.cpu.burst': consumed(`${V1} setCpu`, `${V2} setCpu`),
  'linux.resources.cpu.period': consumed(`${V1} setCpu`, `${V2} setCpu`),
  'linux.resources.cpu.realtimeRuntime': consumedNote('v1 only; refused on v2', `${V1} setRealtime`, `${V2} applyV2`),
  'linux.resources.cpu.realtimePeriod': consumedNote('v1 only; refused on v2', `${V1} setRealtime`, `${V2} applyV2`),
  'linux.resources.cpu.cpus': consumed(`${V1} setCpuset`, `${V2} applyV2`),
  'linux.resources.cpu.mems': consumed(`${V1} setCpuset`, `${V2} applyV2`),
  'linux.resources.cpu.idle': consumed(`${V1} setCpu`, `${V2} setCpu`),
  'linux.resources.pids.limit': consumed(`${V1} applyV1`, `${V2} applyV2`),
  'linux.resources.blockIO.weight': consumed(`${V1} setBlkio`, `${V2} setIo`),
  'linux.resources.blockIO.leafWeight': consumedNote('v1 only; warned about on v2', `${V1} setBlkio`, `${V2} setIo`),
  'linux.resources.blockIO.weightDevice[].major': consumed(`${V1} setBlkio`, `${V2} setIo`),
  'linux.resources.blockIO.weightDevice[].minor': consumed(`${V1} setBlkio`, `${V2} setIo`),
  'linux.resources.blockIO.weightDevice[].weight': consumed(`${V1} setBlkio`, `${V2} setIo`),
  'linux.resources.blockIO.weightDevice[].leafWeight': consumedNote(
    'v1 only; warned about on v2',
    `${V1} setBlkio`,
    `${V2} setIo`,
  ),
  ...throttleEntries('throttleReadBpsDevice'),
  ...throttleEntries('throttleWriteBpsDevice'),
  ...throttleEntries('throttleReadIOPSDevice'),
  ...throttleEntries('throttleWriteIOPSDevice'),
  'linux.resources.hugepageLimits[].pageSize': consumed(`${V1} applyV1`, `${V2} applyV2`),
  'linux.resources.hugepageLimits[].limit': consumed(`${V1} applyV1`, `${V2} applyV2`),
  'linux.resources.network.classID': consumedNote('v1 only (net_cls); refused on v2', `${V1} applyV1`, `${V2} applyV2`),
  'linux.resources.network.priorities[].name': consumedNote(
    'v1 only (net_prio); refused on v2',
    `${V1} applyV1`,
    `${V2} applyV2`,
  ),
  'linux.resources.network.priorities[].priority': consumedNote(
    'v1 only (net_prio); refused on v2',
    `${V1} applyV1`,
    `${V2} applyV2`,
  ),
  'linux.resources.rdma{}.hcaHandles': consumed(`${V1} rdmaLine`),
  'linux.resources.rdma{}.hcaObjects': consumed(`${V1} rdmaLine`),
  'linux.resources.unified': consumedNote('v2 only; refused on v1', `${V2} setUnified`, `${V1} applyV1`),
  'linux.cgroupsPath': consumed('src/cgroups/setup.ts setupCgroups', 'src/cgroups/path.ts locate'),

  // --- linux: namespaces, devices ------------------------------------------------------------
  'linux.namespaces[].type': consumed('src/plan/namespaces.ts planNamespaces'),
  'linux.namespaces[].path': consumed('src/plan/namespaces.ts planNamespaces', 'src/process/host-ns.ts openJoins'),
  'linux.devices[].type': consumed(ROOTFS_PLAN, `${BUILD} createDevice`),
  'linux.devices[].path': consumed(ROOTFS_PLAN, `${BUILD} createDevice`, 'src/cgroups/devices/rules.ts deviceRules'),
  'linux.devices[].major': consumedNote(
    "in a user namespace the host's node at the path is bind-mounted (runc's rule), with a warning when it is another device",
    ROOTFS_PLAN,
    `${BUILD} checkBoundDevice`,
  ),
  'linux.devices[].minor': consumedNote(
    "in a user namespace the host's node at the path is bind-mounted (runc's rule), with a warning when it is another device",
    ROOTFS_PLAN,
    `${BUILD} checkBoundDevice`,
  ),
  'linux.devices[].fileMode': consumedNote(
    "in a user namespace the host's node is bind-mounted (runc's rule) and keeps the host's mode and owner",
    ROOTFS_PLAN,
    `${BUILD} createDevice`,
  ),
  'linux.devices[].uid': consumedNote(
    "in a user namespace the host's node is bind-mounted (runc's rule) and keeps the host's mode and owner",
    ROOTFS_PLAN,
    `${BUILD} createDevice`,
  ),
  'linux.devices[].gid': consumedNote(
    "in a user namespace the host's node is bind-mounted (runc's rule) and keeps the host's mode and owner",
    ROOTFS_PLAN,
    `${BUILD} createDevice`,
  ),
  'linux.netDevices{}.name': consumed(`${CREATE} moveNetDevices`, 'src/process/net-devices.ts check'),

  // --- linux.seccomp -------------------------------------------------------------------------
  'linux.seccomp.defaultAction': consumed(`${SECCOMP} planSeccomp`),
  'linux.seccomp.defaultErrnoRet': consumed(`${SECCOMP} planSeccomp`),
  'linux.seccomp.architectures': {
    ...consumed(`${SECCOMP} planSeccomp`, 'src/confine/seccomp-filter.ts buildBpf'),
    anyValue:
      "archName lower-cases the name for seccomp_arch_resolve_name(3); one the host's libseccomp does not know is refused, naming the entry",
  },
  'linux.seccomp.flags': consumed(`${SECCOMP} planSeccomp`),
  'linux.seccomp.listenerPath': consumedNote(
    'used with an SCMP_ACT_NOTIFY rule; without one a warning says it is not used',
    `${SECCOMP} planSeccomp`,
    `${CONFINEMENT} listenerPath`,
  ),
  'linux.seccomp.listenerMetadata': consumed(`${SECCOMP} planSeccomp`, `${CONFINEMENT} listenerMetadata`),
  'linux.seccomp.syscalls[].names': consumed(`${SECCOMP} planSeccomp`),
  'linux.seccomp.syscalls[].action': consumed(`${SECCOMP} planSeccomp`),
  'linux.seccomp.syscalls[].errnoRet': consumed(`${SECCOMP} planSeccomp`),
  'linux.seccomp.syscalls[].args[].index': consumed(`${SECCOMP} condition`),
  'linux.seccomp.syscalls[].args[].value': consumed(`${SECCOMP} condition`),
  'linux.seccomp.syscalls[].args[].valueTwo': consumed(`${SECCOMP} condition`),
  'linux.seccomp.syscalls[].args[].op': consumed(`${SECCOMP} condition`),

  // --- linux: rootfs, labels, the rest ---------------------------------------------------------
  'linux.rootfsPropagation': {
    ...consumed(ROOTFS_PLAN, `${BUILD} prepareRoot`),
    values: 'src/plan/mount-options.ts PROPAGATION_FLAGS',
  },
  'linux.maskedPaths': consumed(ROOTFS_PLAN, `${BUILD} maskPaths`),
  'linux.readonlyPaths': consumed(ROOTFS_PLAN, `${BUILD} maskPaths`),
  'linux.mountLabel': consumedNote(
    'applied where SELinux is enabled (runc ignores it otherwise); without SELinux a warning says so',
    ROOTFS_PLAN,
    `${CONFINE_PLAN} planConfinement`,
  ),
  'linux.intelRdt.closID': consumed(`${CREATE} prepare`, 'src/cgroups/intelrdt.ts planIntelRdt'),
  'linux.intelRdt.l3CacheSchema': consumed(`${CREATE} prepare`, 'src/cgroups/intelrdt.ts planIntelRdt'),
  'linux.intelRdt.memBwSchema': consumed(`${CREATE} prepare`, 'src/cgroups/intelrdt.ts planIntelRdt'),
  'linux.intelRdt.schemata': consumed(`${CREATE} prepare`, 'src/cgroups/intelrdt.ts planIntelRdt'),
  'linux.intelRdt.enableMonitoring': consumed(`${CREATE} prepare`, 'src/cgroups/intelrdt.ts planIntelRdt'),
  'linux.intelRdt.enableCMT': consumed(`${CREATE} prepare`, 'src/cgroups/intelrdt.ts planIntelRdt'),
  'linux.intelRdt.enableMBM': consumed(`${CREATE} prepare`, 'src/cgroups/intelrdt.ts planIntelRdt'),
  'linux.personality.domain': {
    ...consumed(`${CONFINE_PLAN} planConfinement`, `${CONFINEMENT} personality`),
    values: 'src/confine/sched.ts PERSONALITY',
  },
  'linux.personality.flags': ignored(
    'config-linux.md defines no personality flags (runc refuses any); a warning says they are ignored',
    `${CONFINE_PLAN} planConfinement`,
  ),
  'linux.timeOffsets{}.secs': consumed(`${CREATE} writeTimeOffsets`),
  'linux.timeOffsets{}.nanosecs': consumed(`${CREATE} writeTimeOffsets`),
  'linux.memoryPolicy.mode': {
    ...consumed(
      'src/confine/mempolicy.ts planMemoryPolicy',
      `${CONFINEMENT} memoryPolicy`,
      'src/process/exec-process.ts set_mempolicy',
    ),
    values: 'src/confine/mempolicy.ts MPOL_MODE',
  },
  'linux.memoryPolicy.nodes': consumed('src/confine/mempolicy.ts planMemoryPolicy', 'src/confine/mempolicy.ts nodeMask'),
  'linux.memoryPolicy.flags': {
    ...consumed('src/confine/mempolicy.ts planMemoryPolicy', `${CONFINEMENT} memoryPolicy`),
    values: 'src/confine/mempolicy.ts MPOL_FLAG',
  },
}

/**
 * Top-level objects the spec defines for other platforms. The schema does not declare them, so
 * they are dropped as unknown properties (create names them in its debug log), as config.md
 * allows: a runtime reads the section of its own platform.
 */
export const OTHER_PLATFORMS: Readonly<Record<string, string>> = {
  windows: 'config-windows.md: Windows containers',
  solaris: 'config-solaris.md: Solaris zones',
  vm: 'config-vm.md: for virtual-machine-based runtimes (a hypervisor, a kernel, an image); runt, like runc, runs no VM',
  zos: 'config-zos.md: z/OS containers',
  freebsd: 'config-freebsd.md: FreeBSD jails',
}

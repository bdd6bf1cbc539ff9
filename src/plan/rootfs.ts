// config.json -> RootfsPlan: what the init stage mounts, creates and masks, in order, with
// every option already parsed and every spec field it came from recorded for errors.
// Pure: no sys/, no fs; host facts arrive as arguments. Container paths stay container paths
// (resolved only at execution, inside the rootfs: rootfs/in-root.ts).

import * as path from 'node:path'
import * as C from '../sys/constants.js'
import { isBind, parseMountOptions, PROPAGATION_FLAGS, type ParsedOptions } from './mount-options.js'
import { SpecError, type SpecIssue } from '../errors.js'

type SpecMount = {
  destination: string
  type?: string
  source?: string
  options?: string[]
  uidMappings?: IdMap[]
  gidMappings?: IdMap[]
}
type IdMap = { containerID: number; hostID: number; size: number }
type SpecDevice = { path: string; type: string; major?: number; minor?: number; fileMode?: number; uid?: number; gid?: number }

export type RootfsInput = {
  root: { path: string; readonly?: boolean }
  mounts?: SpecMount[]
  hostname?: string
  domainname?: string
  linux?: {
    namespaces?: { type: string; path?: string }[]
    devices?: SpecDevice[]
    rootfsPropagation?: string
    maskedPaths?: string[]
    readonlyPaths?: string[]
    sysctl?: Record<string, string>
    mountLabel?: string
  }
}

export type MountKind = 'bind' | 'proc' | 'sysfs' | 'tmpfs' | 'mqueue' | 'cgroup' | 'cgroup2' | 'devpts' | 'other'

export type MountPlan = {
  field: string
  destination: string
  source: string
  type: string
  kind: MountKind
  options: ParsedOptions
  /** Flags for the mount(2) that creates the mount (no propagation flags). */
  flags: number
  data: string
  /** For a bind mount: the flags to apply with a second MS_REMOUNT|MS_BIND call, or 0. */
  remountFlags: number
  uidMappings?: IdMap[]
  gidMappings?: IdMap[]
}

export type DevicePlan = {
  field: string
  path: string
  type: 'c' | 'b' | 'u' | 'p'
  major: number
  minor: number
  fileMode: number
  uid: number
  gid: number
}

export type RootfsPlan = {
  rootfs: string
  /** Flags for mount("", "/", ...) at the start: rootfsPropagation, default rslave. */
  rootPropagation: number
  /**
   * linux.rootfsPropagation was given: rootPropagation is applied again to the container's own
   * root once it is "/" (after pivot_root), the mount the spec means (runc 1.4 does the same).
   */
  reapplyRootPropagation?: true
  mounts: MountPlan[]
  /** False when /dev is bind-mounted from the host: then runt creates no device nodes. */
  setupDev: boolean
  devices: DevicePlan[]
  /** Bind-mount device nodes from the host instead of mknod (user namespaces). */
  bindDevices: boolean
  /** The /dev mount asked for ro: it is mounted rw, filled, then remounted ro. */
  devReadonly: boolean
  maskedPaths: string[]
  readonlyPaths: string[]
  readonlyRoot: boolean
  noPivot: boolean
  /**
   * The container shares the runtime's mount namespace (none listed): the rootfs is built
   * there without touching the propagation of anything but the container's own mounts, and
   * entered with chroot(2), never pivot_root or MS_MOVE onto "/" (which would re-root, or
   * unmount procfs and sysfs for, every process in the runtime's namespace).
   */
  sharedMountNs?: true
  hostname?: string
  domainname?: string
  mountLabel?: string
}

export const DEFAULT_DEVICES: readonly Omit<DevicePlan, 'field'>[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
]

/** /dev symlinks runc creates, as [link, target]. /dev/core is added when /proc/kcore exists. */
export const DEV_SYMLINKS: readonly [string, string][] = [
  ['/dev/fd', '/proc/self/fd'],
  ['/dev/stdin', '/proc/self/fd/0'],
  ['/dev/stdout', '/proc/self/fd/1'],
  ['/dev/stderr', '/proc/self/fd/2'],
]

// Paths under /proc a non-procfs mount may cover (lxcfs and friends), as runc allows.
export const PROC_MOUNT_ALLOWED = [
  '/proc/cpuinfo',
  '/proc/diskstats',
  '/proc/meminfo',
  '/proc/stat',
  '/proc/swaps',
  '/proc/uptime',
  '/proc/loadavg',
  '/proc/slabinfo',
  '/proc/pressure/cpu',
  '/proc/pressure/io',
  '/proc/pressure/memory',
  '/proc/net/dev',
  '/proc/sys/kernel/ns_last_pid',
]

function kindOf(type: string | undefined, opts: ParsedOptions): MountKind {
  if (isBind(type, opts)) return 'bind'
  switch (type) {
    case 'proc':
    case 'sysfs':
    case 'tmpfs':
    case 'mqueue':
    case 'cgroup':
    case 'cgroup2':
    case 'devpts':
      return type
    default:
      return 'other'
  }
}

/** runc cleans destinations lexically; a relative one is taken relative to "/". */
export function cleanDestination(dest: string): string {
  return path.posix.normalize('/' + dest).replace(/\/+$/, '') || '/'
}

/** Mounting something that is not procfs over /proc would hide the kernel's view. */
function checkProcMount(m: MountPlan): SpecIssue | null {
  const d = m.destination
  if (d !== '/proc' && !d.startsWith('/proc/')) return null
  if (d === '/proc') {
    // A bind is allowed when its source is a procfs (the host's /proc for a container in the
    // host's pid namespace, as runc allows): rootfs/build.ts checks the source when it mounts.
    if (m.kind === 'proc' || m.kind === 'bind') return null
    return { path: m.field, message: `${d} cannot be mounted from a ${m.type || m.kind} mount` }
  }
  if (m.kind === 'proc' || PROC_MOUNT_ALLOWED.includes(d)) return null
  return { path: m.field + '.destination', message: `${d} cannot be mounted because it is inside /proc` }
}

export type HostFacts = {
  /** The bundle directory, absolute: relative bind sources and root.path are resolved from it. */
  bundle: string
  /** The container gets a new user namespace, or joins one. */
  userns: boolean
  /** SELinux is enabled: linux.mountLabel goes into context= (runc ignores it otherwise). */
  selinux?: boolean
}

export function planRootfs(spec: RootfsInput, host: HostFacts, opts: { noPivot: boolean; sharedMountNs?: boolean }): RootfsPlan {
  const issues: SpecIssue[] = []
  const rootfs = path.resolve(host.bundle, spec.root.path)
  const linux = spec.linux ?? {}

  let rootPropagation = C.MS_SLAVE | C.MS_REC
  if (linux.rootfsPropagation) {
    const p = Object.hasOwn(PROPAGATION_FLAGS, linux.rootfsPropagation) ? PROPAGATION_FLAGS[linux.rootfsPropagation] : undefined
    if (p === undefined)
      issues.push({ path: 'linux.rootfsPropagation', message: `unknown propagation "${linux.rootfsPropagation}"` })
    else rootPropagation = p
  }

  const mounts: MountPlan[] = []
  let setupDev = true
  let devReadonly = false
  ;(spec.mounts ?? []).forEach((m, i) => {
    const field = `mounts[${i}]`
    const options = parseMountOptions(m.options)
    const kind = kindOf(m.type, options)
    const destination = cleanDestination(m.destination)
    let source = m.source ?? ''
    if (kind === 'bind') {
      if (!source) issues.push({ path: field + '.source', message: 'bind mount needs a source' })
      else source = path.resolve(host.bundle, source)
    }
    const propagationBits = C.MS_SHARED | C.MS_SLAVE | C.MS_PRIVATE | C.MS_UNBINDABLE
    let flags = options.flags & ~propagationBits
    let remountFlags = 0
    if (kind === 'bind') {
      // The first bind ignores every other flag; the rest need a remount.
      const extra = flags & ~(C.MS_BIND | C.MS_REC | C.MS_REMOUNT)
      flags &= C.MS_BIND | C.MS_REC
      if (extra) remountFlags = extra | C.MS_BIND | C.MS_REMOUNT
    }
    if (destination === '/dev') {
      if (kind === 'bind') setupDev = false
      else if (flags & C.MS_RDONLY) {
        devReadonly = true
        flags &= ~C.MS_RDONLY
      }
    }
    const idmapOption = options.extensions.includes('idmap') || options.extensions.includes('ridmap')
    if (idmapOption && kind !== 'bind')
      issues.push({ path: field + '.options', message: 'idmap is only supported on bind mounts' })
    // runc: mappings of its own make a mount idmapped, "idmap" or not (an empty list gives none).
    const mapsKey = m.uidMappings?.length ? 'uidMappings' : m.gidMappings?.length ? 'gidMappings' : null
    if (mapsKey && kind !== 'bind')
      issues.push({ path: `${field}.${mapsKey}`, message: 'idmapped mounts are only supported on bind mounts' })
    else if (mapsKey && !idmapOption) options.extensions.push('idmap')
    const plan: MountPlan = {
      field,
      destination,
      source,
      type: m.type ?? (kind === 'bind' ? 'bind' : ''),
      kind,
      options,
      flags,
      // runc labels tmpfs, devpts and other filesystems, not proc, sysfs, mqueue, cgroup, binds.
      data: [
        ...options.data,
        ...(host.selinux && linux.mountLabel && (kind === 'tmpfs' || kind === 'devpts' || kind === 'other')
          ? [`context="${linux.mountLabel}"`]
          : []),
      ].join(','),
      remountFlags,
    }
    if (m.uidMappings) plan.uidMappings = m.uidMappings
    if (m.gidMappings) plan.gidMappings = m.gidMappings
    const procIssue = checkProcMount(plan)
    if (procIssue) issues.push(procIssue)
    mounts.push(plan)
  })

  // Devices: the defaults, overridden by linux.devices entries for the same path.
  const devices = new Map<string, DevicePlan>()
  for (const d of DEFAULT_DEVICES) devices.set(d.path, { ...d, field: 'default device ' + d.path })
  ;(linux.devices ?? []).forEach((d, i) => {
    const field = `linux.devices[${i}]`
    const p = cleanDestination(d.path)
    if (!p.startsWith('/dev/')) issues.push({ path: field + '.path', message: `device path ${d.path} is not under /dev` })
    const type = d.type as DevicePlan['type']
    if (type !== 'p' && (d.major === undefined || d.minor === undefined))
      issues.push({ path: field, message: `device ${d.path} of type ${d.type} needs major and minor` })
    devices.set(p, {
      field,
      path: p,
      type,
      major: d.major ?? 0,
      minor: d.minor ?? 0,
      fileMode: d.fileMode ?? 0o666,
      uid: d.uid ?? 0,
      gid: d.gid ?? 0,
    })
  })

  if (issues.length) throw new SpecError(issues)

  const plan: RootfsPlan = {
    rootfs,
    rootPropagation,
    mounts,
    setupDev,
    devices: [...devices.values()],
    bindDevices: host.userns,
    devReadonly,
    maskedPaths: (linux.maskedPaths ?? []).map(cleanDestination),
    readonlyPaths: (linux.readonlyPaths ?? []).map(cleanDestination),
    readonlyRoot: spec.root.readonly === true,
    noPivot: opts.noPivot && !opts.sharedMountNs,
  }
  if (opts.sharedMountNs) plan.sharedMountNs = true
  if (linux.rootfsPropagation) plan.reapplyRootPropagation = true
  if (spec.hostname !== undefined) plan.hostname = spec.hostname
  if (spec.domainname !== undefined) plan.domainname = spec.domainname
  if (linux.mountLabel && host.selinux) plan.mountLabel = linux.mountLabel
  return plan
}

/** makedev(3) for the glibc encoding. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major)
  const mi = BigInt(minor)
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn)
}

export function deviceModeBits(type: DevicePlan['type']): number {
  switch (type) {
    case 'b':
      return C.S_IFBLK
    case 'p':
      return C.S_IFIFO
    default:
      return C.S_IFCHR
  }
}

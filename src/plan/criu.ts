// checkpoint and restore as CRIU requests: runc's flags (checkpoint.go, restore.go) and the
// container's config mapped to criu_opts the way runc's libcontainer/criu_linux.go maps them.
// Pure: what needs the host (descriptors, inode numbers, masked files, cgroup paths) comes
// in as facts, and the caller opens the files named here.

import * as path from 'node:path'
import { CLONE_NEWNET, CRIU_CG_MODE, CRIU_REQ } from '../sys/constants.js'
import type { CriuOpts, CriuReq, ExtMountMap } from '../sys/criu-rpc.js'
import type { Spec } from '../spec/schema.js'
import { UsageError } from '../errors.js'
import { isBind, parseMountOptions } from './mount-options.js'
import { cleanDestination, DEFAULT_DEVICES } from './rootfs.js'
import type { MountInfo } from './mountinfo.js'

/** The command-line flags checkpoint and restore share (restore's own are in the ops). */
export type CriuFlags = {
  imagePath: string
  workPath: string
  parentPath: string
  leaveRunning: boolean
  tcpEstablished: boolean
  tcpSkipInFlight: boolean
  linkRemap: boolean
  extUnixSk: boolean
  shellJob: boolean
  fileLocks: boolean
  preDump: boolean
  autoDedup: boolean
  lazyPages: boolean
  manageCgroupsMode: string
  emptyNs: string[]
  lsmProfile: string
  lsmMountContext: string
}

/** criu's log level as runc asks for it (4: debug), and the log files' names. */
export const CRIU_LOG_LEVEL = 4
export const DUMP_LOG = 'dump.log'
export const RESTORE_LOG = 'restore.log'
/** The init's stdio at dump time, read back on restore to hand pipes over (runc's name). */
export const DESCRIPTORS_FILE = 'descriptors.json'
/** CRIU's configuration file for runc's requests, unless the org.criu.config annotation says. */
export const DEFAULT_CRIU_CONFIG = '/etc/criu/runc.conf'

/** --manage-cgroups-mode, as runc's criuCgMode. */
export function criuCgMode(mode: string): number {
  switch (mode) {
    case '':
      return CRIU_CG_MODE.DEFAULT
    case 'soft':
      return CRIU_CG_MODE.SOFT
    case 'full':
      return CRIU_CG_MODE.FULL
    case 'strict':
      return CRIU_CG_MODE.STRICT
    case 'ignore':
      return CRIU_CG_MODE.IGNORE
    default:
      throw new UsageError('invalid manage-cgroups-mode value')
  }
}

/**
 * --empty-ns: runc always leaves the network namespace's properties to the caller (it does
 * not manage network devices), and takes only "network" as a name.
 */
export function emptyNsMask(names: readonly string[]): number {
  let mask = CLONE_NEWNET
  for (const n of names) {
    if (n !== 'network') throw new UsageError(`namespace "${n}" is not supported`)
    mask |= CLONE_NEWNET
  }
  return mask >>> 0
}

/** --parent-path: relative to the image directory (criu resolves it so). */
export function parentPathProblem(parentPath: string): string | null {
  return path.isAbsolute(parentPath) ? '--parent-path must be relative' : null
}

/** The org.criu.config annotation: a file, "" for none; absent, runc's default. */
export function criuConfigFile(spec: Spec): string | undefined {
  const a = spec.annotations ?? {}
  if (!Object.hasOwn(a, 'org.criu.config')) return DEFAULT_CRIU_CONFIG
  return a['org.criu.config'] || undefined
}

/** The spec's bind mounts: destination inside the container, source on the host. */
export function bindMounts(spec: Spec, bundle: string): { destination: string; source: string }[] {
  return (spec.mounts ?? [])
    .filter((m) => isBind(m.type, parseMountOptions(m.options)))
    .map((m) => ({ destination: cleanDestination(m.destination), source: path.resolve(bundle, m.source ?? '') }))
}

/** Device nodes the container has: runc's defaults and linux.devices, by path. */
export function devicePaths(spec: Spec): string[] {
  const all = [...DEFAULT_DEVICES.map((d) => d.path), ...(spec.linux?.devices ?? []).map((d) => cleanDestination(d.path))]
  return [...new Set(all)]
}

/** Namespaces CRIU treats as external, by spec type, with the key runc gives each. */
const EXTERNAL_NS: Readonly<Record<string, { name: string; key: string }>> = {
  network: { name: 'net', key: 'extRootNetNS' },
  pid: { name: 'pid', key: 'extRootPidNS' },
}
const NS_NAME: Readonly<Record<string, string>> = {
  mount: 'mnt',
  uts: 'uts',
  ipc: 'ipc',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
}

function commonOpts(f: CriuFlags, spec: Spec, logFile: string, imagesDirFd: number, workDirFd?: number): CriuOpts {
  const o: CriuOpts = {
    imagesDirFd,
    logLevel: CRIU_LOG_LEVEL,
    logFile,
    manageCgroups: true,
    manageCgroupsMode: criuCgMode(f.manageCgroupsMode),
    notifyScripts: true,
    shellJob: f.shellJob,
    tcpEstablished: f.tcpEstablished,
    extUnixSk: f.extUnixSk,
    fileLocks: f.fileLocks,
    emptyNs: emptyNsMask(f.emptyNs),
    orphanPtsMaster: true,
    autoDedup: f.autoDedup,
    lazyPages: f.lazyPages,
  }
  if (workDirFd !== undefined) o.workDirFd = workDirFd
  const cfg = criuConfigFile(spec)
  if (cfg !== undefined) o.configFile = cfg
  return o
}

export type DumpFacts = {
  pid: number
  rootfs: string
  bundle: string
  imagesDirFd: number
  workDirFd?: number
  /** Masked paths that exist in the container and are not directories (runc stats them). */
  maskedFiles: string[]
  /** Inode numbers of the namespaces the config names by path (network, pid). */
  nsInodes: Partial<Record<'network' | 'pid', number>>
  /** The cgroup CRIU freezes the tree with (v1 freezer, or the v2 cgroup). */
  freezeCgroup?: string
  /** The binds a v1 cgroup mount made, when the container has no cgroup namespace. */
  cgroupBinds: { destination: string; source: string }[]
}

/** The DUMP (or PRE_DUMP) request, and the FEATURE_CHECK it needs first, if any. */
export function dumpRequest(f: CriuFlags, spec: Spec, facts: DumpFacts): { req: CriuReq; features?: CriuReq } {
  const opts: CriuOpts = {
    ...commonOpts(f, spec, DUMP_LOG, facts.imagesDirFd, facts.workDirFd),
    root: facts.rootfs,
    pid: facts.pid,
    leaveRunning: f.leaveRunning,
    tcpSkipInFlight: f.tcpSkipInFlight,
    linkRemap: f.linkRemap,
  }
  const external: string[] = []
  for (const [type, ext] of Object.entries(EXTERNAL_NS)) {
    const ino = facts.nsInodes[type as 'network' | 'pid']
    if (ino !== undefined) external.push(`${ext.name}[${ino}]:${ext.key}`)
  }
  if (external.length) opts.external = external
  if (facts.freezeCgroup) opts.freezeCgroup = facts.freezeCgroup
  if (f.parentPath) {
    opts.parentImg = f.parentPath
    opts.trackMem = true
  }
  if (!f.preDump) {
    // Mounts from outside the container's tree are external: CRIU records their place, the
    // restore is told where each comes from.
    const ext: ExtMountMap[] = []
    const add = (dest: string) => ext.push({ key: dest, val: dest })
    const cgroupns = (spec.linux?.namespaces ?? []).some((n) => n.type === 'cgroup')
    for (const b of bindMounts(spec, facts.bundle)) add(b.destination)
    if (!cgroupns) for (const b of facts.cgroupBinds) add(b.destination)
    for (const m of facts.maskedFiles) ext.push({ key: m, val: '/dev/null' })
    for (const d of devicePaths(spec)) add(d)
    opts.extMnt = ext
  }
  const req: CriuReq = { type: f.preDump ? CRIU_REQ.PRE_DUMP : CRIU_REQ.DUMP, opts }
  const want = { ...(f.preDump ? { memTrack: true } : {}), ...(f.lazyPages ? { lazyPages: true } : {}) }
  if (Object.keys(want).length) return { req, features: { type: CRIU_REQ.FEATURE_CHECK, features: want } }
  return { req }
}

export type RestoreFacts = {
  bundle: string
  imagesDirFd: number
  workDirFd?: number
  /** Where the rootfs is bound for CRIU (the state directory's criu-root). */
  root: string
  /** descriptors.json of the image: the init's fds 0-2 at dump time. */
  descriptors: string[]
  cgroupBinds: { destination: string; source: string }[]
  /** The first fd criu gets the namespace files on (after its socket, 3). */
  firstExtraFd: number
}

/**
 * The RESTORE request and the namespace files to hand criu, in order from firstExtraFd:
 * network and pid namespaces by path become inherited fds, the others are joined by path.
 */
export function restoreRequest(f: CriuFlags, spec: Spec, facts: RestoreFacts): { req: CriuReq; nsFiles: string[] } {
  const opts: CriuOpts = {
    ...commonOpts(f, spec, RESTORE_LOG, facts.imagesDirFd, facts.workDirFd),
    evasiveDevices: true,
    rstSibling: true,
    root: facts.root,
  }
  if (f.lsmProfile) opts.lsmProfile = f.lsmProfile
  if (f.lsmMountContext) opts.lsmMountContext = f.lsmMountContext
  const nsFiles: string[] = []
  const inherit: { key: string; fd: number }[] = []
  const join: { ns: string; nsFile: string }[] = []
  for (const ns of spec.linux?.namespaces ?? []) {
    if (!ns.path) continue
    const ext = EXTERNAL_NS[ns.type]
    if (ext) {
      inherit.push({ key: ext.key, fd: facts.firstExtraFd + nsFiles.length })
      nsFiles.push(ns.path)
    } else if (ns.type === 'cgroup') {
      throw new UsageError(`Do not know how to handle namespace ${ns.type}`)
    } else join.push({ ns: NS_NAME[ns.type] ?? ns.type, nsFile: ns.path })
  }
  if (join.length) opts.joinNs = join
  const ext: ExtMountMap[] = []
  const cgroupns = (spec.linux?.namespaces ?? []).some((n) => n.type === 'cgroup')
  for (const b of bindMounts(spec, facts.bundle)) ext.push({ key: b.destination, val: b.source })
  if (!cgroupns) for (const b of facts.cgroupBinds) ext.push({ key: b.destination, val: b.source })
  if ((spec.linux?.maskedPaths ?? []).length) ext.push({ key: '/dev/null', val: '/dev/null' })
  for (const d of devicePaths(spec)) ext.push({ key: d, val: d })
  opts.extMnt = ext
  // The init's pipes at dump time are handed back as the same fds of the caller's (runc's
  // inherit_fd of "pipe:[ino]" keys).
  facts.descriptors.forEach((d, i) => {
    if (d.includes('pipe:')) inherit.push({ key: d, fd: i })
  })
  if (inherit.length) opts.inheritFd = inherit
  const req: CriuReq = { type: CRIU_REQ.RESTORE, opts }
  return { req, nsFiles }
}

/**
 * The binds a v1 cgroup mount makes without a cgroup namespace (rootfs/build.ts mounts one per
 * host hierarchy under the destination): CRIU sees them as external mounts. The source is the
 * container's cgroup in that hierarchy, found among `cgroupPaths`.
 */
export function cgroupBindMounts(
  spec: Spec,
  mountinfo: readonly MountInfo[],
  cgroupPaths: Readonly<Record<string, string>>,
): { destination: string; source: string }[] {
  const v1 = mountinfo.filter((m) => m.fsType === 'cgroup')
  if (v1.length === 0) return []
  const out: { destination: string; source: string }[] = []
  for (const m of spec.mounts ?? []) {
    if (m.type !== 'cgroup') continue
    for (const h of v1) {
      const own = Object.values(cgroupPaths).find((p) => p === h.mountPoint || p.startsWith(h.mountPoint + '/'))
      out.push({
        destination: path.posix.join(cleanDestination(m.destination), path.basename(h.mountPoint)),
        source: own ?? h.mountPoint,
      })
    }
  }
  return out
}

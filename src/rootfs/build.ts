// Carry out a RootfsPlan inside the container's mount namespace (init stage), or the runtime's
// when the config lists none. Every mount target is an O_PATH fd resolved inside the rootfs
// (rootfs/in-root.ts); every failure names the spec field it came from. Runs on the main
// thread with synchronous calls only.
// Every host interaction goes through `ctx.sys`, the one seam: the few host-file operations
// (mountinfo, bind sources, the tmpcopyup copy) are methods of sys/linux.ts like the syscalls,
// not a second file-system object, so a test passes one fake (test/fixtures/fake-sys.ts), every
// failure is the same SysError, and RootfsSys states all the executor may call. No node:fs.

import * as path from 'node:path'
import * as C from '../sys/constants.js'
import type { Sys } from '../sys/linux.js'
import { attachCleanup, RuntimeError, SysError, StepError } from '../errors.js'
import { timed } from '../log.js'
import { fdPath, InRoot, type InRootSys } from './in-root.js'
import {
  DEV_SYMLINKS,
  deviceModeBits,
  makedev,
  PROC_MOUNT_ALLOWED,
  type DevicePlan,
  type MountPlan,
  type RootfsPlan,
} from '../plan/rootfs.js'
import { fullPseudoMounts, mountOf, parseMountInfo, parseProcCgroup, type MountInfo } from '../plan/mountinfo.js'

/** Every call the executor makes (InRoot's included): a fake of this type can run it. */
export type RootfsSys = InRootSys &
  Pick<
    Sys,
    | 'mount'
    | 'umount2'
    | 'pivotRoot'
    | 'chroot'
    | 'chdir'
    | 'fchdir'
    | 'statfs'
    | 'fstatfs'
    | 'fstat'
    | 'mknodat'
    | 'fchmodat'
    | 'fchownat'
    | 'symlinkat'
    | 'unlinkat'
    | 'mountSetattr'
    | 'readFile'
    | 'stat'
    | 'lstat'
    | 'readdir'
    | 'mkdtemp'
    | 'copyFile'
    | 'utimes'
  >

export type RootfsContext = {
  sys: RootfsSys
  plan: RootfsPlan
  /** The container has its own cgroup namespace (cgroup mounts are real mounts, not binds). */
  cgroupns: boolean
  warn: (msg: string) => void
  /**
   * Attach the parent's idmapped tree for this mount on `targetFd`: only a process with
   * privilege over the host's mount namespace may, so the parent does it (process/idmap.ts).
   */
  attachIdmapped?: (field: string, targetFd: number) => void
  /**
   * Move this process into the container's cgroup (and its cgroup namespace) if it is not
   * there yet: a cgroup mount shows, or binds, the cgroup of the process that makes it.
   */
  enterCgroup?: () => void
  /**
   * Bind sources the parent opened as host root, by field (plan/bind-sources.ts): bound from
   * /proc/self/fd/N, a lookup that checks no search permission on the way to the source.
   */
  bindSources?: ReadonlyMap<string, number>
}

function step<T>(field: string, what: string, fn: () => T): T {
  try {
    return fn()
  } catch (e) {
    if (e instanceof StepError) throw e
    throw new StepError(field, e as Error, what)
  }
}

/**
 * Run `body`, then each cleanup in turn even if one before it failed. A cleanup that fails
 * after a first error is attached to it (errors.ts attachCleanup), never thrown in its place.
 */
function withCleanup<T>(body: () => T, ...cleanups: (() => void)[]): T {
  let failed = false
  let first: unknown
  try {
    return body()
  } catch (e) {
    failed = true
    first = e
    throw e
  } finally {
    let thrown = false
    for (const c of cleanups) {
      try {
        c()
      } catch (e) {
        if (failed) attachCleanup(first, e)
        else {
          failed = thrown = true
          first = e
        }
      }
    }
    // The body succeeded, so the first cleanup failure is the error.
    if (thrown) throw first
  }
}

const isDir = (mode: number) => (mode & C.S_IFMT) === C.S_IFDIR
const isErrno = (e: unknown, ...names: string[]) => e instanceof SysError && names.includes(e.errnoName)

/** ST_* flags of statfs -> the MS_* flags a remount must keep (locked in a user namespace). */
export function lockedFlags(stFlags: number): number {
  let f = 0
  if (stFlags & C.ST_NOSUID) f |= C.MS_NOSUID
  if (stFlags & C.ST_NODEV) f |= C.MS_NODEV
  if (stFlags & C.ST_NOEXEC) f |= C.MS_NOEXEC
  if (stFlags & C.ST_RDONLY) f |= C.MS_RDONLY
  if (stFlags & C.ST_NOATIME) f |= C.MS_NOATIME
  if (stFlags & C.ST_NODIRATIME) f |= C.MS_NODIRATIME
  if (stFlags & C.ST_RELATIME) f |= C.MS_RELATIME
  return f
}

/**
 * MS_REMOUNT|MS_BIND with `flags`; in a user namespace the kernel refuses to clear flags the
 * original mount has locked, so retry with those kept (runc does the same).
 */
export function remountBind(sys: Pick<Sys, 'mount' | 'statfs'>, target: string, flags: number, display: string): void {
  try {
    sys.mount(null, target, null, flags | C.MS_REMOUNT | C.MS_BIND, null, display)
  } catch (e) {
    if (!(e instanceof SysError) || e.errnoName !== 'EPERM') throw e
    const st = sys.statfs(target)
    const keep = lockedFlags(st.flags) & ~C.MS_RDONLY
    sys.mount(null, target, null, flags | keep | C.MS_REMOUNT | C.MS_BIND, null, display)
  }
}

/**
 * Make "/" slave (or as configured), the rootfs' parent mount private, and bind the rootfs.
 * In the runtime's mount namespace (none listed) neither "/" nor the parent is touched, unlike
 * runc, whose rslave of "/" there stops propagation for the whole host: the bind alone gets
 * rootfsPropagation (default rslave, what it would inherit in runc), so no mount made in it
 * afterwards reaches a peer namespace unless the config asks for shared.
 */
export function prepareRoot(ctx: RootfsContext): void {
  const { sys, plan } = ctx
  if (plan.sharedMountNs) {
    step('root.path', '', () => sys.mount(plan.rootfs, plan.rootfs, 'bind', C.MS_BIND | C.MS_REC, null))
    step('linux.rootfsPropagation', '', () => sys.mount(null, plan.rootfs, null, plan.rootPropagation, null))
    return
  }
  step('linux.rootfsPropagation', '', () => sys.mount(null, '/', null, ctx.plan.rootPropagation, null))
  // pivot_root(2) refuses a new root whose parent mount is shared.
  const mounts = step('root.path', '', () => parseMountInfo(sys.readFile('/proc/self/mountinfo')))
  const parent = mountOf(mounts, path.dirname(plan.rootfs))
  if (parent && parent.optional.some((o) => o.startsWith('shared:'))) {
    step('root.path', '', () => sys.mount(null, parent.mountPoint, null, C.MS_PRIVATE, null))
  }
  step('root.path', '', () => sys.mount(plan.rootfs, plan.rootfs, 'bind', C.MS_BIND | C.MS_REC, null))
}

/**
 * plan/rootfs.ts checks destinations as written; a symlink in the rootfs (/myproc -> /proc) can
 * still lead a mount into the container's procfs, over /proc/self/attr/exec (an LSM bypass,
 * CVE-2019-16884) or any other file the kernel or runt relies on. So the target, once
 * resolved and opened, is checked again: on procfs only runc's allow-list may be covered.
 */
function guardProcTarget(ctx: RootfsContext, root: InRoot, m: MountPlan, fd: number): void {
  if (ctx.sys.fstatfs(fd, m.destination).type !== C.PROC_SUPER_MAGIC) return
  const where = root.containerPathOf(fd)
  if (PROC_MOUNT_ALLOWED.includes(where)) return
  throw new RuntimeError(`resolves to ${where}, inside /proc, where nothing but procfs may be mounted`, 'EPROCMOUNT')
}

function mountBind(ctx: RootfsContext, root: InRoot, m: MountPlan): void {
  const { sys } = ctx
  const opened = ctx.bindSources?.get(m.field)
  const mode = opened === undefined ? sys.stat(m.source).mode : sys.fstat(opened, m.source).mode
  const source = opened === undefined ? m.source : fdPath(opened)
  if (m.destination === '/proc') {
    // plan/rootfs.ts lets a bind cover /proc only from a procfs (runc's checkProcMount), on an
    // ordinary directory like every procfs.
    const st = opened === undefined ? sys.statfs(m.source) : sys.fstatfs(opened, m.source)
    if (st.type !== C.PROC_SUPER_MAGIC)
      throw new RuntimeError(`/proc cannot be mounted from ${m.source}: it is not a procfs`, 'EPROCMOUNT')
    ordinaryDirectory(ctx, root, m)
  }
  const fd = isDir(mode) ? root.mkdirAll(m.destination) : root.ensureFile(m.destination)
  try {
    guardProcTarget(ctx, root, m, fd)
    if (m.options.extensions.includes('idmap') || m.options.extensions.includes('ridmap')) {
      if (!ctx.attachIdmapped) throw new RuntimeError('idmapped mount without a tree from the parent', 'EIDMAP')
      ctx.attachIdmapped(m.field, fd)
    } else sys.mount(source, fdPath(fd), 'bind', m.flags, null, m.destination, m.source)
  } finally {
    sys.close(fd)
  }
  if (m.remountFlags) {
    const again = root.open(m.destination)
    try {
      remountBind(sys, fdPath(again), m.remountFlags & ~(C.MS_BIND | C.MS_REMOUNT), m.destination)
    } finally {
      sys.close(again)
    }
  }
}

/**
 * runc: procfs and sysfs go on an ordinary directory. A destination that exists as anything
 * else (above all a symlink: /proc -> /elsewhere) is refused, since masking /proc/kcore or
 * /sys/firmware through a link is how masked paths have been bypassed (CVE-2019-19921,
 * CVE-2025-52565).
 */
function ordinaryDirectory(ctx: RootfsContext, root: InRoot, m: MountPlan): void {
  const { sys } = ctx
  const parts = m.destination.split('/').filter(Boolean)
  if (parts.length === 0) return
  const parent = root.mkdirAll('/' + parts.slice(0, -1).join('/'))
  let fd: number
  try {
    fd = sys.openat(parent, parts.at(-1)!, C.O_PATH | C.O_NOFOLLOW, 0, m.destination)
  } catch (e) {
    if (e instanceof SysError && e.errnoName === 'ENOENT') return
    throw e
  } finally {
    sys.close(parent)
  }
  try {
    if (!isDir(sys.fstat(fd, m.destination).mode))
      throw new RuntimeError(`filesystem "${m.type}" must be mounted on ordinary directory`, 'ENOTDIR')
  } finally {
    sys.close(fd)
  }
}

function mountFs(ctx: RootfsContext, root: InRoot, m: MountPlan): void {
  const { sys } = ctx
  if (m.type === 'proc' || m.type === 'sysfs') ordinaryDirectory(ctx, root, m)
  const fd = root.mkdirAll(m.destination)
  try {
    // A new procfs may go over procfs (a proc mount at /proc when the rootfs's /proc is one).
    if (m.kind !== 'proc') guardProcTarget(ctx, root, m, fd)
    if (m.kind === 'tmpfs' && m.options.extensions.includes('tmpcopyup')) {
      mountTmpCopyUp(ctx, fd, m)
      return
    }
    try {
      sys.mount(m.source || m.type, fdPath(fd), m.type, m.flags, m.data || null, m.destination)
    } catch (e) {
      // mqueue cannot be mounted in a user namespace that does not own the ipc namespace:
      // bind the host's /dev/mqueue instead, as runc does.
      if (m.kind === 'mqueue' && e instanceof SysError && e.errnoName === 'EPERM') {
        sys.mount('/dev/mqueue', fdPath(fd), 'bind', C.MS_BIND, null, m.destination)
        return
      }
      throw e
    }
  } finally {
    sys.close(fd)
  }
}

/** tmpfs that starts with a copy of what it covers: mount aside, copy, move into place. */
function mountTmpCopyUp(ctx: RootfsContext, destFd: number, m: MountPlan): void {
  const { sys } = ctx
  const tmp = sys.mkdtemp('/tmp/runt-tmpcopyup-')
  withCleanup(
    () => {
      sys.mount(m.source || 'tmpfs', tmp, 'tmpfs', m.flags & ~C.MS_RDONLY, m.data || null, m.destination)
      copyTree(sys, fdPath(destFd), tmp)
      if (m.flags & C.MS_RDONLY) remountBind(sys, tmp, C.MS_RDONLY, m.destination)
      sys.mount(tmp, fdPath(destFd), null, C.MS_MOVE, null, m.destination)
    },
    () => {
      try {
        sys.umount2(tmp, C.MNT_DETACH)
      } catch (e) {
        // Nothing mounted there: moved into place already, or never mounted.
        if (!isErrno(e, 'EINVAL')) throw e
      }
    },
    () => sys.unlinkat(C.AT_FDCWD, tmp, C.AT_REMOVEDIR, tmp),
  )
}

/** Copy a directory tree keeping modes, owners, times and symlinks (host paths). */
function copyTree(sys: RootfsSys, src: string, dst: string): void {
  for (const name of sys.readdir(src)) {
    const s = path.join(src, name)
    const d = path.join(dst, name)
    const st = sys.lstat(s)
    const type = st.mode & C.S_IFMT
    if (type === C.S_IFDIR) {
      sys.mkdirat(C.AT_FDCWD, d, st.mode & 0o7777)
      copyTree(sys, s, d)
    } else if (type === C.S_IFLNK) {
      sys.symlinkat(sys.readlinkat(C.AT_FDCWD, s), C.AT_FDCWD, d)
    } else if (type === C.S_IFREG) {
      sys.copyFile(s, d)
    } else {
      continue // sockets, fifos and devices are not copied up, as in runc
    }
    sys.fchownat(C.AT_FDCWD, d, st.uid, st.gid, C.AT_SYMLINK_NOFOLLOW)
    if (type !== C.S_IFLNK) {
      sys.fchmodat(C.AT_FDCWD, d, st.mode & 0o7777)
      sys.utimes(d, st.atime, st.mtime)
    }
  }
}

/** cgroup v1 (a tmpfs with one mount per hierarchy) or v2, as runc mounts them. */
function mountCgroup(ctx: RootfsContext, root: InRoot, m: MountPlan): void {
  const { sys } = ctx
  // The host's hierarchies, not their copies under the rootfs: a /sys bound from the host
  // (runc spec --rootless) brings them along, and the tmpfs below covers those.
  const rootfs = ctx.plan.rootfs
  const mounts = parseMountInfo(sys.readFile('/proc/self/mountinfo')).filter(
    (x) => x.mountPoint !== rootfs && !x.mountPoint.startsWith(rootfs + '/'),
  )
  const own = parseProcCgroup(sys.readFile('/proc/self/cgroup'))
  const v1 = mounts.filter((x) => x.fsType === 'cgroup')
  const flags = m.flags & ~C.MS_RDONLY
  const ro = (m.flags & C.MS_RDONLY) !== 0
  if (v1.length === 0 || m.type === 'cgroup2') {
    const fd = root.mkdirAll(m.destination)
    try {
      guardProcTarget(ctx, root, m, fd)
      if (ctx.cgroupns) {
        sys.mount('cgroup2', fdPath(fd), 'cgroup2', m.flags, m.data || null, m.destination)
      } else {
        const hostRoot = mounts.find((x) => x.fsType === 'cgroup2')
        const mine = own.find((c) => c.id === 0)
        if (!hostRoot || !mine) throw new RuntimeError('no cgroup2 hierarchy on the host', 'ECGROUP')
        sys.mount(path.join(hostRoot.mountPoint, mine.path), fdPath(fd), 'bind', C.MS_BIND | C.MS_REC, null, m.destination)
        if (m.flags & ~C.MS_REC) {
          const mounted = root.open(m.destination)
          try {
            remountBind(sys, fdPath(mounted), m.flags, m.destination)
          } finally {
            sys.close(mounted)
          }
        }
      }
    } finally {
      sys.close(fd)
    }
    return
  }
  // v1: tmpfs at the destination, then each hierarchy below it.
  const fd = root.mkdirAll(m.destination)
  try {
    guardProcTarget(ctx, root, m, fd)
    sys.mount('tmpfs', fdPath(fd), 'tmpfs', flags & (C.MS_NOSUID | C.MS_NODEV | C.MS_NOEXEC), 'mode=755', m.destination)
  } finally {
    sys.close(fd)
  }
  for (const h of v1) {
    const subsystems = h.superOptions
      .split(',')
      .filter(
        (o) =>
          o !== 'rw' &&
          o !== 'ro' &&
          !o.startsWith('release_agent') &&
          o !== 'clone_children' &&
          o !== 'noprefix' &&
          o !== 'xattr',
      )
    const dirName = path.basename(h.mountPoint)
    const dest = path.posix.join(m.destination, dirName)
    const entry = own.find((c) => c.controllers.some((x) => subsystems.includes(x)))
    const sub = root.mkdirAll(dest)
    try {
      if (ctx.cgroupns) {
        sys.mount('cgroup', fdPath(sub), 'cgroup', flags, subsystems.join(','), dest)
      } else {
        const rel = entry ? entry.path : '/'
        sys.mount(
          path.join(h.mountPoint, path.relative(h.root, rel) || '.'),
          fdPath(sub),
          'bind',
          C.MS_BIND | C.MS_REC,
          null,
          dest,
        )
        // The fd still names the directory under the new mount: reopen to reach the mount.
        const mounted = root.open(dest)
        try {
          remountBind(sys, fdPath(mounted), flags | (ro ? C.MS_RDONLY : 0), dest)
        } finally {
          sys.close(mounted)
        }
      }
    } finally {
      sys.close(sub)
    }
    // co-mounted hierarchies ("cpu,cpuacct") get a symlink per controller, as on the host.
    for (const s of subsystems) {
      const plain = s.startsWith('name=') ? s.slice(5) : s
      if (plain === dirName) continue
      const hostLink = path.join(path.dirname(h.mountPoint), plain)
      let mode: number
      try {
        mode = sys.lstat(hostLink).mode
      } catch (e) {
        if (isErrno(e, 'ENOENT')) continue // no such controller name on the host
        throw e
      }
      if ((mode & C.S_IFMT) !== C.S_IFLNK) continue
      const dir = root.open(m.destination)
      try {
        sys.symlinkat(dirName, dir, plain, path.posix.join(m.destination, plain))
      } catch (e) {
        if (!isErrno(e, 'EEXIST')) throw e
      } finally {
        sys.close(dir)
      }
    }
  }
  if (ro) {
    const again = root.open(m.destination)
    try {
      remountBind(sys, fdPath(again), C.MS_RDONLY | (flags & (C.MS_NOSUID | C.MS_NODEV | C.MS_NOEXEC)), m.destination)
    } finally {
      sys.close(again)
    }
  }
}

function applyMountAttributes(ctx: RootfsContext, root: InRoot, m: MountPlan): void {
  const { sys } = ctx
  if (m.options.propagation.length === 0 && m.options.attrSet === 0 && m.options.attrClr === 0) return
  const fd = root.open(m.destination)
  try {
    for (const p of m.options.propagation) sys.mount(null, fdPath(fd), null, p, null, m.destination)
    if (m.options.attrSet || m.options.attrClr) {
      sys.mountSetattr(fd, '', C.AT_EMPTY_PATH | C.AT_RECURSIVE, m.options.attrSet, m.options.attrClr, m.destination)
    }
  } finally {
    sys.close(fd)
  }
}

export function mountAll(ctx: RootfsContext, root: InRoot): void {
  for (const m of ctx.plan.mounts) {
    const label = () => `rootfs: mount ${m.destination} (${m.kind === 'bind' ? 'bind' : m.type || m.kind}, ${m.field})`
    timed(label, () =>
      step(m.field, m.destination, () => {
        switch (m.kind) {
          case 'bind':
            mountBind(ctx, root, m)
            break
          case 'cgroup':
          case 'cgroup2':
            ctx.enterCgroup?.()
            mountCgroup(ctx, root, m)
            break
          default:
            mountFs(ctx, root, m)
        }
        applyMountAttributes(ctx, root, m)
      }),
    )
  }
}

function createDevice(ctx: RootfsContext, root: InRoot, d: DevicePlan): void {
  const { sys } = ctx
  const rel = d.path.slice(1)
  const parent = root.mkdirAll(path.posix.dirname(d.path))
  const name = path.posix.basename(d.path)
  try {
    if (ctx.plan.bindDevices) {
      // mknod is not allowed in a user namespace: bind the host's node onto an empty file.
      const fd = root.ensureFile(d.path, 0o644)
      try {
        sys.mount(d.path, fdPath(fd), 'bind', C.MS_BIND, null, d.path)
      } finally {
        sys.close(fd)
      }
      checkBoundDevice(ctx, root, d)
      return
    }
    try {
      sys.unlinkat(parent, name, 0, d.path)
    } catch (e) {
      if (!(e instanceof SysError) || (e.errnoName !== 'ENOENT' && e.errnoName !== 'EISDIR')) throw e
    }
    sys.mknodat(parent, name, deviceModeBits(d.type) | (d.fileMode & 0o7777), makedev(d.major, d.minor), d.path)
    // mknod is subject to the umask; set the mode the config asked for.
    sys.fchmodat(parent, name, d.fileMode & 0o7777, d.path)
    sys.fchownat(parent, name, d.uid, d.gid, C.AT_SYMLINK_NOFOLLOW, d.path)
  } finally {
    sys.close(parent)
  }
  void rel
}

/**
 * A node bound from the host (runc's rule in a user namespace) is the host's at that path, with
 * the host's mode and owner: say so when it is not the device the config names.
 */
function checkBoundDevice(ctx: RootfsContext, root: InRoot, d: DevicePlan): void {
  const fd = root.open(d.path)
  try {
    const st = ctx.sys.fstat(fd, d.path)
    if ((st.mode & C.S_IFMT) !== deviceModeBits(d.type) || st.rdevMajor !== d.major || st.rdevMinor !== d.minor)
      ctx.warn(
        `${d.field}: in a user namespace the host's ${d.path} is bind-mounted: it is ${nodeKind(st.mode)} ${st.rdevMajor}:${st.rdevMinor}, not the ${d.type} ${d.major}:${d.minor} asked for`,
      )
  } finally {
    ctx.sys.close(fd)
  }
}

function nodeKind(mode: number): string {
  switch (mode & C.S_IFMT) {
    case C.S_IFCHR:
      return 'c'
    case C.S_IFBLK:
      return 'b'
    case C.S_IFIFO:
      return 'p'
    default:
      return 'not a device'
  }
}

/** existsSync: any failure to stat means no. */
function exists(sys: RootfsSys, p: string): boolean {
  try {
    sys.stat(p)
    return true
  } catch (e) {
    if (e instanceof SysError) return false
    throw e
  }
}

/** Device nodes, /dev symlinks and the /dev/ptmx link, when /dev is not the host's. */
export function setupDev(ctx: RootfsContext, root: InRoot): void {
  const { sys, plan } = ctx
  if (!plan.setupDev) return
  for (const d of plan.devices) step(d.field, d.path, () => createDevice(ctx, root, d))
  const links: [string, string][] = [...DEV_SYMLINKS]
  if (exists(sys, '/proc/kcore')) links.push(['/dev/core', '/proc/kcore'])
  const dev = root.mkdirAll('/dev')
  try {
    for (const [link, target] of links) {
      step('/dev', link, () => {
        try {
          sys.symlinkat(target, dev, path.posix.basename(link), link)
        } catch (e) {
          if (!(e instanceof SysError) || e.errnoName !== 'EEXIST') throw e
        }
      })
    }
    step('/dev', '/dev/ptmx', () => {
      try {
        sys.unlinkat(dev, 'ptmx', 0, '/dev/ptmx')
      } catch (e) {
        if (!(e instanceof SysError) || e.errnoName !== 'ENOENT') throw e
      }
      sys.symlinkat('pts/ptmx', dev, 'ptmx', '/dev/ptmx')
    })
  } finally {
    sys.close(dev)
  }
}

/**
 * maskedPaths and readonlyPaths, applied inside the rootfs before pivot_root. `devNull` is
 * an fd of the host's /dev/null, checked to be the 1:3 character device: the container's
 * own /dev/null could be a symlink to a file the mask must not cover (CVE-2025-31133).
 */
export function maskPaths(ctx: RootfsContext, root: InRoot, devNull: number): void {
  const { sys, plan } = ctx
  plan.readonlyPaths.forEach((p, i) =>
    step(`linux.readonlyPaths[${i}]`, p, () => {
      let fd: number
      try {
        fd = root.open(p)
      } catch (e) {
        if (e instanceof SysError && e.errnoName === 'ENOENT') return
        throw e
      }
      try {
        sys.mount(fdPath(fd), fdPath(fd), 'bind', C.MS_BIND | C.MS_REC, null, p)
      } finally {
        sys.close(fd)
      }
      const again = root.open(p)
      try {
        remountBind(sys, fdPath(again), C.MS_RDONLY | C.MS_NOSUID | C.MS_NODEV | C.MS_NOEXEC, p)
      } finally {
        sys.close(again)
      }
    }),
  )
  plan.maskedPaths.forEach((p, i) =>
    step(`linux.maskedPaths[${i}]`, p, () => {
      let fd: number
      try {
        fd = root.open(p)
      } catch (e) {
        if (e instanceof SysError && (e.errnoName === 'ENOENT' || e.errnoName === 'ENOTDIR')) return
        throw e
      }
      try {
        if (isDir(sys.fstat(fd, p).mode)) {
          const data = plan.mountLabel ? `size=0,context="${plan.mountLabel}"` : 'size=0'
          sys.mount('tmpfs', fdPath(fd), 'tmpfs', C.MS_RDONLY | C.MS_NOSUID | C.MS_NODEV | C.MS_NOEXEC, data, p)
        } else {
          sys.mount(fdPath(devNull), fdPath(fd), 'bind', C.MS_BIND, null, p)
        }
      } finally {
        sys.close(fd)
      }
    }),
  )
}

/** Open the host's /dev/null and make sure it is the real thing. */
export function openDevNull(sys: Pick<Sys, 'openat' | 'fstat' | 'close'>): number {
  const fd = sys.openat(C.AT_FDCWD, '/dev/null', C.O_PATH | C.O_NOFOLLOW)
  try {
    const st = sys.fstat(fd, '/dev/null')
    if (!C.isCharDevice(st, 1, 3))
      throw new SysError({
        syscall: 'open',
        errno: 19,
        errnoName: 'ENODEV',
        strerror: 'not the null device (char 1:3) on the host',
        path: '/dev/null',
      })
    return fd
  } catch (e) {
    sys.close(fd)
    throw e
  }
}

/**
 * Detach (or, where that is refused, cover with a tmpfs) each of the host's full procfs and
 * sysfs mounts, slaved first so nothing propagates to the host. A mount point gone with an
 * earlier one's subtree is skipped.
 */
function hidePseudoMounts(sys: Pick<Sys, 'mount' | 'umount2'>, points: string[]): void {
  const errno = (e: unknown) => (e instanceof SysError ? e.errnoName : '')
  for (const p of points) {
    try {
      sys.mount(null, p, null, C.MS_SLAVE | C.MS_REC, null)
    } catch (e) {
      if (errno(e) === 'ENOENT') continue
      throw e
    }
    try {
      sys.umount2(p, C.MNT_DETACH)
    } catch (e) {
      if (errno(e) !== 'EINVAL' && errno(e) !== 'EPERM') throw e
      sys.mount('tmpfs', p, 'tmpfs', 0, null)
    }
  }
}

/**
 * pivot_root into the rootfs and detach the old root; or MS_MOVE + chroot with --no-pivot; or,
 * in the runtime's mount namespace, chroot alone (runc's choice there): pivot_root would move
 * the root of every process in that namespace, and the old root stays reachable to a process
 * that may chroot(2) (CAP_SYS_CHROOT), as with runc.
 */
export function enterRoot(ctx: RootfsContext): void {
  const { sys, plan } = ctx
  if (plan.sharedMountNs) {
    step('root.path', 'chroot', () => {
      sys.chdir(plan.rootfs)
      sys.chroot('.')
      sys.chdir('/')
    })
    return
  }
  if (plan.noPivot) {
    step('root.path', 'no-pivot', () => {
      hidePseudoMounts(sys, fullPseudoMounts(parseMountInfo(sys.readFile('/proc/self/mountinfo')), plan.rootfs))
      sys.chdir(plan.rootfs)
      sys.mount(plan.rootfs, '/', null, C.MS_MOVE, null)
      sys.chroot('.')
      sys.chdir('/')
    })
  } else {
    step('root.path', 'pivot_root', () => {
      const oldroot = sys.openat(C.AT_FDCWD, '/', C.O_DIRECTORY | C.O_RDONLY)
      let newroot = -1
      try {
        newroot = sys.openat(C.AT_FDCWD, plan.rootfs, C.O_DIRECTORY | C.O_RDONLY)
        sys.fchdir(newroot, plan.rootfs)
        // pivot_root(".", ".") stacks the old root on top of the new one; then detach it.
        sys.pivotRoot('.', '.')
        sys.fchdir(oldroot, 'old root')
        sys.mount(null, '.', null, C.MS_SLAVE | C.MS_REC, null, 'old root')
        sys.umount2('.', C.MNT_DETACH)
        sys.chdir('/')
      } finally {
        sys.close(oldroot)
        if (newroot >= 0) sys.close(newroot)
      }
    })
  }
  reapplyRootPropagation(ctx)
}

/**
 * linux.rootfsPropagation on the container's root, now "/": the propagation given to "/"
 * before the bind (prepareRoot) is that of the runtime's tree copy, and the bind of root.path
 * inherits the slave state stage 1 gave every mount, so without this "shared" or "private"
 * never reached the root the container sees (it stayed a slave: "master:N"). runc 1.4 applies
 * it here too (1.1 did not); "private" as well, since here the bind may be a slave.
 */
function reapplyRootPropagation(ctx: RootfsContext): void {
  const { sys, plan } = ctx
  if (!plan.reapplyRootPropagation) return
  step('linux.rootfsPropagation', '', () => sys.mount(null, '/', null, plan.rootPropagation, null))
}

/** After pivot: /dev read-only if asked, then the root itself. */
export function finalizeRoot(ctx: RootfsContext): void {
  const { sys, plan } = ctx
  if (plan.devReadonly) step('/dev', 'remount ro', () => remountBind(sys, '/dev', C.MS_RDONLY, '/dev'))
  if (plan.readonlyRoot) step('root.readonly', '', () => remountBind(sys, '/', C.MS_RDONLY, '/'))
}

export type { MountInfo }

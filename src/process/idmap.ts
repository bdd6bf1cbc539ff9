// Idmapped bind mounts (`idmap`, `ridmap`), prepared on the host side: a user namespace with the
// mount's mappings (or the container's), a detached copy of the source tree with
// MOUNT_ATTR_IDMAP set, whose fd the init then moves into the rootfs. Creating a user
// namespace with arbitrary host ids needs host privilege, which only the parent has.

import * as fs from 'node:fs'
import * as C from '../sys/constants.js'
import { linux as sys } from '../sys/linux.js'
import { CloneChain } from '../sys/clone-chain.js'
import { RuntimeError, SpecError, withContext } from '../errors.js'
import { inMountNamespace } from './host-ns.js'
import type { MountPlan } from '../plan/rootfs.js'
import { toolArgs, type MapPlan } from '../spec/rootless.js'
import { childProcess } from '../sys/child-process.js'

type IdMap = { containerID: number; hostID: number; size: number }

/** Ids as /proc/<pid>/uid_map wants them. */
export function formatIdMap(m: IdMap[]): string {
  return m.map((x) => `${x.containerID} ${x.hostID} ${x.size}\n`).join('')
}

/** An executable `name` in $PATH (runc resolves newuidmap/newgidmap so, once), or undefined. */
export function findOnPath(name: string, pathVar = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVar.split(':')) {
    if (!dir) continue
    const file = `${dir}/${name}`
    try {
      fs.accessSync(file, fs.constants.X_OK)
      if (fs.statSync(file).isFile()) return file
    } catch {
      /* not here */
    }
  }
  return undefined
}

/**
 * Write the maps of the user namespace `pid` was born in, as runc's nsexec does: "deny" to
 * setgroups first when the plan says so, then each map directly; a direct write refused with
 * EPERM (ids the caller does not own) goes through the mapping tool if one was found.
 */
export function writeUserNsMaps(pid: number, maps: { uid: IdMap[]; gid: IdMap[] }, plan: MapPlan): void {
  if (plan.denySetgroups) {
    try {
      fs.writeFileSync(`/proc/${pid}/setgroups`, 'deny')
    } catch (e) {
      // Kernels before 3.19 have no such file, and need none.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new RuntimeError(`linux.gidMappings: write /proc/${pid}/setgroups: ${(e as Error).message}`, 'EUSERNS')
    }
  }
  writeMap(pid, 'uid', maps.uid, plan.uidTool)
  writeMap(pid, 'gid', maps.gid, plan.gidTool)
}

function writeMap(pid: number, kind: 'uid' | 'gid', m: IdMap[], tool: string | undefined): void {
  if (!m.length) return
  const field = `linux.${kind}Mappings`
  const file = `/proc/${pid}/${kind}_map`
  try {
    fs.writeFileSync(file, formatIdMap(m))
    return
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    if (err.code !== 'EPERM' || !tool) {
      const hint =
        err.code === 'EPERM' && process.geteuid?.() !== 0
          ? ` (an unprivileged user may map only its own ${kind}: other ids need new${kind}map, package uidmap)`
          : ''
      throw new RuntimeError(`${field}: write ${file}: ${err.message}${hint}`, 'EUSERNS')
    }
  }
  // The helper checks /etc/sub[ug]id and writes the map with its setuid privilege. runc runs
  // it with an empty environment.
  const args = [String(pid), ...toolArgs(m)]
  const r = childProcess().spawnSync(tool, args, { env: {}, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  if (r.error) throw new RuntimeError(`${field}: ${tool}: ${r.error.message}`, 'EUSERNS')
  if (r.status !== 0) {
    const why = (r.stderr || r.stdout || '').trim().split('\n').join('; ')
    const how = r.status === null ? `killed by ${r.signal}` : `exit status ${r.status}`
    throw new RuntimeError(`${field}: ${tool} ${args.join(' ')}: ${how}${why ? `: ${why}` : ''}`, 'EUSERNS')
  }
}

/** An fd of a new user namespace with these mappings (a short-lived child holds it meanwhile). */
export function userNamespaceFd(uid: IdMap[], gid: IdMap[]): number {
  const [r, w] = sys.pipe2(C.O_CLOEXEC)
  const chain = new CloneChain(0)
  // The child only waits: it drops its copy of the write end, then read() blocks until ours
  // is closed.
  chain.call('close', w)
  chain.call('read', r, chain.buffer(8), 1)
  let pid: number
  try {
    pid = chain.spawn(C.CLONE_NEWUSER)
  } finally {
    chain.release()
    sys.close(r)
  }
  try {
    fs.writeFileSync(`/proc/${pid}/uid_map`, formatIdMap(uid))
    fs.writeFileSync(`/proc/${pid}/gid_map`, formatIdMap(gid))
    return sys.openat(C.AT_FDCWD, `/proc/${pid}/ns/user`, C.O_RDONLY)
  } finally {
    sys.close(w)
    sys.waitpid(pid, 0)
  }
}

export function isIdmapped(m: MountPlan): boolean {
  return m.options.extensions.includes('idmap') || m.options.extensions.includes('ridmap')
}

/**
 * For each idmapped mount, a detached tree fd keyed by its spec field. `containerMaps` are the
 * container's own user namespace mappings, used for a kind (uid, gid) the mount gives none of.
 */
export function prepareIdmappedMounts(
  mounts: MountPlan[],
  userns: boolean,
  containerMaps: { uid: IdMap[]; gid: IdMap[] },
): Record<string, number> {
  const out: Record<string, number> = {}
  try {
    for (const m of mounts) {
      if (!isIdmapped(m)) continue
      // The parent makes the tree in the host's mount namespace (see the header).
      const euid = process.geteuid?.() ?? 0
      if (euid !== 0)
        throw new SpecError([
          { path: m.field + '.options', message: `idmapped mounts need root: runt runs as uid ${euid} (rootless)` },
        ])
      // Mappings of the mount's own need no user namespace of the container's (runc 1.4 alike).
      if (!userns && !m.uidMappings?.length && !m.gidMappings?.length)
        throw new SpecError([{ path: m.field + '.options', message: 'idmapped mounts need a user namespace' }])
      const uid = m.uidMappings?.length ? m.uidMappings : containerMaps.uid
      const gid = m.gidMappings?.length ? m.gidMappings : containerMaps.gid
      if (!uid.length || !gid.length)
        throw new SpecError([{ path: m.field, message: 'idmapped mounts need uidMappings and gidMappings' }])
      const recursive = m.options.extensions.includes('ridmap') || (m.flags & C.MS_REC) !== 0
      let tree: number
      try {
        tree = sys.openTree(
          C.AT_FDCWD,
          m.source,
          C.OPEN_TREE_CLONE | C.OPEN_TREE_CLOEXEC | (recursive ? C.AT_RECURSIVE : 0),
          m.source,
        )
      } catch (e) {
        throw withContext(e as Error, `${m.field} ${m.destination}`)
      }
      out[m.field] = tree
      const nsFd = userNamespaceFd(uid, gid)
      try {
        sys.mountSetattr(
          tree,
          '',
          C.AT_EMPTY_PATH | (m.options.extensions.includes('ridmap') ? C.AT_RECURSIVE : 0),
          C.MOUNT_ATTR_IDMAP,
          0,
          m.source,
          nsFd,
        )
      } catch (e) {
        throw new RuntimeError(
          `${m.field} ${m.destination}: ${(e as Error).message} (does the filesystem support idmapped mounts?)`,
          'EIDMAP',
        )
      } finally {
        sys.close(nsFd)
      }
    }
  } catch (e) {
    for (const fd of Object.values(out)) sys.close(fd)
    throw e
  }
  return out
}

/**
 * Attach `tree` on the init's fd `targetFd`, from here: the tree belongs to the host's user
 * namespace, and a process inside the container's may not attach it. This (main) thread joins
 * the init's mount namespace for the move and comes back (host-ns.ts inMountNamespace).
 */
export function attachIdmappedTree(initPid: number, tree: number | undefined, targetFd: number): void {
  if (tree === undefined) throw new RuntimeError('no idmapped tree was prepared for this mount', 'EIDMAP')
  const pidfd = sys.pidfdOpen(initPid)
  const fds: number[] = [pidfd]
  try {
    const target = sys.pidfdGetfd(pidfd, targetFd)
    fds.push(target)
    const theirs = sys.openat(C.AT_FDCWD, `/proc/${initPid}/ns/mnt`, C.O_RDONLY)
    fds.push(theirs)
    inMountNamespace(theirs, () =>
      sys.moveMount(tree, '', target, '', C.MOVE_MOUNT_F_EMPTY_PATH | C.MOVE_MOUNT_T_EMPTY_PATH, 'idmapped mount'),
    )
  } finally {
    for (const fd of fds) sys.close(fd)
  }
}

// Where a container's cgroup lives, from linux.cgroupsPath as runc reads it: an absolute path
// is below each hierarchy's mount point; a relative one is below runt's own cgroup (on v2, its
// parent: runt's own cgroup holds processes, so controllers cannot be enabled below it); an
// empty one is /runt/<id>. Pure: host facts come in as a HostCgroups value.

import * as path from 'node:path'
import { ownPath, type HostCgroups, type V1Hierarchy } from './host.js'
import { RuntimeError } from '../errors.js'

/** runc's utils.CleanPath: Clean, and never let a relative path climb above its base. */
export function cleanPath(p: string): string {
  if (p === '') return ''
  if (p.startsWith('/')) return path.posix.normalize(p).replace(/(.)\/+$/, '$1')
  const abs = path.posix.normalize('/' + p)
  return path.posix.relative('/', abs)
}

export type CgroupLocation = { inner: string; absolute: boolean }

/** The parent of containers created without a cgroupsPath. */
export const DEFAULT_PARENT = '/runt'

export function locate(cgroupsPath: string | undefined, id: string): CgroupLocation {
  const inner = cleanPath(cgroupsPath ?? '')
  if (inner === '') return { inner: path.posix.join(DEFAULT_PARENT, id), absolute: true }
  if (inner === '/' || inner === '.') return { inner: '/', absolute: true }
  return { inner, absolute: inner.startsWith('/') }
}

/** The directory of the cgroup in one v1 hierarchy. */
export function v1Dir(host: HostCgroups, h: V1Hierarchy, loc: CgroupLocation): string {
  if (loc.absolute) return path.posix.join(h.mountPoint, loc.inner)
  return path.posix.join(h.mountPoint, below(h.root, ownPath(host, h.controllers[0] ?? '')), loc.inner)
}

/** The directory of the cgroup in the unified (v2) hierarchy. */
export function v2Dir(host: HostCgroups, loc: CgroupLocation): string {
  const u = host.unified
  if (!u) throw new RuntimeError('no cgroup2 hierarchy on this host', 'ECGROUP')
  if (loc.absolute) return path.posix.join(u.mountPoint, loc.inner)
  return path.posix.join(u.mountPoint, below(u.root, path.posix.dirname(ownPath(host, ''))), loc.inner)
}

/** `p` relative to a mount's root; "" when `p` is not below it (never climb out of a mount). */
function below(root: string, p: string): string {
  const rel = path.posix.relative(root, p)
  return rel.startsWith('..') ? '' : rel
}

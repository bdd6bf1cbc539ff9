// What the host's cgroups look like: v1 hierarchies and their controllers, the cgroup2 mount,
// the resulting mode (v1, hybrid, unified v2), and runt's own cgroup in each. parseHost is pure;
// probeHost reads /proc/self once. Never creates or writes anything.

import * as fs from 'node:fs'
import * as path from 'node:path'
import { parseMountInfo, parseProcCgroup, type CgroupEntry } from '../plan/mountinfo.js'

export type CgroupMode = 'v1' | 'hybrid' | 'v2' | 'none'

export type V1Hierarchy = {
  /** Controllers of this hierarchy as /proc/self/cgroup names them ("cpu", "name=systemd"). */
  controllers: string[]
  mountPoint: string
  /** The mount's root inside the hierarchy ("/" unless the host is itself a container). */
  root: string
}

export type HostCgroups = {
  mode: CgroupMode
  v1: V1Hierarchy[]
  unified?: { mountPoint: string; root: string }
  /** runt's own cgroups, from /proc/self/cgroup. */
  own: CgroupEntry[]
}

const V1_IGNORED_OPTIONS = new Set(['rw', 'ro', 'clone_children', 'noprefix', 'xattr', 'cpuset_v2_mode', 'favordynmods'])

/** The controllers named by a v1 mount's super options ("rw,cpu,cpuacct" -> cpu, cpuacct). */
export function v1Controllers(superOptions: string): string[] {
  return superOptions.split(',').filter((o) => o && !V1_IGNORED_OPTIONS.has(o) && !o.startsWith('release_agent='))
}

export function parseHost(mountinfo: string, selfCgroup: string): HostCgroups {
  const mounts = parseMountInfo(mountinfo)
  const v1: V1Hierarchy[] = []
  const seen = new Set<string>()
  for (const m of mounts) {
    if (m.fsType !== 'cgroup') continue
    const controllers = v1Controllers(m.superOptions)
    const key = [...controllers].sort().join(',')
    if (!controllers.length || seen.has(key)) continue
    seen.add(key)
    v1.push({ controllers, mountPoint: m.mountPoint, root: m.root })
  }
  const v2mounts = mounts.filter((m) => m.fsType === 'cgroup2')
  const pick =
    v2mounts.find((m) => m.mountPoint === '/sys/fs/cgroup') ??
    v2mounts.find((m) => m.mountPoint === '/sys/fs/cgroup/unified') ??
    v2mounts[0]
  const host: HostCgroups = { mode: 'none', v1, own: parseProcCgroup(selfCgroup) }
  if (pick) host.unified = { mountPoint: pick.mountPoint, root: pick.root }
  if (v1.length) host.mode = pick ? 'hybrid' : 'v1'
  else if (pick) host.mode = 'v2'
  return host
}

let cached: HostCgroups | undefined

export function probeHost(): HostCgroups {
  return (cached ??= parseHost(fs.readFileSync('/proc/self/mountinfo', 'utf8'), fs.readFileSync('/proc/self/cgroup', 'utf8')))
}

/** runt's own cgroup path in the hierarchy that holds `controller` ("" for the v2 entry). */
export function ownPath(host: HostCgroups, controller: string): string {
  const e =
    controller === ''
      ? host.own.find((c) => c.id === 0 && c.controllers.length === 0)
      : host.own.find((c) => c.controllers.includes(controller))
  return e?.path ?? '/'
}

/**
 * runt's own cgroup directory in the hierarchy mounted as `h` (`controller` as for ownPath), or
 * null where that cgroup is not below the mount's root (the host is itself a container).
 */
export function ownDir(host: HostCgroups, h: { mountPoint: string; root: string }, controller: string): string | null {
  const rel = path.posix.relative(h.root, ownPath(host, controller))
  if (rel.startsWith('..')) return null
  return path.posix.join(h.mountPoint, rel)
}

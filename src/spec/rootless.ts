// What a caller that is not root (euid != 0, runc's RootlessEUID) may ask of config.json, and
// how its user namespace's maps get written: runc's rootlessEUIDCheck and its nsexec rules.
// Pure: the caller's ids and the mapping tools found on PATH arrive as arguments.

import type { SpecIssue } from '../errors.js'
import type { Spec } from './schema.js'

type IdMap = { containerID: number; hostID: number; size: number }

/** The caller as the kernel sees it, and the setuid helpers of package uidmap on PATH. */
export type Caller = { euid: number; egid: number; newuidmap?: string | undefined; newgidmap?: string | undefined }

/** Only `id` mapped, once (runc's requiresRootOrMappingTool compares the gid map so). */
export function isSelfMapping(m: readonly IdMap[], id: number): boolean {
  return m.length === 1 && m[0]!.hostID === id && m[0]!.size === 1
}

/**
 * How the parent writes the maps of a new user namespace for this caller. An unprivileged
 * writer may map its own uid, and its own gid only after "deny" went to setgroups
 * (user_namespaces(7), since Linux 3.19); any other map needs newuidmap/newgidmap, which check
 * /etc/subuid and /etc/subgid. runc denies setgroups exactly when the gid map is the caller's
 * own gid alone; a tool is used only when the direct write fails with EPERM.
 */
export type MapPlan = { denySetgroups: boolean; uidTool?: string; gidTool?: string }

export function planIdMaps(spec: Spec, c: Caller): MapPlan {
  if (c.euid === 0) return { denySetgroups: false }
  const p: MapPlan = { denySetgroups: isSelfMapping(spec.linux?.gidMappings ?? [], c.egid) }
  if (c.newuidmap) p.uidTool = c.newuidmap
  if (c.newgidmap) p.gidTool = c.newgidmap
  return p
}

/** newuidmap's argv after the pid: the triples as separate words, in the map's order. */
export function toolArgs(m: readonly IdMap[]): string[] {
  return m.flatMap((x) => [String(x.containerID), String(x.hostID), String(x.size)])
}

/**
 * runc's rootlessEUIDCheck (texts kept) plus what the kernel would refuse later with a bare
 * EPERM: a map of ids other than the caller's own with no mapping tool to write it.
 */
export function rootlessIssues(spec: Spec, c: Caller): SpecIssue[] {
  if (c.euid === 0) return []
  const namespaces = spec.linux?.namespaces ?? []
  const user = namespaces.find((n) => n.type === 'user')
  if (!user)
    return [
      {
        path: 'linux.namespaces',
        message: `rootless container requires user namespaces (runt runs as uid ${c.euid}: add {"type": "user"}, or see runt spec --rootless)`,
      },
    ]
  // Mappings are needed only for a namespace created here, not one joined by path.
  if (user.path) return []
  const out: SpecIssue[] = []
  const uid = spec.linux?.uidMappings ?? []
  const gid = spec.linux?.gidMappings ?? []
  if (!uid.length) out.push({ path: 'linux.uidMappings', message: 'rootless containers requires at least one UID mapping' })
  if (!gid.length) out.push({ path: 'linux.gidMappings', message: 'rootless containers requires at least one GID mapping' })
  if (uid.length && !isSelfMapping(uid, c.euid) && !c.newuidmap)
    out.push({ path: 'linux.uidMappings', message: needsTool('uid', c.euid, 'newuidmap', 'subuid') })
  if (gid.length && !isSelfMapping(gid, c.egid) && !c.newgidmap)
    out.push({ path: 'linux.gidMappings', message: needsTool('gid', c.egid, 'newgidmap', 'subgid') })
  return out
}

function needsTool(kind: string, own: number, tool: string, file: string): string {
  return (
    `runt runs as ${kind} ${own} and may map only that ${kind} (as {"containerID": 0, "hostID": ${own}, "size": 1}); ` +
    `other ids need ${tool} on PATH (Debian package uidmap) and a range in /etc/${file}`
  )
}

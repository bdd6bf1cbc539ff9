// Which bind mounts get their source opened by the parent, as host root, before the init
// mounts them; and how the descriptors it sends map back to mounts. A user-namespaced init
// cannot search a directory only host root may (a source below a mode-0700 root-owned
// directory): the parent opens such sources O_PATH in the container's mount namespace, and
// the init binds from /proc/self/fd/N, a lookup that checks no search permission on the way.
// Pure: no sys/, no fs.

import { RuntimeError } from '../errors.js'
import type { MountPlan } from './rootfs.js'

export type BindSourceFacts = {
  /** The container gets a new user namespace, or joins one. */
  userns: boolean
  /** The parent may join the container's mount namespace (runt runs as root). */
  hostRoot: boolean
  /** The rootfs, absolute (RootfsPlan.rootfs). */
  rootfs: string
}

export type BindSource = { field: string; source: string }

/** SCM_MAX_FD: the kernel takes at most this many descriptors in one message. */
export const SCM_MAX_FD = 253

const isIdmapped = (m: MountPlan) => m.options.extensions.includes('idmap') || m.options.extensions.includes('ridmap')

const beneath = (p: string, dir: string) => p === dir || p.startsWith(dir.replace(/\/$/, '') + '/')

/**
 * The bind mounts whose source the parent opens, in mount order. As runc 1.1
 * (shouldSendMountSources): only with a user namespace, and only when runt is root; without
 * either the init reaches what the parent would. Left to the init, resolved at its turn as
 * without a user namespace: idmapped mounts (the parent prepares a whole tree for those),
 * sources inside the rootfs (an earlier mount may cover them, and the container's root must
 * reach the rootfs anyway), and sources under /proc (/proc/self would name the parent).
 */
export function bindSourcesToOpen(mounts: readonly MountPlan[], facts: BindSourceFacts): BindSource[] {
  if (!facts.userns || !facts.hostRoot) return []
  return mounts
    .filter((m) => m.kind === 'bind' && !isIdmapped(m) && m.source !== '')
    .filter((m) => !beneath(m.source, facts.rootfs) && !beneath(m.source, '/proc'))
    .map((m) => ({ field: m.field, source: m.source }))
}

/** How many descriptors each SCM_RIGHTS message carries, for `n` in all. */
export function fdBatches(n: number, max = SCM_MAX_FD): number[] {
  const out: number[] = []
  for (let left = n; left > 0; left -= max) out.push(Math.min(left, max))
  return out
}

/**
 * Pair the fields the parent named (in the bootstrap) with the descriptors received, in
 * order. A count that differs is a broken protocol, not a mount to skip.
 */
export function pairBindSources(fields: readonly string[], fds: readonly number[]): Map<string, number> {
  if (fields.length !== fds.length)
    throw new RuntimeError(`bind sources: expected ${fields.length} descriptors from the parent, got ${fds.length}`, 'EPROTO')
  const out = new Map<string, number>()
  fields.forEach((f, i) => {
    if (out.has(f)) throw new RuntimeError(`bind sources: ${f} named twice`, 'EPROTO')
    out.set(f, fds[i]!)
  })
  return out
}

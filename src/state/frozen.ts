// Is a container's cgroup frozen? Read-only and FFI-free, for `state` and `list`.
// v1: freezer.state is FROZEN; v2: cgroup.freeze is 1.

import { nodeFs } from '../sys/file.js'
import type { ContainerRecord } from './store.js'

/** The file that says whether the container's cgroup is frozen, and what it holds then. */
export function freezeFile(rec: ContainerRecord): { file: string; frozen: string } | null {
  const freezer = rec.cgroupPaths['freezer']
  if (freezer) return { file: `${freezer}/freezer.state`, frozen: 'FROZEN' }
  const unified = rec.cgroupPaths['']
  if (unified) return { file: `${unified}/cgroup.freeze`, frozen: '1' }
  return null
}

/** Is it frozen, given that file's text (null: unreadable, as a removed cgroup)? */
export function frozenFrom(f: { frozen: string }, text: string | null): boolean {
  return text !== null && text.trim() === f.frozen
}

export function isFrozen(rec: ContainerRecord): boolean {
  const f = freezeFile(rec)
  if (!f) return false
  let text: string | null = null
  try {
    text = nodeFs().readFileSync(f.file, 'utf8')
  } catch {
    /* unreadable: not frozen */
  }
  return frozenFrom(f, text)
}

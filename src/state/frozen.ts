// Is a container's cgroup frozen? Read-only and FFI-free, for `state` and `list`.
// v1: freezer.state is FROZEN; v2: cgroup.freeze is 1.

import * as fs from 'node:fs'
import * as path from 'node:path'
import type { ContainerRecord } from './store.js'

export function isFrozen(rec: ContainerRecord): boolean {
  const freezer = rec.cgroupPaths['freezer']
  if (freezer) return readTrim(path.join(freezer, 'freezer.state')) === 'FROZEN'
  const unified = rec.cgroupPaths['']
  if (unified) return readTrim(path.join(unified, 'cgroup.freeze')) === '1'
  return false
}

function readTrim(p: string): string {
  try {
    return fs.readFileSync(p, 'utf8').trim()
  } catch {
    return ''
  }
}

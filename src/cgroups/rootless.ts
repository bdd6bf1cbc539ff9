// The rootless cgroup manager's rules (runc's --rootless, auto by default): a caller that may
// not create the container's cgroup runs it without one, unless config.json asks for limits
// (then an error naming the first one) or names a linux.cgroupsPath (then the permission error
// itself, as runc). A cgroup the caller may create (delegated to it) is used as usual, with
// the device rules left out, as runc ignores the devices controller's errors when rootless.

import * as fs from 'node:fs'
import * as path from 'node:path'
import { RuntimeError } from '../errors.js'
import type { LinuxResources } from '../spec/schema.js'

/**
 * runc's parseBoolOrAuto and shouldUseRootlessCgroupManager for the cgroupfs driver: "auto"
 * (or empty) means rootless when runt is not root, or is root of a user namespace other
 * than the initial one.
 */
export function rootlessCgroups(flag: string, o: { euid: number; inUserNs: () => boolean }): boolean {
  const v = parseBoolOrAuto(flag)
  if (v !== null) return v
  if (o.euid !== 0) return true
  return o.inUserNs()
}

/** Go's strconv.ParseBool, with "" and "auto" as null; runc's error text otherwise. */
export function parseBoolOrAuto(s: string): boolean | null {
  if (s === '' || s === 'auto') return null
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false
  throw new RuntimeError(`strconv.ParseBool: parsing ${JSON.stringify(s)}: invalid syntax`, 'EROOTLESS')
}

/** The v1 controller a linux.resources key is applied through (runc's error names it). */
const CONTROLLER: Record<string, string> = {
  memory: 'memory',
  cpu: 'cpu',
  pids: 'pids',
  blockIO: 'blkio',
  hugepageLimits: 'hugetlb',
  network: 'net_cls',
  rdma: 'rdma',
  unified: 'unified',
}

/**
 * The JSON path of the first limit linux.resources sets (devices aside), or null. A zero, an
 * empty string, list or object sets nothing, as for runc, which writes a file only for a
 * value that is not its zero.
 */
export function firstLimit(r: LinuxResources | undefined): { field: string; controller: string } | null {
  if (!r) return null
  for (const [key, value] of Object.entries(r)) {
    if (key === 'devices') continue
    const sub = setPath(value)
    if (sub === null) continue
    let controller = CONTROLLER[key] ?? key
    if (key === 'cpu' && /^\.(cpus|mems)\b/.test(sub)) controller = 'cpuset'
    return { field: `linux.resources.${key}${sub}`, controller }
  }
  return null
}

function setPath(v: unknown): string | null {
  if (v === undefined || v === null || v === 0 || v === '' || v === false) return null
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const sub = setPath(v[i])
      if (sub !== null) return `[${i}]${sub}`
    }
    return null
  }
  if (typeof v === 'object') {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const sub = setPath(x)
      if (sub !== null) return `.${k}${sub}`
    }
    return null
  }
  return ''
}

/**
 * The first of `dirs` the caller could not make (its nearest existing ancestor is not
 * writable to it), or null when every one exists or can be created.
 */
export function firstUnwritable(dirs: string[], access: (p: string) => boolean = writable): string | null {
  for (const d of dirs) {
    let cur = d
    while (!exists(cur)) {
      const up = path.dirname(cur)
      if (up === cur) break
      cur = up
    }
    // An existing leaf is joined: its cgroup.procs must be writable.
    const target = cur === d ? path.join(d, 'cgroup.procs') : cur
    if (!access(target)) return d
  }
  return null
}

function exists(p: string): boolean {
  try {
    fs.statSync(p)
    return true
  } catch {
    return false
  }
}

function writable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.W_OK)
    return true
  } catch {
    return false
  }
}

// The CgroupManager interface every driver implements (cgroupfs v1, cgroupfs v2, systemd), and
// the tree operations they share: every pid below a cgroup, and removing a cgroup with its
// sub-cgroups. A manager only touches the directories it was given or created.

import * as path from 'node:path'
import type { LinuxResources } from '../spec/schema.js'
import type { DeviceRule } from './devices/rules.js'
import type { Stats } from './stats.js'
import { cgroupError, sleepMs, type CgroupFs } from './fs.js'
import { errnoCode, errnoText } from '../errors.js'

export type ApplyOptions = {
  /** Device rules to enforce; null leaves devices as they are (update). */
  devices: DeviceRule[] | null
  /** An update of a running container rather than the first apply. */
  update: boolean
}

export interface CgroupManager {
  readonly kind: 'v1' | 'v2' | 'systemd'
  /** What is recorded in state.json: controller -> directory, "" for the v2 (unified) one. */
  paths(): Record<string, string>
  /**
   * Create the cgroup (each hierarchy's directory and missing parents). An existing cgroup is
   * reused if empty and not frozen, as runc does; otherwise an error. Returns whether a leaf
   * directory was created by us. `pid` is the process the cgroup is made for (the systemd
   * driver starts its scope unit with it; the cgroupfs drivers add it in addPid).
   */
  create(pid?: number): boolean
  /** Undo create(): remove every directory it made, deepest first. */
  removeCreated(): void
  apply(resources: LinuxResources, opts: ApplyOptions): void
  addPid(pid: number): void
  /** Every process in the cgroup and its sub-cgroups. */
  pids(): number[]
  freeze(): void
  thaw(): void
  isFrozen(): boolean
  stats(): Stats
  /** The kernel's OOM-kill counter for the cgroup, or null if it has none. */
  oomKills(): bigint | null
  /** SIGKILL everything at once (cgroup.kill); false when the kernel has no cgroup.kill. */
  killAll(): boolean
  /** Remove the cgroup and its sub-cgroups, waiting briefly for exiting processes. */
  destroy(): void
  exists(): boolean
}

/** pids listed in cgroup.procs of `dir` and every directory below it, in walk order. */
export function treePids(io: CgroupFs, dir: string): number[] {
  const out: number[] = []
  const seen = new Set<number>()
  const walk = (d: string) => {
    let text: string
    try {
      text = io.read(path.join(d, 'cgroup.procs'))
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENODEV') return
      throw cgroupError('', `read ${path.join(d, 'cgroup.procs')}: ${errnoText(e)}`)
    }
    for (const line of text.split('\n')) {
      const pid = Number(line)
      if (line && Number.isInteger(pid) && !seen.has(pid)) {
        seen.add(pid)
        out.push(pid)
      }
    }
    let subs: string[] = []
    try {
      subs = io.subdirs(d).sort()
    } catch {
      /* removed meanwhile */
    }
    for (const s of subs) walk(path.join(d, s))
  }
  walk(dir)
  return out
}

/**
 * rmdir `dir` after its sub-cgroups. EBUSY (processes still exiting) is retried for about 2.5
 * seconds; a directory already gone is fine.
 */
export function removeTree(io: CgroupFs, dir: string): void {
  let subs: string[]
  try {
    subs = io.subdirs(dir)
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return
    throw cgroupError('', `read ${dir}: ${errnoText(e)}`)
  }
  for (const s of subs) removeTree(io, path.join(dir, s))
  let delay = 10
  for (let attempt = 0; ; attempt++) {
    try {
      io.rmdir(dir)
      return
    } catch (e) {
      const code = errnoCode(e)
      if (code === 'ENOENT') return
      if (code !== 'EBUSY' || attempt >= 12) throw cgroupError('', `remove cgroup ${dir}: ${errnoText(e)}`)
    }
    sleepMs(delay)
    delay = Math.min(delay * 2, 320)
  }
}

/**
 * mkdir each missing directory from `top` (exclusive, must exist) down to `leaf`; returns
 * the ones created, top first. On failure the ones already made are removed again.
 */
export function mkdirs(io: CgroupFs, top: string, leaf: string, onLevel?: (dir: string, parent: string) => void): string[] {
  const rel = path.relative(top, leaf)
  if (rel.startsWith('..')) throw cgroupError('linux.cgroupsPath', `${leaf} is outside the cgroup hierarchy at ${top}`)
  const created: string[] = []
  let cur = top
  try {
    for (const part of rel ? rel.split('/') : []) {
      const parent = cur
      cur = path.join(cur, part)
      try {
        io.mkdir(cur)
        created.push(cur)
      } catch (e) {
        if (errnoCode(e) !== 'EEXIST') throw cgroupError('linux.cgroupsPath', `create cgroup ${cur}: ${errnoText(e)}`)
      }
      onLevel?.(cur, parent)
    }
  } catch (e) {
    for (const d of [...created].reverse()) {
      try {
        io.rmdir(d)
      } catch {
        /* best effort */
      }
    }
    throw e
  }
  return created
}

/** runc's checks on a cgroup that already exists: it must hold no process and not be frozen. */
export function checkReusable(m: CgroupManager): void {
  if (!m.exists()) return
  const pids = m.pids()
  if (pids.length) throw cgroupError('', `container's cgroup is not empty: ${pids.length} process(es) found`)
  if (m.isFrozen()) throw cgroupError('', "container's cgroup unexpectedly frozen")
}

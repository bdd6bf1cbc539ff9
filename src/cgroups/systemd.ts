// The systemd cgroup driver (--systemd-cgroup): cgroupsPath "slice:prefix:name" names a
// transient scope unit "prefix-name.scope" in "slice", which systemd creates (over D-Bus,
// StartTransientUnit with Delegate=yes and the init's pid) and whose cgroup runt then manages
// with the cgroupfs driver. Parsing and naming are pure; the D-Bus step is not implemented yet.

import * as fs from 'node:fs'
import type { LinuxResources } from '../spec/schema.js'
import { cgroupError } from './fs.js'
import type { ApplyOptions, CgroupManager } from './manager.js'
import type { Stats } from './stats.js'

export type SystemdUnit = { slice: string; prefix: string; name: string }

/** Parse "slice:prefix:name"; empty means runc's default (system.slice, prefix "runt", the id). */
export function parseSystemdPath(cgroupsPath: string | undefined, id: string): SystemdUnit {
  if (!cgroupsPath) return { slice: 'system.slice', prefix: 'runt', name: id }
  const parts = cgroupsPath.split(':')
  if (parts.length !== 3)
    throw cgroupError(
      'linux.cgroupsPath',
      `expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got ${JSON.stringify(cgroupsPath)} instead`,
    )
  const [slice, prefix, name] = parts as [string, string, string]
  if (!name) throw cgroupError('linux.cgroupsPath', `the unit name in ${JSON.stringify(cgroupsPath)} is empty`)
  return { slice: slice || 'system.slice', prefix, name }
}

/** "prefix-name.scope", or the name itself when it already names a slice. */
export function unitName(u: SystemdUnit): string {
  if (u.name.endsWith('.slice')) return u.name
  return u.prefix ? `${u.prefix}-${u.name}.scope` : `${u.name}.scope`
}

/** systemd's slice nesting: "a-b.slice" -> "/a.slice/a-b.slice"; "-.slice" is the root. */
export function expandSlice(slice: string): string {
  const bad = () => cgroupError('linux.cgroupsPath', `invalid slice name: ${slice}`)
  if (!slice.endsWith('.slice') || slice.length <= '.slice'.length || slice.includes('/')) throw bad()
  const base = slice.slice(0, -'.slice'.length)
  if (base === '-') return '/'
  let out = ''
  let prefix = ''
  for (const part of base.split('-')) {
    if (!part) throw bad()
    out += `/${prefix}${part}.slice`
    prefix += `${part}-`
  }
  return out
}

/** The unit's cgroup path below a hierarchy's root: "/system.slice/runt-abc.scope". */
export function unitCgroupPath(u: SystemdUnit): string {
  const parent = expandSlice(u.slice)
  return (parent === '/' ? '' : parent) + '/' + unitName(u)
}

/** sd_booted(3): systemd is the init system when /run/systemd/system is a directory. */
export function systemdRunning(marker = '/run/systemd/system'): boolean {
  try {
    return fs.statSync(marker).isDirectory()
  } catch {
    return false
  }
}

/**
 * The systemd driver: the unit's cgroup is managed through the cgroupfs driver `fsm` (built for
 * unitCgroupPath); only creation and removal go through systemd.
 */
export class SystemdManager implements CgroupManager {
  readonly kind = 'systemd'
  constructor(
    readonly unit: SystemdUnit,
    private fsm: CgroupManager,
    private running: () => boolean = () => systemdRunning(),
  ) {}

  create(): boolean {
    if (!this.running())
      throw cgroupError(
        '',
        `--systemd-cgroup: systemd is not running on this host (/run/systemd/system does not exist); run without --systemd-cgroup to use the cgroupfs driver`,
      )
    throw cgroupError(
      '',
      `--systemd-cgroup: creating the transient unit ${unitName(this.unit)} in ${this.unit.slice} over D-Bus is not implemented yet; run without --systemd-cgroup`,
    )
  }

  paths(): Record<string, string> {
    return this.fsm.paths()
  }
  removeCreated(): void {
    this.fsm.removeCreated()
  }
  apply(r: LinuxResources, opts: ApplyOptions): void {
    this.fsm.apply(r, opts)
  }
  addPid(pid: number): void {
    this.fsm.addPid(pid)
  }
  pids(): number[] {
    return this.fsm.pids()
  }
  freeze(): void {
    this.fsm.freeze()
  }
  thaw(): void {
    this.fsm.thaw()
  }
  isFrozen(): boolean {
    return this.fsm.isFrozen()
  }
  stats(): Stats {
    return this.fsm.stats()
  }
  oomKills(): bigint | null {
    return this.fsm.oomKills()
  }
  killAll(): boolean {
    return this.fsm.killAll()
  }
  destroy(): void {
    this.fsm.destroy()
  }
  exists(): boolean {
    return this.fsm.exists()
  }
}

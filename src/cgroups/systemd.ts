// The systemd cgroup driver (--systemd-cgroup): cgroupsPath "slice:prefix:name" names a
// transient scope unit "prefix-name.scope" in "slice", which systemd creates (over D-Bus,
// StartTransientUnit with Delegate=yes and the init's pid) and whose cgroup runt then manages
// with the cgroupfs driver. Parsing, naming and the D-Bus calls' arguments are pure; the calls
// go through busctl(1), which every systemd host has (runc links a D-Bus library instead).

import * as fs from 'node:fs'
import { childProcess } from '../sys/child-process.js'
import type { LinuxResources } from '../spec/schema.js'
import { cgroupError, sleepMs } from './fs.js'
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

/** Runs busctl with these arguments; returns its status, stdout and stderr. */
export type BusctlRunner = (args: string[]) => { status: number | null; stdout: string; stderr: string; error?: Error }

const SYSTEMD = ['org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager']

/**
 * busctl arguments for Manager.StartTransientUnit(name, "fail", properties, aux): the scope
 * takes `pid` at once, is delegated (systemd leaves its cgroup's contents to runt) and has no
 * default dependencies, as runc's scopes.
 */
export function startUnitArgs(u: SystemdUnit, pid: number, description: string): string[] {
  const props: string[][] = [
    ['Description', 's', description],
    ['Slice', 's', u.slice],
    ['Delegate', 'b', 'true'],
    ['DefaultDependencies', 'b', 'false'],
    ['PIDs', 'au', '1', String(pid)],
  ]
  return [
    'call',
    '--system',
    ...SYSTEMD,
    'StartTransientUnit',
    'ssa(sv)a(sa(sv))',
    unitName(u),
    'fail',
    String(props.length),
    ...props.flat(),
    '0',
  ]
}

/** busctl arguments for Manager.StopUnit(name, "replace"). */
export function stopUnitArgs(u: SystemdUnit): string[] {
  return ['call', '--system', ...SYSTEMD, 'StopUnit', 'ss', unitName(u), 'replace']
}

const realBusctl: BusctlRunner = (args) => {
  const r = childProcess().spawnSync('busctl', args, { encoding: 'utf8', timeout: 30_000 })
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ...(r.error ? { error: r.error } : {}) }
}

/** Stop a scope unit; an error names the unit and busctl's reason. */
export function stopUnit(u: SystemdUnit, busctl: BusctlRunner = realBusctl): void {
  busctlCall(busctl, stopUnitArgs(u), 'StopUnit', u)
}

function busctlCall(busctl: BusctlRunner, args: string[], what: string, u: SystemdUnit): void {
  const r = busctl(args)
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : r.stderr.trim() || `busctl exited with status ${r.status}`
    throw cgroupError('', `--systemd-cgroup: ${what} ${unitName(u)}: ${why}`)
  }
}

/** Whether /proc/<pid>/cgroup puts `pid` in the unit (any hierarchy line ending in its path). */
export function inUnit(procCgroup: string, u: SystemdUnit): boolean {
  const want = unitCgroupPath(u)
  return procCgroup.split('\n').some((l) => l.slice(l.indexOf(':', l.indexOf(':') + 1) + 1) === want)
}

/**
 * The systemd driver: the unit's cgroup is managed through the cgroupfs driver `fsm` (built for
 * unitCgroupPath); only creation and removal go through systemd.
 */
export class SystemdManager implements CgroupManager {
  readonly kind = 'systemd'
  private started = false
  constructor(
    readonly unit: SystemdUnit,
    private fsm: CgroupManager,
    private running: () => boolean = () => systemdRunning(),
    private busctl: BusctlRunner = realBusctl,
    private procCgroup: (pid: number) => string = (pid) => fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'),
    private sleep: (ms: number) => void = sleepMs,
  ) {}

  /**
   * The directories first (empty, so the cgroupfs driver's reuse rules hold; systemd adopts an
   * existing directory), then the scope with `pid` in it, waiting until systemd has moved it.
   */
  create(pid?: number): boolean {
    if (!this.running())
      throw cgroupError(
        '',
        `--systemd-cgroup: systemd is not running on this host (/run/systemd/system does not exist); run without --systemd-cgroup to use the cgroupfs driver`,
      )
    if (pid === undefined) throw cgroupError('', '--systemd-cgroup: a scope unit needs the pid it is made for')
    const owned = this.fsm.create()
    try {
      busctlCall(this.busctl, startUnitArgs(this.unit, pid, `runt container ${this.unit.name}`), 'StartTransientUnit', this.unit)
      this.started = true
      for (let i = 0; ; i++) {
        let text = ''
        try {
          text = this.procCgroup(pid)
        } catch {
          /* the pid is gone: the caller finds out */
        }
        if (inUnit(text, this.unit)) break
        if (i >= 500)
          throw cgroupError('', `--systemd-cgroup: systemd did not move pid ${pid} into ${unitName(this.unit)} within 10 s`)
        this.sleep(20)
      }
    } catch (e) {
      this.removeCreated()
      throw e
    }
    return owned
  }

  paths(): Record<string, string> {
    return this.fsm.paths()
  }
  /** Undo create(): the scope only if this manager started it. */
  removeCreated(): void {
    if (this.started) this.stop()
    this.fsm.removeCreated()
  }

  /** Stop the scope; gone already is fine (systemd also stops an empty scope itself). */
  private stop(): void {
    this.started = false
    try {
      stopUnit(this.unit, this.busctl)
    } catch {
      /* already gone */
    }
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
    this.stop() // whoever started it, the unit goes
    this.fsm.destroy()
  }
  exists(): boolean {
    return this.fsm.exists()
  }
}

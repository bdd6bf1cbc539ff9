// linux.intelRdt (config-linux.md "IntelRdt", runtime-spec 1.3): the container's resctrl group.
// planIntelRdt decides, reading only the resctrl root's info/ directory, and refuses what the
// host cannot do before anything exists; applyIntelRdt makes or joins the group, writes the
// schemata and adds the init; destroyIntelRdt removes what runt made. Every file operation goes
// through the CgroupFs seam, so tests drive it against a temp-dir tree.

import * as fs from 'node:fs'
import * as path from 'node:path'
import { RuntimeError, errnoCode, errnoText } from '../errors.js'
import { parseMountInfo } from '../plan/mountinfo.js'
import { closIdProblem, type LinuxIntelRdt } from '../spec/schema.js'
import type { ContainerRecord } from '../state/store.js'
import { realFs, type CgroupFs } from './fs.js'

/** Where the kernel offers resctrl; runc looks there first (statfs), then in mountinfo. */
export const DEFAULT_RESCTRL = '/sys/fs/resctrl'

/** The resctrl mount point in this mountinfo text, or null when none is mounted. */
export function findResctrl(mountinfo: string): string | null {
  const mounts = parseMountInfo(mountinfo).filter((m) => m.fsType === 'resctrl')
  return (mounts.find((m) => m.mountPoint === DEFAULT_RESCTRL) ?? mounts[0])?.mountPoint ?? null
}

/** The resctrl mount in runt's mount namespace (the spec's "runtime mount namespace"). */
export function probeResctrl(): string | null {
  try {
    return findResctrl(fs.readFileSync('/proc/self/mountinfo', 'utf8'))
  } catch {
    return null
  }
}

export function rdtError(field: string, message: string): RuntimeError {
  return new RuntimeError(`${field}: ${message}`, 'ERDT')
}

/** One line for a group's `schemata` file and the spec field it came from. */
export type SchemaLine = { field: string; line: string }

export type RdtPlan = {
  root: string
  /** The CTRL_MON group: root/<closID>, the root itself for closID "/", else root/<id>. */
  group: string
  /** Named by closID: joined if it exists, never removed. */
  named: boolean
  /** l3CacheSchema, memBwSchema, then schemata, in the spec's order. */
  lines: SchemaLine[]
  /** root/.../mon_groups/<id> when enableMonitoring. */
  monGroup?: string
}

/** What state.json keeps, so that exec joins the group and delete removes what runt made. */
export type RdtRecord = NonNullable<ContainerRecord['intelRdt']>

/** "L3:0=7f0;1=1f" -> "L3"; null when the line has no resource name. */
function resourceOf(line: string): string | null {
  const i = line.indexOf(':')
  const name = i > 0 ? line.slice(0, i).trim() : ''
  return /^[A-Za-z0-9_]+$/.test(name) ? name : null
}

/**
 * Decide the group and the lines to write; refuse, naming the field, what this host cannot
 * do: no resctrl mounted (runc 1.4: "intelRdt is specified in config, but Intel RDT is not
 * enabled", whatever the fields), a resource the kernel does not offer (runc checks info/L3 and
 * info/MB; every schemata line is checked the same way), monitoring without a *_MON resource.
 */
export function planIntelRdt(rdt: LinuxIntelRdt, id: string, root: string | null, io: CgroupFs = realFs): RdtPlan {
  if (root === null)
    throw rdtError(
      'linux.intelRdt',
      'intelRdt is specified in config, but Intel RDT is not enabled: no resctrl file system is mounted (see /proc/self/mountinfo)',
    )
  const info = path.join(root, 'info')
  const offered = (res: string) => io.exists(path.join(info, res))
  const lines: SchemaLine[] = []
  if (rdt.l3CacheSchema) {
    if (!offered('L3'))
      throw rdtError('linux.intelRdt.l3CacheSchema', `Intel RDT/CAT is not enabled: ${path.join(info, 'L3')} does not exist`)
    lines.push({ field: 'linux.intelRdt.l3CacheSchema', line: rdt.l3CacheSchema })
  }
  if (rdt.memBwSchema) {
    if (!offered('MB'))
      throw rdtError('linux.intelRdt.memBwSchema', `Intel RDT/MBA is not enabled: ${path.join(info, 'MB')} does not exist`)
    lines.push({ field: 'linux.intelRdt.memBwSchema', line: rdt.memBwSchema })
  }
  ;(rdt.schemata ?? []).forEach((line, i) => {
    const field = `linux.intelRdt.schemata[${i}]`
    if (line.trim() === '') return
    const res = resourceOf(line)
    if (res === null) throw rdtError(field, `${JSON.stringify(line)} is not a schemata line (RESOURCE:ID=VALUE;...)`)
    if (!offered(res))
      throw rdtError(field, `the kernel offers no resctrl resource ${res}: ${path.join(info, res)} does not exist`)
    lines.push({ field, line })
  })
  const closID = rdt.closID === '' ? undefined : rdt.closID
  // validate.ts refuses these first; the group must stay one level below the root.
  const closIdIssue = closID === undefined ? null : closIdProblem(closID)
  if (closIdIssue) throw rdtError('linux.intelRdt.closID', closIdIssue)
  const plan: RdtPlan = {
    root,
    group: closID === '/' ? root : path.join(root, closID ?? id),
    named: closID !== undefined,
    lines,
  }
  // runtime-spec 1.2's enableCMT / enableMBM, replaced in 1.3 by enableMonitoring, still come
  // from 1.2 generators: each asks for the container's monitoring group as enableMonitoring
  // does, and for its own event (runc 1.2: llc_occupancy, mbm_total_bytes in
  // info/L3_MON/mon_features).
  const events: [string, string | null][] = []
  if (rdt.enableMonitoring) events.push(['linux.intelRdt.enableMonitoring', null])
  if (rdt.enableCMT) events.push(['linux.intelRdt.enableCMT', 'llc_occupancy'])
  if (rdt.enableMBM) events.push(['linux.intelRdt.enableMBM', 'mbm_total_bytes'])
  if (events.length) {
    let mon: string[] = []
    try {
      mon = io.subdirs(info).filter((d) => d.endsWith('_MON'))
    } catch {
      /* no info/: no monitoring either */
    }
    const features = (() => {
      try {
        return io
          .read(path.join(info, 'L3_MON', 'mon_features'))
          .split('\n')
          .map((l) => l.trim())
      } catch {
        return []
      }
    })()
    for (const [field, event] of events) {
      if (!mon.length) throw rdtError(field, `resctrl monitoring is not available: no ${path.join(info, '*_MON')}`)
      if (event && !features.includes(event))
        throw rdtError(field, `the kernel does not monitor ${event}: not in ${path.join(info, 'L3_MON', 'mon_features')}`)
    }
    plan.monGroup = path.join(plan.group, 'mon_groups', id)
  }
  return plan
}

/** resource -> domain -> value, as a `schemata` file or a set of lines say it. */
type Schemata = Map<string, Map<string, string>>

/** Parse a schemata line into `into`; false for one that is not RESOURCE:ID=VALUE;... */
function parseLine(line: string, into: Schemata): boolean {
  const res = resourceOf(line)
  if (res === null) return false
  const doms = into.get(res) ?? new Map<string, string>()
  for (const part of line.slice(line.indexOf(':') + 1).split(';')) {
    if (part.trim() === '') continue
    const eq = part.indexOf('=')
    if (eq <= 0) return false
    doms.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim())
  }
  into.set(res, doms)
  return true
}

/** The kernel prints masks and percentages its own way ("007f0", "7F0"): compare the numbers. */
function sameValue(a: string, b: string): boolean {
  const norm = (v: string) => v.toLowerCase().replace(/^0+(?=.)/, '')
  return norm(a) === norm(b)
}

/**
 * config-linux.md: a group named by closID that exists is joined, and its schemata must match
 * what the config asks for (runc 1.4 writes them instead; its comment calls the check a TODO).
 * Only the resources and domains the config names are compared.
 */
export function checkSchemata(group: string, current: string, lines: SchemaLine[]): void {
  const have: Schemata = new Map()
  for (const l of current.split('\n')) if (l.trim()) parseLine(l, have)
  for (const { field, line } of lines) {
    const want: Schemata = new Map()
    if (!parseLine(line, want)) throw rdtError(field, `${JSON.stringify(line)} is not a schemata line (RESOURCE:ID=VALUE;...)`)
    for (const [res, doms] of want)
      for (const [dom, value] of doms) {
        const got = have.get(res)?.get(dom)
        if (got === undefined || !sameValue(got, value))
          throw rdtError(
            field,
            `the existing resctrl group ${group} has ${res}:${dom}=${got ?? '(none)'}, not ${value}: a group named by closID is joined as it is, never rewritten`,
          )
      }
  }
}

export type AppliedRdt = {
  record: RdtRecord
  /** Undo a failed create: remove what this apply made. */
  undo(): void
}

/** Builds errors with the kernel's own words (info/last_cmd_status) appended. */
class Resctrl {
  constructor(
    readonly root: string,
    readonly io: CgroupFs,
  ) {}

  error(field: string, what: string, e: unknown): RuntimeError {
    let status = ''
    try {
      status = this.io.read(path.join(this.root, 'info', 'last_cmd_status')).trim()
    } catch {
      /* an old kernel has no last_cmd_status */
    }
    return rdtError(field, `${what}: ${errnoText(e)}${status && status !== 'ok' ? ` (last_cmd_status: ${status})` : ''}`)
  }

  isGroup(dir: string): boolean {
    return this.io.exists(path.join(dir, 'tasks'))
  }

  /** mkdir; false when it exists already. */
  mkdir(field: string, dir: string): boolean {
    try {
      this.io.mkdir(dir)
      return true
    } catch (e) {
      if (errnoCode(e) === 'EEXIST') return false
      throw this.error(field, `create resctrl group ${dir}`, e)
    }
  }

  addTask(field: string, dir: string, pid: number): void {
    const file = path.join(dir, 'tasks')
    try {
      this.io.write(file, String(pid))
    } catch (e) {
      throw this.error(field, `add pid ${pid} to ${file}`, e)
    }
  }

  /** One line per write(2), so a rejected line is named by its own field. */
  writeLines(dir: string, lines: SchemaLine[]): void {
    const file = path.join(dir, 'schemata')
    for (const { field, line } of lines) {
      try {
        this.io.write(file, line + '\n')
      } catch (e) {
        throw this.error(field, `write ${JSON.stringify(line)} to ${file}`, e)
      }
    }
  }

  tasks(dir: string): number[] {
    try {
      return this.io
        .read(path.join(dir, 'tasks'))
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map(Number)
    } catch {
      return []
    }
  }

  /** rmdir; a group already gone is fine. The kernel moves any task left to the parent group. */
  remove(dir: string): void {
    try {
      this.io.rmdir(dir)
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw this.error('linux.intelRdt', `remove resctrl group ${dir}`, e)
    }
  }
}

/**
 * Put `pid` (the not yet running init) in the planned group. The group is created unless it
 * exists (it is then joined: a group named by closID must match the config, one named after
 * the container is rewritten); a closID without schemata names a group that must exist. The
 * lines are written before the pid is added, the monitoring group is made last (its tasks
 * must already be in its parent). `beforeCreate` is told the record before anything is made,
 * so that a create killed in this step can be undone by `delete --force`.
 * resctrl `tasks` moves one thread: the init's main thread, which later execs the user
 * process; its other threads end at that execve.
 */
export function applyIntelRdt(
  plan: RdtPlan,
  pid: number,
  o: { io?: CgroupFs; beforeCreate?: (rec: RdtRecord) => void } = {},
): AppliedRdt {
  const r = new Resctrl(plan.root, o.io ?? realFs)
  const existed = r.io.exists(plan.group)
  const record: RdtRecord = {
    root: plan.root,
    path: plan.group,
    owned: !existed && !plan.named,
    written: !(existed && plan.named),
  }
  if (plan.monGroup) record.monPath = plan.monGroup
  o.beforeCreate?.(record)
  let madeGroup = false
  let madeMon = false
  const undo = () => {
    if (madeMon) r.remove(plan.monGroup!)
    // A closID group made here may have been joined meanwhile by another container: kept then
    // (a task of this container's is the init, or a process it left that dies with it).
    if (madeGroup && (!plan.named || r.tasks(plan.group).every((t) => t === pid))) r.remove(plan.group)
  }
  try {
    if (!existed) {
      if (plan.named && !plan.lines.length)
        throw rdtError(
          'linux.intelRdt.closID',
          `resctrl group ${plan.group} does not exist: a closID without l3CacheSchema, memBwSchema or schemata must name a group made beforehand`,
        )
      madeGroup = r.mkdir('linux.intelRdt', plan.group)
      if (!madeGroup) {
        // Made by someone else since the check above.
        record.owned = false
        record.written = !plan.named
        o.beforeCreate?.(record)
      }
    }
    if (!r.isGroup(plan.group))
      throw rdtError(
        plan.named ? 'linux.intelRdt.closID' : 'linux.intelRdt',
        `${plan.group} is not a resctrl group (it has no tasks file)`,
      )
    if (!record.written) {
      if (plan.lines.length) {
        let current: string
        try {
          current = r.io.read(path.join(plan.group, 'schemata'))
        } catch (e) {
          throw r.error('linux.intelRdt.closID', `read ${path.join(plan.group, 'schemata')}`, e)
        }
        checkSchemata(plan.group, current, plan.lines)
      }
    } else r.writeLines(plan.group, plan.lines)
    r.addTask('linux.intelRdt', plan.group, pid)
    if (plan.monGroup) {
      const field = 'linux.intelRdt.enableMonitoring'
      madeMon = r.mkdir(field, plan.monGroup)
      if (!madeMon) {
        delete record.monPath
        throw rdtError(field, `monitoring group ${plan.monGroup} exists already: it is not this container's own`)
      }
      r.addTask(field, plan.monGroup, pid)
    }
  } catch (e) {
    try {
      undo()
    } catch {
      /* the first error is the one to report */
    }
    throw e
  }
  return { record, undo }
}

/** An exec'd process joins the container's group (and its monitoring group), as in runc. */
export function joinIntelRdt(rec: RdtRecord, pid: number, io: CgroupFs = realFs): void {
  const r = new Resctrl(rec.root, io)
  // A group gone since create (resctrl remounted, or removed by hand) is skipped, as runc does.
  if (!r.isGroup(rec.path)) return
  r.addTask('linux.intelRdt', rec.path, pid)
  if (rec.monPath && r.isGroup(rec.monPath)) r.addTask('linux.intelRdt.enableMonitoring', rec.monPath, pid)
}

/**
 * `update --l3-cache-schema/--mem-bw-schema`: write the container's lines again (all of them,
 * in the spec's order, as runc does) to a group whose schemata runt wrote at create. A group
 * named by closID that existed was joined as it is, and is not runt's to change.
 */
export function updateIntelRdt(rec: RdtRecord, lines: SchemaLine[], io: CgroupFs = realFs): void {
  if (!rec.written)
    throw rdtError(
      'linux.intelRdt.closID',
      `the container joined the existing resctrl group ${rec.path} as it is: its schemata are not changed by runt`,
    )
  const r = new Resctrl(rec.root, io)
  if (!r.isGroup(rec.path)) throw rdtError('linux.intelRdt', `resctrl group ${rec.path} does not exist any more`)
  r.writeLines(rec.path, lines)
}

/** On delete: the monitoring group, then the group if runt made it (never a closID group). */
export function destroyIntelRdt(rec: RdtRecord, io: CgroupFs = realFs): void {
  const r = new Resctrl(rec.root, io)
  if (rec.monPath) r.remove(rec.monPath)
  if (rec.owned) r.remove(rec.path)
}

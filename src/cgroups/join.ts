// Put a process (an `exec`) into a container's cgroups, or into a sub-cgroup of them named by
// `exec --cgroup [controller[,controller]:]path`, as runc does: the arguments are checked
// against the container's cgroups before anything starts, with runc's texts.

import * as fs from 'node:fs'
import * as path from 'node:path'
import { fsErrorText, RuntimeError } from '../errors.js'
import { ownDir, probeHost, type HostCgroups } from './host.js'
import { realFs, type CgroupFs } from './fs.js'

/** --cgroup values by controller; '' is the single path given with no prefix. */
export function parseSubCgroups(values: string[]): Map<string, string> {
  const out = new Map<string, string>()
  const bad = (msg: string) => new RuntimeError(msg, 'ECGROUPARG')
  for (const v of values) {
    const i = v.indexOf(':')
    if (i < 0) {
      // A bare path means "every controller" and only makes sense alone.
      if (values.length !== 1) throw bad(`invalid --cgroup argument: ${v} (missing <controller>: prefix)`)
      out.set('', v)
      continue
    }
    for (const c of v.slice(0, i).split(',')) {
      if (c === '') throw bad(`invalid --cgroup argument: ${v} (empty <controller> prefix)`)
      if (out.has(c)) throw bad(`invalid --cgroup argument(s): controller ${c} specified multiple times`)
      out.set(c, v.slice(i + 1))
    }
  }
  return out
}

/** `sub` below `base`, or runc's refusal when it climbs out. */
function below(base: string, sub: string): string {
  const target = path.join(base, sub).replace(/(.)\/+$/, '$1')
  if (target !== base && !target.startsWith(base + '/')) throw new RuntimeError(`${sub} is not a sub cgroup path`, 'ECGROUPARG')
  return target
}

/**
 * The cgroup directories an exec joins: the container's own (`paths`, by controller; a cgroup
 * v2 container has the one key ''), with the --cgroup sub-paths applied. A controller the
 * container has no cgroup for is refused. On cgroup v2 only the bare path counts, as in
 * runc: every controller lives in the one directory.
 */
export function execCgroupTargets(
  paths: Record<string, string>,
  values: string[],
): {
  targets: string[]
  ignored: string[]
} {
  const subs = parseSubCgroups(values)
  const all = subs.get('')
  const keys = Object.keys(paths)
  const v2 = keys.length === 1 && keys[0] === ''
  if (v2) {
    const ignored = [...subs.keys()].filter((c) => c !== '')
    return { targets: [all === undefined ? paths['']! : below(paths['']!, all)], ignored }
  }
  const out = { ...paths }
  for (const [ctrl, sub] of subs) {
    if (ctrl === '') continue
    const base = paths[ctrl]
    if (base === undefined) throw new RuntimeError(`unknown controller ${ctrl} in SubCgroupPaths`, 'ECGROUPARG')
    out[ctrl] = below(base, sub)
  }
  if (all !== undefined) for (const ctrl of keys) out[ctrl] = below(paths[ctrl]!, all)
  return { targets: [...new Set(Object.values(out))], ignored: [] }
}

/** Write `pid` into each target's cgroup.procs; runc's "error adding pid" on failure. */
export function joinCgroups(targets: string[], pid: number): void {
  for (const dir of targets) {
    const file = path.join(dir, 'cgroup.procs')
    try {
      fs.writeFileSync(file, String(pid))
    } catch (e) {
      throw new RuntimeError(
        `error adding pid ${pid} to cgroups: failed to write ${pid}: ${fsErrorText(e, 'open', file)}`,
        'ECGROUP',
      )
    }
  }
}

/**
 * Where a process born of this one goes back to after it joined `targets` (the container's
 * cgroup directories): for each, this process's own cgroup in the same hierarchy. Null when a
 * target is in no hierarchy of `host` or our own cgroup is outside the mount's root (the
 * host is itself a container): then the process stays where it is.
 */
export function homeCgroups(host: HostCgroups, targets: string[]): string[] | null {
  const hierarchies = [
    ...host.v1.map((h) => ({ ...h, controller: h.controllers[0]! })),
    ...(host.unified ? [{ ...host.unified, controller: '' }] : []),
  ]
  const out: string[] = []
  for (const dir of targets) {
    const h = hierarchies.find((x) => dir === x.mountPoint || dir.startsWith(x.mountPoint + '/'))
    const home = h && ownDir(host, h, h.controller)
    if (!home) return null
    out.push(home)
  }
  return [...new Set(out)]
}

/**
 * The cgroup.procs of runt's own cgroup, in the v2 hierarchy on a v2 host, else the first v1
 * one (any will do: see warmAttach), or null where it is not below the mount's root.
 */
export function ownProcsFile(host: HostCgroups): string | null {
  const dir =
    host.mode === 'v2'
      ? host.unified && ownDir(host, host.unified, '')
      : host.v1[0] && ownDir(host, host.v1[0], host.v1[0].controllers[0]!)
  return dir ? path.join(dir, 'cgroup.procs') : null
}

/**
 * A write to any cgroup.procs takes the one cgroup_threadgroup_rwsem for writing, and the first
 * such write after a quiet spell waits for an RCU grace period (5-25 ms here); writes that follow
 * within a grace period do not (0.1 ms). The init is moved in only once it has booted, so that
 * wait would land on the critical path of create and exec: until `wait` (up to 4 ms for the init's request)
 * says the init is ready, we write our own pid into our own cgroup, a migration to where we
 * already are, which pays the wait while the init boots. Stops at the first failure (not
 * writable: rootless, a read-only cgroupfs) and after a second at most.
 */
export function warmAttach(wait: (ms: number) => boolean, o: { host?: HostCgroups; io?: CgroupFs; pid?: number } = {}): number {
  const file = ownProcsFile(o.host ?? probeHost())
  if (!file) return 0
  const io = o.io ?? realFs
  const pid = String(o.pid ?? process.pid)
  let writes = 0
  for (let i = 0; i < 250; i++) {
    try {
      io.write(file, pid)
      writes++
    } catch {
      return writes
    }
    if (wait(4)) return writes
  }
  return writes
}

/**
 * Start paying that grace period now, off our thread: the first write waits for it in the
 * runtime's I/O pool while we go on (the clone, the cgroup setup, the bootstrap), and
 * warmAttach's writes then keep it paid until the init asks. Resolves once written, with the
 * file (null: nothing to write to; a failure is ignored, as in warmAttach).
 */
export function warmAttachSoon(o: { host?: HostCgroups; pid?: number } = {}): Promise<string | null> {
  const file = ownProcsFile(o.host ?? probeHost())
  if (!file) return Promise.resolve(null)
  return fs.promises.writeFile(file, String(o.pid ?? process.pid)).then(
    () => file,
    () => null,
  )
}

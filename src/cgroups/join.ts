// Put a process (an `exec`) into a container's cgroups, or into a sub-cgroup of them named by
// `exec --cgroup [controller[,controller]:]path`, as runc does.

import * as fs from 'node:fs'
import * as path from 'node:path'
import type { ContainerRecord } from '../state/store.js'
import { RuntimeError } from '../errors.js'

/** Parse --cgroup values: "path" applies to every controller, "cpu,memory:path" to those. */
export function parseSubCgroups(values: string[]): { all?: string; byController: Record<string, string> } {
  const out: { all?: string; byController: Record<string, string> } = { byController: {} }
  for (const v of values) {
    const i = v.indexOf(':')
    if (i < 0) {
      if (out.all !== undefined) throw new RuntimeError('--cgroup: only one path for all controllers may be given', 'ECGROUPARG')
      out.all = v
      continue
    }
    for (const c of v.slice(0, i).split(',')) out.byController[c] = v.slice(i + 1)
  }
  return out
}

export function joinCgroup(rec: ContainerRecord, pid: number, sub: string[] = []): void {
  const subs = parseSubCgroups(sub)
  for (const [ctrl, dir] of Object.entries(rec.cgroupPaths)) {
    const rel = subs.byController[ctrl] ?? subs.all
    let target = dir
    if (rel) {
      target = path.join(dir, rel)
      if (!target.startsWith(dir + '/') && target !== dir)
        throw new RuntimeError(`--cgroup: ${rel} is outside the container's cgroup`, 'ECGROUPARG')
    }
    try {
      fs.writeFileSync(path.join(target, 'cgroup.procs'), String(pid))
    } catch (e) {
      throw new RuntimeError(`join cgroup ${target}: ${(e as Error).message}`, 'ECGROUP')
    }
  }
}

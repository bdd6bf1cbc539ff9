// Cgroup operations the lifecycle commands need on a recorded container: signal every
// process in it (kill --all, delete --force) and remove the cgroups runt created.

import * as fs from 'node:fs'
import * as path from 'node:path'
import type { ContainerRecord } from '../state/store.js'
import { isAlive } from '../state/status.js'

/** Pids in the container's cgroup (any hierarchy that lists them), deduplicated. */
export function cgroupPids(rec: ContainerRecord): number[] {
  const pids = new Set<number>()
  for (const dir of new Set(Object.values(rec.cgroupPaths))) {
    let text: string
    try {
      text = fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n')) if (line) pids.add(Number(line))
    if (pids.size) break
  }
  return [...pids]
}

/** Signal every process of the container; the init alone when it has no cgroup of its own. */
export function signalAll(rec: ContainerRecord, signal: number): void {
  const pids = cgroupPids(rec)
  if (pids.length === 0 && isAlive(rec.pid, rec.pidStartTime)) pids.push(rec.pid)
  for (const pid of pids) {
    try {
      process.kill(pid, signal)
    } catch {
      /* exited meanwhile */
    }
  }
}

/** Remove the cgroup directories runt created for this container. */
export function destroyCgroups(rec: ContainerRecord): void {
  if (!rec.cgroupOwned) return
  for (const dir of new Set(Object.values(rec.cgroupPaths))) {
    try {
      fs.rmdirSync(dir)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    }
  }
}

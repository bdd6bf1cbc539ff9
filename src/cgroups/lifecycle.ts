// Cgroup operations the lifecycle commands need on a recorded container: every pid in its
// cgroup, a signal to all of them (kill --all, delete --force), and removal of the cgroups
// runt created once the processes are gone (and the resctrl groups, cgroups/intelrdt.ts).

import type { ContainerRecord } from '../state/store.js'
import { isAlive } from '../state/status.js'
import { logger } from '../log.js'
import { sleepMs } from './fs.js'
import { managerFromRecord, newManager } from './open.js'
import { probeHost } from './host.js'
import { realBpf } from './devices/bpf-ops.js'
import { parseSystemdPath, stopUnit } from './systemd.js'
import { destroyIntelRdt } from './intelrdt.js'

/** Pids in the container's cgroup and its sub-cgroups. */
export function cgroupPids(rec: ContainerRecord): number[] {
  const m = managerFromRecord(rec)
  if (!m || !m.exists()) return []
  return m.pids()
}

function kill(pid: number, signal: number): void {
  try {
    process.kill(pid, signal)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') logger().warn(`kill ${pid}: ${(e as Error).message}`)
  }
}

/**
 * Signal every process of the container; the init alone when it has no cgroup. The cgroup is
 * frozen while the pids are read and signalled, so none can fork away unseen; SIGKILL uses
 * cgroup.kill where the kernel has it. A paused container stays paused, except after SIGKILL
 * (v1's frozen tasks only die once thawed).
 */
export function signalAll(rec: ContainerRecord, signal: number): void {
  const m = managerFromRecord(rec)
  if (!m || !m.exists()) {
    if (isAlive(rec.pid, rec.pidStartTime)) kill(rec.pid, signal)
    return
  }
  const wasFrozen = m.isFrozen()
  if (signal === 9 && m.killAll()) {
    if (wasFrozen) m.thaw()
    return
  }
  if (!wasFrozen) {
    try {
      m.freeze()
    } catch (e) {
      logger().warn((e as Error).message)
    }
  }
  try {
    for (const pid of m.pids()) kill(pid, signal)
  } finally {
    if (!wasFrozen || signal === 9) {
      try {
        m.thaw()
      } catch (e) {
        logger().warn((e as Error).message)
      }
    }
  }
}

/**
 * Kill what is left in the container's cgroup (processes outside a private pid namespace can
 * outlive the init) and remove the cgroups runt created, on every hierarchy; then its resctrl
 * monitoring group, and its resctrl group if runt made it.
 */
export function destroyCgroups(rec: ContainerRecord): void {
  try {
    destroyOwnCgroups(rec)
  } finally {
    if (rec.intelRdt) destroyIntelRdt(rec.intelRdt)
  }
}

function destroyOwnCgroups(rec: ContainerRecord): void {
  const m = managerFromRecord(rec)
  if (!m || !m.exists()) return
  if (m.pids().length) {
    signalAll(rec, 9)
    for (let i = 0; i < 100 && m.pids().length; i++) sleepMs(20)
  }
  if (rec.systemdCgroup) stopScope(rec)
  if (rec.cgroupOwned) m.destroy()
}

/** --systemd-cgroup: stop the container's scope (systemd would stop the empty one anyway). */
function stopScope(rec: ContainerRecord): void {
  const linux = (rec.config as { linux?: { cgroupsPath?: string } } | undefined)?.linux
  try {
    stopUnit(parseSystemdPath(linux?.cgroupsPath, rec.id))
  } catch (e) {
    // Usually gone already: systemd stops and unloads a scope once it is empty.
    if (!/not loaded|NoSuchUnit/.test((e as Error).message))
      logger().warn(`stop the systemd scope of ${rec.id}: ${(e as Error).message}`)
  }
}

/**
 * Where a container with this id and no linux.cgroupsPath has its cgroups: to find what
 * belongs to a container whose state.json is lost or broken.
 */
export function defaultCgroupPaths(id: string): Record<string, string> {
  return newManager({ id, cgroupsPath: undefined, systemd: false, host: probeHost(), bpf: realBpf }).paths()
}

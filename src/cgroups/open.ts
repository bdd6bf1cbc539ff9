// Which cgroup manager: for a new container, by the host's mode (v1 and hybrid: cgroupfs v1;
// unified: cgroupfs v2; --systemd-cgroup: systemd over either) and its cgroupsPath; for an
// existing one, from the paths recorded in its state. Host facts and the file layer are
// parameters, so tests build managers over temp-dir trees.

import * as fs from 'node:fs'
import type { ContainerRecord } from '../state/store.js'
import { cgroupError, realFs, type CgroupFs } from './fs.js'
import type { HostCgroups } from './host.js'
import type { CgroupManager } from './manager.js'
import { locate, v1Dir, v2Dir, type CgroupLocation } from './path.js'
import { parseSystemdPath, SystemdManager, unitCgroupPath } from './systemd.js'
import { V1Manager, type V1Layout } from './v1/manager.js'
import { V2Manager } from './v2/manager.js'
import { hugePageSizes } from './convert.js'
import type { BpfOps } from './devices/apply.js'

export type ManagerOptions = {
  id: string
  cgroupsPath?: string | undefined
  systemd: boolean
  host: HostCgroups
  io?: CgroupFs
  bpf?: () => BpfOps
  hugePageSizes?: () => string[]
  systemdRunning?: () => boolean
}

/** Page sizes the host supports ("2MB", "1GB"), as hugetlb files name them. */
export function hostHugePageSizes(): string[] {
  try {
    return hugePageSizes(fs.readdirSync('/sys/kernel/mm/hugepages'))
  } catch {
    return []
  }
}

export function newManager(o: ManagerOptions): CgroupManager {
  if (o.systemd) {
    const unit = parseSystemdPath(o.cgroupsPath, o.id)
    return new SystemdManager(unit, fsManager(o, { inner: unitCgroupPath(unit), absolute: true }), o.systemdRunning)
  }
  return fsManager(o, locate(o.cgroupsPath, o.id))
}

function fsManager(o: ManagerOptions, loc: CgroupLocation): CgroupManager {
  const io = o.io ?? realFs
  const huge = o.hugePageSizes ?? hostHugePageSizes
  const host = o.host
  switch (host.mode) {
    case 'v2': {
      const opts: ConstructorParameters<typeof V2Manager>[2] = { io, hugePageSizes: huge }
      if (o.bpf) opts.bpf = o.bpf
      return new V2Manager(host.unified!.mountPoint, v2Dir(host, loc), opts)
    }
    case 'v1':
    case 'hybrid': {
      const layout: V1Layout = {
        hierarchies: host.v1.map((h) => ({ controllers: h.controllers, mountPoint: h.mountPoint, dir: v1Dir(host, h, loc) })),
      }
      if (host.mode === 'hybrid' && host.unified) layout.unified = { mountPoint: host.unified.mountPoint, dir: v2Dir(host, loc) }
      return new V1Manager(layout, io, huge)
    }
    default:
      throw cgroupError('', 'no cgroup hierarchy is mounted on this host (see /proc/self/mountinfo)')
  }
}

/** The manager of a recorded container, or null if it has no cgroup. */
export function managerFromRecord(rec: Pick<ContainerRecord, 'cgroupPaths'>, io: CgroupFs = realFs): CgroupManager | null {
  const p = rec.cgroupPaths ?? {}
  const keys = Object.keys(p)
  if (keys.length === 0) return null
  if (keys.length === 1 && p[''] !== undefined) return new V2Manager(p[''], p[''], { io, hugePageSizes: hostHugePageSizes })
  return V1Manager.fromPaths(p, io, hostHugePageSizes)
}

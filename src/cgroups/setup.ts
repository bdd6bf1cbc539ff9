// The cgroup step of `create`: validate the device rules, create the container's cgroup, apply
// linux.resources, and move the init into it once the init has booted (attach()), so that
// everything the init does for the container is accounted and limited, and its own start-up is
// not (the cpu and pids limits wait until it has built the container, see below). A failure
// removes whatever this step created.

import type { Spec } from '../spec/schema.js'
import { deviceRules } from './devices/rules.js'
import { probeHost } from './host.js'
import { cgroupError } from './fs.js'
import { warmAttach } from './join.js'
import type { CgroupManager } from './manager.js'
import { newManager } from './open.js'
import { realBpf } from './devices/bpf-ops.js'
import { firstLimit, firstUnwritable } from './rootless.js'

export type CgroupSetup = {
  /** For ContainerRecord.cgroupPaths. */
  paths: Record<string, string>
  /** For ContainerRecord.cgroupOwned: runt created the cgroup and removes it on delete. */
  readonly owned: boolean
  /** Move the init in: once it has booted, before it unshares its cgroup namespace. Once. */
  attach(): void
  /** While the init boots: keep attach() from waiting for an RCU grace period (warmAttach). */
  warm(wait: (ms: number) => boolean): void
  /** Before the runtime hooks (they may read or adjust the limits): the cpu limits. Once. */
  limitCpu(): void
  /** Once the init reported ready: the limits that had to wait (cpu if not yet, pids). */
  finish(): void
  /** Undo on a failed create: SIGKILL what is in the cgroup, then remove what was created. */
  undo(): void
}

export function setupCgroups(o: {
  id: string
  spec: Spec
  systemd: boolean
  pid: number
  manager?: CgroupManager
  /** runc's rootless cgroup manager (cgroups/rootless.ts): no cgroup where none may be made. */
  rootless?: boolean
  /** For the rootless check: whether this caller may make (or join) a cgroup directory. */
  unwritable?: (dirs: string[]) => string | null
  /** Told the paths before anything is made: a create killed in this step can be undone. */
  beforeCreate?: (paths: Record<string, string>) => void
}): CgroupSetup {
  const linux = o.spec.linux
  const rules = deviceRules(linux?.resources?.devices, linux?.devices)
  const mgr =
    o.manager ?? newManager({ id: o.id, cgroupsPath: linux?.cgroupsPath, systemd: o.systemd, host: probeHost(), bpf: realBpf })
  if (o.rootless && mgr.kind !== 'systemd' && !linux?.cgroupsPath) {
    const denied = (o.unwritable ?? firstUnwritable)(Object.values(mgr.paths()))
    if (denied !== null) {
      const limit = firstLimit(linux?.resources)
      if (limit)
        throw cgroupError(
          limit.field,
          `cannot set ${limit.controller} limit: container could not join or create cgroup (rootless: ${denied} may not be created by uid ${process.geteuid?.()})`,
        )
      return noCgroup()
    }
  }
  // Rootless, the device rules are not enforced: runc ignores the devices controller's errors
  // then (a v1 devices cgroup or a v2 BPF program needs host privilege).
  const devices = o.rootless ? null : rules
  // pids.max counts threads, and the init is a Bun process that needs about eight of its own
  // to start: the pids limit waits until the init is ready (finish()). It stops new tasks only;
  // the init's threads are gone at its execve, before the user program runs.
  // The cpu limits wait too, as in runc (which sets every limit only once its init has built
  // the rootfs): under a Kubernetes-sized quota (cpu: 10m, 1 ms per 100 ms) the init's own work
  // would be throttled to seconds. They are in place before the user program runs, and before
  // the prestart and createRuntime hooks, which may look at them.
  const { pids, cpu, ...early } = linux?.resources ?? {}
  let cpuApplied = !cpu
  const limitCpu = () => {
    if (cpuApplied) return
    cpuApplied = true
    mgr.apply({ cpu }, { devices: null, update: false })
  }
  o.beforeCreate?.(mgr.paths())
  // The init is moved in once it has booted: a JavaScript runtime's start-up (10-20 ms of CPU,
  // a few MiB of heap) charged to the container would count against its limits (under a 6 MiB
  // limit the init was OOM-killed) and in its usage, where runc's init costs 12 ms and 2.7 MiB.
  // Memory charged before the move stays where it was charged (v1 without
  // move_charge_at_immigrate, and always on v2). The systemd driver starts the scope with the
  // pid in it, so there all of it waits.
  let owned = false
  let made = false
  const make = (pid?: number) => {
    owned = mgr.create(pid)
    made = true
    try {
      mgr.apply(early, { devices, update: false })
    } catch (e) {
      mgr.removeCreated()
      throw e
    }
  }
  if (mgr.kind !== 'systemd') make()
  let attached = false
  return {
    paths: mgr.paths(),
    get owned() {
      return owned
    },
    warm(wait) {
      if (!made) return
      warmAttach(wait)
    },
    attach() {
      if (attached) return
      attached = true
      if (!made) make(o.pid)
      mgr.addPid(o.pid)
    },
    limitCpu,
    finish() {
      limitCpu()
      if (pids) mgr.apply({ pids }, { devices: null, update: false })
    },
    undo() {
      try {
        for (const pid of mgr.pids()) {
          try {
            process.kill(pid, 'SIGKILL')
          } catch {
            /* gone */
          }
        }
      } finally {
        mgr.removeCreated()
      }
    },
  }
}

/** Rootless without a cgroup of its own: nothing recorded, nothing to do (runc's skipped paths). */
function noCgroup(): CgroupSetup {
  const nothing = () => {}
  return { paths: {}, owned: false, attach: nothing, warm: nothing, limitCpu: nothing, finish: nothing, undo: nothing }
}

// Host facts planConfinement needs, read once on the host side: which LSMs are enabled, the
// runtime's cwd (a relative listenerPath is taken from it, as runc dials it), and whether a
// namespace given by path is the runtime's own. Kept apart so the planner stays pure.

import * as fs from 'node:fs'
import { apparmorEnabled, selinuxEnabled } from './lsm.js'
import type { SysctlNs } from './sysctl.js'

export type ConfineHost = {
  apparmor: boolean
  selinux: boolean
  cwd: string
  /** The namespace at `path` is the one this runtime process is in. */
  isHostNs(type: SysctlNs, path: string): boolean
}

const PROC_NAME: Record<SysctlNs, string> = { ipc: 'ipc', network: 'net', uts: 'uts', user: 'user' }

/** The facts, each read on first use: most configs ask for none (create's start-up cost). */
export function probeHost(): ConfineHost {
  let apparmor: boolean | undefined
  let selinux: boolean | undefined
  return {
    get apparmor() {
      return (apparmor ??= apparmorEnabled())
    },
    get selinux() {
      return (selinux ??= selinuxEnabled())
    },
    cwd: process.cwd(),
    isHostNs(type, path) {
      try {
        const a = fs.statSync(path)
        const b = fs.statSync(`/proc/self/ns/${PROC_NAME[type]}`)
        return a.dev === b.dev && a.ino === b.ino
      } catch {
        // A path that cannot be read is reported by the namespace code, with its field.
        return false
      }
    },
  }
}

// Host facts planConfinement needs, read once on the host side: which LSMs are enabled, the
// runtime's cwd (a relative listenerPath is taken from it, as runc dials it), whether a
// namespace given by path is the runtime's own, and the NUMA nodes with memory. Kept apart so
// the planner stays pure.

import * as fs from 'node:fs'
import { apparmorEnabled, selinuxEnabled } from './lsm.js'
import type { SysctlNs } from './sysctl.js'
import { parseNodeList } from './mempolicy.js'

export type ConfineHost = {
  apparmor: boolean
  selinux: boolean
  cwd: string
  /** The namespace at `path` is the one this runtime process is in. */
  isHostNs(type: SysctlNs, path: string): boolean
  /** The NUMA nodes with memory (N_MEMORY), or null without NUMA support in the kernel. */
  readonly memoryNodes: number[] | null
}

/** /sys/devices/system/node/has_memory, in the kernel's list format ("0-1,3"). */
export function readMemoryNodes(file = '/sys/devices/system/node/has_memory'): number[] | null {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8').trim()
  } catch {
    return null
  }
  try {
    return parseNodeList(text)
  } catch {
    return null
  }
}

const PROC_NAME: Record<SysctlNs, string> = { ipc: 'ipc', network: 'net', uts: 'uts', user: 'user' }

/** The facts, each read on first use: most configs ask for none (create's start-up cost). */
export function probeHost(): ConfineHost {
  let apparmor: boolean | undefined
  let selinux: boolean | undefined
  let memoryNodes: number[] | null | undefined
  return {
    get apparmor() {
      return (apparmor ??= apparmorEnabled())
    },
    get selinux() {
      return (selinux ??= selinuxEnabled())
    },
    get memoryNodes() {
      return memoryNodes === undefined ? (memoryNodes = readMemoryNodes()) : memoryNodes
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

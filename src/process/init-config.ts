// What the parent tells the init stage (the `bootstrap` message): everything the init needs
// to build the container and start its process, decided on the host side. Types, and the
// name of the environment variable that carries the channel's fd.

import type { RootfsPlan } from '../plan/rootfs.js'
import type { NsType } from '../plan/namespaces.js'
import type { Hook } from '../hooks.js'
import type { CapSets } from '../confine/capabilities.js'

export const ENV_SYNC_FD = '_RUNT_SYNC_FD'

export type ProcessConfig = {
  args: string[]
  env: string[]
  cwd: string
  uid: number
  gid: number
  additionalGids: number[]
  umask?: number
  terminal: boolean
  consoleSize?: { height: number; width: number }
  caps: CapSets
  noNewPrivileges: boolean
  /** Everything issue-specific the confinement layer needs (rlimits, seccomp, ...). */
  confine: unknown
}

export type NsExpectation = { type: NsType; proc: string; ino: number; dev: number }

export type InitConfig = {
  mode: 'create' | 'exec'
  id: string
  bundle: string
  rootfs: string
  process: ProcessConfig
  rootfsPlan?: RootfsPlan
  /** Namespaces joined by path: the init checks it is in exactly these. */
  joined: NsExpectation[]
  /** The parent's own namespaces of the types created anew: the init checks it left them. */
  created: NsExpectation[]
  /** A mount namespace the init joins itself (exec, or linux.namespaces mount path). */
  mountNsPath?: string
  cgroupns: boolean
  hostname?: string
  domainname?: string
  sysctl: Record<string, string>
  hooks: { createContainer: Hook[]; startContainer: Hook[]; runtime: boolean }
  /** The OCI state for hook stdin (pid and status are filled in by whoever runs a hook). */
  state: { ociVersion: string; id: string; bundle: string; annotations?: Record<string, string>; pid?: number }
  /** Listening socket (<state>/init.sock) the init accepts `start` on; create only. */
  startFd?: number
  /** Number of fds above stdio that the process inherits (LISTEN_FDS + --preserve-fds). */
  extraFds: number
  noNewKeyring: boolean
  /** CAP_LAST_CAP of the running kernel. */
  lastCap: number
  /** Keep the sync channel open through execve, so the parent learns the exec result. */
  reportExec: boolean
  /**
   * Drop the executable's read-only pages while waiting for start (process/shed.ts). Off under
   * a cpu quota: the start path faults them back in, charged to the container and throttled.
   */
  shed?: boolean
  /** Mounts (by field, e.g. "mounts[3]") whose idmapped tree the parent attaches on request. */
  idmapFields?: string[]
  /**
   * Bind mounts (by field) whose source the parent opened as host root: as many fds follow
   * the bootstrap, in this order (process/bind-sources.ts).
   */
  bindSourceFields?: string[]
  /** Console socket fd, when a terminal is sent to a caller (another module handles it). */
  consoleSocketFd?: number
  debug: boolean
}

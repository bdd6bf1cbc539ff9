// A container's status, derived as runc derives it: paused when its cgroup is frozen; stopped
// when the init pid is gone, a zombie, or a different process (start time differs); created
// while exec.fifo exists; running otherwise. Reads /proc only; no FFI.

import type { ContainerRecord } from './store.js'
import { nodeFs } from '../sys/file.js'

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped'

export type ProcStat = { state: string; ppid: number; startTime: string }

/** Parse /proc/<pid>/stat; the command name may hold spaces and parentheses. */
export function parseProcStat(text: string): ProcStat | null {
  const end = text.lastIndexOf(')')
  if (end < 0) return null
  const fields = text
    .slice(end + 2)
    .trim()
    .split(' ')
  // fields[0] is field 3 (state); start time is field 22.
  const state = fields[0]
  const ppid = fields[1]
  const start = fields[19]
  if (state === undefined || ppid === undefined || start === undefined) return null
  return { state, ppid: Number(ppid), startTime: start }
}

export const procStatPath = (pid: number) => `/proc/${pid}/stat`

export function readProcStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(nodeFs().readFileSync(procStatPath(pid), 'utf8'))
  } catch {
    return null
  }
}

/** True if `pid` is a live (non-zombie) process started at `startTime`. */
export function isAlive(pid: number, startTime: string): boolean {
  return pid > 0 && aliveFrom(readProcStat(pid), startTime)
}

/** The same, from its /proc/<pid>/stat as read (null: gone). */
export function aliveFrom(st: ProcStat | null, startTime: string): boolean {
  if (!st) return false
  if (st.state === 'Z' || st.state === 'X' || st.state === 'x') return false
  return st.startTime === startTime
}

export type StatusProbe = {
  alive(pid: number, startTime: string): boolean
  fifoExists(path: string): boolean
  frozen(rec: ContainerRecord): boolean
}

export function statusOf(rec: ContainerRecord, fifoPath: string, probe: StatusProbe): Status {
  if (!probe.alive(rec.pid, rec.pidStartTime)) return 'stopped'
  if (probe.frozen(rec)) return 'paused'
  if (probe.fifoExists(fifoPath)) return 'created'
  return 'running'
}

/** The OCI state document, shaped and ordered as runc prints it. */
export type OciState = {
  ociVersion: string
  id: string
  pid: number
  status: Status
  bundle: string
  rootfs: string
  created: string
  owner: string
  annotations?: Record<string, string>
}

export function ociState(rec: ContainerRecord, status: Status, owner = ''): OciState {
  const s: OciState = {
    ociVersion: rec.ociVersion,
    id: rec.id,
    pid: status === 'stopped' ? 0 : rec.pid,
    status,
    bundle: rec.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    owner,
  }
  if (rec.annotations && Object.keys(rec.annotations).length) s.annotations = rec.annotations
  return s
}

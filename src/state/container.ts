// Loading a container and deciding its status: the read side shared by every command.
// No FFI here (state and list must stay cheap): the freezer probe reads cgroup files.

import { aliveFrom, isAlive, ociState, parseProcStat, procStatPath, statusOf, type OciState, type Status } from './status.js'
import { Store, type ContainerRecord } from './store.js'
import { freezeFile, frozenFrom, isFrozen } from './frozen.js'
import { nodeFs, pathExists, readTextOrNull } from '../sys/file.js'

export type Loaded = { rec: ContainerRecord; status: Status }

export function statusOfRecord(store: Store, rec: ContainerRecord): Status {
  return statusOf(rec, store.fifoPath(rec.id), {
    alive: isAlive,
    fifoExists: (p) => nodeFs().existsSync(p),
    frozen: isFrozen,
  })
}

export function load(store: Store, id: string): Loaded {
  const rec = store.read(id)
  return { rec, status: statusOfRecord(store, rec) }
}

export function stateOf(store: Store, id: string): OciState {
  const { rec, status } = load(store, id)
  return ociState(rec, status)
}

/**
 * statusOfRecord() for the commands that only read (`state`, `list`): the three files are
 * read at once, without node:fs (sys/file.ts), and the same rules decide.
 */
export async function statusOfRecordShared(store: Store, rec: ContainerRecord): Promise<Status> {
  const fifo = store.fifoPath(rec.id)
  const freeze = freezeFile(rec)
  const [stat, freezeText, fifoThere] = await Promise.all([
    rec.pid > 0 ? readTextOrNull(procStatPath(rec.pid)) : null,
    freeze ? readTextOrNull(freeze.file) : null,
    pathExists(fifo),
  ])
  return statusOf(rec, fifo, {
    alive: (_pid, startTime) => aliveFrom(stat === null ? null : parseProcStat(stat), startTime),
    frozen: () => freeze !== null && frozenFrom(freeze, freezeText),
    fifoExists: () => fifoThere,
  })
}

/** stateOf() for `state`: the record and its status read as statusOfRecordShared() does. */
export async function stateOfShared(store: Store, id: string): Promise<OciState> {
  const rec = await store.readShared(id)
  return ociState(rec, await statusOfRecordShared(store, rec))
}

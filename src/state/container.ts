// Loading a container and deciding its status: the read side shared by every command.
// No FFI here (state and list must stay cheap): the freezer probe reads cgroup files.

import * as fs from 'node:fs'
import { isAlive, ociState, statusOf, type OciState, type Status } from './status.js'
import { Store, type ContainerRecord } from './store.js'
import { isFrozen } from './frozen.js'

export type Loaded = { rec: ContainerRecord; status: Status }

export function statusOfRecord(store: Store, rec: ContainerRecord): Status {
  return statusOf(rec, store.fifoPath(rec.id), {
    alive: isAlive,
    fifoExists: (p) => fs.existsSync(p),
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

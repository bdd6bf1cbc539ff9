// `pause` and `resume`: freeze and thaw a container's cgroup (v1 freezer, v2 cgroup.freeze),
// under the container's lock, with runc's errors. `state` then derives "paused" from the
// frozen cgroup; nothing else is recorded.

import { RuntimeError, StateError, notRunning } from '../errors.js'
import type { Store } from '../state/store.js'
import { lockContainer } from '../state/lock.js'
import { load } from '../state/container.js'
import { managerFromRecord } from '../cgroups/open.js'

function managerOf(rec: Parameters<typeof managerFromRecord>[0]) {
  const m = managerFromRecord(rec)
  if (!m || !m.exists()) throw new RuntimeError('container has no cgroup to freeze', 'ENOCGROUP')
  return m
}

export function pause(store: Store, id: string): void {
  const lock = lockContainer(store, id)
  try {
    const { rec, status } = load(store, id)
    if (status !== 'running' && status !== 'created') throw notRunning()
    managerOf(rec).freeze()
  } finally {
    lock.release()
  }
}

export function resume(store: Store, id: string): void {
  const lock = lockContainer(store, id)
  try {
    const { rec, status } = load(store, id)
    if (status !== 'paused') throw new StateError('container not paused', 'ENOTPAUSED')
    managerOf(rec).thaw()
  } finally {
    lock.release()
  }
}

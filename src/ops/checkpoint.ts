// `checkpoint`: a running or paused container dumped by CRIU, under its lock (process/
// checkpoint.ts). As runc: with neither --leave-running nor --pre-dump the dumped container,
// whose processes CRIU has killed, is destroyed; a failed dump leaves it as it was.

import { StateError } from '../errors.js'
import { dumpContainer } from '../process/checkpoint.js'
import type { CriuFlags } from '../plan/criu.js'
import type { Store } from '../state/store.js'
import { lockContainer } from '../state/lock.js'
import { load } from '../state/container.js'
import { del } from './lifecycle.js'
import { logger } from '../log.js'

export type CheckpointOptions = CriuFlags & { store: Store; id: string }

export function checkpoint(o: CheckpointOptions): void {
  const lock = lockContainer(o.store, o.id)
  try {
    const { rec, status } = load(o.store, o.id)
    if (status === 'created' || status === 'stopped' || status === 'creating')
      throw new StateError(`Container cannot be checkpointed in ${status} state`, 'EBADSTATE')
    dumpContainer(rec, o.store.dir(o.id), o)
  } finally {
    lock.release()
  }
  if (o.leaveRunning || o.preDump) return
  try {
    del(o.store, o.id, true)
  } catch (e) {
    logger().warn((e as Error).message)
  }
}

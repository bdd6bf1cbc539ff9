// `restore`: a container made from a checkpoint (process/restore.ts). Detached, runt leaves
// once the state is written; in the foreground it waits for the restored init as `run` waits
// for its process, and deletes the container when it exits (runc does the same).

import { restoreContainer, type RestoreOptions } from '../process/restore.js'
import { becomeSubreaper, reapOrphans, waitChild } from '../process/wait.js'
import { del } from './lifecycle.js'
import { logger } from '../log.js'

export async function restore(opts: RestoreOptions & { noSubreaper: boolean }): Promise<number> {
  if (!opts.detach && !opts.noSubreaper) becomeSubreaper()
  const { pid } = restoreContainer(opts)
  if (opts.detach) return 0
  try {
    const code = await waitChild(pid, null)
    reapOrphans()
    return code
  } finally {
    try {
      del(opts.store, opts.id, true)
    } catch (e) {
      logger().warn(`delete after restore: ${(e as Error).message}`)
    }
  }
}

// `run`: create, start, and in the foreground wait for the container's process, forwarding
// the signals runt receives and exiting with its status (128+signal when it was killed); with
// a terminal and no console socket, runt's own terminal is attached to the container's pty.
// The container is deleted when it exits, unless --keep.

import { createContainer, type CreateOptions } from '../process/create.js'
import { del, start } from './lifecycle.js'
import { logger } from '../log.js'
import { awaitExec, becomeSubreaper, closeFd, reapOrphans, waitChild } from '../process/wait.js'

export type RunOptions = CreateOptions & { keep: boolean; noSubreaper: boolean }

export async function run(opts: RunOptions): Promise<number> {
  if (opts.detach) {
    createContainer(opts)
    start(opts.store, opts.id)
    return 0
  }
  if (!opts.noSubreaper) becomeSubreaper()
  const created = createContainer({ ...opts, reportExec: true })
  const { rec, pid } = created
  try {
    start(opts.store, opts.id)
    awaitExec(created.channel!, pid)
    const code = await waitChild(pid, created.master)
    reapOrphans()
    return code
  } finally {
    if (created.master !== null) closeFd(created.master)
    if (!opts.keep) {
      try {
        del(opts.store, rec.id, true)
      } catch (e) {
        logger().warn(`delete after run: ${(e as Error).message}`)
      }
    }
  }
}

// `run`: create, start, and in the foreground wait for the container's process, forwarding
// the signals runt receives and exiting with its status (128+signal when it was killed); with
// a terminal and no console socket, runt's own terminal is attached to the container's pty.
// The container is deleted when it exits, unless --keep.

import * as C from '../sys/constants.js'
import { linux as sys } from '../sys/linux.js'
import { fromWire, withContext } from '../errors.js'
import { createContainer, type CreateOptions } from '../process/create.js'
import { del, start } from './lifecycle.js'
import { logger } from '../log.js'
import { reapOrphans, waitChild } from '../process/wait.js'

export type RunOptions = CreateOptions & { keep: boolean; noSubreaper: boolean }

export async function run(opts: RunOptions): Promise<number> {
  if (opts.detach) {
    createContainer(opts)
    start(opts.store, opts.id)
    return 0
  }
  if (!opts.noSubreaper) sys.prctl(C.PR_SET_CHILD_SUBREAPER, 1)
  const created = createContainer({ ...opts, reportExec: true })
  const { rec, pid } = created
  try {
    start(opts.store, opts.id)
    // The channel closes when the init execs (success) or carries its error.
    const msg = created.channel!.recv()
    created.channel!.close()
    if (msg && msg.type === 'error') {
      sys.waitpid(pid, 0)
      throw withContext(fromWire(msg.error), 'unable to start container process')
    }
    const code = await waitChild(pid, created.master)
    reapOrphans()
    return code
  } finally {
    if (created.master !== null) sys.close(created.master)
    if (!opts.keep) {
      try {
        del(opts.store, rec.id, true)
      } catch (e) {
        logger().warn(`delete after run: ${(e as Error).message}`)
      }
    }
  }
}

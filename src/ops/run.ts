// `run`: create, start, and in the foreground wait for the container's process, forwarding
// the signals runt receives and exiting with its status (128+signal when it was killed).
// The container is deleted when it exits, unless --keep.

import * as os from 'node:os'
import * as C from '../sys/constants.js'
import { linux as sys } from '../sys/linux.js'
import { fromWire } from '../errors.js'
import { createContainer, type CreateOptions } from '../process/create.js'
import { del, start } from './lifecycle.js'
import { logger } from '../log.js'

export type RunOptions = CreateOptions & { keep: boolean; noSubreaper: boolean }

// Every signal runt can catch and forward. SIGCHLD is ours; SIGKILL/SIGSTOP cannot be caught;
// SIGBUS/SIGFPE/SIGILL/SIGSEGV are Node's own.
const FORWARD = [
  'SIGHUP',
  'SIGINT',
  'SIGQUIT',
  'SIGTRAP',
  'SIGABRT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGPIPE',
  'SIGALRM',
  'SIGTERM',
  'SIGSTKFLT',
  'SIGCONT',
  'SIGTSTP',
  'SIGTTIN',
  'SIGTTOU',
  'SIGURG',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGVTALRM',
  'SIGPROF',
  'SIGWINCH',
  'SIGIO',
  'SIGPWR',
  'SIGSYS',
] as const

export function exitStatusCode(status: number): number {
  const sig = status & 0x7f
  return sig ? 128 + sig : (status >> 8) & 0xff
}

export async function run(opts: RunOptions): Promise<number> {
  if (opts.detach) {
    createContainer(opts)
    start(opts.store, opts.id)
    return 0
  }
  if (!opts.noSubreaper) sys.prctl(C.PR_SET_CHILD_SUBREAPER, 1)
  const created = createContainer({ ...opts, reportExec: true })
  const { rec, pid } = created
  const pidfd = sys.pidfdOpen(pid)
  const handlers: [string, () => void][] = []
  for (const name of FORWARD) {
    const n = os.constants.signals[name]
    const h = () => {
      try {
        sys.pidfdSendSignal(pidfd, n)
      } catch {
        /* exited */
      }
    }
    try {
      process.on(name, h)
      handlers.push([name, h])
    } catch {
      /* not catchable here */
    }
  }
  try {
    start(opts.store, opts.id)
    // The channel closes when the init execs (success) or carries its error.
    const msg = created.channel!.recv()
    created.channel!.close()
    if (msg && msg.type === 'error') {
      sys.waitpid(pid, 0)
      throw fromWire(msg.error)
    }
    const status = await new Promise<number>((resolve) => {
      const w = sys.onReadable(pidfd, () => {
        w.close()
        const [, st] = sys.waitpid(pid, 0)
        resolve(st)
      })
    })
    // As a subreaper we inherit orphans when there is no pid namespace: reap them.
    try {
      for (;;) {
        const [r] = sys.waitpid(-1, C.WNOHANG)
        if (r <= 0) break
      }
    } catch {
      /* ECHILD */
    }
    return exitStatusCode(status)
  } finally {
    for (const [name, h] of handlers) process.off(name, h)
    sys.close(pidfd)
    if (!opts.keep) {
      try {
        del(opts.store, rec.id, true)
      } catch (e) {
        logger().warn(`delete after run: ${(e as Error).message}`)
      }
    }
  }
}

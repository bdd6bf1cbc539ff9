// Talking to a container's init from outside: release a created one (`start`), signal it
// through a pidfd, wait for it to exit. For ops/lifecycle.ts, which decides when.

import * as fs from 'node:fs'
import * as C from '../sys/constants.js'
import { linux as sys } from '../sys/linux.js'
import { connectUnix } from '../sys/scm.js'
import { RuntimeError, StateError, SysError, TEXT, fromWire, notRunning, withContext } from '../errors.js'
import { isAlive } from '../state/status.js'
import type { ContainerRecord } from '../state/store.js'
import { Channel } from './sync.js'
import { formatDuration, logger, since, trace, tracing } from '../log.js'

/**
 * Tell the init to go, over <state>/init.sock, and wait for its answer: `exec` (its
 * startContainer hooks ran and it is calling execve) or an error. exec.fifo goes away at once,
 * so the container counts as running from here on, as with runc. With --debug the init sends
 * its records for the steps after start, and the exec's is ours: from its `exec` to the EOF
 * its execve makes (the last calls before it cannot be trusted to write anything).
 */
export function releaseInit(socketPath: string, fifoPath: string): void {
  let fd: number
  try {
    fd = connectUnix(socketPath)
  } catch (e) {
    // Nobody accepts: the init is gone.
    if (e instanceof SysError && (e.errnoName === 'ECONNREFUSED' || e.errnoName === 'ENOENT'))
      throw new StateError(TEXT.startStopped, 'ESTOPPED')
    throw e
  }
  const ch = new Channel(fd)
  try {
    ch.send(tracing() ? { type: 'start', debug: true } : { type: 'start' })
    fs.rmSync(fifoPath, { force: true })
    fs.rmSync(socketPath, { force: true })
    let execed = false
    let t0 = 0
    let detail: string | undefined
    for (;;) {
      const msg = ch.recv()
      if (!msg) break
      if (msg.type === 'exec') {
        execed = true
        t0 = performance.now()
        detail = msg.detail
      } else if (msg.type === 'log') logger().log(msg.level, msg.msg)
      else if (msg.type === 'error') throw withContext(fromWire(msg.error), 'unable to start container process')
    }
    if (!execed) throw new RuntimeError('unable to start container process: container init exited', 'EINIT')
    if (detail !== undefined) trace(`exec: ${detail} ${formatDuration(since(t0))}`)
  } finally {
    ch.close()
  }
}

/** Signal the init through a pidfd opened after checking its start time: no pid-reuse race. */
export function signalInit(rec: ContainerRecord, signal: number): void {
  let pidfd: number
  try {
    pidfd = sys.pidfdOpen(rec.pid)
  } catch (e) {
    if (e instanceof SysError && e.errnoName === 'ESRCH') throw notRunning()
    throw e
  }
  try {
    if (!isAlive(rec.pid, rec.pidStartTime)) throw notRunning()
    sys.pidfdSendSignal(pidfd, signal)
  } catch (e) {
    if (e instanceof SysError && e.errnoName === 'ESRCH') throw notRunning()
    throw e
  } finally {
    sys.close(pidfd)
  }
}

/** Wait until `pid` (started at `startTime`) has exited, up to `ms`. */
export function waitGone(pid: number, startTime: string, ms: number): boolean {
  let pidfd: number
  try {
    pidfd = sys.pidfdOpen(pid)
  } catch {
    return true
  }
  try {
    if (!isAlive(pid, startTime)) return true
    const [rev] = sys.poll([{ fd: pidfd, events: C.POLLIN }], ms)
    return (rev! & C.POLLIN) !== 0 || !isAlive(pid, startTime)
  } finally {
    sys.close(pidfd)
  }
}

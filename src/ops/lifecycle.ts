// start, kill and delete on an existing container, under its lock, with runc's error texts
// (engines match on them: "container does not exist", "container not running", ...).

import * as os from 'node:os'
import { StateError, RuntimeError, TEXT, notExist, notRunning } from '../errors.js'
import { releaseInit, signalInit, waitGone } from '../process/control.js'
import { detachSharedRootfs } from '../process/shared-mount.js'
import { Store, validateId, type ContainerRecord } from '../state/store.js'
import { Lock, lockContainer } from '../state/lock.js'
import { isAlive, readProcStat, type Status } from '../state/status.js'
import { load, statusOfRecord } from '../state/container.js'
import { runHooks, type Hook } from '../hooks.js'
import { logger } from '../log.js'
import type { Spec } from '../spec/schema.js'
import { createRequire } from 'node:module'

/**
 * cgroups/lifecycle.js on first use: it brings every cgroup manager (v1, v2, devices, stats,
 * systemd), which `start` and a plain `kill` never need. Bun has `require` in ES modules, and
 * its bundler makes the literal require() of an ES module a chunk loaded at the call; under
 * tsx there is no require, so make one.
 */
function cgroupOps(): typeof import('../cgroups/lifecycle.js') {
  return typeof require === 'function'
    ? (require('../cgroups/lifecycle.js') as typeof import('../cgroups/lifecycle.js'))
    : (createRequire(import.meta.url)('../cgroups/lifecycle.js') as typeof import('../cgroups/lifecycle.js'))
}
const signalAll = (rec: ContainerRecord, signal: number) => cgroupOps().signalAll(rec, signal)
/** What a container leaves on the host: its cgroups, and its mounts if it shared our mount namespace. */
const releaseHost = (rec: ContainerRecord) => {
  // A container in the runtime's mount namespace left its mounts there (process/shared-mount.ts).
  // Failing to detach them leaves them, as runc always does: said, and the cgroups go anyway.
  if (rec.sharedRootfs) {
    try {
      detachSharedRootfs(rec.sharedRootfs, (m) => logger().warn(m))
    } catch (e) {
      logger().warn(`the container's mounts at ${rec.sharedRootfs.mountPoint} are left: ${(e as Error).message}`)
    }
  }
  cgroupOps().destroyCgroups(rec)
}

function hooksOf(rec: ContainerRecord): NonNullable<Spec['hooks']> {
  return (rec.config as Spec).hooks ?? {}
}

function hookState(rec: ContainerRecord, status: Status) {
  const s: Record<string, unknown> = { ociVersion: rec.ociVersion, id: rec.id, status, pid: rec.pid, bundle: rec.bundle }
  if (rec.annotations) s.annotations = rec.annotations
  return s
}

/** Release a created container and run its poststart hooks. */
export function start(store: Store, id: string): void {
  const lock = lockContainer(store, id)
  try {
    const { rec, status } = load(store, id)
    switch (status) {
      case 'created':
        break
      case 'running':
        throw new StateError(TEXT.startRunning, 'ERUNNING')
      case 'stopped':
        throw new StateError(TEXT.startStopped, 'ESTOPPED')
      case 'paused':
        throw new StateError(TEXT.startPaused, 'EPAUSED')
      default:
        throw new StateError(`cannot start a container in the ${status} state`, 'EBADSTATE')
    }
    if (!(rec.config as Spec).process) throw new RuntimeError('cannot start a container that has no process', 'ENOPROCESS')
    releaseInit(store.startSocketPath(id), store.fifoPath(id))
    try {
      runHooks('poststart', hooksOf(rec).poststart as Hook[] | undefined, hookState(rec, 'running'), rec.bundle)
    } catch (e) {
      // runtime-spec 1.3: a failing poststart hook fails start, and the container is stopped.
      try {
        signalAll(rec, 9)
      } catch {
        /* already gone */
      }
      throw e
    }
  } finally {
    lock.release()
  }
}

const SIGNALS: Readonly<Record<string, number>> = os.constants.signals

/**
 * "KILL", "SIGKILL", "kill", "9" -> 9; runc's error text otherwise. 0 is accepted, as runc
 * does: it checks that the container is running without signalling it.
 */
export function parseSignal(s: string): number {
  if (/^\d+$/.test(s)) {
    const n = Number(s)
    if (n > 64) throw new RuntimeError(`invalid signal number ${s}`, 'ESIGNAL')
    return n
  }
  const up = s.toUpperCase()
  const name = up.startsWith('SIG') ? up : 'SIG' + up
  const rt = /^SIGRTMIN(\+(\d+))?$/.exec(name) ?? /^SIGRTMAX(-(\d+))?$/.exec(name)
  if (rt) {
    const off = Number(rt[2] ?? 0)
    const n = name.startsWith('SIGRTMIN') ? 34 + off : 64 - off
    if (n >= 34 && n <= 64) return n
  }
  const n = SIGNALS[name]
  if (n === undefined) throw new RuntimeError(`unknown signal "${s}"`, 'ESIGNAL')
  return n
}

export function kill(store: Store, id: string, signal: number, all: boolean): void {
  const lock = lockContainer(store, id)
  try {
    const { rec, status } = load(store, id)
    // --all signals whatever is left in the cgroup even once the init is gone, and is not an
    // error on a stopped container (runc 1.1 and 1.2+ alike): containerd's shim sends
    // `kill --all ID 9` after the init exits when the container shares the host's pid
    // namespace (docker run --pid host), and logs "OCI runtime killall failed" otherwise.
    if (all) {
      signalAll(rec, signal)
      return
    }
    if (status === 'stopped') throw notRunning()
    signalInit(rec, signal)
  } finally {
    lock.release()
  }
}

/**
 * How long delete --force waits for another runt command's lock before it goes on without it:
 * it must finish whatever it finds (a create killed in the middle, a command that hangs).
 */
const FORCE_LOCK_WAIT_MS = 2000

export function del(store: Store, id: string, force: boolean): void {
  validateId(id)
  if (!store.exists(id)) {
    if (force) removeHalfCreated(store, id)
    else throw notExist()
    return
  }
  let lock: Lock | null
  try {
    lock = force ? lockContainer(store, id, FORCE_LOCK_WAIT_MS) : lockContainer(store, id)
  } catch (e) {
    if (force && e instanceof StateError && e.code === 'ENOTEXIST') return
    throw e
  }
  if (!lock) logger().warn(`delete --force: ${id} is locked by another runt command; deleting without the lock`)
  try {
    let rec: ContainerRecord
    try {
      rec = store.read(id)
    } catch (e) {
      if (!force || !(e instanceof RuntimeError) || e.code !== 'ECORRUPT') throw e
      logger().warn(e.message)
      removeLost(store, id)
      return
    }
    const status = statusOfRecord(store, rec)
    switch (status) {
      case 'stopped':
        break
      case 'created':
        // runc kills and deletes a created container even without --force.
        killAndWait(rec)
        break
      default:
        if (!force) throw new StateError(`cannot delete container ${id} that is not stopped: ${status}`, 'ENOTSTOPPED')
        killAndWait(rec)
    }
    destroy(store, rec)
  } finally {
    lock?.release()
  }
}

/**
 * A container whose state.json is broken: what it made is found where a create records it
 * (creating.json) or where its cgroups are by default, killed and removed with its directory.
 */
function removeLost(store: Store, id: string): void {
  const rec: ContainerRecord = store.readCreating(id) ?? {
    ociVersion: '',
    id,
    pid: 0,
    pidStartTime: '',
    bundle: '',
    rootfs: '',
    created: '',
    config: {},
    namespacePaths: {},
    cgroupPaths: cgroupOps().defaultCgroupPaths(id),
    cgroupOwned: true,
  }
  killAndWait(rec)
  releaseHost(rec)
  store.remove(id)
}

/**
 * A directory without state.json is a create that died before writing it (killed, or the
 * machine went down). Once its creator no longer holds the lock, --force removes it, and what
 * the create had recorded in creating.json: its init (which may sit waiting for a start that
 * will never come) and its cgroup.
 */
function removeHalfCreated(store: Store, id: string): void {
  let lock: Lock | null
  try {
    lock = Lock.tryAcquire(store.dir(id), FORCE_LOCK_WAIT_MS)
  } catch {
    return // no such directory
  }
  if (!lock) logger().warn(`delete --force: ${id} is locked by another runt command; deleting without the lock`)
  try {
    if (lock?.removed() || store.exists(id)) return
    const rec = store.readCreating(id)
    if (rec) {
      if (isAlive(rec.pid, rec.pidStartTime)) killAndWait(rec)
      releaseHost(rec)
    }
    store.remove(id)
  } finally {
    lock?.release()
  }
}

function killAndWait(rec: ContainerRecord): void {
  try {
    signalAll(rec, 9)
  } catch {
    /* already gone */
  }
  if (!waitGone(rec.pid, rec.pidStartTime, 10_000))
    throw new RuntimeError(`container init ${rec.pid} did not exit after SIGKILL`, 'EKILL')
}

/** Undo what create made, then run poststop hooks (a failing one only warns). */
export function destroy(store: Store, rec: ContainerRecord): void {
  // As runc: a cgroup that cannot be removed is reported, but the container is gone anyway.
  let cgroupError: unknown = null
  try {
    releaseHost(rec)
  } catch (e) {
    cgroupError = e
  }
  store.remove(rec.id)
  try {
    runHooks('poststop', hooksOf(rec).poststop as Hook[] | undefined, hookState(rec, 'stopped'), rec.bundle)
  } catch (e) {
    logger().warn((e as Error).message)
  }
  if (cgroupError) throw cgroupError
}

export { readProcStat }

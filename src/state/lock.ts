// Per-container lock: flock(2) on the container's state directory. Kept apart from store.ts
// so that read-only commands (state, list) never load the FFI.

import * as fs from 'node:fs'
import { linux } from '../sys/linux.js'
import * as C from '../sys/constants.js'
import * as path from 'node:path'
import { StateError, TEXT, fsError, notExist } from '../errors.js'
import { STATE_FILE, validateId, type Store } from './store.js'

/**
 * Not root, the default root is /run/runt unless XDG_RUNTIME_DIR is set (cli/command.ts): a
 * permission error says so. Any other error as it was.
 */
function notPermitted(e: unknown, dir: string): unknown {
  const code = (e as NodeJS.ErrnoException).code
  const euid = process.geteuid?.() ?? 0
  if ((code !== 'EACCES' && code !== 'EPERM') || euid === 0) return e
  const hint = ` (runt runs as uid ${euid}: set XDG_RUNTIME_DIR to a directory it owns, or pass --root)`
  return fsError(e, 'mkdir', dir, undefined, hint)
}

/** Create the container's directory; EEXIST means the id is taken. Returns it locked. */
export function createLocked(store: Store, id: string): Lock {
  validateId(id)
  const dir = store.dir(id)
  try {
    store.ensureRoot()
  } catch (e) {
    throw notPermitted(e, store.root)
  }
  try {
    fs.mkdirSync(dir, { mode: 0o711 })
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new StateError(TEXT.exists, 'EEXIST')
    throw notPermitted(e, dir)
  }
  return Lock.acquire(dir)
}

/**
 * Lock an existing container; throws "container does not exist" if it is gone. With
 * `waitMs`, gives up after that long and returns null (delete --force goes on unlocked: it
 * must finish whatever holds the lock).
 */
export function lockContainer(store: Store, id: string): Lock
export function lockContainer(store: Store, id: string, waitMs: number): Lock | null
export function lockContainer(store: Store, id: string, waitMs?: number): Lock | null {
  validateId(id)
  const dir = store.dir(id)
  let lock: Lock | null
  try {
    lock = waitMs === undefined ? Lock.acquire(dir) : Lock.tryAcquire(dir, waitMs)
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') throw notExist()
    throw e
  }
  if (!lock) return null
  // Deleted while we waited for the lock, or a create that never wrote its state.
  if (lock.removed() || !fs.existsSync(path.join(dir, STATE_FILE))) {
    lock.release()
    throw notExist()
  }
  return lock
}

const PAUSE = new Int32Array(new SharedArrayBuffer(4))

/** flock(2) on a directory fd, held until release() or process exit. */
export class Lock {
  private constructor(
    readonly dir: string,
    private fd: number,
  ) {}

  /** The locked directory's fd: a child that must not hold the lock closes it. */
  get descriptor(): number {
    return this.fd
  }

  static acquire(dir: string): Lock {
    const fd = linux.openat(C.AT_FDCWD, dir, C.O_RDONLY | C.O_DIRECTORY)
    try {
      linux.flock(fd, C.LOCK_EX, dir)
    } catch (e) {
      linux.close(fd)
      throw e
    }
    return new Lock(dir, fd)
  }

  /** The lock if it can be had within `waitMs`, else null. */
  static tryAcquire(dir: string, waitMs: number): Lock | null {
    const fd = linux.openat(C.AT_FDCWD, dir, C.O_RDONLY | C.O_DIRECTORY)
    const deadline = Date.now() + waitMs
    for (;;) {
      try {
        linux.flock(fd, C.LOCK_EX | C.LOCK_NB, dir)
        return new Lock(dir, fd)
      } catch (e) {
        if ((e as { code?: string }).code !== 'EAGAIN' || Date.now() >= deadline) {
          linux.close(fd)
          if ((e as { code?: string }).code === 'EAGAIN') return null
          throw e
        }
      }
      Atomics.wait(PAUSE, 0, 0, 20)
    }
  }

  /** True when the directory was removed (by a delete that held the lock before us). */
  removed(): boolean {
    return fs.fstatSync(this.fd).nlink === 0
  }

  release(): void {
    if (this.fd >= 0) {
      linux.close(this.fd)
      this.fd = -1
    }
  }
}

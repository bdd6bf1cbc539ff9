// The container's terminal, made inside the container: a pty from the container's own devpts
// (opened inside the rootfs, never by a host path), its master sent as exactly one fd over the
// console socket, its slave bind-mounted on /dev/console (create) and made the process's
// stdio and controlling terminal.

import * as C from '../sys/constants.js'
import type { Sys } from '../sys/linux.js'
import { sendFds } from '../sys/scm.js'
import { fdPath, type InRoot } from './in-root.js'
import { SysError } from '../errors.js'

const TIOCSPTLCK = 0x40045431
const TIOCGPTPEER = 0x5441
const TIOCSWINSZ = 0x5414
const TIOCSCTTY = 0x540e

export type ConsoleOptions = {
  /** The socket to send the master on (inherited from the parent). */
  socketFd: number
  size?: { height: number; width: number }
  /** Bind the slave over /dev/console (the init of a new container, not an exec). */
  bindConsole: boolean
}

/** Make the pty and send its master; returns the slave fd. */
export function setupConsole(sys: Sys, root: InRoot, o: ConsoleOptions): number {
  let master: number
  try {
    master = root.open('/dev/pts/ptmx', C.O_RDWR | C.O_NOCTTY)
  } catch (e) {
    if (!(e instanceof SysError) || e.errnoName !== 'ENOENT') throw e
    master = root.open('/dev/ptmx', C.O_RDWR | C.O_NOCTTY)
  }
  let slave = -1
  try {
    const unlock = Buffer.alloc(4)
    sys.ioctlBuf(master, TIOCSPTLCK, unlock, 'ioctl TIOCSPTLCK')
    // TIOCGPTPEER opens the slave through the master: no /dev/pts/N path to be swapped.
    slave = sys.ioctl(master, TIOCGPTPEER, C.O_RDWR | C.O_NOCTTY | C.O_CLOEXEC, 'ioctl TIOCGPTPEER')
    if (o.size) {
      const ws = Buffer.alloc(8)
      ws.writeUInt16LE(o.size.height, 0)
      ws.writeUInt16LE(o.size.width, 2)
      sys.ioctlBuf(master, TIOCSWINSZ, ws, 'ioctl TIOCSWINSZ')
    }
    if (o.bindConsole) {
      const target = root.ensureFile('/dev/console', 0o600)
      try {
        sys.mount(fdPath(slave), fdPath(target), 'bind', C.MS_BIND, null, '/dev/console')
      } finally {
        sys.close(target)
      }
    }
    sendFds(o.socketFd, Buffer.from('/dev/ptmx'), [master])
  } catch (e) {
    if (slave >= 0) sys.close(slave)
    throw e
  } finally {
    sys.close(master)
    sys.close(o.socketFd)
  }
  return slave
}

/** The slave as stdin, stdout and stderr, in a new session with it as controlling terminal. */
export function useConsole(sys: Sys, slave: number, newSession: boolean): void {
  if (newSession) sys.setsid()
  for (const fd of [0, 1, 2]) sys.dup2(slave, fd)
  if (slave > 2) sys.close(slave)
  sys.ioctl(0, TIOCSCTTY, 0, 'ioctl TIOCSCTTY')
}

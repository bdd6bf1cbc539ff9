// The container's terminal, made inside the container: a pty from the container's own devpts
// (opened inside the rootfs, never by a host path), its master sent as exactly one fd over the
// console socket, its slave bind-mounted on /dev/console (create) and made the process's
// stdio and controlling terminal.

import * as C from '../sys/constants.js'
import type { Sys } from '../sys/linux.js'
import { fdPath, type InRoot } from './in-root.js'
import { SysError } from '../errors.js'

/** The calls made here (InRoot makes its own through the Sys it holds). */
export type ConsoleSys = Pick<
  Sys,
  'openat' | 'close' | 'fstat' | 'fstatfs' | 'ioctl' | 'ioctlBuf' | 'mount' | 'unlinkat' | 'sendFds' | 'setsid' | 'dup2'
>

const TIOCSPTLCK = 0x40045431
const TIOCGPTPEER = 0x5441

export type ConsoleOptions = {
  /** The socket to send the master on (inherited from the parent). */
  socketFd: number
  size?: { height: number; width: number }
  /** Bind the slave over /dev/console (the init of a new container, not an exec). */
  bindConsole: boolean
}

/** Make the pty and send its master; returns the slave fd. */
export function setupConsole(sys: ConsoleSys, root: InRoot, o: ConsoleOptions): number {
  let master: number
  try {
    master = root.open('/dev/pts/ptmx', C.O_RDWR | C.O_NOCTTY)
  } catch (e) {
    if (!(e instanceof SysError) || e.errnoName !== 'ENOENT') throw e
    master = root.open('/dev/ptmx', C.O_RDWR | C.O_NOCTTY)
  }
  let slave = -1
  try {
    // Whatever the rootfs made of /dev/pts/ptmx or /dev/ptmx, it must have led to the pty
    // multiplexor (char 5:2), not to a file we would hand to the engine as a terminal.
    const st = sys.fstat(master, '/dev/pts/ptmx')
    if (!C.isCharDevice(st, 5, 2))
      throw new SysError({
        syscall: 'open',
        errno: 19,
        errnoName: 'ENODEV',
        strerror: 'not the pty multiplexor (char 5:2)',
        path: '/dev/pts/ptmx',
      })
    const unlock = Buffer.alloc(4)
    sys.ioctlBuf(master, TIOCSPTLCK, unlock, 'ioctl TIOCSPTLCK')
    // TIOCGPTPEER opens the slave through the master: no /dev/pts/N path to be swapped.
    slave = sys.ioctl(master, TIOCGPTPEER, C.O_RDWR | C.O_NOCTTY | C.O_CLOEXEC, 'ioctl TIOCGPTPEER')
    if (o.size) setWinsize(sys, master, o.size)
    if (o.bindConsole) {
      const target = consoleTarget(sys, root)
      try {
        sys.mount(fdPath(slave), fdPath(target), 'bind', C.MS_BIND, null, '/dev/console')
      } finally {
        sys.close(target)
      }
    }
    sys.sendFds(o.socketFd, Buffer.from('/dev/ptmx'), [master])
  } catch (e) {
    if (slave >= 0) sys.close(slave)
    throw e
  } finally {
    sys.close(master)
    sys.close(o.socketFd)
  }
  return slave
}

/** TIOCSWINSZ on a pty master (or any terminal fd). */
export function setWinsize(sys: ConsoleSys, fd: number, size: { height: number; width: number }): void {
  const ws = Buffer.alloc(8)
  ws.writeUInt16LE(size.height, 0)
  ws.writeUInt16LE(size.width, 2)
  sys.ioctlBuf(fd, C.TIOCSWINSZ, ws, 'ioctl TIOCSWINSZ')
}

/**
 * An O_PATH fd of /dev/console to bind the slave over (CVE-2025-52565): never through a
 * symlink (one is replaced by a fresh empty file), only a regular file or a device node, and
 * never in a procfs or sysfs directory that /dev may have been made to point to.
 */
export function consoleTarget(sys: ConsoleSys, root: InRoot): number {
  const dir = root.mkdirAll('/dev')
  try {
    const fsType = sys.fstatfs(dir, '/dev').type
    if (fsType === C.PROC_SUPER_MAGIC || fsType === C.SYSFS_MAGIC)
      throw new SysError({
        syscall: 'open',
        errno: 1,
        errnoName: 'EPERM',
        strerror: '/dev is on procfs or sysfs',
        path: '/dev/console',
      })
    const open = () => sys.openat(dir, 'console', C.O_PATH | C.O_NOFOLLOW | C.O_CLOEXEC, 0, '/dev/console')
    let fd = -1
    try {
      fd = open()
    } catch (e) {
      if (!(e instanceof SysError) || e.errnoName !== 'ENOENT') throw e
    }
    if (fd >= 0) {
      const type = sys.fstat(fd, '/dev/console').mode & C.S_IFMT
      if (type === C.S_IFREG || type === C.S_IFCHR) return fd
      sys.close(fd)
      if (type !== C.S_IFLNK)
        throw new SysError({
          syscall: 'open',
          errno: 22,
          errnoName: 'EINVAL',
          strerror: 'not a file or a device',
          path: '/dev/console',
        })
      sys.unlinkat(dir, 'console', 0, '/dev/console')
    }
    sys.close(sys.openat(dir, 'console', C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW | C.O_WRONLY | C.O_CLOEXEC, 0o600, '/dev/console'))
    return open()
  } finally {
    sys.close(dir)
  }
}

/**
 * The slave as stdin, stdout and stderr; with `newSession`, in a new session with it as the
 * controlling terminal (a forked exec process does that itself, see process/init.ts).
 */
export function useConsole(sys: ConsoleSys, slave: number, o: { newSession: boolean; controlling: boolean }): void {
  if (o.newSession) sys.setsid()
  for (const fd of [0, 1, 2]) sys.dup2(slave, fd)
  if (slave > 2) sys.close(slave)
  if (o.controlling) sys.ioctl(0, C.TIOCSCTTY, 0, 'ioctl TIOCSCTTY')
}

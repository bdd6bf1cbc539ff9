// Resolve and create container paths inside the rootfs, relative to an fd of the rootfs, with
// openat2(RESOLVE_IN_ROOT): a symlink in a hostile rootfs (absolute, or full of "..") is
// resolved as if the rootfs were "/", so it can never lead a mount outside it. Mount targets
// are then named by /proc/self/fd/N of an O_PATH fd, never by a path string that could be
// swapped between check and use (CVE-2021-30465). Every call goes through the Sys it is given.

import * as C from '../sys/constants.js'
import type { Sys } from '../sys/linux.js'
import { RuntimeError, SysError } from '../errors.js'

/** The calls InRoot makes. */
export type InRootSys = Pick<Sys, 'openat' | 'openat2' | 'close' | 'mkdirat' | 'readlinkat'>

const RESOLVE = C.RESOLVE_IN_ROOT | C.RESOLVE_NO_MAGICLINKS

/** Components of a container path: "/a//b/./c" -> ["a", "b", "c"]; ".." is kept. */
export function splitPath(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.')
}

export function fdPath(fd: number): string {
  return `/proc/self/fd/${fd}`
}

export class InRoot {
  private rootHostPath: string | undefined
  constructor(
    private sys: InRootSys,
    readonly rootfd: number,
  ) {}

  /** The root's path as this process sees it (needs /proc/self: not in an exec'd init). */
  private get rootHost(): string {
    this.rootHostPath ??= this.sys.readlinkat(C.AT_FDCWD, fdPath(this.rootfd))
    return this.rootHostPath
  }

  static open(sys: InRootSys, rootfs: string): InRoot {
    return new InRoot(sys, sys.openat(C.AT_FDCWD, rootfs, C.O_PATH | C.O_DIRECTORY))
  }

  close(): void {
    this.sys.close(this.rootfd)
  }

  /** Open `p` (a container path) inside the root. Follows symlinks, inside the root only. */
  open(p: string, flags = C.O_PATH, mode = 0): number {
    const rel = splitPath(p).join('/') || '.'
    return this.sys.openat2(this.rootfd, rel, flags, mode, RESOLVE, p)
  }

  /** Where an fd opened in the root lies, as a container path ("/" for the root). */
  containerPathOf(fd: number): string {
    const host = this.sys.readlinkat(C.AT_FDCWD, fdPath(fd))
    if (host === this.rootHost) return '/'
    if (this.rootHost === '/') return host
    if (!host.startsWith(this.rootHost + '/')) {
      // Cannot happen with RESOLVE_IN_ROOT; refuse rather than guess.
      throw new RuntimeError(`path ${host} resolved outside the rootfs ${this.rootHost}`, 'EOUTSIDEROOT')
    }
    return host.slice(this.rootHost.length)
  }

  /**
   * mkdir -p inside the root; returns an O_PATH fd of the directory. Every prefix is resolved
   * from the root fd with RESOLVE_IN_ROOT, and a dangling symlink has its target created
   * inside the root, as runc's MkdirAllInRoot does.
   */
  mkdirAll(p: string, mode = 0o755, depth = 0): number {
    if (depth > 40)
      throw new SysError({
        syscall: 'mkdir',
        errno: 40,
        errnoName: 'ELOOP',
        strerror: 'too many levels of symbolic links',
        path: p,
      })
    const parts = splitPath(p)
    for (let i = 0; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/') || '.'
      try {
        const fd = this.sys.openat2(this.rootfd, prefix, C.O_PATH | C.O_DIRECTORY, 0, RESOLVE, '/' + parts.slice(0, i).join('/'))
        if (i === parts.length) return fd
        this.sys.close(fd)
        continue
      } catch (e) {
        if (!(e instanceof SysError) || e.errnoName !== 'ENOENT' || i === 0) throw e
      }
      // parts[i-1] is missing (or a dangling symlink) in a parent that exists.
      const name = parts[i - 1]!
      const parent = this.open('/' + parts.slice(0, i - 1).join('/'), C.O_PATH | C.O_DIRECTORY)
      try {
        this.sys.mkdirat(parent, name, mode, '/' + parts.slice(0, i).join('/'))
      } catch (e) {
        if (!(e instanceof SysError) || e.errnoName !== 'EEXIST') {
          this.sys.close(parent)
          throw e
        }
        const target = this.sys.readlinkat(parent, name, '/' + parts.slice(0, i).join('/'))
        const base = target.startsWith('/') ? target : joinPath(this.containerPathOf(parent), target)
        this.sys.close(parent)
        return this.mkdirAll(joinPath(base, parts.slice(i).join('/')), mode, depth + 1)
      }
      this.sys.close(parent)
      i-- // reopen the prefix we just created
    }
    throw new RuntimeError(`mkdir ${p}: unreachable`, 'EINTERNAL')
  }

  /**
   * Make sure a regular file exists at `p` (for bind-mounting a file); returns an O_PATH fd
   * of it. A directory already there is returned as is.
   */
  ensureFile(p: string, mode = 0o644): number {
    try {
      return this.open(p)
    } catch (e) {
      if (!(e instanceof SysError) || e.errnoName !== 'ENOENT') throw e
    }
    const parts = splitPath(p)
    const base = parts.pop()
    if (base === undefined || base === '..')
      throw new SysError({ syscall: 'open', errno: 21, errnoName: 'EISDIR', strerror: 'is a directory', path: p })
    const dir = this.mkdirAll('/' + parts.join('/'))
    try {
      const fd = this.sys.openat(dir, base, C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW | C.O_WRONLY, mode, p)
      this.sys.close(fd)
    } catch (e) {
      if (!(e instanceof SysError) || e.errnoName !== 'EEXIST') throw e
    } finally {
      this.sys.close(dir)
    }
    return this.open(p)
  }
}

/** Lexical join of container paths, keeping ".." for the in-root resolver to clamp. */
export function joinPath(a: string, b: string): string {
  if (b === '') return a
  return (a.endsWith('/') ? a : a + '/') + b
}

// The process's working directory: chdir as runc does (first as root, then again as the user
// if root could not), and prove the result lies inside the container's root. A cwd such as
// /proc/self/fd/N naming a descriptor the runtime holds on a host directory must never
// become the process's cwd (CVE-2024-21626).

import * as fs from 'node:fs'
import * as C from '../sys/constants.js'
import type { Sys } from '../sys/linux.js'
import { RuntimeError, SysError } from '../errors.js'

type CwdSys = Pick<Sys, 'chdir' | 'openat' | 'close'>

/** chdir before the user switch; false when it must be retried as the user (EACCES, EPERM). */
export function chdirAsRoot(sys: CwdSys, cwd: string): boolean {
  try {
    sys.chdir(cwd)
    return true
  } catch (e) {
    if (e instanceof SysError && (e.errnoName === 'EACCES' || e.errnoName === 'EPERM')) return false
    throw cwdError(cwd, e as Error)
  }
}

export function chdirAsUser(sys: CwdSys, cwd: string): void {
  try {
    sys.chdir(cwd)
  } catch (e) {
    throw cwdError(cwd, e as Error)
  }
}

function cwdError(cwd: string, e: Error): RuntimeError {
  const why = e instanceof SysError ? e.message.replace(/^chdir [^:]*: /, '') : e.message
  return new RuntimeError(`chdir to cwd ("${cwd}") set in config.json failed: ${why}`, 'ECWD')
}

/**
 * Walk ".." from the cwd until a directory is its own parent. Inside the container that is
 * our root ("/" after pivot_root or chroot, where ".." stays put); from a directory outside
 * it, the walk ends at some other root instead. getcwd(3) would say "(unreachable)" too, but
 * Node caches its cwd, and this needs no path strings.
 */
export function verifyCwdInside(sys: CwdSys, cwd: string): void {
  const root = sys.openat(C.AT_FDCWD, '/', C.O_PATH | C.O_DIRECTORY)
  let cur = sys.openat(C.AT_FDCWD, '.', C.O_PATH | C.O_DIRECTORY)
  try {
    const r = fs.fstatSync(root)
    for (let depth = 0; depth < 4096; depth++) {
      const st = fs.fstatSync(cur)
      if (st.dev === r.dev && st.ino === r.ino) return
      const up = sys.openat(cur, '..', C.O_PATH | C.O_DIRECTORY)
      const ust = fs.fstatSync(up)
      sys.close(cur)
      cur = up
      if (ust.dev === st.dev && ust.ino === st.ino) break
    }
  } finally {
    sys.close(cur)
    sys.close(root)
  }
  throw new RuntimeError(
    `cwd ("${cwd}") set in config.json is outside the container's root filesystem; refusing to run there`,
    'ECWD',
  )
}

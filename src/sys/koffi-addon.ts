// Where the single binary keeps koffi's native addon on disk, and which copy this process
// loaded. glibc's dlopen needs a path, so the addon, carried inside the executable as an
// embedded file, is written once per content hash to a directory only root (or, rootless,
// the user) can write: `<dir>/koffi-<version>-<sha256 prefix>.node`, mode 0555, replaced atomically.
//
// The container must never be able to write it (the CVE-2019-5736 class): the file lives
// outside every container's mount namespace, is not writable even by its owner, is re-checked
// (owner, mode, size, executable mount) before each load and held open by no process. Through
// /proc/<pid>/map_files of an init it can be reached only with CAP_SYS_ADMIN in the host's
// user namespace. No koffi import here: process/self.ts reads loadedAddon() cheaply.

import * as fs from 'node:fs'
import * as path from 'node:path'

/** The environment variable through which the init stage learns the parent's addon copy. */
export const ENV_ADDON = '_RUNT_KOFFI'

let loaded: string | undefined

/** The addon file this process loaded, if it came from the single binary's cache. */
export function loadedAddon(): string | undefined {
  return loaded
}

export function setLoadedAddon(p: string): void {
  loaded = p
}

/**
 * Directories to keep the addon in, best first: tmpfs, then disk (when /run is noexec). Root
 * of a user namespace whose "/" is not its own (rootless podman runs the runtime so) is an
 * unprivileged user here: the host root's directories show up owned by the overflow uid and
 * are not its to write (`rootOwnsRoot` false).
 */
export function addonDirs(euid: number, env: NodeJS.ProcessEnv, home: string | undefined, rootOwnsRoot = true): string[] {
  if (euid === 0 && rootOwnsRoot) return ['/run/runt-lib', '/var/lib/runt/lib', '/dev/shm/runt-lib']
  const out: string[] = []
  if (env.XDG_RUNTIME_DIR) out.push(path.join(env.XDG_RUNTIME_DIR, 'runt-lib'))
  if (home) out.push(path.join(home, '.cache', 'runt-lib'))
  out.push(`/dev/shm/runt-lib-${euid}`)
  return out
}

/** Owned by us or root, and writable by no one else. */
function trusted(st: fs.Stats, euid: number): boolean {
  return (st.uid === euid || st.uid === 0) && (st.mode & 0o022) === 0
}

/**
 * A file is usable when it is a regular file of the right size, owned by us or root, not
 * writable by group or others, and on a mount that allows mapping it executable (access(2)
 * with X_OK fails on noexec mounts).
 */
export function usableAddon(file: string, size: number, euid: number, checkOwner = true): boolean {
  let st: fs.Stats
  try {
    st = fs.lstatSync(file)
  } catch {
    return false
  }
  if (!st.isFile() || st.size !== size) return false
  if (checkOwner ? !trusted(st, euid) : (st.mode & 0o022) !== 0) return false
  try {
    fs.accessSync(file, fs.constants.X_OK)
  } catch {
    return false
  }
  return true
}

/** Make `dir` (0755) and check that nobody else could have placed or could change it. */
export function trustedDir(dir: string, euid: number): boolean {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 })
  } catch {
    return false
  }
  let st: fs.Stats
  try {
    st = fs.lstatSync(dir)
  } catch {
    return false
  }
  return st.isDirectory() && trusted(st, euid)
}

/** Write `bytes` to `file` atomically (a private temp file, renamed), mode 0555. */
export function writeAddon(file: string, bytes: Uint8Array): void {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | 0o2000000, 0o500)
  try {
    let off = 0
    while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off)
    fs.fsyncSync(fd)
    fs.fchmodSync(fd, 0o555)
  } catch (e) {
    fs.closeSync(fd)
    fs.rmSync(tmp, { force: true })
    throw e
  }
  fs.closeSync(fd)
  try {
    fs.renameSync(tmp, file)
  } catch (e) {
    fs.rmSync(tmp, { force: true })
    throw e
  }
}

// Checked system calls: each wrapper calls libc through ffi.ts, reads errno at once and throws
// a SysError naming the syscall, the errno and the path. The `Sys` type is this object's
// shape; executors take a Sys (or a Pick of it) so tests can pass a fake. A few host-file
// operations by path (readFile, stat, readdir, copyFile, ...) are node:fs underneath, their
// natural implementation, with node's errors turned into the same SysError: one seam for all.

import * as fs from 'node:fs'
import * as C from './constants.js'
import * as ffi from './ffi.js'
import { SysError } from '../errors.js'
import { mountFlagNames } from './mount-flags.js'
// scm.ts imports sysError from here; neither module uses the other while it is evaluated.
import { sendFds as scmSendFds } from './scm.js'

type Detail = Record<string, string>

export function sysError(syscall: string, e: number, path?: string, path2?: string, detail?: Detail): SysError {
  const opts: ConstructorParameters<typeof SysError>[0] = {
    syscall,
    errno: e,
    errnoName: ffi.errnoNames[e] ?? `errno ${e}`,
    strerror: ffi.strerror(e),
  }
  if (path !== undefined) opts.path = path
  if (path2 !== undefined) opts.path2 = path2
  if (detail !== undefined) opts.detail = detail
  return new SysError(opts)
}

/** mount(2)'s error as runc prints it: source, target, flags by name, type and data. */
export function mountError(
  e: number,
  source: string | null,
  target: string,
  fstype: string | null,
  flags: number,
  data: string | null,
  display?: string,
): SysError {
  const d: Detail = { flags: mountFlagNames(flags) }
  if (fstype) d.type = fstype
  if (data) d.data = data
  return sysError('mount', e, source ?? 'none', display ?? target, d)
}

/** A node:fs call whose failure (`errno` negative, as node has it) becomes a SysError. */
function checkFs<T>(fn: () => T, syscall: string, path: string, path2?: string): T {
  try {
    return fn()
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).errno
    if (typeof errno !== 'number') throw e
    throw sysError(syscall, -errno, path, path2)
  }
}

function check(ret: number | bigint, syscall: string, path?: string, path2?: string, detail?: Detail): number {
  const n = Number(ret)
  if (n < 0) throw sysError(syscall, ffi.errno(), path, path2, detail)
  return n
}

/** Retry on EINTR, which Node's signal handling makes possible for blocking calls. */
function retry(fn: () => number | bigint): number | bigint {
  for (;;) {
    const r = fn()
    if (Number(r) >= 0 || ffi.errno() !== 4) return r
  }
}

export type StatFs = { type: number; flags: number }
/** What statx(2) tells of an fd: its file type and mode bits, and a device's number. */
export type FileStat = { mode: number; uid: number; rdevMajor: number; rdevMinor: number }
/** What stat(2) tells of a host path: file type and mode bits, owner, and the times to copy. */
export type PathStat = { mode: number; uid: number; gid: number; atime: Date; mtime: Date }

function pathStat(st: fs.Stats): PathStat {
  return { mode: st.mode, uid: st.uid, gid: st.gid, atime: st.atime, mtime: st.mtime }
}

function encodeOpenHow(flags: number, mode: number, resolve: number): Buffer {
  const b = Buffer.alloc(24)
  b.writeBigUInt64LE(BigInt(flags), 0)
  b.writeBigUInt64LE(BigInt(mode), 8)
  b.writeBigUInt64LE(BigInt(resolve), 16)
  return b
}

/**
 * capset(2)'s arguments for _LINUX_CAPABILITY_VERSION_3: the header, and struct
 * __user_cap_data_struct[2] ({effective, permitted, inheritable} of the low 32 bits, then of
 * the high 32). Also what the exec process's chain passes (process/exec-process.ts).
 */
export function capsetArgs(effective: bigint, permitted: bigint, inheritable: bigint): [Buffer, Buffer] {
  const hdr = Buffer.alloc(8)
  hdr.writeUInt32LE(0x20080522, 0)
  hdr.writeInt32LE(0, 4)
  const data = Buffer.alloc(24)
  const lo = (v: bigint) => Number(v & 0xffffffffn)
  const hi = (v: bigint) => Number((v >> 32n) & 0xffffffffn)
  data.writeUInt32LE(lo(effective), 0)
  data.writeUInt32LE(lo(permitted), 4)
  data.writeUInt32LE(lo(inheritable), 8)
  data.writeUInt32LE(hi(effective), 12)
  data.writeUInt32LE(hi(permitted), 16)
  data.writeUInt32LE(hi(inheritable), 20)
  return [hdr, data]
}

/** execve's arguments in malloc'd memory, and the signals to reset before it (prepareExec). */
export type PreparedExec = { path: string; argv: ffi.Ptr; envp: ffi.Ptr; ignored: readonly number[] }

/** Every signal whose disposition can change: not SIGKILL, SIGSTOP, or glibc's own 32 and 33. */
function changeableSignals(): number[] {
  const out: number[] = []
  for (let sig = 1; sig <= 64; sig++) if (sig !== 9 && sig !== 19 && sig !== 32 && sig !== 33) out.push(sig)
  return out
}

const SIG_IGN = 1n

/** The signals set to SIG_IGN now; any that cannot be read is counted as ignored. */
function ignoredSignals(): number[] {
  const old = Buffer.alloc(152) // glibc's struct sigaction
  return changeableSignals().filter((sig) => ffi.sigaction(sig, null, old) !== 0 || old.readBigUInt64LE(0) === SIG_IGN)
}

export const linux = {
  /** `display` names the target in errors, `sourceDisplay` the source (else the paths given). */
  mount(
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data: string | null,
    display?: string,
    sourceDisplay?: string,
  ): void {
    const r = ffi.mount(source, target, fstype, flags, data)
    if (r < 0) throw mountError(ffi.errno(), sourceDisplay ?? source, target, fstype, flags, data, display)
  },
  umount2(target: string, flags: number): void {
    check(ffi.umount2(target, flags), 'umount2', target)
  },
  pivotRoot(newRoot: string, putOld: string): void {
    check(ffi.syscall(C.SYS.pivot_root, 'str', newRoot, 'str', putOld), 'pivot_root', newRoot, putOld)
  },
  chroot(path: string): void {
    check(ffi.chroot(path), 'chroot', path)
  },
  chdir(path: string): void {
    check(ffi.chdir(path), 'chdir', path)
  },
  fchdir(fd: number, display?: string): void {
    check(ffi.fchdir(fd), 'fchdir', display)
  },
  setns(fd: number, nstype: number, display?: string): void {
    check(ffi.setns(fd, nstype), 'setns', display)
  },
  unshare(flags: number): void {
    check(ffi.unshare(flags), 'unshare')
  },
  sethostname(name: string): void {
    check(ffi.sethostname(name, Buffer.byteLength(name)), 'sethostname', name)
  },
  setdomainname(name: string): void {
    check(ffi.setdomainname(name, Buffer.byteLength(name)), 'setdomainname', name)
  },

  openat(dirfd: number, path: string, flags: number, mode = 0, display?: string): number {
    return check(
      retry(() => ffi.openat(dirfd, path, flags | C.O_CLOEXEC, mode)),
      'open',
      display ?? path,
    )
  },
  /** openat2(2); `display` is the path to name in errors (rootfs-relative paths read better). */
  openat2(dirfd: number, path: string, flags: number, mode: number, resolve: number, display?: string): number {
    const how = encodeOpenHow(flags | C.O_CLOEXEC, mode, resolve)
    return check(
      retry(() => ffi.syscall(C.SYS.openat2, 'int', dirfd, 'str', path, 'void *', how, 'size_t', 24)),
      'openat2',
      display ?? path,
    )
  },
  close(fd: number): void {
    ffi.close(fd)
  },
  dup2(oldfd: number, newfd: number): void {
    check(ffi.dup2(oldfd, newfd), 'dup2')
  },
  dup3(oldfd: number, newfd: number, flags: number): void {
    check(ffi.dup3(oldfd, newfd, flags), 'dup3')
  },
  fcntl(fd: number, cmd: number, arg: number): number {
    return check(ffi.fcntl(fd, cmd, arg), 'fcntl')
  },
  setCloexec(fd: number, on: boolean): void {
    check(ffi.fcntl(fd, C.F_SETFD, on ? C.FD_CLOEXEC : 0), 'fcntl')
  },
  read(fd: number, buf: Buffer, len = buf.length): number {
    return check(
      retry(() => ffi.read(fd, buf, len)),
      'read',
    )
  },
  write(fd: number, buf: Buffer): number {
    return check(
      retry(() => ffi.write(fd, buf, buf.length)),
      'write',
    )
  },
  mkdirat(dirfd: number, path: string, mode: number, display?: string): void {
    check(ffi.mkdirat(dirfd, path, mode), 'mkdir', display ?? path)
  },
  mknodat(dirfd: number, path: string, mode: number, dev: bigint, display?: string): void {
    check(ffi.mknodat(dirfd, path, mode, dev), 'mknod', display ?? path)
  },
  fchownat(dirfd: number, path: string, uid: number, gid: number, flags: number, display?: string): void {
    check(ffi.fchownat(dirfd, path, uid, gid, flags), 'chown', display ?? path)
  },
  fchmodat(dirfd: number, path: string, mode: number, display?: string): void {
    check(ffi.fchmodat(dirfd, path, mode, 0), 'chmod', display ?? path)
  },
  fchmod(fd: number, mode: number, display?: string): void {
    check(ffi.fchmod(fd, mode), 'fchmod', display)
  },
  fchown(fd: number, uid: number, gid: number, display?: string): void {
    check(ffi.fchown(fd, uid, gid), 'fchown', display)
  },
  symlinkat(target: string, dirfd: number, path: string, display?: string): void {
    check(ffi.symlinkat(target, dirfd, path), 'symlink', display ?? path)
  },
  readlinkat(dirfd: number, path: string, display?: string): string {
    const buf = Buffer.alloc(4096)
    const n = check(ffi.readlinkat(dirfd, path, buf, buf.length), 'readlink', display ?? path)
    return buf.subarray(0, n).toString('utf8')
  },
  unlinkat(dirfd: number, path: string, flags: number, display?: string): void {
    check(ffi.unlinkat(dirfd, path, flags), 'unlink', display ?? path)
  },
  mkfifo(path: string, mode: number): void {
    check(ffi.mkfifo(path, mode), 'mkfifo', path)
  },
  flock(fd: number, op: number, display?: string): void {
    check(
      retry(() => ffi.flock(fd, op)),
      'flock',
      display,
    )
  },
  statfs(path: string): StatFs {
    const out: { f_type?: number; f_flags?: number } = {}
    check(ffi.statfs(path, out), 'statfs', path)
    return { type: Number(out.f_type), flags: Number(out.f_flags) }
  },
  fstatfs(fd: number, display?: string): StatFs {
    const out: { f_type?: number; f_flags?: number } = {}
    check(ffi.fstatfs(fd, out), 'fstatfs', display)
    return { type: Number(out.f_type), flags: Number(out.f_flags) }
  },
  /** statx(fd, "", AT_EMPTY_PATH): works on O_PATH fds too. */
  fstat(fd: number, display?: string): FileStat {
    const b = Buffer.alloc(256)
    const STATX_TYPE_MODE_UID = 0xb
    check(
      ffi.syscall(C.SYS.statx, 'int', fd, 'str', '', 'int', C.AT_EMPTY_PATH, 'uint', STATX_TYPE_MODE_UID, 'void *', b),
      'statx',
      display,
    )
    return { mode: b.readUInt16LE(28), uid: b.readUInt32LE(20), rdevMajor: b.readUInt32LE(128), rdevMinor: b.readUInt32LE(132) }
  },
  /** sendmsg(2) of `data` with `fds` attached (SCM_RIGHTS): sys/scm.ts. */
  sendFds(sock: number, data: Buffer, fds: number[]): void {
    scmSendFds(sock, data, fds)
  },
  socketpair(type: number): [number, number] {
    const sv = [0, 0]
    check(ffi.socketpair(C.AF_UNIX, type | C.SOCK_CLOEXEC, 0, sv), 'socketpair')
    return [sv[0]!, sv[1]!]
  },
  pipe2(flags: number): [number, number] {
    const fds = [0, 0]
    check(ffi.pipe2(fds, flags), 'pipe2')
    return [fds[0]!, fds[1]!]
  },

  // Host files by path, for what the rootfs executor reads or copies on the host's side
  // (/proc/self/mountinfo, bind sources, the tmpcopyup copy): node:fs, errors as SysError.
  readFile(path: string): string {
    return checkFs(() => fs.readFileSync(path, 'utf8'), 'open', path)
  },
  /** stat(2): follows symlinks. */
  stat(path: string): PathStat {
    return pathStat(checkFs(() => fs.statSync(path), 'stat', path))
  },
  lstat(path: string): PathStat {
    return pathStat(checkFs(() => fs.lstatSync(path), 'lstat', path))
  },
  /** The names in a directory, without "." and "..". */
  readdir(path: string): string[] {
    return checkFs(() => fs.readdirSync(path), 'open', path)
  },
  /** mkdtemp(3): a new directory, mode 0700, named `prefix` and six random characters. */
  mkdtemp(prefix: string): string {
    return checkFs(() => fs.mkdtempSync(prefix), 'mkdtemp', prefix)
  },
  /** Copy a regular file's contents (node's copyFileSync: the kernel's copy_file_range). */
  copyFile(src: string, dst: string): void {
    checkFs(() => fs.copyFileSync(src, dst), 'copyfile', src, dst)
  },
  /** utimensat(2) following symlinks. */
  utimes(path: string, atime: Date, mtime: Date): void {
    checkFs(() => fs.utimesSync(path, atime, mtime), 'utimensat', path)
  },

  openTree(dirfd: number, path: string, flags: number, display?: string): number {
    return check(ffi.syscall(C.SYS.open_tree, 'int', dirfd, 'str', path, 'uint', flags), 'open_tree', display ?? path)
  },
  moveMount(fromfd: number, fromPath: string, tofd: number, toPath: string, flags: number, display?: string): void {
    check(
      ffi.syscall(C.SYS.move_mount, 'int', fromfd, 'str', fromPath, 'int', tofd, 'str', toPath, 'uint', flags),
      'move_mount',
      display,
    )
  },
  /** mount_setattr(2): set and clear MOUNT_ATTR_* bits, recursively with AT_RECURSIVE. */
  mountSetattr(dirfd: number, path: string, flags: number, set: number, clr: number, display?: string, userns = 0): void {
    const attr = Buffer.alloc(32)
    attr.writeBigUInt64LE(BigInt(set), 0)
    attr.writeBigUInt64LE(BigInt(clr), 8)
    attr.writeBigUInt64LE(0n, 16) // propagation
    attr.writeBigUInt64LE(BigInt(userns), 24)
    check(
      ffi.syscall(C.SYS.mount_setattr, 'int', dirfd, 'str', path, 'uint', flags, 'void *', attr, 'size_t', 32),
      'mount_setattr',
      display ?? path,
      undefined,
      { set: '0x' + set.toString(16), clear: '0x' + clr.toString(16) },
    )
  },

  kill(pid: number, sig: number): void {
    check(ffi.kill(pid, sig), 'kill', String(pid))
  },
  /** waitpid; returns [pid, raw status]. pid is 0 with WNOHANG when the child is still alive. */
  waitpid(pid: number, options: number): [number, number] {
    const st = [0]
    const r = check(
      retry(() => ffi.waitpid(pid, st, options)),
      'waitpid',
      String(pid),
    )
    return [r, st[0]!]
  },
  pidfdOpen(pid: number): number {
    return check(ffi.syscall(C.SYS.pidfd_open, 'int', pid, 'uint', 0), 'pidfd_open', String(pid))
  },
  /** A copy of another process's fd (pidfd_getfd(2)), close-on-exec. */
  pidfdGetfd(pidfd: number, fd: number): number {
    return check(ffi.syscall(C.SYS.pidfd_getfd, 'int', pidfd, 'int', fd, 'uint', 0), 'pidfd_getfd', String(fd))
  },
  pidfdSendSignal(pidfd: number, sig: number): void {
    check(ffi.syscall(C.SYS.pidfd_send_signal, 'int', pidfd, 'int', sig, 'void *', null, 'uint', 0), 'pidfd_send_signal')
  },
  /** poll(2) over fds; returns revents per fd. timeout in ms, -1 for none. */
  poll(fds: { fd: number; events: number }[], timeout: number): number[] {
    const arr = fds.map((f) => ({ fd: f.fd, events: f.events, revents: 0 }))
    check(
      retry(() => ffi.poll(arr, arr.length, timeout)),
      'poll',
    )
    return arr.map((f) => f.revents)
  },
  madvise(addr: bigint, length: number, advice: number): void {
    check(ffi.madvise(addr, length, advice), 'madvise', undefined, undefined, { advice: String(advice) })
  },
  prctl(option: number, a2 = 0, a3 = 0, a4 = 0, a5 = 0): number {
    return check(ffi.prctl(option, a2, a3, a4, a5), 'prctl', undefined, undefined, { option: String(option) })
  },
  /** Mark fds [first, ~0] close-on-exec (close_range(2) with CLOSE_RANGE_CLOEXEC). */
  closeRangeCloexec(first: number): void {
    check(ffi.syscall(C.SYS.close_range, 'uint', first, 'uint', 0xffffffff, 'uint', C.CLOSE_RANGE_CLOEXEC), 'close_range')
  },
  // Credentials: raw syscalls act on the calling thread only, which is the thread that calls
  // execve; glibc's wrappers would signal every Node thread instead.
  setresuid(r: number, e: number, s: number): void {
    check(ffi.syscall(C.SYS.setresuid, 'int', r, 'int', e, 'int', s), 'setresuid', undefined, undefined, {
      uid: String(e),
    })
  },
  setresgid(r: number, e: number, s: number): void {
    check(ffi.syscall(C.SYS.setresgid, 'int', r, 'int', e, 'int', s), 'setresgid', undefined, undefined, {
      gid: String(e),
    })
  },
  setgroups(gids: number[]): void {
    const arr = new Uint32Array(gids.length || 1)
    gids.forEach((g, i) => (arr[i] = g))
    check(ffi.syscall(C.SYS.setgroups, 'int', gids.length, 'void *', arr), 'setgroups')
  },
  /** capset(2) with _LINUX_CAPABILITY_VERSION_3: 64-bit sets split in two 32-bit words. */
  capset(effective: bigint, permitted: bigint, inheritable: bigint): void {
    const [hdr, data] = capsetArgs(effective, permitted, inheritable)
    check(ffi.syscall(C.SYS.capset, 'void *', hdr, 'void *', data), 'capset')
  },
  prlimit(resource: number, soft: bigint, hard: bigint, display?: string): void {
    const lim = new BigUint64Array([soft, hard])
    check(ffi.prlimit(0, resource, lim, null), 'prlimit', display)
  },
  /**
   * What execve (execPrepared) and the steps right before it need, made ahead of them: the
   * argument and environment arrays in malloc'd memory (the GC never moves or frees them), the
   * libc calls of those steps bound, the signals that are ignored now. A container's init does this
   * before it reports ready: what it runs between `start` and execve is charged to the
   * container and, under a CPU quota, throttled (docs/design.md).
   */
  prepareExec(path: string, argv: string[], envp: string[]): PreparedExec {
    for (const f of [ffi.execve, ffi.signal, ffi.sigprocmask, ffi.fcntl, ffi.prlimit, ffi.syscall, ffi.prctl]) f.prepare()
    return {
      path,
      argv: ffi.cPointerArray(argv.map(ffi.cString)),
      envp: ffi.cPointerArray(envp.map(ffi.cString)),
      ignored: ignoredSignals(),
    }
  },
  execPrepared(x: PreparedExec): never {
    ffi.execve(x.path, x.argv, x.envp)
    throw sysError('execve', ffi.errno(), x.path)
  },
  /**
   * Default disposition for every signal and an empty mask, so the next program does not
   * inherit the runtime's ignored SIGPIPE/SIGXFSZ or a blocked signal. execve resets every
   * caught signal itself, so with `ignored` (prepareExec's list) only those change.
   */
  resetSignals(ignored?: readonly number[]): void {
    for (const sig of ignored ?? changeableSignals()) ffi.signal(sig, null)
    const empty = new BigUint64Array(16)
    check(ffi.sigprocmask(2 /* SIG_SETMASK */, empty, null), 'sigprocmask')
  },
  /**
   * Call `cb` once when `fd` turns readable, from the event loop. poll(2) blocks on one of the
   * FFI's worker threads (an async call), so it works under any runtime that runs Node-API
   * async work (Node's libuv pool, Bun's); a pipe of our own wakes it for close().
   */
  onReadable(fd: number, cb: () => void): { close(): void } {
    const wake = [0, 0]
    check(ffi.pipe2(wake, C.O_CLOEXEC), 'pipe2')
    const fds = [
      { fd, events: C.POLLIN, revents: 0 },
      { fd: wake[0]!, events: C.POLLIN, revents: 0 },
    ]
    let closed = false
    const finish = () => {
      ffi.close(wake[0]!)
      ffi.close(wake[1]!)
    }
    const wait = () =>
      ffi.poll.async(fds, fds.length, -1, (_err: unknown, r: number) => {
        if (closed) return finish()
        // -1 is EINTR or ENOMEM (a bad fd is POLLNVAL, not an error): wait again.
        if (r <= 0 || !(fds[0]!.revents & (C.POLLIN | C.POLLHUP | C.POLLERR | C.POLLNVAL))) return wait()
        closed = true
        finish()
        cb()
      })
    wait()
    return {
      close() {
        if (closed) return
        closed = true
        ffi.write(wake[1]!, Buffer.from([1]), 1)
      },
    }
  },
  /** ioctl(2) with an integer argument (or none); returns the result. */
  ioctl(fd: number, request: number, arg = 0, what = 'ioctl'): number {
    return check(ffi.ioctlInt(fd, request, arg), what)
  },
  /** ioctl(2) with a pointer to `buf` (in/out). */
  ioctlBuf(fd: number, request: number, buf: Buffer, what = 'ioctl'): number {
    return check(ffi.ioctlPtr(fd, request, buf), what)
  },
  setsid(): number {
    return check(ffi.setsid(), 'setsid')
  },
  rawSyscall(nr: number, ...args: unknown[]): number {
    return Number(ffi.syscall(nr, ...args))
  },
  /** A raw syscall's result and, when it failed, its errno (for probes that read it). */
  rawSyscallErrno(nr: number, ...args: unknown[]): { ret: number; errno: number } {
    const ret = Number(ffi.syscall(nr, ...args))
    return { ret, errno: ret < 0 ? ffi.errno() : 0 }
  },
}

export type Sys = typeof linux

// The libc boundary: koffi bindings and raw memory helpers. With sys/koffi.ts and
// sys/libseccomp-ffi.ts, the only files that touch koffi. Functions here return raw results;
// sys/linux.ts checks them and turns errno into SysError.

import koffi from './koffi.js'
import { InternalError, RuntimeError } from '../errors.js'

export const libc = koffi.load('libc.so.6')

type LibcFunction = ReturnType<typeof libc.func>

/**
 * A libc function bound on its first call: binding every one at import cost each command
 * 1-2 ms of start-up, and most commands call a handful. `.async` binds too.
 */
function fn(...decl: [definition: string] | [name: string, result: string, args: string[]]): LazyFunction {
  let bound: LibcFunction | undefined
  const get = () => (bound ??= (libc.func as (...d: unknown[]) => LibcFunction)(...decl))
  const call = ((...args: unknown[]) => get()(...args)) as LazyFunction
  Object.defineProperty(call, 'async', { get: () => get().async })
  Object.defineProperty(call, 'prepare', { value: () => void get() })
  return call
}

/** A libc function of fn(): `prepare()` binds it now, ahead of a path that must not pay that. */
export type LazyFunction = LibcFunction & { prepare(): void }

export type Ptr = bigint
export const NULL: Ptr = 0n

// Raw memory from malloc: never moved or freed by the GC, so it stays valid in a cloned child.
const malloc_ = fn('void *malloc(size_t size)')
const free_ = fn('void free(void *ptr)')

export function malloc(size: number): Ptr {
  const p = koffi.address(malloc_(size))
  if (p === 0n) throw new RuntimeError('malloc failed: cannot allocate memory', 'ENOMEM')
  return p
}
export function free(p: Ptr): void {
  free_(p)
}

/** Copy a string into malloc'd memory as a NUL-terminated C string. */
export function cString(s: string): Ptr {
  const b = Buffer.from(s + '\0', 'utf8')
  const p = malloc(b.length)
  koffi.encode(p, 'uint8_t', Array.from(b), b.length)
  return p
}

/** A NULL-terminated array of pointers in malloc'd memory. */
export function cPointerArray(list: Ptr[]): Ptr {
  const p = malloc(8 * (list.length + 1))
  list.forEach((x, i) => koffi.encode(p, i * 8, 'uint64_t', x))
  koffi.encode(p, list.length * 8, 'uint64_t', 0n)
  return p
}

/** Copy `b` to `p`. */
export function pokeBytes(p: Ptr, b: Buffer): void {
  if (b.length) koffi.encode(p, 'uint8_t', Array.from(b), b.length)
}

export function pokeU64(p: Ptr, offset: number, v: bigint): void {
  koffi.encode(p, offset, 'uint64_t', v)
}
export function peekU8(p: Ptr, len: number): Buffer {
  return Buffer.from(koffi.decode(p, 'uint8_t', len) as number[])
}

export function symbol(name: string): Ptr {
  const p = koffi.address(libc.symbol(name))
  if (p === 0n) throw new InternalError(`libc has no symbol ${name}`)
  return p
}

const errnoLocation_ = fn('int *__errno_location()')
/** Address of this thread's errno (a forked child's is at the same address). */
export function errnoLocation(): Ptr {
  return koffi.address(errnoLocation_())
}

export function errno(): number {
  return koffi.errno()
}

export const errnoNames: Record<number, string> = (() => {
  const out: Record<number, string> = {}
  for (const [name, n] of Object.entries(koffi.os.errno)) {
    // EWOULDBLOCK aliases EAGAIN and EDEADLOCK aliases EDEADLK: keep the usual names.
    if (out[n] === undefined || name === 'EAGAIN' || name === 'EDEADLK') out[n] = name
  }
  return out
})()
export const errnoNumbers: Record<string, number> = koffi.os.errno

const strerror_ = fn('const char *strerror(int errnum)')
/** strerror text lowercased, as Go (and so runc) prints it: "no such file or directory". */
export function strerror(n: number): string {
  const s = strerror_(n) as string
  return s.charAt(0).toLowerCase() + s.slice(1)
}

// --- process and namespaces ---
export const clone = fn('int clone(void *fn, void *stack, int flags, void *arg)')
export const getcontext = fn('int getcontext(void *ucp)')
export const makecontext = fn('void makecontext(void *ucp, void *fn, int argc, ...)')
export const setns = fn('int setns(int fd, int nstype)')
export const unshare = fn('int unshare(int flags)')
export const getpid = fn('int getpid()')
export const kill = fn('int kill(int pid, int sig)')
export const waitpid = fn('int waitpid(int pid, _Out_ int *status, int options)')
export const prctl = fn('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)')
export const execve = fn('int execve(const char *path, void *argv, void *envp)')
export const syscall = fn('long syscall(long number, ...)')
export const chroot = fn('int chroot(const char *path)')
export const chdir = fn('int chdir(const char *path)')
export const fchdir = fn('int fchdir(int fd)')
export const sethostname = fn('int sethostname(const char *name, size_t len)')
export const setdomainname = fn('int setdomainname(const char *name, size_t len)')
export const prlimit = fn('int prlimit(int pid, int resource, const uint64_t *newLimit, _Out_ uint64_t *oldLimit)')
export const umask = fn('unsigned int umask(unsigned int mask)')
export const sigprocmask = fn('int sigprocmask(int how, const uint64_t *set, uint64_t *oldset)')
export const signal = fn('void *signal(int sig, void *handler)')
// Only to read a disposition: `old` is glibc's struct sigaction, sa_handler its first word.
export const sigaction = fn('int sigaction(int sig, const void *act, _Out_ uint8_t *old)')
export const madvise = fn('int madvise(uintptr_t addr, size_t length, int advice)')

// --- files ---
export const openat = fn('int openat(int dirfd, const char *path, int flags, unsigned int mode)')
export const close = fn('int close(int fd)')
export const dup2 = fn('int dup2(int oldfd, int newfd)')
export const dup3 = fn('int dup3(int oldfd, int newfd, int flags)')
export const fcntl = fn('int fcntl(int fd, int cmd, int arg)')
export const read = fn('long read(int fd, _Out_ uint8_t *buf, size_t count)')
export const write = fn('long write(int fd, const uint8_t *buf, size_t count)')
export const mkdirat = fn('int mkdirat(int dirfd, const char *path, unsigned int mode)')
export const mknodat = fn('int mknodat(int dirfd, const char *path, unsigned int mode, uint64_t dev)')
export const fchownat = fn('int fchownat(int dirfd, const char *path, unsigned int uid, unsigned int gid, int flags)')
export const fchmodat = fn('int fchmodat(int dirfd, const char *path, unsigned int mode, int flags)')
export const fchmod = fn('int fchmod(int fd, unsigned int mode)')
export const fchown = fn('int fchown(int fd, unsigned int uid, unsigned int gid)')
export const symlinkat = fn('int symlinkat(const char *target, int dirfd, const char *path)')
export const readlinkat = fn('long readlinkat(int dirfd, const char *path, _Out_ uint8_t *buf, size_t size)')
export const unlinkat = fn('int unlinkat(int dirfd, const char *path, int flags)')
export const mkfifo = fn('int mkfifo(const char *path, unsigned int mode)')
export const flock = fn('int flock(int fd, int op)')
export const socketpair = fn('int socketpair(int domain, int type, int protocol, _Out_ int *sv)')
export const pipe2 = fn('int pipe2(_Out_ int *fds, int flags)')
export const ioctlInt = fn('int ioctl(int fd, unsigned long request, unsigned long arg)')
export const ioctlPtr = fn('ioctl', 'int', ['int', 'unsigned long', 'void *'])
export const setsid = fn('int setsid()')

export const StatFs = koffi.struct('runt_statfs', {
  f_type: 'long',
  f_bsize: 'long',
  f_blocks: 'uint64_t',
  f_bfree: 'uint64_t',
  f_bavail: 'uint64_t',
  f_files: 'uint64_t',
  f_ffree: 'uint64_t',
  f_fsid: koffi.array('int', 2),
  f_namelen: 'long',
  f_frsize: 'long',
  f_flags: 'long',
  f_spare: koffi.array('long', 4),
})
export const statfs = fn('int statfs(const char *path, _Out_ runt_statfs *buf)')
export const fstatfs = fn('int fstatfs(int fd, _Out_ runt_statfs *buf)')

export const PollFd = koffi.struct('runt_pollfd', { fd: 'int', events: 'short', revents: 'short' })
export const poll = fn('int poll(_Inout_ runt_pollfd *fds, unsigned long nfds, int timeout)')

// --- mounts ---
export const mount = fn(
  'int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)',
)
export const umount2 = fn('int umount2(const char *target, int flags)')

// --- sockets with ancillary data (SCM_RIGHTS) ---
export const IoVec = koffi.struct('runt_iovec', { iov_base: 'void *', iov_len: 'size_t' })
export const MsgHdr = koffi.struct('runt_msghdr', {
  msg_name: 'void *',
  msg_namelen: 'uint32_t',
  msg_iov: 'void *',
  msg_iovlen: 'size_t',
  msg_control: 'void *',
  msg_controllen: 'size_t',
  msg_flags: 'int',
})
export const sendmsg = fn('long sendmsg(int fd, const runt_msghdr *msg, int flags)')
export const recvmsg = fn('long recvmsg(int fd, void *msg, int flags)')
export const socket = fn('int socket(int domain, int type, int protocol)')
export const connect = fn('int connect(int fd, const uint8_t *addr, uint32_t len)')
export const bind = fn('int bind(int fd, const uint8_t *addr, uint32_t len)')
export const listen = fn('int listen(int fd, int backlog)')
export const accept4 = fn('int accept4(int fd, void *addr, void *len, int flags)')

// --- netlink (sys/netlink.ts) ---
export const send = fn('long send(int fd, const uint8_t *buf, size_t len, int flags)')
export const recv = fn('long recv(int fd, _Out_ uint8_t *buf, size_t len, int flags)')
export const setsockoptInt = fn('setsockopt', 'int', ['int', 'int', 'int', 'const int *', 'uint32_t'])

export { koffi }

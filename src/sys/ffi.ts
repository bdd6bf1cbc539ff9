// The libc boundary: koffi bindings and raw memory helpers. With sys/koffi.ts and
// sys/libseccomp-ffi.ts, the only files that touch koffi. Functions here return raw results;
// sys/linux.ts checks them and turns errno into SysError.

import koffi from './koffi.js'

export const libc = koffi.load('libc.so.6')

export type Ptr = bigint
export const NULL: Ptr = 0n

// Raw memory from malloc: never moved or freed by the GC, so it stays valid in a cloned child.
const malloc_ = libc.func('void *malloc(size_t size)')
const free_ = libc.func('void free(void *ptr)')

export function malloc(size: number): Ptr {
  const p = koffi.address(malloc_(size))
  if (p === 0n) throw new Error('malloc failed')
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

export function pokeU64(p: Ptr, offset: number, v: bigint): void {
  koffi.encode(p, offset, 'uint64_t', v)
}
export function peekU8(p: Ptr, len: number): Buffer {
  return Buffer.from(koffi.decode(p, 'uint8_t', len) as number[])
}

export function symbol(name: string): Ptr {
  const p = koffi.address(libc.symbol(name))
  if (p === 0n) throw new Error(`libc has no symbol ${name}`)
  return p
}

const errnoLocation_ = libc.func('int *__errno_location()')
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

const strerror_ = libc.func('const char *strerror(int errnum)')
/** strerror text lowercased, as Go (and so runc) prints it: "no such file or directory". */
export function strerror(n: number): string {
  const s = strerror_(n) as string
  return s.charAt(0).toLowerCase() + s.slice(1)
}

// --- process and namespaces ---
export const clone = libc.func('int clone(void *fn, void *stack, int flags, void *arg)')
export const getcontext = libc.func('int getcontext(void *ucp)')
export const makecontext = libc.func('void makecontext(void *ucp, void *fn, int argc, ...)')
export const setns = libc.func('int setns(int fd, int nstype)')
export const unshare = libc.func('int unshare(int flags)')
export const getpid = libc.func('int getpid()')
export const kill = libc.func('int kill(int pid, int sig)')
export const waitpid = libc.func('int waitpid(int pid, _Out_ int *status, int options)')
export const prctl = libc.func('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)')
export const execve = libc.func('int execve(const char *path, void *argv, void *envp)')
export const syscall = libc.func('long syscall(long number, ...)')
export const chroot = libc.func('int chroot(const char *path)')
export const chdir = libc.func('int chdir(const char *path)')
export const fchdir = libc.func('int fchdir(int fd)')
export const sethostname = libc.func('int sethostname(const char *name, size_t len)')
export const setdomainname = libc.func('int setdomainname(const char *name, size_t len)')
export const prlimit = libc.func('int prlimit(int pid, int resource, const uint64_t *newLimit, _Out_ uint64_t *oldLimit)')
export const umask = libc.func('unsigned int umask(unsigned int mask)')
export const sigprocmask = libc.func('int sigprocmask(int how, const uint64_t *set, uint64_t *oldset)')
export const signal = libc.func('void *signal(int sig, void *handler)')

// --- files ---
export const openat = libc.func('int openat(int dirfd, const char *path, int flags, unsigned int mode)')
export const close = libc.func('int close(int fd)')
export const dup2 = libc.func('int dup2(int oldfd, int newfd)')
export const dup3 = libc.func('int dup3(int oldfd, int newfd, int flags)')
export const fcntl = libc.func('int fcntl(int fd, int cmd, int arg)')
export const read = libc.func('long read(int fd, _Out_ uint8_t *buf, size_t count)')
export const write = libc.func('long write(int fd, const uint8_t *buf, size_t count)')
export const mkdirat = libc.func('int mkdirat(int dirfd, const char *path, unsigned int mode)')
export const mknodat = libc.func('int mknodat(int dirfd, const char *path, unsigned int mode, uint64_t dev)')
export const fchownat = libc.func('int fchownat(int dirfd, const char *path, unsigned int uid, unsigned int gid, int flags)')
export const fchmodat = libc.func('int fchmodat(int dirfd, const char *path, unsigned int mode, int flags)')
export const fchmod = libc.func('int fchmod(int fd, unsigned int mode)')
export const fchown = libc.func('int fchown(int fd, unsigned int uid, unsigned int gid)')
export const symlinkat = libc.func('int symlinkat(const char *target, int dirfd, const char *path)')
export const readlinkat = libc.func('long readlinkat(int dirfd, const char *path, _Out_ uint8_t *buf, size_t size)')
export const unlinkat = libc.func('int unlinkat(int dirfd, const char *path, int flags)')
export const mkfifo = libc.func('int mkfifo(const char *path, unsigned int mode)')
export const flock = libc.func('int flock(int fd, int op)')
export const socketpair = libc.func('int socketpair(int domain, int type, int protocol, _Out_ int *sv)')
export const pipe2 = libc.func('int pipe2(_Out_ int *fds, int flags)')
export const ioctlInt = libc.func('int ioctl(int fd, unsigned long request, unsigned long arg)')
export const ioctlPtr = libc.func('ioctl', 'int', ['int', 'unsigned long', 'void *'])
export const setsid = libc.func('int setsid()')

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
export const statfs = libc.func('int statfs(const char *path, _Out_ runt_statfs *buf)')
export const fstatfs = libc.func('int fstatfs(int fd, _Out_ runt_statfs *buf)')

export const PollFd = koffi.struct('runt_pollfd', { fd: 'int', events: 'short', revents: 'short' })
export const poll = libc.func('int poll(_Inout_ runt_pollfd *fds, unsigned long nfds, int timeout)')

// --- mounts ---
export const mount = libc.func(
  'int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)',
)
export const umount2 = libc.func('int umount2(const char *target, int flags)')

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
export const sendmsg = libc.func('long sendmsg(int fd, const runt_msghdr *msg, int flags)')
export const recvmsg = libc.func('long recvmsg(int fd, void *msg, int flags)')
export const socket = libc.func('int socket(int domain, int type, int protocol)')
export const connect = libc.func('int connect(int fd, const uint8_t *addr, uint32_t len)')
export const bind = libc.func('int bind(int fd, const uint8_t *addr, uint32_t len)')
export const listen = libc.func('int listen(int fd, int backlog)')
export const accept4 = libc.func('int accept4(int fd, void *addr, void *len, int flags)')

export { koffi }

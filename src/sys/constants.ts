// Linux constants with their C spelling (x86-64 and aarch64 share these values; syscall
// numbers are per architecture and live in SYS below). Pure data: no imports.

export const CLONE_VM = 0x00000100
export const CLONE_FS = 0x00000200
export const CLONE_FILES = 0x00000400
export const CLONE_VFORK = 0x00004000
export const CLONE_PARENT = 0x00008000
export const CLONE_NEWTIME = 0x00000080
export const CLONE_NEWNS = 0x00020000
export const CLONE_NEWCGROUP = 0x02000000
export const CLONE_NEWUTS = 0x04000000
export const CLONE_NEWIPC = 0x08000000
export const CLONE_NEWUSER = 0x10000000
export const CLONE_NEWPID = 0x20000000
export const CLONE_NEWNET = 0x40000000
export const SIGCHLD = 17

export const MS_RDONLY = 0x1
export const MS_NOSUID = 0x2
export const MS_NODEV = 0x4
export const MS_NOEXEC = 0x8
export const MS_SYNCHRONOUS = 0x10
export const MS_REMOUNT = 0x20
export const MS_MANDLOCK = 0x40
export const MS_DIRSYNC = 0x80
export const MS_NOSYMFOLLOW = 0x100
export const MS_NOATIME = 0x400
export const MS_NODIRATIME = 0x800
export const MS_BIND = 0x1000
export const MS_MOVE = 0x2000
export const MS_REC = 0x4000
export const MS_SILENT = 0x8000
export const MS_POSIXACL = 0x10000
export const MS_UNBINDABLE = 0x20000
export const MS_PRIVATE = 0x40000
export const MS_SLAVE = 0x80000
export const MS_SHARED = 0x100000
export const MS_RELATIME = 0x200000
export const MS_I_VERSION = 0x800000
export const MS_STRICTATIME = 0x1000000
export const MS_LAZYTIME = 0x2000000

export const MNT_FORCE = 1
export const MNT_DETACH = 2
export const MNT_EXPIRE = 4
export const UMOUNT_NOFOLLOW = 8

export const MOUNT_ATTR_RDONLY = 0x1
export const MOUNT_ATTR_NOSUID = 0x2
export const MOUNT_ATTR_NODEV = 0x4
export const MOUNT_ATTR_NOEXEC = 0x8
export const MOUNT_ATTR__ATIME = 0x70
export const MOUNT_ATTR_RELATIME = 0x0
export const MOUNT_ATTR_NOATIME = 0x10
export const MOUNT_ATTR_STRICTATIME = 0x20
export const MOUNT_ATTR_NODIRATIME = 0x80
export const MOUNT_ATTR_IDMAP = 0x100000
export const MOUNT_ATTR_NOSYMFOLLOW = 0x200000
export const AT_RECURSIVE = 0x8000
export const OPEN_TREE_CLONE = 1
export const OPEN_TREE_CLOEXEC = 0o2000000
export const MOVE_MOUNT_F_EMPTY_PATH = 0x4
export const MOVE_MOUNT_T_EMPTY_PATH = 0x40

export const O_RDONLY = 0
export const O_WRONLY = 1
export const O_RDWR = 2
export const O_CREAT = 0o100
export const O_EXCL = 0o200
export const O_NOCTTY = 0o400
export const O_TRUNC = 0o1000
export const O_APPEND = 0o2000
export const O_NONBLOCK = 0o4000
export const O_DIRECTORY = 0o200000
export const O_NOFOLLOW = 0o400000
export const O_CLOEXEC = 0o2000000
export const O_PATH = 0o10000000

export const AT_FDCWD = -100
export const AT_SYMLINK_NOFOLLOW = 0x100
export const AT_REMOVEDIR = 0x200
export const AT_EMPTY_PATH = 0x1000

export const RESOLVE_NO_XDEV = 0x01
export const RESOLVE_NO_MAGICLINKS = 0x02
export const RESOLVE_NO_SYMLINKS = 0x04
export const RESOLVE_BENEATH = 0x08
export const RESOLVE_IN_ROOT = 0x10

export const F_GETFD = 1
export const F_SETFD = 2
export const F_GETFL = 3
export const F_SETFL = 4
export const FD_CLOEXEC = 1
export const CLOSE_RANGE_CLOEXEC = 1 << 2

export const S_IFMT = 0o170000
export const S_IFSOCK = 0o140000
export const S_IFLNK = 0o120000
export const S_IFREG = 0o100000
export const S_IFBLK = 0o060000
export const S_IFDIR = 0o040000
export const S_IFCHR = 0o020000
export const S_IFIFO = 0o010000

/** `st` is the character device major:minor (the null device 1:3, the pty multiplexor 5:2). */
export function isCharDevice(st: { mode: number; rdevMajor: number; rdevMinor: number }, major: number, minor: number): boolean {
  return (st.mode & S_IFMT) === S_IFCHR && st.rdevMajor === major && st.rdevMinor === minor
}

export const AF_UNIX = 1
export const AF_NETLINK = 16
export const SOCK_RAW = 3
export const SOCK_STREAM = 1
export const SOCK_SEQPACKET = 5
export const SOCK_CLOEXEC = 0o2000000
export const SOL_SOCKET = 1
export const SCM_RIGHTS = 1

export const LOCK_SH = 1
export const LOCK_EX = 2
export const LOCK_NB = 4
export const LOCK_UN = 8

export const POLLIN = 0x1
export const POLLOUT = 0x4
export const POLLERR = 0x8
export const POLLHUP = 0x10
export const POLLNVAL = 0x20

export const WNOHANG = 1

export const PR_SET_PDEATHSIG = 1
export const SIGKILL = 9
export const PR_SET_DUMPABLE = 4
export const MADV_DONTNEED = 4
export const PR_SET_KEEPCAPS = 8
export const PR_SET_NAME = 15
export const PR_CAPBSET_READ = 23
export const PR_CAPBSET_DROP = 24
export const PR_SET_SECUREBITS = 28
export const PR_SET_CHILD_SUBREAPER = 36
export const PR_SET_NO_NEW_PRIVS = 38
export const PR_GET_NO_NEW_PRIVS = 39
export const PR_CAP_AMBIENT = 47
export const PR_CAP_AMBIENT_RAISE = 2
export const PR_CAP_AMBIENT_CLEAR_ALL = 4

export const ST_RDONLY = 1
export const ST_NOSUID = 2
export const ST_NODEV = 4
export const ST_NOEXEC = 8
export const ST_SYNCHRONOUS = 16
export const ST_MANDLOCK = 64
export const ST_NOATIME = 1024
export const ST_NODIRATIME = 2048
export const ST_RELATIME = 4096
export const ST_NOSYMFOLLOW = 8192

export const CGROUP2_SUPER_MAGIC = 0x63677270
export const TMPFS_MAGIC = 0x01021994
export const PROC_SUPER_MAGIC = 0x9fa0
export const SYSFS_MAGIC = 0x62656572

// Terminal ioctls (asm-generic/ioctls.h).
export const TCGETS = 0x5401
export const TCSETS = 0x5402
export const TIOCSCTTY = 0x540e
export const TIOCSWINSZ = 0x5414

type SyscallTable = {
  pivot_root: number
  setresuid: number
  setresgid: number
  setgroups: number
  capget: number
  capset: number
  pidfd_open: number
  pidfd_send_signal: number
  pidfd_getfd: number
  close_range: number
  openat2: number
  open_tree: number
  move_mount: number
  mount_setattr: number
  ioprio_set: number
  sched_setattr: number
  keyctl: number
  seccomp: number
  bpf: number
  memfd_create: number
  setns: number
  unshare: number
  personality: number
  gettid: number
  tgkill: number
  set_mempolicy: number
  sched_setaffinity: number
  statx: number
}

const SYS_X64: SyscallTable = {
  pivot_root: 155,
  setresuid: 117,
  setresgid: 119,
  setgroups: 116,
  capget: 125,
  capset: 126,
  pidfd_open: 434,
  pidfd_send_signal: 424,
  pidfd_getfd: 438,
  close_range: 436,
  openat2: 437,
  open_tree: 428,
  move_mount: 429,
  mount_setattr: 442,
  ioprio_set: 251,
  sched_setattr: 314,
  keyctl: 250,
  seccomp: 317,
  bpf: 321,
  memfd_create: 319,
  setns: 308,
  unshare: 272,
  personality: 135,
  gettid: 186,
  tgkill: 234,
  set_mempolicy: 238,
  sched_setaffinity: 203,
  statx: 332,
}

// aarch64 uses the generic table (asm-generic/unistd.h).
const SYS_ARM64: SyscallTable = {
  pivot_root: 41,
  setresuid: 147,
  setresgid: 149,
  setgroups: 159,
  capget: 90,
  capset: 91,
  pidfd_open: 434,
  pidfd_send_signal: 424,
  pidfd_getfd: 438,
  close_range: 436,
  openat2: 437,
  open_tree: 428,
  move_mount: 429,
  mount_setattr: 442,
  ioprio_set: 30,
  sched_setattr: 274,
  keyctl: 219,
  seccomp: 277,
  bpf: 280,
  memfd_create: 279,
  setns: 268,
  unshare: 97,
  personality: 92,
  gettid: 178,
  tgkill: 131,
  set_mempolicy: 237,
  sched_setaffinity: 122,
  statx: 291,
}

export const SYS: SyscallTable = process.arch === 'arm64' ? SYS_ARM64 : SYS_X64

// CRIU's RPC enums (images/rpc.proto): criu_req_type and criu_cg_mode.
export const CRIU_REQ = {
  EMPTY: 0,
  DUMP: 1,
  RESTORE: 2,
  CHECK: 3,
  PRE_DUMP: 4,
  PAGE_SERVER: 5,
  NOTIFY: 6,
  CPUINFO_DUMP: 7,
  CPUINFO_CHECK: 8,
  FEATURE_CHECK: 9,
  VERSION: 10,
  WAIT_PID: 11,
  PAGE_SERVER_CHLD: 12,
  SINGLE_PRE_DUMP: 13,
} as const
export const CRIU_CG_MODE = { IGNORE: 0, CG_NONE: 1, PROPS: 2, SOFT: 3, FULL: 4, STRICT: 5, DEFAULT: 6 } as const

// Unix-socket ancillary data: send descriptors (SCM_RIGHTS), receive them, and receive the
// sender's credentials (SCM_CREDENTIALS with SO_PASSCRED). msghdr/cmsghdr are laid out by hand
// in malloc'd memory (x86-64 and aarch64 LP64 layouts).

import * as ffi from './ffi.js'
import * as C from './constants.js'
import { sysError } from './linux.js'

const SO_PASSCRED = 16
const SCM_CREDENTIALS = 2
const CMSG_HDR = 16 // cmsg_len (size_t), cmsg_level (int), cmsg_type (int)
const align8 = (n: number) => (n + 7) & ~7
const cmsgSpace = (n: number) => CMSG_HDR + align8(n)

const setsockopt = ffi.libc.func('int setsockopt(int fd, int level, int name, const int *val, uint32_t len)')
const recvmsgRaw = ffi.libc.func('long recvmsg(int fd, void *msg, int flags)')
const sendmsgRaw = ffi.libc.func('long sendmsg(int fd, void *msg, int flags)')

export function setPassCred(fd: number): void {
  if (setsockopt(fd, C.SOL_SOCKET, SO_PASSCRED, [1], 4) < 0) throw sysError('setsockopt', ffi.errno(), 'SO_PASSCRED')
}

type Msg = { hdr: ffi.Ptr; data: ffi.Ptr; control: ffi.Ptr; all: ffi.Ptr[] }

function buildMsg(dataLen: number, controlLen: number): Msg {
  const data = ffi.malloc(Math.max(dataLen, 1))
  const iov = ffi.malloc(16)
  ffi.pokeU64(iov, 0, data)
  ffi.pokeU64(iov, 8, BigInt(dataLen))
  const control = controlLen ? ffi.malloc(controlLen) : 0n
  if (controlLen) ffi.koffi.encode(control, 'uint8_t', new Array(controlLen).fill(0), controlLen)
  const hdr = ffi.malloc(56)
  ffi.koffi.encode(hdr, 'uint8_t', new Array(56).fill(0), 56)
  ffi.pokeU64(hdr, 16, iov)
  ffi.pokeU64(hdr, 24, 1n)
  ffi.pokeU64(hdr, 32, control)
  ffi.pokeU64(hdr, 40, BigInt(controlLen))
  return { hdr, data, control, all: [data, iov, hdr, ...(controlLen ? [control] : [])] }
}

function freeMsg(m: Msg): void {
  for (const p of m.all) ffi.free(p)
}

/** Send `data` (at least one byte) with `fds` attached as SCM_RIGHTS. */
export function sendFds(sock: number, data: Buffer, fds: number[]): void {
  const m = buildMsg(data.length, fds.length ? cmsgSpace(4 * fds.length) : 0)
  try {
    ffi.koffi.encode(m.data, 'uint8_t', Array.from(data), data.length)
    if (fds.length) {
      ffi.pokeU64(m.control, 0, BigInt(CMSG_HDR + 4 * fds.length))
      ffi.koffi.encode(m.control, 8, 'int', C.SOL_SOCKET)
      ffi.koffi.encode(m.control, 12, 'int', C.SCM_RIGHTS)
      fds.forEach((fd, i) => ffi.koffi.encode(m.control, CMSG_HDR + 4 * i, 'int', fd))
    }
    let n: number
    for (;;) {
      n = Number(sendmsgRaw(sock, m.hdr, 0x4000 /* MSG_NOSIGNAL */))
      if (n >= 0 || ffi.errno() !== 4) break
    }
    if (n < 0) throw sysError('sendmsg', ffi.errno())
  } finally {
    freeMsg(m)
  }
}

export type Received = { data: Buffer; fds: number[]; pid?: number; uid?: number; gid?: number }

/** Receive up to `max` bytes and any SCM_RIGHTS fds (made CLOEXEC) and SCM_CREDENTIALS. */
export function recvWithAncillary(sock: number, max: number, maxFds = 4): Received {
  const m = buildMsg(max, cmsgSpace(4 * maxFds) + cmsgSpace(12))
  try {
    let n: number
    for (;;) {
      n = Number(recvmsgRaw(sock, m.hdr, 0x40000000 /* MSG_CMSG_CLOEXEC */))
      if (n >= 0 || ffi.errno() !== 4) break
    }
    if (n < 0) throw sysError('recvmsg', ffi.errno())
    const out: Received = { data: ffi.peekU8(m.data, n), fds: [] }
    const controlLen = Number(ffi.koffi.decode(m.hdr, 40, 'uint64_t'))
    let off = 0
    while (off + CMSG_HDR <= controlLen) {
      const len = Number(ffi.koffi.decode(m.control, off, 'uint64_t'))
      const level = ffi.koffi.decode(m.control, off + 8, 'int') as number
      const type = ffi.koffi.decode(m.control, off + 12, 'int') as number
      if (len < CMSG_HDR) break
      if (level === C.SOL_SOCKET && type === C.SCM_RIGHTS) {
        for (let i = 0; i < (len - CMSG_HDR) / 4; i++)
          out.fds.push(ffi.koffi.decode(m.control, off + CMSG_HDR + 4 * i, 'int') as number)
      } else if (level === C.SOL_SOCKET && type === SCM_CREDENTIALS) {
        out.pid = ffi.koffi.decode(m.control, off + CMSG_HDR, 'int') as number
        out.uid = ffi.koffi.decode(m.control, off + CMSG_HDR + 4, 'uint32_t') as number
        out.gid = ffi.koffi.decode(m.control, off + CMSG_HDR + 8, 'uint32_t') as number
      }
      off += align8(len)
    }
    return out
  } finally {
    freeMsg(m)
  }
}

function sockaddrUn(path: string): Buffer {
  const p = Buffer.from(path)
  if (p.length >= 108) throw sysError('socket', 36 /* ENAMETOOLONG */, path)
  return sockaddrOf(p)
}

/**
 * sun_path holds 107 bytes; a longer path (a deep --root) is reached through an O_PATH fd of
 * its directory: /proc/self/fd/N/name. Returns the address and a cleanup.
 */
function shortAddress(path: string): { addr: Buffer; done(): void } {
  if (Buffer.byteLength(path) < 108) return { addr: sockaddrUn(path), done() {} }
  const slash = path.lastIndexOf('/')
  const dir = ffi.openat(C.AT_FDCWD, path.slice(0, slash) || '/', C.O_PATH | C.O_DIRECTORY | C.O_CLOEXEC, 0)
  if (dir < 0) throw sysError('open', ffi.errno(), path.slice(0, slash))
  return { addr: sockaddrUn(`/proc/self/fd/${dir}/${path.slice(slash + 1)}`), done: () => void ffi.close(dir) }
}

function sockaddrOf(p: Buffer): Buffer {
  const addr = Buffer.alloc(2 + p.length + 1)
  addr.writeUInt16LE(C.AF_UNIX, 0)
  p.copy(addr, 2)
  return addr
}

/** Connect a new AF_UNIX stream socket (CLOEXEC) to a filesystem path. */
export function connectUnix(path: string): number {
  const { addr, done } = shortAddress(path)
  try {
    const fd = ffi.socket(C.AF_UNIX, C.SOCK_STREAM | C.SOCK_CLOEXEC, 0)
    if (fd < 0) throw sysError('socket', ffi.errno(), path)
    for (;;) {
      if (ffi.connect(fd, addr, addr.length) === 0) return fd
      const e = ffi.errno()
      if (e === 4) continue
      ffi.close(fd)
      throw sysError('connect', e, path)
    }
  } finally {
    done()
  }
}

/** A listening AF_UNIX stream socket (CLOEXEC) bound to `path` with `mode`. */
export function listenUnix(path: string, mode: number): number {
  const { addr, done } = shortAddress(path)
  const fd = ffi.socket(C.AF_UNIX, C.SOCK_STREAM | C.SOCK_CLOEXEC, 0)
  if (fd < 0) {
    done()
    throw sysError('socket', ffi.errno(), path)
  }
  const old = ffi.umask(0o777 & ~mode)
  const r = ffi.bind(fd, addr, addr.length)
  const e = ffi.errno()
  ffi.umask(old)
  done()
  if (r < 0) {
    ffi.close(fd)
    throw sysError('bind', e, path)
  }
  if (ffi.listen(fd, 1) < 0) {
    const le = ffi.errno()
    ffi.close(fd)
    throw sysError('listen', le, path)
  }
  return fd
}

/** accept4(2) with SOCK_CLOEXEC, retrying on EINTR. */
export function acceptUnix(fd: number): number {
  for (;;) {
    const c = ffi.accept4(fd, null, null, C.SOCK_CLOEXEC)
    if (c >= 0) return c
    const e = ffi.errno()
    if (e !== 4) throw sysError('accept4', e)
  }
}

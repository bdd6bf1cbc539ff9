// rtnetlink over a NETLINK_ROUTE socket: find a device, list its addresses, move it to another
// network namespace, set it up, add an address. No `ip` binary. Messages are built and parsed
// by sys/netlink-msg.ts; this file sends them, reads the replies up to their ack or
// NLMSG_DONE, and turns an NLMSG_ERROR into a SysError ("netlink RTM_NEWLINK eth9: ...").

import * as C from './constants.js'
import * as ffi from './ffi.js'
import { linux, sysError } from './linux.js'
import { InternalError } from '../errors.js'
import * as M from './netlink-msg.js'

const MSG_TRUNC = 0x20
const EINTR = 4
const ENODEV = 19
/** Enough for any datagram: the kernel sizes a dump's skbs by the reader's buffer, up to 32 KiB. */
const RECV_SIZE = 64 * 1024

/** "10.0.0.2/24" for error messages. */
export function addrText(a: M.Addr): string {
  const ip = a.local ?? a.address
  return ip ? `${M.formatIp(ip)}/${a.prefixlen}` : `/${a.prefixlen}`
}

/**
 * One rtnetlink socket. It belongs to the network namespace of the thread that opened it for
 * its whole life, whatever that thread joins later: `openIn` is how a socket in a container's
 * namespace is made without a process there.
 */
export class Rtnl {
  private seq = 0
  private readonly buf = Buffer.alloc(RECV_SIZE)

  private constructor(private fd: number) {}

  /** A socket in this thread's network namespace. */
  static open(): Rtnl {
    const fd = Number(ffi.socket(C.AF_NETLINK, C.SOCK_RAW | C.SOCK_CLOEXEC, M.NETLINK_ROUTE))
    if (fd < 0) throw sysError('socket', ffi.errno(), 'AF_NETLINK')
    // The kernel's own words on a refusal ("ipv4: Invalid prefix length"); kernels before
    // 4.12 do not have them, and the errno is enough.
    ffi.setsockoptInt(fd, M.SOL_NETLINK, M.NETLINK_EXT_ACK, [1], 4)
    return new Rtnl(fd)
  }

  /**
   * A socket in the network namespace open at `nsFd`: this (main) thread joins it, opens the
   * socket and comes back (setns(2) into a network namespace works on a multithreaded
   * process; only this thread moves, and only between these calls).
   */
  static openIn(nsFd: number, display: string): Rtnl {
    const own = linux.openat(C.AT_FDCWD, '/proc/thread-self/ns/net', C.O_RDONLY)
    try {
      linux.setns(nsFd, C.CLONE_NEWNET, display)
      try {
        return Rtnl.open()
      } finally {
        linux.setns(own, C.CLONE_NEWNET, '/proc/thread-self/ns/net')
      }
    } finally {
      linux.close(own)
    }
  }

  close(): void {
    if (this.fd >= 0) linux.close(this.fd)
    this.fd = -1
  }

  /** The device named `name`, or null when there is none. */
  link(name: string): M.Link | null {
    try {
      const [m] = this.request(M.getLinkByName(++this.seq, name), name)
      return m ? M.parseLink(m.payload) : null
    } catch (e) {
      if ((e as { errno?: number }).errno === ENODEV) return null
      throw e
    }
  }

  links(): M.Link[] {
    return this.request(M.dumpLinks(++this.seq)).map((m) => M.parseLink(m.payload))
  }

  /** The addresses of device `index`, every family. */
  addrs(index: number, device?: string): M.Addr[] {
    return this.request(M.dumpAddrs(++this.seq), device)
      .map((m) => M.parseAddr(m.payload))
      .filter((a) => a.index === index)
  }

  /** Move device `index` to the namespace open at `nsFd` as `name` (a `%d` template or not). */
  moveLink(index: number, nsFd: number, name: string, device: string): void {
    this.request(M.moveLink(++this.seq, index, nsFd, name), device)
  }

  setUp(index: number, up: boolean, device: string): void {
    this.request(M.setLinkUp(++this.seq, index, up), device)
  }

  addAddr(index: number, a: M.Addr, device: string): void {
    this.request(M.newAddr(++this.seq, index, a), device, { address: addrText(a) })
  }

  /**
   * Send one request and collect the replies to it: one message, the parts of a dump up to
   * NLMSG_DONE, or nothing but the ack. An NLMSG_ERROR with an errno throws.
   */
  private request(msg: Buffer, device?: string, detail?: Record<string, string>): M.Message[] {
    if (this.fd < 0) throw new InternalError('netlink: socket closed')
    const type = msg.readUInt16LE(4)
    const flags = msg.readUInt16LE(6)
    const seq = msg.readUInt32LE(8)
    const syscall = `netlink ${M.RTM_NAMES[type] ?? type}`
    let n: number
    do n = Number(ffi.send(this.fd, msg, msg.length, 0))
    while (n < 0 && ffi.errno() === EINTR)
    if (n < 0) throw sysError(syscall, ffi.errno(), device, undefined, detail)
    const out: M.Message[] = []
    for (;;) {
      do n = Number(ffi.recv(this.fd, this.buf, this.buf.length, MSG_TRUNC))
      while (n < 0 && ffi.errno() === EINTR)
      if (n < 0) throw sysError(syscall, ffi.errno(), device, undefined, detail)
      if (n > this.buf.length) throw new InternalError(`${syscall}: a ${n}-byte reply overflows the buffer`)
      for (const m of M.parseMessages(this.buf.subarray(0, n))) {
        // A reply to an earlier request abandoned by a throw: not ours.
        if (m.seq !== seq) continue
        if (m.type === M.NLMSG_ERROR) {
          const err = M.parseError(m)
          if (err.errno === 0) return out
          throw sysError(syscall, err.errno, device, undefined, err.message ? { ...detail, kernel: err.message } : detail)
        }
        if (m.type === M.NLMSG_DONE) return out
        out.push(m)
        if (!(m.flags & M.NLM_F_MULTI) && !(flags & M.NLM_F_ACK)) return out
      }
    }
  }
}

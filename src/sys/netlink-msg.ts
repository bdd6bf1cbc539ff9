// rtnetlink messages as bytes: building requests (nlmsghdr, ifinfomsg, ifaddrmsg, rtattrs,
// each padded to 4 bytes) and parsing the kernel's replies (links, addresses, errors and
// acks). Pure: no koffi, no sockets; sys/netlink.ts sends and receives them. Layouts are
// <linux/netlink.h>, <linux/rtnetlink.h>, <linux/if_link.h> and <linux/if_addr.h>, host
// byte order (little-endian on the x86-64 and aarch64 hosts runt builds for).

import { InternalError } from '../errors.js'

export const NETLINK_ROUTE = 0
export const SOL_NETLINK = 270
/** setsockopt: error replies carry the kernel's message (NLMSGERR_ATTR_MSG). */
export const NETLINK_EXT_ACK = 11

export const RTM_NEWLINK = 16
export const RTM_GETLINK = 18
export const RTM_NEWADDR = 20
export const RTM_GETADDR = 22
export const RTM_NAMES: Readonly<Record<number, string>> = {
  [RTM_NEWLINK]: 'RTM_NEWLINK',
  [RTM_GETLINK]: 'RTM_GETLINK',
  [RTM_NEWADDR]: 'RTM_NEWADDR',
  [RTM_GETADDR]: 'RTM_GETADDR',
}

export const NLMSG_ERROR = 2
export const NLMSG_DONE = 3

export const NLM_F_REQUEST = 0x1
export const NLM_F_MULTI = 0x2
export const NLM_F_ACK = 0x4
export const NLM_F_DUMP = 0x300
export const NLM_F_EXCL = 0x200
export const NLM_F_CREATE = 0x400
/** On an NLMSG_ERROR: the request was not echoed / extended-ack TLVs follow it. */
export const NLM_F_CAPPED = 0x100
export const NLM_F_ACK_TLVS = 0x200
const NLMSGERR_ATTR_MSG = 1

export const AF_UNSPEC = 0
export const AF_INET = 2
export const AF_INET6 = 10

export const IFLA_ADDRESS = 1
export const IFLA_IFNAME = 3
export const IFLA_NET_NS_FD = 28

export const IFA_ADDRESS = 1
export const IFA_LOCAL = 2
export const IFA_LABEL = 3
export const IFA_BROADCAST = 4
export const IFA_FLAGS = 8

export const IFF_UP = 0x1
export const IFA_F_NODAD = 0x02
export const IFA_F_HOMEADDRESS = 0x10
export const IFA_F_PERMANENT = 0x80
export const IFA_F_MANAGETEMPADDR = 0x100
export const IFA_F_NOPREFIXROUTE = 0x200
export const IFA_F_MCAUTOJOIN = 0x400
/** The address flags RTM_NEWADDR takes from user space (the rest are the kernel's state). */
export const IFA_SETTABLE_FLAGS = IFA_F_NODAD | IFA_F_HOMEADDRESS | IFA_F_MANAGETEMPADDR | IFA_F_NOPREFIXROUTE | IFA_F_MCAUTOJOIN
export const RT_SCOPE_UNIVERSE = 0

const NLMSG_HDRLEN = 16
const IFINFOMSG_LEN = 16
const IFADDRMSG_LEN = 8
const RTA_HDRLEN = 4
const align4 = (n: number) => (n + 3) & ~3

/** One route attribute: its type and payload (unpadded). */
export type Attr = { type: number; data: Buffer }

export const attr = (type: number, data: Buffer): Attr => ({ type, data })
export const attrU32 = (type: number, v: number): Attr => {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(v >>> 0)
  return { type, data: b }
}
/** A NUL-terminated string attribute (IFLA_IFNAME, IFA_LABEL). */
export const attrString = (type: number, s: string): Attr => ({ type, data: Buffer.from(s + '\0', 'utf8') })

function encodeAttrs(attrs: readonly Attr[]): Buffer {
  const parts: Buffer[] = []
  for (const a of attrs) {
    const len = RTA_HDRLEN + a.data.length
    const b = Buffer.alloc(align4(len))
    b.writeUInt16LE(len, 0)
    b.writeUInt16LE(a.type, 2)
    a.data.copy(b, RTA_HDRLEN)
    parts.push(b)
  }
  return Buffer.concat(parts)
}

export type Header = { type: number; flags: number; seq: number; pid: number }

/** nlmsghdr + the family header + attributes, nlmsg_len covering it all. */
export function encodeMessage(h: Omit<Header, 'pid'>, body: Buffer, attrs: readonly Attr[] = []): Buffer {
  const payload = Buffer.concat([body, Buffer.alloc(align4(body.length) - body.length), encodeAttrs(attrs)])
  const b = Buffer.alloc(NLMSG_HDRLEN + payload.length)
  b.writeUInt32LE(b.length, 0)
  b.writeUInt16LE(h.type, 4)
  b.writeUInt16LE(h.flags, 6)
  b.writeUInt32LE(h.seq >>> 0, 8)
  b.writeUInt32LE(0, 12) // the kernel is port 0; ours it fills in
  payload.copy(b, NLMSG_HDRLEN)
  return b
}

export type IfInfo = { family?: number; type?: number; index: number; flags?: number; change?: number }

export function ifinfomsg(i: IfInfo): Buffer {
  const b = Buffer.alloc(IFINFOMSG_LEN)
  b.writeUInt8(i.family ?? AF_UNSPEC, 0)
  b.writeUInt16LE(i.type ?? 0, 2)
  b.writeInt32LE(i.index, 4)
  b.writeUInt32LE((i.flags ?? 0) >>> 0, 8)
  b.writeUInt32LE((i.change ?? 0) >>> 0, 12)
  return b
}

export type IfAddr = { family: number; prefixlen: number; flags: number; scope: number; index: number }

export function ifaddrmsg(a: IfAddr): Buffer {
  const b = Buffer.alloc(IFADDRMSG_LEN)
  b.writeUInt8(a.family, 0)
  b.writeUInt8(a.prefixlen, 1)
  b.writeUInt8(a.flags & 0xff, 2)
  b.writeUInt8(a.scope, 3)
  b.writeUInt32LE(a.index >>> 0, 4)
  return b
}

// --- requests ---

/** RTM_GETLINK for one device by name (ENODEV when there is none). */
export const getLinkByName = (seq: number, name: string): Buffer =>
  encodeMessage({ type: RTM_GETLINK, flags: NLM_F_REQUEST, seq }, ifinfomsg({ index: 0 }), [attrString(IFLA_IFNAME, name)])

/** RTM_GETLINK dump: every device of the socket's network namespace. */
export const dumpLinks = (seq: number): Buffer =>
  encodeMessage({ type: RTM_GETLINK, flags: NLM_F_REQUEST | NLM_F_DUMP, seq }, ifinfomsg({ index: 0 }))

/** RTM_GETADDR dump of every family (filtered by device on our side: no strict checking). */
export const dumpAddrs = (seq: number): Buffer =>
  encodeMessage(
    { type: RTM_GETADDR, flags: NLM_F_REQUEST | NLM_F_DUMP, seq },
    ifaddrmsg({ family: AF_UNSPEC, prefixlen: 0, flags: 0, scope: 0, index: 0 }),
  )

/**
 * Move device `index` into the network namespace open at `nsFd` (an fd of the sending
 * process) and name it `name` there, in one request (the kernel picks a free name for a
 * `%d` template, on a clash with the current name too).
 */
export const moveLink = (seq: number, index: number, nsFd: number, name: string): Buffer =>
  encodeMessage({ type: RTM_NEWLINK, flags: NLM_F_REQUEST | NLM_F_ACK, seq }, ifinfomsg({ index }), [
    attrU32(IFLA_NET_NS_FD, nsFd),
    attrString(IFLA_IFNAME, name),
  ])

/** Set or clear IFF_UP on device `index`. */
export const setLinkUp = (seq: number, index: number, up: boolean): Buffer =>
  encodeMessage(
    { type: RTM_NEWLINK, flags: NLM_F_REQUEST | NLM_F_ACK, seq },
    ifinfomsg({ index, flags: up ? IFF_UP : 0, change: IFF_UP }),
  )

/**
 * Add `a` (as a dump reported it) to device `index`: local and peer address, prefix length,
 * IPv4 broadcast, scope and the flags user space may set; no label, which names the device
 * it came from (a renamed device would refuse it), no lifetimes (permanent addresses have
 * none).
 */
export function newAddr(seq: number, index: number, a: Addr): Buffer {
  const attrs: Attr[] = []
  if (a.local) attrs.push(attr(IFA_LOCAL, a.local))
  if (a.address) attrs.push(attr(IFA_ADDRESS, a.address))
  if (a.broadcast) attrs.push(attr(IFA_BROADCAST, a.broadcast))
  const flags = a.flags & IFA_SETTABLE_FLAGS
  if (flags > 0xff) attrs.push(attrU32(IFA_FLAGS, flags))
  return encodeMessage(
    { type: RTM_NEWADDR, flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq },
    ifaddrmsg({ family: a.family, prefixlen: a.prefixlen, flags, scope: a.scope, index }),
    attrs,
  )
}

// --- replies ---

export type Message = Header & { payload: Buffer }

/** Split a datagram into its messages; a length that runs past the end is a framing bug. */
export function parseMessages(buf: Buffer): Message[] {
  const out: Message[] = []
  let off = 0
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off)
    if (len < NLMSG_HDRLEN || off + len > buf.length) throw new InternalError(`netlink: bad message length ${len}`)
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      pid: buf.readUInt32LE(off + 12),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    })
    off += align4(len)
  }
  return out
}

/** The attributes in `buf` by type (the last one of a type wins; none repeat in what we read). */
export function parseAttrs(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>()
  let off = 0
  while (off + RTA_HDRLEN <= buf.length) {
    const len = buf.readUInt16LE(off)
    if (len < RTA_HDRLEN || off + len > buf.length) break
    // NLA_F_NESTED and NLA_F_NET_BYTEORDER ride in the top bits of the type.
    out.set(buf.readUInt16LE(off + 2) & 0x3fff, buf.subarray(off + RTA_HDRLEN, off + len))
    off += align4(len)
  }
  return out
}

const cstr = (b: Buffer | undefined): string | undefined => {
  if (!b) return undefined
  const nul = b.indexOf(0)
  return b.subarray(0, nul < 0 ? b.length : nul).toString('utf8')
}

/** A device as RTM_NEWLINK describes it. */
export type Link = { index: number; flags: number; name: string; mac: string }

export function parseLink(payload: Buffer): Link {
  if (payload.length < IFINFOMSG_LEN) throw new InternalError('netlink: short ifinfomsg')
  const attrs = parseAttrs(payload.subarray(IFINFOMSG_LEN))
  return {
    index: payload.readInt32LE(4),
    flags: payload.readUInt32LE(8),
    name: cstr(attrs.get(IFLA_IFNAME)) ?? '',
    mac: formatMac(attrs.get(IFLA_ADDRESS)),
  }
}

/** An address as RTM_NEWADDR describes it; `flags` is IFA_FLAGS when present (32 bits). */
export type Addr = {
  family: number
  prefixlen: number
  flags: number
  scope: number
  index: number
  local?: Buffer
  address?: Buffer
  broadcast?: Buffer
  label?: string
}

export function parseAddr(payload: Buffer): Addr {
  if (payload.length < IFADDRMSG_LEN) throw new InternalError('netlink: short ifaddrmsg')
  const attrs = parseAttrs(payload.subarray(IFADDRMSG_LEN))
  const a: Addr = {
    family: payload.readUInt8(0),
    prefixlen: payload.readUInt8(1),
    flags: attrs.get(IFA_FLAGS)?.readUInt32LE(0) ?? payload.readUInt8(2),
    scope: payload.readUInt8(3),
    index: payload.readUInt32LE(4),
  }
  const local = attrs.get(IFA_LOCAL)
  const address = attrs.get(IFA_ADDRESS)
  const broadcast = attrs.get(IFA_BROADCAST)
  const label = cstr(attrs.get(IFA_LABEL))
  if (local) a.local = Buffer.from(local)
  if (address) a.address = Buffer.from(address)
  if (broadcast) a.broadcast = Buffer.from(broadcast)
  if (label !== undefined) a.label = label
  return a
}

/**
 * NLMSG_ERROR's payload: errno (positive; 0 is the ack) and the kernel's own message when
 * the socket asked for extended acks. The request is echoed after the error unless capped.
 */
export function parseError(m: Message): { errno: number; message?: string } {
  if (m.payload.length < 4) throw new InternalError('netlink: short error message')
  const errno = -m.payload.readInt32LE(0)
  if (!(m.flags & NLM_F_ACK_TLVS) || m.payload.length < 4 + NLMSG_HDRLEN) return { errno }
  const echoed = m.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : m.payload.readUInt32LE(4)
  const msg = cstr(parseAttrs(m.payload.subarray(4 + align4(echoed))).get(NLMSGERR_ATTR_MSG))
  return msg ? { errno, message: msg } : { errno }
}

export function formatMac(b: Buffer | undefined): string {
  return b ? [...b].map((x) => x.toString(16).padStart(2, '0')).join(':') : ''
}

/** An address as `ip` prints it: dotted IPv4, IPv6 groups with the longest zero run as `::`. */
export function formatIp(b: Buffer): string {
  if (b.length === 4) return [...b].join('.')
  const groups: number[] = []
  for (let i = 0; i + 1 < b.length; i += 2) groups.push(b.readUInt16BE(i))
  let best = -1
  let bestLen = 1
  for (let i = 0; i < groups.length;) {
    let j = i
    while (j < groups.length && groups[j] === 0) j++
    if (j - i > bestLen) [best, bestLen] = [i, j - i]
    i = j > i ? j : i + 1
  }
  const hex = groups.map((g) => g.toString(16))
  if (best < 0) return hex.join(':')
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`
}

import t from 'tap'
import * as M from '../../../src/sys/netlink-msg.js'
import { InternalError } from '../../../src/errors.js'
import { ADDR_DUMP, ERR_EXIST, ERR_NODEV, ERR_PREFIX, LINK_RTCAP0 } from '../../fixtures/netlink-replies.js'

const hex = (b: Buffer) => b.toString('hex')
/** Expected bytes written out field by field, spaces between fields. */
const bytes = (s: string) => s.replace(/\s+/g, '')

t.test('RTM_NEWLINK moving a device: nlmsghdr, ifinfomsg, IFLA_NET_NS_FD, IFLA_IFNAME padded', async (t) => {
  t.equal(
    hex(M.moveLink(7, 120, 5, 'eth9')),
    bytes(`
      34000000 1000 0500 07000000 00000000
      00 00 0000 78000000 00000000 00000000
      0800 1c00 05000000
      0900 0300 6574683900 000000`),
    'len 52, RTM_NEWLINK, REQUEST|ACK; index 120; fd 5; "eth9\\0" and 3 bytes of padding',
  )
  t.equal(
    hex(M.setLinkUp(8, 3, true)),
    bytes(`20000000 1000 0500 08000000 00000000  00 00 0000 03000000 01000000 01000000`),
    'IFF_UP set in flags and change',
  )
  t.equal(hex(M.setLinkUp(8, 3, false)).slice(-16), bytes('00000000 01000000'), 'down: flag cleared, change kept')
})

t.test('RTM_GETLINK by name and the dumps', async (t) => {
  t.equal(
    hex(M.getLinkByName(1, 'rtcap0')),
    bytes(`2c000000 1200 0100 01000000 00000000  00000000 00000000 00000000 00000000  0b00 0300 72746361703000 00`),
  )
  t.equal(hex(M.dumpLinks(2)), bytes(`20000000 1200 0103 02000000 00000000  00000000 00000000 00000000 00000000`))
  t.equal(hex(M.dumpAddrs(3)), bytes(`18000000 1600 0103 03000000 00000000  00 00 00 00 00000000`))
})

t.test('RTM_NEWADDR: local, peer, broadcast, settable flags only, no label', async (t) => {
  const v4: M.Addr = {
    family: M.AF_INET,
    prefixlen: 24,
    flags: M.IFA_F_PERMANENT,
    scope: 0,
    index: 120,
    local: Buffer.from([10, 77, 0, 5]),
    address: Buffer.from([10, 77, 0, 5]),
    broadcast: Buffer.from([10, 77, 0, 255]),
    label: 'rtcap0',
  }
  t.equal(
    hex(M.newAddr(9, 4, v4)),
    bytes(`
      30000000 1400 0506 09000000 00000000
      02 18 00 00 04000000
      0800 0200 0a4d0005
      0800 0100 0a4d0005
      0800 0400 0a4d00ff`),
    'CREATE|EXCL|ACK|REQUEST; IFA_F_PERMANENT is the kernel state and not sent',
  )
  const v6: M.Addr = {
    family: M.AF_INET6,
    prefixlen: 64,
    flags: M.IFA_F_PERMANENT | M.IFA_F_NODAD | M.IFA_F_NOPREFIXROUTE,
    scope: 0,
    index: 120,
    address: Buffer.from('fd000077000000000000000000000005', 'hex'),
  }
  t.equal(
    hex(M.newAddr(10, 4, v6)),
    bytes(`
      34000000 1400 0506 0a000000 00000000
      0a 40 02 00 04000000
      1400 0100 fd000077000000000000000000000005
      0800 0800 02020000`),
    'flags above 8 bits go in IFA_FLAGS (nodad|noprefixroute), the low byte in ifa_flags',
  )
})

t.test('a captured RTM_GETLINK reply: index, flags, name, MAC', async (t) => {
  const [m, ...rest] = M.parseMessages(LINK_RTCAP0)
  t.same(rest, [])
  t.equal(m!.type, M.RTM_NEWLINK)
  t.equal(m!.seq, 7)
  const l = M.parseLink(m!.payload)
  t.same(l, { index: 126, flags: l.flags, name: 'rtcap0', mac: '2e:ae:06:db:d9:2f' })
  t.ok(l.flags & M.IFF_UP, 'up')
})

t.test('a captured RTM_GETADDR dump: multipart, then NLMSG_DONE; IFA_FLAGS read', async (t) => {
  const parts = M.parseMessages(ADDR_DUMP[0]!)
  t.ok(parts.every((m) => m.type === M.RTM_NEWADDR && m.flags & M.NLM_F_MULTI))
  const addrs = parts.map((m) => M.parseAddr(m.payload))
  const mine = addrs.filter((a) => a.index === 120)
  t.same(
    mine.map((a) => [a.family, M.formatIp(a.local ?? a.address!), a.prefixlen, a.flags, a.scope, a.label ?? null]),
    [
      [M.AF_INET, '10.77.0.5', 24, M.IFA_F_PERMANENT, 0, 'rtcap0'],
      [M.AF_INET6, 'fd00:77::5', 64, M.IFA_F_PERMANENT | M.IFA_F_NODAD, 0, null],
    ],
  )
  const lo = addrs.find((a) => a.index === 1 && a.family === M.AF_INET)!
  t.equal(M.formatIp(lo.local!), '127.0.0.1')
  t.equal(lo.scope, 254, 'host scope: not carried')
  t.same(
    addrs.filter((a) => a.scope === 253).map((a) => M.formatIp(a.address!)),
    ['fe80::fc:ff:fe00:1'],
    'link scope',
  )
  const [done] = M.parseMessages(ADDR_DUMP[1]!)
  t.equal(done!.type, M.NLMSG_DONE)
})

t.test('captured NLMSG_ERROR replies: errno, and the kernel message with ACK_TLVS', async (t) => {
  const err = (b: Buffer) => {
    const [m] = M.parseMessages(b)
    t.equal(m!.type, M.NLMSG_ERROR)
    return M.parseError(m!)
  }
  t.same(err(ERR_NODEV), { errno: 19 })
  t.same(err(ERR_EXIST), { errno: 17 })
  t.same(err(ERR_PREFIX), { errno: 22, message: 'ipv4: Invalid prefix length' })
  // An ack: errno 0, the request echoed whole (no CAP_ACK).
  const req = M.setLinkUp(5, 1, true)
  const ack = M.encodeMessage({ type: M.NLMSG_ERROR, flags: 0, seq: 5 }, Buffer.concat([Buffer.alloc(4), req]))
  t.same(M.parseError(M.parseMessages(ack)[0]!), { errno: 0 })
  // Uncapped with TLVs: the message comes after the whole echoed request.
  const tlv = Buffer.from('0d000100626164206e616d650000000000', 'hex').subarray(0, 16)
  const e = Buffer.alloc(4)
  e.writeInt32LE(-34)
  const full = M.encodeMessage({ type: M.NLMSG_ERROR, flags: M.NLM_F_ACK_TLVS, seq: 5 }, Buffer.concat([e, req, tlv]))
  t.same(M.parseError(M.parseMessages(full)[0]!), { errno: 34, message: 'bad name' })
})

t.test('framing: several messages in one datagram, a bad length, attribute type bits', async (t) => {
  const two = Buffer.concat([M.getLinkByName(1, 'a'), M.dumpLinks(2)])
  t.same(
    M.parseMessages(two).map((m) => m.seq),
    [1, 2],
  )
  const bad = M.dumpLinks(3)
  bad.writeUInt32LE(200, 0)
  t.throws(() => M.parseMessages(bad), InternalError)
  // NLA_F_NESTED (0x8000) is not part of the type; a truncated attribute ends the list.
  const attrs = Buffer.from('08000180' + '01020304' + '0800', 'hex')
  t.same([...M.parseAttrs(attrs).keys()], [1])
  t.throws(() => M.parseLink(Buffer.alloc(8)), InternalError)
  t.throws(() => M.parseAddr(Buffer.alloc(4)), InternalError)
})

t.test('addresses and MACs as ip prints them', async (t) => {
  const ip6 = (s: string) => M.formatIp(Buffer.from(s, 'hex'))
  t.equal(ip6('00000000000000000000000000000001'), '::1')
  t.equal(ip6('00010002000300040005000600070008'), '1:2:3:4:5:6:7:8')
  t.equal(ip6('00010000000000020000000000000003'), '1:0:0:2::3', 'the longest zero run')
  t.equal(ip6('00010000000200030004000500060007'), '1:0:2:3:4:5:6:7', 'a single zero group stays')
  t.equal(M.formatMac(Buffer.from([2, 0, 0, 0xaa, 0xbb, 1])), '02:00:00:aa:bb:01')
  t.equal(M.formatMac(undefined), '')
})

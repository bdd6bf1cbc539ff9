// A real NETLINK_ROUTE socket, asked only what any user may ask (links and addresses of this
// namespace) and refused what changes nothing: the request loop, dumps, NLMSG_ERROR as
// SysError. Moving devices for real is test/priv/net-devices.ts.

import t from 'tap'
import * as fs from 'node:fs'
import { Rtnl, addrText } from '../../../src/sys/netlink.js'
import { linux as sys } from '../../../src/sys/linux.js'
import * as C from '../../../src/sys/constants.js'
import * as M from '../../../src/sys/netlink-msg.js'
import { SysError } from '../../../src/errors.js'

t.test('lo by name, in the dump, with its addresses; a missing name is null', async (t) => {
  const nl = Rtnl.open()
  t.teardown(() => nl.close())
  const lo = nl.link('lo')
  t.ok(lo, 'lo is there')
  t.equal(lo!.index, Number(fs.readFileSync('/sys/class/net/lo/ifindex', 'utf8')))
  t.equal(lo!.mac, '00:00:00:00:00:00')
  const all = nl.links()
  t.ok(
    all.some((l) => l.name === 'lo' && l.index === lo!.index),
    'the dump has it',
  )
  t.equal(all.length, fs.readdirSync('/sys/class/net').length, 'every device of the namespace, across datagrams')
  const addrs = nl.addrs(lo!.index, 'lo')
  t.ok(addrs.every((a) => a.index === lo!.index))
  const v4 = addrs.find((a) => a.family === M.AF_INET)
  if (v4) t.equal(addrText(v4), '127.0.0.1/8')
  t.equal(nl.link(`nope${process.pid}`), null)
  t.equal(nl.link('lo')!.index, lo!.index, 'the socket still answers after an error reply')
})

t.test('a refusal is a SysError naming the request and the device', async (t) => {
  const nl = Rtnl.open()
  t.teardown(() => nl.close())
  // No such index: ENODEV as root, EPERM without CAP_NET_ADMIN; nothing changes either way.
  const err = t.throws(() => nl.setUp(0x7ffffff0, true, 'ghost0')) as SysError
  t.type(err, SysError)
  t.equal(err.syscall, 'netlink RTM_NEWLINK')
  t.equal(err.path, 'ghost0')
  t.match(err.errnoName, /^(ENODEV|EPERM)$/)
  t.match(err.message, /^netlink RTM_NEWLINK ghost0( \(kernel=.*\))?: (no such device|operation not permitted)$/)
  const a: M.Addr = { family: M.AF_INET, prefixlen: 24, flags: 0, scope: 0, index: 0x7ffffff0, local: Buffer.from([10, 0, 0, 1]) }
  const e2 = t.throws(() => nl.addAddr(0x7ffffff0, a, 'ghost0')) as SysError
  t.equal(e2.syscall, 'netlink RTM_NEWADDR')
  t.equal(e2.detail?.address, '10.0.0.1/24')
  t.equal(addrText({ ...a, local: undefined } as unknown as M.Addr), '/24')
  nl.close()
  nl.close()
  t.throws(() => nl.link('lo'), { name: 'InternalError' })
})

t.test('a socket opened in a namespace by fd (here our own) and back', async (t) => {
  const before = fs.readlinkSync('/proc/thread-self/ns/net')
  const fd = sys.openat(C.AT_FDCWD, '/proc/self/ns/net', C.O_RDONLY)
  t.teardown(() => sys.close(fd))
  let nl: Rtnl | null = null
  try {
    nl = Rtnl.openIn(fd, '/proc/self/ns/net')
  } catch (e) {
    // setns(2) needs CAP_SYS_ADMIN.
    t.equal((e as SysError).errnoName, 'EPERM')
    t.equal((e as SysError).syscall, 'setns')
  }
  t.equal(fs.readlinkSync('/proc/thread-self/ns/net'), before, 'back in our own')
  if (nl) {
    t.ok(nl.link('lo'))
    nl.close()
  }
})

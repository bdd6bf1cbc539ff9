// Which addresses go with a moved network device (the rest of process/net-devices.ts moves
// real devices: test/priv/net-devices.ts).

import t from 'tap'
import { carriedAddrs, moveNetDevices } from '../../../src/process/net-devices.js'
import * as M from '../../../src/sys/netlink-msg.js'

t.test('permanent addresses of global scope go, of any family; the rest stay behind', async (t) => {
  const a = (family: number, flags: number, scope: number, last: number): M.Addr => ({
    family,
    prefixlen: 24,
    flags,
    scope,
    index: 5,
    address: Buffer.from([10, 0, 0, last]),
  })
  const permanent4 = a(M.AF_INET, M.IFA_F_PERMANENT, M.RT_SCOPE_UNIVERSE, 1)
  const permanent6 = a(M.AF_INET6, M.IFA_F_PERMANENT | M.IFA_F_NODAD, M.RT_SCOPE_UNIVERSE, 2)
  const dynamic = a(M.AF_INET, 0, M.RT_SCOPE_UNIVERSE, 3) // from DHCP or SLAAC: has a lifetime
  const link = a(M.AF_INET6, M.IFA_F_PERMANENT, 253, 4)
  const host = a(M.AF_INET, M.IFA_F_PERMANENT, 254, 5)
  t.same(carriedAddrs([permanent4, dynamic, link, permanent6, host]), [permanent4, permanent6])
})

t.test('no devices: nothing opened, nothing to undo', async (t) => {
  const moved = moveNetDevices(1, {})
  t.doesNotThrow(() => {
    moved.undo()
    moved.release()
  })
})

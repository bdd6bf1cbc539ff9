// Host facts for planConfinement.

import t from 'tap'
import { probeHost } from '../../../src/confine/host.js'

t.test("a namespace path is the host's when it is the runtime's own", async (t) => {
  const h = probeHost()
  t.equal(h.isHostNs('network', '/proc/self/ns/net'), true)
  t.equal(h.isHostNs('ipc', '/proc/self/ns/ipc'), true)
  t.equal(h.isHostNs('network', '/proc/self/ns/ipc'), false, 'another namespace')
  t.equal(h.isHostNs('uts', '/no/such/path'), false, 'an unreadable path is left to the namespace code')
  t.equal(h.cwd, process.cwd())
  t.type(h.apparmor, 'boolean')
  t.type(h.selinux, 'boolean')
})

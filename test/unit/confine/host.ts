// Host facts for planConfinement.

import t from 'tap'
import { probeHost, readMemoryNodes } from '../../../src/confine/host.js'

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

t.test('the memory nodes: has_memory in list format, null without NUMA sysfs', async (t) => {
  const dir = t.testdir({ one: '0\n', some: '0-1,3\n', bad: 'x\n' })
  t.same(readMemoryNodes(`${dir}/one`), [0])
  t.same(readMemoryNodes(`${dir}/some`), [0, 1, 3])
  t.equal(readMemoryNodes(`${dir}/bad`), null)
  t.equal(readMemoryNodes(`${dir}/absent`), null)
  const h = probeHost()
  t.same(h.memoryNodes, readMemoryNodes(), "this host's, read once")
})

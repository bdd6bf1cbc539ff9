// LSM helpers and mountLabel: the attr values written, and context= on the mounts runc labels
// (only when the host has SELinux; runc ignores the label otherwise).

import t from 'tap'
import { attrPath, execAttrValue } from '../../../src/confine/lsm.js'
import { planRootfs } from '../../../src/plan/rootfs.js'

t.test('exec attr values', async (t) => {
  t.equal(execAttrValue('apparmor', 'docker-default'), 'exec docker-default', "aa_change_onexec's format")
  t.equal(execAttrValue('selinux', 'system_u:system_r:container_t:s0'), 'system_u:system_r:container_t:s0')
  t.match(attrPath('apparmor', 'exec'), /^\/proc\/thread-self\/attr\/(apparmor\/)?exec$/, 'the calling thread, not the process')
  t.match(attrPath('selinux', 'keycreate'), /^\/proc\/thread-self\/attr\/(selinux\/)?keycreate$/)
})

const spec = {
  root: { path: 'rootfs' },
  mounts: [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['mode=755'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['newinstance'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue' },
    { destination: '/sys', type: 'sysfs', source: 'sysfs' },
    { destination: '/data', type: 'bind', source: '/srv', options: ['rbind'] },
  ],
  linux: { mountLabel: 'system_u:object_r:container_file_t:s0:c1,c2' },
}
const data = (selinux: boolean) =>
  Object.fromEntries(
    planRootfs(spec, { bundle: '/b', userns: false, selinux }, { noPivot: false }).mounts.map((m) => [m.destination, m.data]),
  )

t.test('mountLabel with SELinux: context= on tmpfs, devpts and others only', async (t) => {
  const label = 'context="system_u:object_r:container_file_t:s0:c1,c2"'
  t.same(data(true), {
    '/proc': '',
    '/dev': `mode=755,${label}`,
    '/dev/pts': `newinstance,${label}`,
    '/dev/mqueue': '',
    '/sys': '',
    '/data': '',
  })
  t.equal(planRootfs(spec, { bundle: '/b', userns: false, selinux: true }, { noPivot: false }).mountLabel, spec.linux.mountLabel)
})

t.test('mountLabel without SELinux: not applied anywhere', async (t) => {
  t.same(Object.values(data(false)), ['', 'mode=755', 'newinstance', '', '', ''])
  t.equal(
    planRootfs(spec, { bundle: '/b', userns: false }, { noPivot: false }).mountLabel,
    undefined,
    'masked directories get no context= either',
  )
})

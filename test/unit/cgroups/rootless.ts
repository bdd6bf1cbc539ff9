import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { firstLimit, firstUnwritable, parseBoolOrAuto, rootlessCgroups } from '../../../src/cgroups/rootless.js'
import { RuntimeError } from '../../../src/errors.js'

t.test('parseBoolOrAuto: Go ParseBool, auto and empty as null', async (t) => {
  for (const s of ['', 'auto']) t.equal(parseBoolOrAuto(s), null)
  for (const s of ['1', 't', 'T', 'true', 'TRUE', 'True']) t.equal(parseBoolOrAuto(s), true)
  for (const s of ['0', 'f', 'F', 'false', 'FALSE', 'False']) t.equal(parseBoolOrAuto(s), false)
  t.throws(() => parseBoolOrAuto('yes'), new RuntimeError('strconv.ParseBool: parsing "yes": invalid syntax', 'EROOTLESS'))
})

t.test('rootlessCgroups: runc shouldUseRootlessCgroupManager for cgroupfs', async (t) => {
  const never = () => false
  const always = () => true
  t.equal(rootlessCgroups('auto', { euid: 1000, inUserNs: never }), true, 'not root')
  t.equal(rootlessCgroups('auto', { euid: 0, inUserNs: never }), false, 'real root')
  t.equal(rootlessCgroups('auto', { euid: 0, inUserNs: always }), true, 'root of a user namespace')
  t.equal(rootlessCgroups('false', { euid: 1000, inUserNs: never }), false, 'the flag wins')
  t.equal(rootlessCgroups('true', { euid: 0, inUserNs: never }), true)
})

t.test('firstLimit: the first set field, zeros and empties set nothing, devices aside', async (t) => {
  t.equal(firstLimit(undefined), null)
  t.equal(firstLimit({}), null)
  t.equal(firstLimit({ devices: [{ allow: false, access: 'rwm' }] }), null)
  t.equal(firstLimit({ memory: {}, cpu: { shares: 0 }, pids: { limit: 0 } }), null)
  t.same(firstLimit({ memory: { limit: 1 << 20 } }), { field: 'linux.resources.memory.limit', controller: 'memory' })
  t.same(firstLimit({ cpu: { cpus: '0' } }), { field: 'linux.resources.cpu.cpus', controller: 'cpuset' })
  t.same(firstLimit({ cpu: { quota: 1000 } }), { field: 'linux.resources.cpu.quota', controller: 'cpu' })
  t.same(firstLimit({ blockIO: { weight: 10 } }), { field: 'linux.resources.blockIO.weight', controller: 'blkio' })
  t.same(firstLimit({ hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }), {
    field: 'linux.resources.hugepageLimits[0].pageSize',
    controller: 'hugetlb',
  })
  t.same(firstLimit({ pids: { limit: -1 } }), { field: 'linux.resources.pids.limit', controller: 'pids' })
})

t.test('firstUnwritable: the nearest existing ancestor decides; an existing leaf by cgroup.procs', async (t) => {
  const dir = t.testdir({ cpu: { mine: { 'cgroup.procs': '' } }, memory: {} })
  const ro = new Set([path.join(dir, 'memory')])
  const access = (p: string) => !ro.has(p)
  t.equal(firstUnwritable([path.join(dir, 'cpu/runt/c')], access), null)
  t.equal(
    firstUnwritable([path.join(dir, 'cpu/runt/c'), path.join(dir, 'memory/runt/c')], access),
    path.join(dir, 'memory/runt/c'),
  )
  const procs = path.join(dir, 'cpu/mine/cgroup.procs')
  t.equal(
    firstUnwritable([path.join(dir, 'cpu/mine')], (p) => p !== procs),
    path.join(dir, 'cpu/mine'),
  )
  t.ok(fs.existsSync(procs))
  t.equal(firstUnwritable([path.join(dir, 'cpu/x')]), null, 'the real access check (root may write)')
})

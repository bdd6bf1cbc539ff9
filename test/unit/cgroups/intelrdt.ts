import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {
  applyIntelRdt,
  checkSchemata,
  destroyIntelRdt,
  findResctrl,
  joinIntelRdt,
  planIntelRdt,
  updateIntelRdt,
  type RdtRecord,
} from '../../../src/cgroups/intelrdt.js'
import { FakeResctrl } from '../../fixtures/fake-resctrl.js'
import type { LinuxIntelRdt } from '../../../src/spec/schema.js'

const PID = 4242

function host(t: Test, o: ConstructorParameters<typeof FakeResctrl>[1] = {}) {
  const root = path.join(t.testdir({}), 'resctrl')
  const k = new FakeResctrl(root, o)
  return { k, root, plan: (rdt: LinuxIntelRdt, id = 'ctr') => planIntelRdt(rdt, id, root, k) }
}

const mi = (mp: string, fstype: string) => `30 1 0:27 / ${mp} rw,relatime shared:9 - ${fstype} ${fstype} rw\n`

t.test('findResctrl: the resctrl mount, /sys/fs/resctrl first', async (t) => {
  t.equal(findResctrl(mi('/', 'ext4') + mi('/sys/fs/cgroup', 'cgroup2')), null)
  t.equal(findResctrl(mi('/', 'ext4') + mi('/mnt/rdt', 'resctrl')), '/mnt/rdt')
  t.equal(findResctrl(mi('/mnt/rdt', 'resctrl') + mi('/sys/fs/resctrl', 'resctrl')), '/sys/fs/resctrl')
  t.equal(findResctrl(mi('/mnt/with\\040space', 'resctrl')), '/mnt/with space')
})

t.test('no resctrl mounted: every intelRdt is refused, even a closID alone (runc 1.4)', async (t) => {
  for (const rdt of [{}, { closID: 'gold' }, { l3CacheSchema: 'L3:0=f' }, { enableMonitoring: true }]) {
    t.throws(() => planIntelRdt(rdt, 'ctr', null), {
      code: 'ERDT',
      message:
        'linux.intelRdt: intelRdt is specified in config, but Intel RDT is not enabled: no resctrl file system is mounted (see /proc/self/mountinfo)',
    })
  }
})

t.test('plan: the group, the lines in the spec order, monitoring', async (t) => {
  const { root, plan } = host(t, { resources: ['L3', 'MB', 'L2'] })
  t.same(plan({}), { root, group: path.join(root, 'ctr'), named: false, lines: [] })
  t.same(plan({ closID: 'gold' }).group, path.join(root, 'gold'))
  t.equal(plan({ closID: 'gold' }).named, true)
  t.equal(plan({ closID: '/' }).group, root, 'closID "/" is the default CLOS, the root')
  t.equal(plan({ closID: '' }).named, false, 'an empty closID is no closID')
  for (const closID of ['..', 'a/../..'])
    t.throws(() => plan({ closID }), { message: /^linux\.intelRdt\.closID: must be a plain name/ }, 'never outside the root')
  t.same(plan({ schemata: ['L2:0=f', 'MB:0=30'], memBwSchema: 'MB:0=20', l3CacheSchema: 'L3:0=7f0' }).lines, [
    { field: 'linux.intelRdt.l3CacheSchema', line: 'L3:0=7f0' },
    { field: 'linux.intelRdt.memBwSchema', line: 'MB:0=20' },
    { field: 'linux.intelRdt.schemata[0]', line: 'L2:0=f' },
    { field: 'linux.intelRdt.schemata[1]', line: 'MB:0=30' },
  ])
  t.equal(plan({ enableMonitoring: true }).monGroup, path.join(root, 'ctr', 'mon_groups', 'ctr'))
  t.equal(plan({ closID: 'gold', enableMonitoring: true }, 'c2').monGroup, path.join(root, 'gold', 'mon_groups', 'c2'))
  // runtime-spec 1.2's flags ask for the same group.
  t.equal(plan({ enableCMT: true }).monGroup, path.join(root, 'ctr', 'mon_groups', 'ctr'), 'enableCMT')
  t.equal(plan({ enableMBM: true }).monGroup, path.join(root, 'ctr', 'mon_groups', 'ctr'), 'enableMBM')
  t.equal(plan({ enableCMT: false, enableMBM: false }).monGroup, undefined, 'false: none')
})

t.test('plan: enableCMT / enableMBM need their event in info/L3_MON/mon_features', async (t) => {
  const { root, plan } = host(t)
  fs.writeFileSync(path.join(root, 'info', 'L3_MON', 'mon_features'), 'llc_occupancy\n')
  t.ok(plan({ enableCMT: true }).monGroup)
  t.throws(() => plan({ enableMBM: true }), {
    message: `linux.intelRdt.enableMBM: the kernel does not monitor mbm_total_bytes: not in ${root}/info/L3_MON/mon_features`,
  })
  const none = host(t, { monitoring: false })
  t.throws(() => none.plan({ enableCMT: true }), {
    message: `linux.intelRdt.enableCMT: resctrl monitoring is not available: no ${none.root}/info/*_MON`,
  })
})

t.test("plan: what the host's info/ does not offer is refused, naming the field", async (t) => {
  const { root, plan } = host(t, { resources: ['MB'], monitoring: false })
  t.throws(() => plan({ l3CacheSchema: 'L3:0=f' }), {
    message: `linux.intelRdt.l3CacheSchema: Intel RDT/CAT is not enabled: ${root}/info/L3 does not exist`,
  })
  t.throws(() => plan({ schemata: ['MB:0=20', 'L2:0=f'] }), {
    message: `linux.intelRdt.schemata[1]: the kernel offers no resctrl resource L2: ${root}/info/L2 does not exist`,
  })
  t.throws(() => plan({ schemata: ['garbage'] }), {
    message: 'linux.intelRdt.schemata[0]: "garbage" is not a schemata line (RESOURCE:ID=VALUE;...)',
  })
  t.throws(() => plan({ enableMonitoring: true }), {
    message: `linux.intelRdt.enableMonitoring: resctrl monitoring is not available: no ${root}/info/*_MON`,
  })
  const noMb = host(t, { resources: ['L3'] })
  t.throws(() => noMb.plan({ memBwSchema: 'MB:0=20' }), {
    message: `linux.intelRdt.memBwSchema: Intel RDT/MBA is not enabled: ${noMb.root}/info/MB does not exist`,
  })
})

t.test("the container's own group: created, written exactly, joined, removed on delete", async (t) => {
  const { k, plan } = host(t)
  const seen: RdtRecord[] = []
  const p = plan({ l3CacheSchema: 'L3:0=7f0;1=1f', memBwSchema: 'MB:0=20;1=70', schemata: ['MB:1=50'] })
  const { record } = applyIntelRdt(p, PID, {
    io: k,
    beforeCreate: (r) => {
      t.notOk(k.has('ctr'), 'told before the group is made')
      seen.push({ ...r })
    },
  })
  t.same(record, { root: k.root, path: path.join(k.root, 'ctr'), owned: true, written: true })
  t.same(seen, [record])
  t.same(k.writesTo('ctr/schemata'), ['L3:0=7f0;1=1f\n', 'MB:0=20;1=70\n', 'MB:1=50\n'], 'one write per line, in order')
  t.equal(k.get('ctr/schemata'), 'L3:0=007f0;1=0001f\nMB:0=20;1=50\n', 'the kernel merges line by line')
  t.same(k.tasksOf('ctr'), [PID])
  t.same(
    k.writes.map((w) => w.file),
    ['ctr/schemata', 'ctr/schemata', 'ctr/schemata', 'ctr/tasks'],
    'the limits are in place before the pid joins',
  )
  destroyIntelRdt(record, k)
  t.notOk(k.has('ctr'))
  t.ok(k.has('schemata'), 'the root is untouched')
})

t.test('a group named after the container that exists is joined and rewritten, and kept', async (t) => {
  const { k, plan } = host(t)
  k.mkdir(path.join(k.root, 'ctr'))
  const { record } = applyIntelRdt(plan({ memBwSchema: 'MB:0=30' }), PID, { io: k })
  t.same(record, { root: k.root, path: path.join(k.root, 'ctr'), owned: false, written: true })
  t.same(k.writesTo('ctr/schemata'), ['MB:0=30\n'])
  destroyIntelRdt(record, k)
  t.ok(k.has('ctr'), 'not made by runt: not removed')
})

t.test('closID naming an existing group: joined as it is, never written, kept on delete', async (t) => {
  const { k, plan } = host(t)
  k.mkdir(path.join(k.root, 'gold'))
  k.set('gold/schemata', '    L3:0=007f0;1=fffff\n    MB:0=20;1=100\n')
  k.set('gold/tasks', '77\n')
  for (const rdt of [{ closID: 'gold' }, { closID: 'gold', l3CacheSchema: 'L3:0=7F0', schemata: ['MB:0=020', 'L3:1=fffff'] }]) {
    const before = k.writes.length
    const { record } = applyIntelRdt(plan(rdt), PID, { io: k })
    t.same(record, { root: k.root, path: path.join(k.root, 'gold'), owned: false, written: false })
    t.same(
      k.writes.slice(before).map((w) => w.file),
      ['gold/tasks'],
      'matching schemata (compared as numbers, only the domains named): nothing written but the pid',
    )
    destroyIntelRdt(record, k)
    t.ok(k.has('gold'), 'a closID group is never removed')
  }
  t.same(k.tasksOf('gold'), [77, PID, PID])
})

t.test('closID naming an existing group whose schemata differ: an error naming the field', async (t) => {
  const { k, plan } = host(t)
  k.mkdir(path.join(k.root, 'gold'))
  k.set('gold/schemata', 'L3:0=007f0;1=fffff\nMB:0=20;1=100\n')
  t.throws(() => applyIntelRdt(plan({ closID: 'gold', memBwSchema: 'MB:0=20;1=70' }), PID, { io: k }), {
    code: 'ERDT',
    message: `linux.intelRdt.memBwSchema: the existing resctrl group ${k.root}/gold has MB:1=100, not 70: a group named by closID is joined as it is, never rewritten`,
  })
  t.throws(() => applyIntelRdt(plan({ closID: 'gold', schemata: ['L3:0=7f0', 'L3:2=f'] }), PID, { io: k }), {
    message: `linux.intelRdt.schemata[1]: the existing resctrl group ${k.root}/gold has L3:2=(none), not f: a group named by closID is joined as it is, never rewritten`,
  })
  t.same(k.tasksOf('gold'), [], 'not joined')
  t.same(k.writesTo('gold/schemata'), [])
  t.ok(k.has('gold'), 'kept')
})

t.test('closID naming a missing group: created when there are schemata, an error otherwise', async (t) => {
  const { k, plan } = host(t)
  t.throws(() => applyIntelRdt(plan({ closID: 'gold' }), PID, { io: k }), {
    message: `linux.intelRdt.closID: resctrl group ${k.root}/gold does not exist: a closID without l3CacheSchema, memBwSchema or schemata must name a group made beforehand`,
  })
  t.notOk(k.has('gold'), 'nothing made')
  const { record } = applyIntelRdt(plan({ closID: 'gold', schemata: ['L3:0=ff'] }), PID, { io: k })
  t.same(record, { root: k.root, path: path.join(k.root, 'gold'), owned: false, written: true })
  t.same(k.writesTo('gold/schemata'), ['L3:0=ff\n'])
  t.same(k.tasksOf('gold'), [PID])
  destroyIntelRdt(record, k)
  t.ok(k.has('gold'), 'config-linux.md: a closID group is not removed on delete, even one runt made')
})

t.test('closID "/" joins the root group', async (t) => {
  const { k, plan } = host(t)
  const { record } = applyIntelRdt(plan({ closID: '/' }), PID, { io: k })
  t.same(record, { root: k.root, path: k.root, owned: false, written: false })
  t.same(k.tasksOf('.'), [PID])
  destroyIntelRdt(record, k)
  t.ok(k.has('tasks'))
})

t.test('a closID that is not a group (info) is refused', async (t) => {
  const { k, plan } = host(t)
  t.throws(() => applyIntelRdt(plan({ closID: 'info' }), PID, { io: k }), {
    message: `linux.intelRdt.closID: ${k.root}/info is not a resctrl group (it has no tasks file)`,
  })
})

t.test('monitoring: a MON group named after the container, removed on delete', async (t) => {
  const { k, plan } = host(t)
  const own = applyIntelRdt(plan({ enableMonitoring: true }), PID, { io: k }).record
  t.same(own, {
    root: k.root,
    path: path.join(k.root, 'ctr'),
    owned: true,
    written: true,
    monPath: path.join(k.root, 'ctr', 'mon_groups', 'ctr'),
  })
  t.same(k.tasksOf('ctr/mon_groups/ctr'), [PID], 'in the MON group, after its parent (the kernel requires it)')
  t.same(
    k.writes.map((w) => w.file),
    ['ctr/tasks', 'ctr/mon_groups/ctr/tasks'],
  )
  destroyIntelRdt(own, k)
  t.notOk(k.has('ctr'))

  k.mkdir(path.join(k.root, 'gold'))
  const shared = applyIntelRdt(plan({ closID: 'gold', enableMonitoring: true }, 'c2'), PID, { io: k }).record
  t.equal(shared.monPath, path.join(k.root, 'gold', 'mon_groups', 'c2'))
  destroyIntelRdt(shared, k)
  t.notOk(k.has('gold/mon_groups/c2'), 'the MON group goes')
  t.ok(k.has('gold'), 'the closID group stays')
})

t.test('a MON group that exists already is refused, and what was made is removed', async (t) => {
  const { k, plan } = host(t)
  k.mkdir(path.join(k.root, 'gold'))
  k.mkdir(path.join(k.root, 'gold', 'mon_groups', 'ctr'))
  t.throws(() => applyIntelRdt(plan({ closID: 'gold', enableMonitoring: true }), PID, { io: k }), {
    message: `linux.intelRdt.enableMonitoring: monitoring group ${k.root}/gold/mon_groups/ctr exists already: it is not this container's own`,
  })
  t.ok(k.has('gold/mon_groups/ctr'), 'not removed: not ours')
})

t.test('the kernel rejects a write: the error names the field and quotes last_cmd_status; nothing is left', async (t) => {
  const { k, plan } = host(t)
  t.throws(() => applyIntelRdt(plan({ l3CacheSchema: 'L3:0=7f0', schemata: ['L3:7=ff'] }), PID, { io: k }), {
    code: 'ERDT',
    message: `linux.intelRdt.schemata[0]: write "L3:7=ff" to ${k.root}/ctr/schemata: invalid argument (last_cmd_status: Unknown domain 7)`,
  })
  t.notOk(k.has('ctr'), 'the group made is removed')

  k.failures.set('ctr/schemata', { code: 'EINVAL', status: 'Mask out of range' })
  t.throws(() => applyIntelRdt(plan({ l3CacheSchema: 'L3:0=fffffff' }), PID, { io: k }), {
    message: `linux.intelRdt.l3CacheSchema: write "L3:0=fffffff" to ${k.root}/ctr/schemata: invalid argument (last_cmd_status: Mask out of range)`,
  })
  t.notOk(k.has('ctr'))

  k.failures.set('ctr', { code: 'ENOSPC', status: 'Out of CLOSIDs' })
  t.throws(() => applyIntelRdt(plan({ memBwSchema: 'MB:0=20' }), PID, { io: k }), {
    message: `linux.intelRdt: create resctrl group ${k.root}/ctr: no space left on device (last_cmd_status: Out of CLOSIDs)`,
  })

  k.failures.set('ctr/tasks', { code: 'ESRCH' })
  t.throws(() => applyIntelRdt(plan({}), PID, { io: k }), {
    message: `linux.intelRdt: add pid ${PID} to ${k.root}/ctr/tasks: no such process`,
  })
  t.notOk(k.has('ctr'))

  k.failures.set('ctr/mon_groups/ctr', { code: 'ENOSPC', status: 'Out of RMIDs' })
  t.throws(() => applyIntelRdt(plan({ enableMonitoring: true }), PID, { io: k }), {
    message: `linux.intelRdt.enableMonitoring: create resctrl group ${k.root}/ctr/mon_groups/ctr: no space left on device (last_cmd_status: Out of RMIDs)`,
  })
  t.notOk(k.has('ctr'))
  t.same(k.subdirs(k.root).sort(), ['info', 'mon_data', 'mon_groups'], 'only what the kernel has')
})

t.test('undo of a create: what this apply made, but a closID group someone else joined stays', async (t) => {
  const { k, plan } = host(t)
  const own = applyIntelRdt(plan({ enableMonitoring: true }), PID, { io: k })
  k.set('ctr/tasks', `${PID}\n${PID + 1}\n`)
  own.undo()
  t.notOk(k.has('ctr'), 'the own group goes, whatever is in it')
  const gold = applyIntelRdt(plan({ closID: 'gold', schemata: ['MB:0=50'] }), PID, { io: k })
  k.set('gold/tasks', `${PID}\n99\n`)
  gold.undo()
  t.ok(k.has('gold'), 'joined by pid 99 meanwhile: kept')
  const silver = applyIntelRdt(plan({ closID: 'silver', schemata: ['MB:0=50'] }), PID, { io: k })
  silver.undo()
  t.notOk(k.has('silver'), 'only our init in it: removed')
  k.mkdir(path.join(k.root, 'bronze'))
  applyIntelRdt(plan({ closID: 'bronze' }), PID, { io: k }).undo()
  t.ok(k.has('bronze'), 'joined, not made: kept')
})

t.test('exec joins the group and the MON group; a group gone is skipped', async (t) => {
  const { k, plan } = host(t)
  const { record } = applyIntelRdt(plan({ enableMonitoring: true }), PID, { io: k })
  joinIntelRdt(record, 5150, k)
  t.same(k.tasksOf('ctr'), [PID, 5150])
  t.same(k.tasksOf('ctr/mon_groups/ctr'), [PID, 5150])
  destroyIntelRdt(record, k)
  t.doesNotThrow(() => joinIntelRdt(record, 5151, k))
})

t.test('update rewrites a group runt writes, and refuses a joined closID group', async (t) => {
  const { k, plan } = host(t)
  const { record } = applyIntelRdt(plan({ memBwSchema: 'MB:0=20' }), PID, { io: k })
  updateIntelRdt(record, plan({ l3CacheSchema: 'L3:0=ff', memBwSchema: 'MB:0=40' }).lines, k)
  t.same(k.writesTo('ctr/schemata'), ['MB:0=20\n', 'L3:0=ff\n', 'MB:0=40\n'])
  k.mkdir(path.join(k.root, 'gold'))
  const joined = applyIntelRdt(plan({ closID: 'gold' }), PID, { io: k }).record
  t.throws(() => updateIntelRdt(joined, plan({ memBwSchema: 'MB:0=40' }).lines, k), {
    message: `linux.intelRdt.closID: the container joined the existing resctrl group ${k.root}/gold as it is: its schemata are not changed by runt`,
  })
  destroyIntelRdt(record, k)
  t.throws(() => updateIntelRdt(record, [], k), {
    message: `linux.intelRdt: resctrl group ${k.root}/ctr does not exist any more`,
  })
})

t.test('checkSchemata: a line that cannot be read is named', async (t) => {
  t.throws(() => checkSchemata('/r/g', 'L3:0=ff\n', [{ field: 'linux.intelRdt.l3CacheSchema', line: 'L3:0' }]), {
    message: 'linux.intelRdt.l3CacheSchema: "L3:0" is not a schemata line (RESOURCE:ID=VALUE;...)',
  })
  t.doesNotThrow(() => checkSchemata('/r/g', 'L3:0=00ff;1=0f\n', [{ field: 'f', line: ' L3:1=F ; 0=ff ' }]))
})

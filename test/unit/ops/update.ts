// update's Intel RDT part (src/ops/update.ts): --l3-cache-schema and --mem-bw-schema checked
// against the host with runc's texts, and written to the container's resctrl group.

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { intelRdtFromFlags, update } from '../../../src/ops/update.js'
import { applyIntelRdt, planIntelRdt } from '../../../src/cgroups/intelrdt.js'
import { Store, type ContainerRecord } from '../../../src/state/store.js'
import { readProcStat } from '../../../src/state/status.js'
import { FakeResctrl } from '../../fixtures/fake-resctrl.js'
import type { LinuxIntelRdt, Spec } from '../../../src/spec/schema.js'

t.test('the flags: runc texts where the host has no resctrl, no L3 or no MB', async (t) => {
  t.equal(intelRdtFromFlags({ memory: '1' }, null), null)
  t.throws(() => intelRdtFromFlags({ 'l3-cache-schema': 'L3:0=f' }, null), {
    code: 'ERDT',
    message: 'Intel RDT/CAT: l3 cache schema is not enabled',
  })
  t.throws(() => intelRdtFromFlags({ 'mem-bw-schema': 'MB:0=20' }, null), {
    message: 'Intel RDT/MBA: memory bandwidth schema is not enabled',
  })
  const root = path.join(t.testdir({}), 'resctrl')
  const k = new FakeResctrl(root, { resources: ['L3'] })
  t.same(intelRdtFromFlags({ 'l3-cache-schema': 'L3:0=f' }, root, k), { l3CacheSchema: 'L3:0=f' })
  t.throws(() => intelRdtFromFlags({ 'mem-bw-schema': 'MB:0=20' }, root, k), {
    message: 'Intel RDT/MBA: memory bandwidth schema is not enabled',
  })
  const both = new FakeResctrl(path.join(t.testdir({}), 'r2'))
  t.throws(() => intelRdtFromFlags({ 'mem-bw-schema': 'L3:0=f' }, both.root, both), {
    message: 'invalid value for mem-bw-schema: must start with "MB:" and be a single line',
  })
  t.throws(() => intelRdtFromFlags({ 'l3-cache-schema': 'L3:0=f\nMB:0=1' }, both.root, both), {
    message: 'invalid value for l3-cache-schema: must be a single line',
  })
})

/** A "running" container (this test's own process) with a cgroup v2 dir and a resctrl group. */
function running(t: Test, intelRdt: LinuxIntelRdt | undefined, before?: (k: FakeResctrl) => void) {
  const dir = t.testdir({ root: {}, cg: { 'cgroup.procs': '', 'cgroup.freeze': '0\n' } })
  const k = new FakeResctrl(path.join(dir, 'resctrl'))
  before?.(k)
  const store = new Store(path.join(dir, 'root'))
  const rec: ContainerRecord = {
    ociVersion: '1.3.0',
    id: 'ctr',
    pid: process.pid,
    pidStartTime: readProcStat(process.pid)!.startTime,
    bundle: dir,
    rootfs: dir,
    created: new Date().toISOString(),
    config: { ociVersion: '1.3.0', linux: intelRdt ? { intelRdt } : {} },
    namespacePaths: {},
    cgroupPaths: { '': path.join(dir, 'cg') },
  }
  if (intelRdt) rec.intelRdt = applyIntelRdt(planIntelRdt(intelRdt, 'ctr', k.root, k), 4242, { io: k }).record
  fs.mkdirSync(store.dir('ctr'))
  store.write(rec)
  return { k, store }
}

t.test('update writes every line again in the spec order and records the change', async (t) => {
  const { k, store } = running(t, { memBwSchema: 'MB:0=20', schemata: ['L3:1=f'] })
  update(store, 'ctr', {}, { l3CacheSchema: 'L3:0=ff' }, k)
  t.same(k.writesTo('ctr/schemata').slice(2), ['L3:0=ff\n', 'MB:0=20\n', 'L3:1=f\n'])
  t.same((store.read('ctr').config as Spec).linux!.intelRdt, {
    memBwSchema: 'MB:0=20',
    schemata: ['L3:1=f'],
    l3CacheSchema: 'L3:0=ff',
  })
  update(store, 'ctr', {}, { memBwSchema: 'MB:0=40' }, k)
  t.equal(k.get('ctr/schemata'), 'L3:0=000ff;1=0000f\nMB:0=40;1=100\n')
})

t.test('update refuses a container without intelRdt, and a joined closID group; nothing recorded', async (t) => {
  const none = running(t, undefined)
  t.throws(() => update(none.store, 'ctr', {}, { memBwSchema: 'MB:0=40' }, none.k), {
    message: 'updating a non-existent Intel RDT configuration is not supported',
  })
  const { k, store } = running(t, { closID: 'gold' }, (k) => k.mkdir(path.join(k.root, 'gold')))
  t.throws(() => update(store, 'ctr', {}, { memBwSchema: 'MB:0=40' }, k), {
    message: `linux.intelRdt.closID: the container joined the existing resctrl group ${k.root}/gold as it is: its schemata are not changed by runt`,
  })
  t.same(k.writesTo('gold/schemata'), [])
  t.same((store.read('ctr').config as Spec).linux!.intelRdt, { closID: 'gold' })
})

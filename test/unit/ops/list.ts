import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { UsageError } from '../../../src/errors.js'
import { listContainers, listStates, tabulate } from '../../../src/ops/list.js'
import { readProcStat } from '../../../src/state/status.js'
import { Store, type ContainerRecord } from '../../../src/state/store.js'

const HEADER = ['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']

t.test('tabulate: header only, as runc prints an empty list', async (t) => {
  t.equal(tabulate([HEADER]), 'ID          PID         STATUS      BUNDLE      CREATED     OWNER\n')
})

t.test('tabulate: columns widen to the longest cell plus 3; the last column is not padded', async (t) => {
  const rows = [
    [
      'abc',
      '4242',
      'running',
      '/run/containerd/io.containerd.runtime.v2.task/default/abc',
      '2026-11-23T21:00:00.123456789Z',
      'root',
    ],
    ['a-much-longer-container-id', '0', 'stopped', '/b', '2026-11-23T21:00:01Z', '#1000'],
  ]
  const out = tabulate([HEADER, ...rows])
  // Go's text/tabwriter (minwidth 12, tabwidth 1, padding 3, padchar ' '): the widest cells are
  // 26, 4, 7, 57 and 30 runes, so the columns are 29, 12, 12, 60 and 33 wide.
  const row = (cells: string[]) =>
    cells[0]!.padEnd(29) +
    cells[1]!.padEnd(12) +
    cells[2]!.padEnd(12) +
    cells[3]!.padEnd(60) +
    cells[4]!.padEnd(33) +
    cells[5] +
    '\n'
  t.equal(out, row(HEADER) + rows.map(row).join(''))
  t.equal(
    out.split('\n')[1],
    'abc                          4242        running     /run/containerd/io.containerd.runtime.v2.task/default/abc   2026-11-23T21:00:00.123456789Z   root',
  )
})

t.test('tabulate: a cell of exactly 9 runes gets 12; of 10, 13', async (t) => {
  t.equal(tabulate([['123456789', 'x']]), '123456789   x\n')
  t.equal(tabulate([['1234567890', 'x']]), '1234567890   x\n')
  t.equal(tabulate([['', 'x']]), '            x\n', 'an empty cell is still padded to 12')
  t.equal(tabulate([]), '')
  t.equal(tabulate([['only']]), 'only\n')
})

t.test('tabulate counts runes, as Go does', async (t) => {
  t.equal(
    tabulate([
      ['ünï', 'x'],
      ['a', 'y'],
    ]),
    'ünï         x\na           y\n',
  )
  // 6 runes (11 UTF-16 units) and 10 runes: the column is 13 wide.
  t.equal(
    tabulate([
      ['/😀😀😀😀😀', 'x'],
      ['abcdefghij', 'y'],
    ]),
    '/😀😀😀😀😀       x\nabcdefghij   y\n',
  )
})

const record = (id: string, extra: Partial<ContainerRecord> = {}): ContainerRecord => ({
  ociVersion: '1.3.0',
  id,
  pid: 2 ** 22 + 1, // above any pid_max: never alive
  pidStartTime: '1',
  bundle: `/bundles/${id}`,
  rootfs: `/bundles/${id}/rootfs`,
  created: '2026-11-23T21:00:00.123456789Z',
  config: {},
  namespacePaths: {},
  cgroupPaths: {},
  ...extra,
})

function store(t: Test): Store {
  const root = t.testdir({ root: {}, cg: { 'cgroup.freeze': '1\n' } })
  return new Store(path.join(root, 'root'))
}

function add(s: Store, rec: ContainerRecord, fifo = false): void {
  fs.mkdirSync(s.dir(rec.id))
  s.write(rec)
  if (fifo) fs.writeFileSync(s.fifoPath(rec.id), '')
}

const owner = (uid: number) =>
  fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
    .find((f) => f[2] === String(uid))?.[0] ?? `#${uid}`

t.test('an empty root: null as json, the header as a table, nothing with -q', async (t) => {
  const s = store(t)
  t.equal(await listContainers(s, 'json', false), 'null\n')
  t.equal(await listContainers(s, 'table', false), 'ID          PID         STATUS      BUNDLE      CREATED     OWNER\n')
  t.equal(await listContainers(s, 'table', true), '')
  t.equal(await listContainers(s, 'json', true), '')
  t.equal(await listContainers(new Store('/nonexistent/runt-root'), 'json', false), 'null\n', 'no root at all')
})

t.test('an unknown format', async (t) => {
  const s = store(t)
  await t.rejects(listContainers(s, 'yaml', false), new UsageError('invalid format option'))
  await t.rejects(listContainers(s, 'yaml', true), { message: 'invalid format option' }, 'even with -q')
})

t.test('containers: status, pid, owner and order', async (t) => {
  const s = store(t)
  const me = readProcStat(process.pid)!
  const cg = path.join(path.dirname(s.root), 'cg')
  add(s, record('b-running', { pid: process.pid, pidStartTime: me.startTime }))
  add(s, record('a-stopped', { annotations: { k: 'v' } }))
  add(s, record('c-created', { pid: process.pid, pidStartTime: me.startTime }), true)
  add(s, record('d-paused', { pid: process.pid, pidStartTime: me.startTime, cgroupPaths: { '': cg } }), true)
  fs.mkdirSync(s.dir('e-creating'))
  const who = owner(process.getuid!())

  const states = await listStates(s)
  t.same(
    states.map((x) => [x.id, x.pid, x.status, x.owner]),
    [
      ['a-stopped', 0, 'stopped', who],
      ['b-running', process.pid, 'running', who],
      ['c-created', process.pid, 'created', who],
      ['d-paused', process.pid, 'paused', who],
    ],
  )

  const json = JSON.parse(await listContainers(s, 'json', false)) as Record<string, unknown>[]
  t.same(json[0], {
    ociVersion: '1.3.0',
    id: 'a-stopped',
    pid: 0,
    status: 'stopped',
    bundle: '/bundles/a-stopped',
    rootfs: '/bundles/a-stopped/rootfs',
    created: '2026-11-23T21:00:00.123456789Z',
    owner: who,
    annotations: { k: 'v' },
  })
  t.same(Object.keys(json[1]!), ['ociVersion', 'id', 'pid', 'status', 'bundle', 'rootfs', 'created', 'owner'])
  t.ok((await listContainers(s, 'json', false)).endsWith('}]\n'), 'one line')

  t.equal(await listContainers(s, 'table', true), 'a-stopped\nb-running\nc-created\nd-paused\n')
  const pidCol = Math.max(String(process.pid).length + 3, 12)
  const row = (id: string, pid: string, status: string) =>
    id.padEnd(12) +
    pid.padEnd(pidCol) +
    status.padEnd(12) +
    `/bundles/${id}`.padEnd(21) +
    '2026-11-23T21:00:00.123456789Z'.padEnd(33) +
    who +
    '\n'
  t.equal(
    await listContainers(s, 'table', false),
    'ID'.padEnd(12) +
      'PID'.padEnd(pidCol) +
      'STATUS'.padEnd(12) +
      'BUNDLE'.padEnd(21) +
      'CREATED'.padEnd(33) +
      'OWNER\n' +
      row('a-stopped', '0', 'stopped') +
      row('b-running', String(process.pid), 'running') +
      row('c-created', String(process.pid), 'created') +
      row('d-paused', String(process.pid), 'paused'),
  )
})

t.test('a corrupt state file is skipped', async (t) => {
  const s = store(t)
  add(s, record('good'))
  fs.mkdirSync(s.dir('bad'))
  fs.writeFileSync(path.join(s.dir('bad'), 'state.json'), '{')
  t.same(
    (await listStates(s)).map((x) => x.id),
    ['good'],
  )
})

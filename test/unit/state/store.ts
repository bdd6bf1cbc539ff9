import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { RuntimeError, StateError } from '../../../src/errors.js'
import {
  CREATING_FILE,
  EXEC_FIFO,
  START_SOCKET,
  STATE_FILE,
  recordProblem,
  Store,
  userName,
  validateId,
  writeFileAtomic,
  type ContainerRecord,
} from '../../../src/state/store.js'
import { notExist } from '../../../src/errors.js'
import { thrown } from '../../fixtures/thrown.js'

const record = (id: string, extra: Partial<ContainerRecord> = {}): ContainerRecord => ({
  ociVersion: '1.3.0',
  id,
  pid: 4242,
  pidStartTime: '987654',
  bundle: '/run/b',
  rootfs: '/run/b/rootfs',
  created: '2026-11-23T21:00:00.123456789Z',
  config: { ociVersion: '1.3.0', root: { path: 'rootfs' } },
  namespacePaths: { pid: '/proc/4242/ns/pid' },
  cgroupPaths: { '': '/sys/fs/cgroup/runt/' + id },
  ...extra,
})

t.test('constants', async (t) => {
  t.equal(STATE_FILE, 'state.json')
  t.equal(EXEC_FIFO, 'exec.fifo')
  t.equal(START_SOCKET, 'init.sock')
})

t.test('validateId: runc messages', async (t) => {
  for (const ok of ['a', 'abc123', 'A_b-c.d+e', '9a8b7c6d5e4f', 'x'.repeat(1024), '...', '.a', 'a..b']) {
    t.doesNotThrow(() => validateId(ok), ok)
  }
  const empty = thrown(() => validateId(''))
  t.type(empty, StateError)
  t.match(empty, { message: 'container id cannot be empty', code: 'EINVALIDID', exitCode: 1 })
  for (const bad of ['.', '..', '/', 'a/b', '../x', '/abs', 'a b', 'a\n', 'ü', 'a:b', 'a@b', '*', 'a\u0000']) {
    const e = thrown(() => validateId(bad))
    t.type(e, StateError, JSON.stringify(bad))
    t.match(e, { message: 'invalid container ID format', code: 'EINVALIDID' }, JSON.stringify(bad))
  }
  t.doesNotThrow(() => validateId('-'), "runc's regexp allows a lone dash")
  t.doesNotThrow(() => validateId('--x'))
})

t.test('notExist', async (t) => {
  const e = notExist()
  t.type(e, StateError)
  t.equal(e.message, 'container does not exist')
  t.equal(e.code, 'ENOTEXIST')
})

t.test('paths', async (t) => {
  const s = new Store('/run/runt')
  t.equal(s.dir('abc'), '/run/runt/abc')
  t.equal(s.fifoPath('abc'), '/run/runt/abc/exec.fifo')
  t.equal(s.startSocketPath('abc'), '/run/runt/abc/init.sock')
})

t.test('ensureRoot creates the root, private, with parents', async (t) => {
  const dir = t.testdir()
  const s = new Store(path.join(dir, 'a', 'b', 'root'))
  const old = process.umask(0o022)
  t.teardown(() => void process.umask(old))
  s.ensureRoot()
  t.equal(fs.statSync(s.root).mode & 0o7777, 0o700)
  s.ensureRoot()
  t.ok(fs.statSync(s.root).isDirectory(), 'twice is fine')
})

t.test('write then read: atomic, no temp file left, mode 0600', async (t) => {
  const root = t.testdir({ abc: {} })
  const s = new Store(root)
  const old = process.umask(0o022)
  t.teardown(() => void process.umask(old))
  const rec = record('abc', { annotations: { 'io.kubernetes.pod': 'x' }, rootless: true })
  s.write(rec)
  t.same(fs.readdirSync(path.join(root, 'abc')), ['state.json'])
  t.equal(fs.statSync(path.join(root, 'abc', 'state.json')).mode & 0o777, 0o600)
  t.equal(fs.readFileSync(path.join(root, 'abc', 'state.json'), 'utf8'), JSON.stringify(rec))
  t.same(s.read('abc'), rec)
  t.equal(s.exists('abc'), true)

  // A rewrite replaces the file (a new inode: readers see the old or the new, never half).
  const ino = fs.statSync(path.join(root, 'abc', 'state.json')).ino
  const rec2 = { ...rec, pid: 7 }
  s.write(rec2)
  t.not(fs.statSync(path.join(root, 'abc', 'state.json')).ino, ino)
  t.same(s.read('abc'), rec2)
  t.same(fs.readdirSync(path.join(root, 'abc')), ['state.json'])
})

t.test('write needs the container directory', async (t) => {
  const s = new Store(t.testdir())
  t.match(
    thrown(() => s.write(record('gone'))),
    { code: 'ENOENT' },
  )
})

t.test('read: missing, invalid id, corrupt', async (t) => {
  const root = t.testdir({ empty: {}, bad: { 'state.json': '{"id": "bad", ' } })
  const s = new Store(root)
  for (const id of ['nope', 'empty']) {
    const e = thrown(() => s.read(id))
    t.type(e, StateError)
    t.match(e, { message: 'container does not exist', code: 'ENOTEXIST' })
  }
  t.match(
    thrown(() => s.read('../x')),
    { message: 'invalid container ID format' },
  )
  t.match(
    thrown(() => s.read('')),
    { message: 'container id cannot be empty' },
  )
  const e = thrown(() => s.read('bad'))
  t.type(e, RuntimeError)
  t.match(e, { message: `corrupt state file ${path.join(root, 'bad', 'state.json')}`, code: 'ECORRUPT' })
  t.equal(s.exists('nope'), false)
  t.equal(s.exists('empty'), false)
})

t.test('readShared: what read() gives, asynchronously', async (t) => {
  const root = t.testdir({
    empty: {},
    bad: { 'state.json': '{"id": "bad", ' },
    ok: { 'state.json': JSON.stringify(record('ok')) },
    d: { 'state.json': {} },
  })
  const s = new Store(root)
  for (const id of ['nope', 'empty'])
    await t.rejects(s.readShared(id), { message: 'container does not exist', code: 'ENOTEXIST' })
  await t.rejects(s.readShared('../x'), { message: 'invalid container ID format' })
  await t.rejects(s.readShared('bad'), {
    message: `corrupt state file ${path.join(root, 'bad', 'state.json')}`,
    code: 'ECORRUPT',
  })
  await t.rejects(s.readShared('d'), { code: 'EISDIR' })
  t.same(await s.readShared('ok'), s.read('ok'))
})

t.test('read: other errors pass through', async (t) => {
  const root = t.testdir({ d: { 'state.json': {} } })
  t.match(
    thrown(() => new Store(root).read('d')),
    { code: 'EISDIR' },
  )
})

t.test('list: only directories holding state.json, with valid names, in name order', async (t) => {
  const st = '{}'
  const root = t.testdir({
    zeta: { 'state.json': st },
    alpha: { 'state.json': st, 'exec.fifo': '' },
    mid: { 'state.json': st },
    creating: {},
    'only-fifo': { 'exec.fifo': '' },
    'file-not-dir': 'x',
    'bad name': { 'state.json': st },
    '.hidden': { 'state.json': st },
  })
  fs.symlinkSync(path.join(root, 'alpha'), path.join(root, 'link-to-alpha'))
  const s = new Store(root)
  t.same(s.list(), ['.hidden', 'alpha', 'mid', 'zeta'], 'a symlink to a container directory is not one')
  t.same(new Store(path.join(root, 'missing')).list(), [], 'no root yet: nothing')
  t.match(
    thrown(() => new Store(path.join(root, 'file-not-dir')).list()),
    { code: 'ENOTDIR' },
  )
})

t.test('userName: the passwd entry of the uid, else #uid', async (t) => {
  const passwd = 'root:x:0:0:root:/root:/bin/sh\nbroken\n:x:7:7::/:/bin/false\nalice:x:1000:1000::/home/alice:/bin/sh\n'
  t.equal(userName(0, passwd), 'root')
  t.equal(userName(1000, passwd), 'alice')
  t.equal(userName(7, passwd), '#7', 'an entry without a name is none')
  t.equal(userName(100, passwd), '#100')
  t.equal(userName(0, null), '#0', 'no /etc/passwd')
})

t.test('owner: the name of the directory owner', async (t) => {
  const s = new Store(t.testdir({ abc: { 'state.json': '{}' } }))
  const uid = fs.statSync(s.dir('abc')).uid
  const passwd = fs.readFileSync('/etc/passwd', 'utf8')
  t.equal(await s.owner('abc'), userName(uid, passwd))
  await t.rejects(s.owner('gone'), { code: 'ENOENT' })
})

t.test('remove: the directory and everything in it; missing is fine', async (t) => {
  const root = t.testdir({ abc: { 'state.json': '{}', 'exec.fifo': '', sub: { x: 'y' } }, other: { 'state.json': '{}' } })
  const s = new Store(root)
  s.remove('abc')
  t.equal(fs.existsSync(path.join(root, 'abc')), false)
  t.same(s.list(), ['other'])
  t.doesNotThrow(() => s.remove('abc'))
})

t.test('writeFileAtomic', async (t) => {
  const dir = t.testdir({ 'f.txt': 'old' })
  const old = process.umask(0o022)
  t.teardown(() => void process.umask(old))
  const f = path.join(dir, 'f.txt')
  writeFileAtomic(f, 'new text')
  t.equal(fs.readFileSync(f, 'utf8'), 'new text')
  writeFileAtomic(path.join(dir, 'b.bin'), Buffer.from([0, 1, 2, 255]))
  t.same([...fs.readFileSync(path.join(dir, 'b.bin'))], [0, 1, 2, 255])
  t.equal(fs.statSync(path.join(dir, 'b.bin')).mode & 0o777, 0o644, 'default mode')
  writeFileAtomic(path.join(dir, 'p'), '1', 0o600)
  t.equal(fs.statSync(path.join(dir, 'p')).mode & 0o777, 0o600)
  t.same(fs.readdirSync(dir).sort(), ['b.bin', 'f.txt', 'p'], 'no temp files')
  t.match(
    thrown(() => writeFileAtomic(path.join(dir, 'no', 'x'), 'y')),
    { code: 'ENOENT' },
  )
})

t.test('creating.json: the record of a create in progress, never a container', async (t) => {
  const store = new Store(t.testdir())
  store.ensureRoot()
  fs.mkdirSync(store.dir('half'))
  t.equal(store.readCreating('half'), null, 'nothing recorded yet')
  const rec = record('half', { cgroupOwned: true })
  store.writeCreating(rec)
  t.same(store.readCreating('half'), rec)
  t.same(fs.readdirSync(store.dir('half')), [CREATING_FILE], 'no temp file left')
  t.equal(fs.statSync(path.join(store.dir('half'), CREATING_FILE)).mode & 0o777, 0o600)
  t.equal(store.exists('half'), false, 'no state.json: no container')
  t.same(store.list(), [], 'not listed')
  t.ok(thrown(() => store.read('half')) instanceof StateError, 'read says it does not exist')
  fs.writeFileSync(path.join(store.dir('half'), CREATING_FILE), '{"id": "ha')
  t.equal(store.readCreating('half'), null, 'a torn record counts as none')
  store.removeCreating('half')
  store.removeCreating('half')
  t.same(fs.readdirSync(store.dir('half')), [], 'removed, and removing twice is fine')
})

t.test('a broken state.json is named as such, whatever it holds', async (t) => {
  const root = t.testdir({})
  const store = new Store(root)
  const cases: [string, RegExp][] = [
    ['[]', /expected an object, got an array/],
    ['null', /expected an object, got null/],
    ['"x"', /expected an object, got string/],
    ['{"id": 5}', /ociVersion: expected string, got undefined/],
    ['{', /not JSON/],
  ]
  for (const [text, why] of cases) {
    fs.mkdirSync(store.dir('broken'), { recursive: true })
    fs.writeFileSync(path.join(store.dir('broken'), STATE_FILE), text)
    t.throws(
      () => store.read('broken'),
      { code: 'ECORRUPT', message: new RegExp(`^corrupt state file ${root}/broken/state.json: `) },
      text,
    )
    t.throws(() => store.read('broken'), { message: why }, text)
  }
  t.equal(recordProblem({ ...validRecord(), pid: 1.5 }), 'pid: expected an integer')
  t.equal(recordProblem(validRecord()), null)
  // delete removes the recorded resctrl directories: they must lie in the recorded mount.
  const rdt = { root: '/sys/fs/resctrl', path: '/sys/fs/resctrl/c', owned: true, written: true }
  t.equal(recordProblem({ ...validRecord(), intelRdt: rdt }), null)
  t.equal(recordProblem({ ...validRecord(), intelRdt: { ...rdt, monPath: '/sys/fs/resctrl/c/mon_groups/c' } }), null)
  t.equal(
    recordProblem({ ...validRecord(), intelRdt: { ...rdt, path: '/etc' } }),
    'intelRdt.path: expected a path in /sys/fs/resctrl',
  )
  t.equal(
    recordProblem({ ...validRecord(), intelRdt: { ...rdt, monPath: '/sys/fs/resctrl/../../etc' } }),
    'intelRdt.monPath: expected a path in /sys/fs/resctrl',
  )
  t.equal(recordProblem({ ...validRecord(), intelRdt: { path: '/x' } }), 'intelRdt: expected an object with an absolute root')
})

function validRecord() {
  return {
    ociVersion: '1.3.0',
    id: 'x',
    pid: 10,
    pidStartTime: '5',
    bundle: '/b',
    rootfs: '/b/rootfs',
    created: 'now',
    config: {},
    namespacePaths: {},
    cgroupPaths: { memory: '/sys/fs/cgroup/memory/runt/x' },
  }
}

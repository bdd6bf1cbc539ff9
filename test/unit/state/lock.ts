import t, { type Test } from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { StateError, SysError } from '../../../src/errors.js'
import { Lock, createLocked, lockContainer } from '../../../src/state/lock.js'
import { Store } from '../../../src/state/store.js'
import { thrown } from '../../fixtures/thrown.js'

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src')

// Another process, since flock(2) locks belong to open file descriptions: holds a container's
// lock for a while, or reports whether the lock is free.
const HELPER = `
import * as fs from 'node:fs'
import { Store } from ${JSON.stringify(SRC + '/state/store.ts')}
import { createLocked, lockContainer } from ${JSON.stringify(SRC + '/state/lock.ts')}
import { linux } from ${JSON.stringify(SRC + '/sys/linux.ts')}
import * as C from ${JSON.stringify(SRC + '/sys/constants.ts')}
const [mode, root, id, holdMs] = process.argv.slice(2)
const store = new Store(root)
if (mode === 'try') {
  const fd = linux.openat(C.AT_FDCWD, store.dir(id), C.O_RDONLY | C.O_DIRECTORY)
  try {
    linux.flock(fd, C.LOCK_EX | C.LOCK_NB)
    process.stdout.write('free')
  } catch (e) {
    process.stdout.write(e.errnoName === 'EWOULDBLOCK' || e.errnoName === 'EAGAIN' ? 'busy' : 'error ' + e.message)
  }
} else {
  const lock = mode === 'create' ? createLocked(store, id) : lockContainer(store, id)
  if (mode === 'create') fs.writeFileSync(store.dir(id) + '/state.json', '{}')
  process.stdout.write('locked\\n')
  setTimeout(() => {
    if (mode === 'remove') store.remove(id)
    fs.writeFileSync(root + '/released-at', String(Date.now()))
    lock.release()
    process.exit(0)
  }, Number(holdMs))
}
`

/** A test directory holding the helper script and `root` (the store's root, from `content`). */
function setup(t: Test, content: Record<string, unknown> = {}): { helper: string; root: string } {
  const dir = t.testdir({ 'helper.mts': HELPER, root: content } as never)
  return { helper: path.join(dir, 'helper.mts'), root: path.join(dir, 'root') }
}

/** 'free' or 'busy': can another process take the container's lock right now? */
function probe(helper: string, root: string, id: string): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', helper, 'try', root, id], { encoding: 'utf8' })
  return r.stdout + r.stderr
}

/** Start a process holding the lock for `holdMs`; resolves once it has it. */
async function holder(t: Test, helper: string, mode: string, root: string, id: string, holdMs: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', helper, mode, root, id, String(holdMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  t.teardown(() => void child.kill('SIGKILL'))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => (d.toString() === 'locked\n' ? resolve() : reject(new Error(d.toString()))))
    child.once('exit', () => reject(new Error('helper exited early')))
  })
  return { exited }
}

t.test('createLocked makes the directory (and the root) and holds its lock', async (t) => {
  const { helper, root: base } = setup(t)
  const store = new Store(path.join(base, 'root'))
  const old = process.umask(0o022)
  t.teardown(() => void process.umask(old))
  const lock = createLocked(store, 'abc')
  t.type(lock, Lock)
  t.equal(lock.dir, path.join(base, 'root', 'abc'))
  t.equal(fs.statSync(store.root).mode & 0o7777, 0o700)
  t.equal(fs.statSync(lock.dir).mode & 0o7777, 0o711)
  t.equal(lock.removed(), false)
  t.equal(probe(helper, store.root, 'abc'), 'busy')
  lock.release()
  t.equal(probe(helper, store.root, 'abc'), 'free')
  t.doesNotThrow(() => lock.release(), 'releasing twice is harmless')
})

t.test('createLocked twice: the id is taken', async (t) => {
  const store = new Store(t.testdir())
  const lock = createLocked(store, 'abc')
  t.teardown(() => lock.release())
  const e = thrown(() => createLocked(store, 'abc'))
  t.type(e, StateError)
  t.match(e, { message: 'container with given ID already exists', code: 'EEXIST' })
})

t.test('createLocked and lockContainer validate the id first', async (t) => {
  const root = t.testdir()
  const store = new Store(path.join(root, 'r'))
  t.match(
    thrown(() => createLocked(store, '../evil')),
    { message: 'invalid container ID format' },
  )
  t.match(
    thrown(() => lockContainer(store, '')),
    { message: 'container id cannot be empty' },
  )
  t.equal(fs.existsSync(store.root), false, 'nothing created for a bad id')
})

t.test('createLocked: other mkdir errors pass through', async (t) => {
  const root = t.testdir({ r: 'a file, not a directory' })
  t.match(
    thrown(() => createLocked(new Store(path.join(root, 'r')), 'abc')),
    { code: 'EEXIST', syscall: 'mkdir' },
  )
})

t.test('lockContainer on a missing container', async (t) => {
  const { helper, root } = setup(t, { creating: {}, file: 'x' })
  const store = new Store(root)
  for (const id of ['nope', 'creating']) {
    const e = thrown(() => lockContainer(store, id))
    t.type(e, StateError, id)
    t.match(e, { message: 'container does not exist', code: 'ENOTEXIST' }, id)
  }
  t.equal(probe(helper, root, 'creating'), 'free', 'a directory without state.json is unlocked again')
  const e = thrown(() => lockContainer(store, 'file'))
  t.type(e, SysError)
  t.match(e, { syscall: 'open', errnoName: 'ENOTDIR' })
  t.equal(lockContainer.length, 3, 'store, id and the optional wait of delete --force')
})

t.test('lockContainer on an existing container', async (t) => {
  const { helper, root } = setup(t, { abc: { 'state.json': '{}' } })
  const lock = lockContainer(new Store(root), 'abc')
  t.equal(lock.dir, path.join(root, 'abc'))
  t.equal(probe(helper, root, 'abc'), 'busy')
  lock.release()
  t.equal(probe(helper, root, 'abc'), 'free')
})

t.test('a lock held by another process blocks until it is released', async (t) => {
  const { helper, root } = setup(t)
  const store = new Store(root)
  const { exited } = await holder(t, helper, 'create', root, 'abc', 800)
  const start = Date.now()
  const lock = lockContainer(store, 'abc') // blocks this whole process
  const got = Date.now()
  t.teardown(() => lock.release())
  const releasedAt = Number(fs.readFileSync(path.join(root, 'released-at'), 'utf8'))
  t.ok(got - start >= 300, `waited ${got - start} ms`)
  t.ok(got >= releasedAt, 'got the lock only after the holder let it go')
  t.equal(await exited, 0)
})

t.test('a container deleted while we waited does not exist', async (t) => {
  const { helper, root } = setup(t, { abc: { 'state.json': '{}' } })
  const store = new Store(root)
  const { exited } = await holder(t, helper, 'remove', root, 'abc', 500)
  const e = thrown(() => lockContainer(store, 'abc'))
  t.ok(fs.existsSync(path.join(root, 'released-at')), 'we waited for the holder')
  t.type(e, StateError)
  t.match(e, { message: 'container does not exist' })
  t.equal(fs.existsSync(path.join(root, 'abc')), false)
  t.equal(await exited, 0)
})

t.test('Lock.removed sees the directory go', async (t) => {
  const root = t.testdir({ d: {} })
  const lock = Lock.acquire(path.join(root, 'd'))
  t.teardown(() => lock.release())
  t.equal(lock.removed(), false)
  fs.rmdirSync(path.join(root, 'd'))
  t.equal(lock.removed(), true)
  t.match(
    thrown(() => Lock.acquire(path.join(root, 'missing'))),
    { syscall: 'open', errnoName: 'ENOENT', path: path.join(root, 'missing') },
  )
})

t.test('with a wait, lockContainer gives up and returns null instead of blocking', async (t) => {
  const { helper, root } = setup(t)
  const store = new Store(root)
  const h = await holder(t, helper, 'create', root, 'held', 1500)
  const t0 = Date.now()
  t.equal(lockContainer(store, 'held', 200), null, 'null while another process holds it')
  const waited = Date.now() - t0
  t.ok(waited >= 200 && waited < 1200, `it waited its 200 ms, not for the holder (${waited} ms)`)
  await h.exited
  const lock = lockContainer(store, 'held', 200)
  t.ok(lock, 'the lock, once free')
  lock?.release()
  t.throws(() => lockContainer(store, 'absent', 200), { message: 'container does not exist' })
})

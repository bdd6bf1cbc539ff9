// Bad input: a config error exits 1 with a message naming the field, never a stack trace, and
// leaves nothing under --root; --log-format json records parse as runc's.

import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { cleanCommand, cleanEnv, makeBundle, priv, Runt, RUNT, tempDir } from '../fixtures/runt.js'
import type { Spec } from '../../src/spec/schema.js'

const cases: [string, (c: Spec & Record<string, unknown>) => void, RegExp][] = [
  [
    'wrong type',
    (c) => ((c.process as unknown as Record<string, unknown>).args = 5),
    /process\.args: expected array of strings, got number/,
  ],
  ['missing root', (c) => delete (c as Record<string, unknown>).root, /root: required/],
  ['duplicate namespace', (c) => c.linux!.namespaces!.push({ type: 'pid' }), /linux\.namespaces\[\d+\]\.type: duplicated ns/],
  [
    'hostname without a UTS namespace',
    (c) => {
      c.hostname = 'x'
      c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'uts')
    },
    /hostname: unable to set hostname without a private UTS namespace/,
  ],
  [
    'unknown namespace type',
    (c) => c.linux!.namespaces!.push({ type: 'bogus' as 'pid' }),
    /linux\.namespaces\[\d+\]\.type: expected one of pid, network/,
  ],
  [
    'missing rootfs directory',
    (c) => (c.root = { path: 'no-such-rootfs' }),
    /invalid rootfs: stat .*no-such-rootfs: no such file or directory/,
  ],
  [
    'bind mount of a missing source',
    (c) => c.mounts!.push({ destination: '/x', type: 'bind', source: '/no/such/source', options: ['bind'] }),
    /mounts\[\d+\] \/x: stat \/no\/such\/source/,
  ],
]

for (const [name, edit, msg] of cases) {
  t.test(`bad config: ${name}`, priv(), async (t) => {
    const runt = new Runt(t)
    const b = makeBundle(t, ['true'])
    edit(b.config as Spec & Record<string, unknown>)
    b.write()
    const id = runt.id()
    const r = runt.run(['create', '--bundle', b.dir, id])
    t.equal(r.status, 1)
    t.match(r.stderr, msg)
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace')
    const left = fs.existsSync(runt.root) ? fs.readdirSync(runt.root) : []
    t.same(left, [], 'nothing under --root')
  })
}

t.test('--log FILE --log-format json: runc-shaped records, bare message on stderr', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['true'], (c) => c.linux!.namespaces!.push({ type: 'pid' }))
  const log = path.join(b.dir, 'log.json')
  const r = runt.run(['--log', log, '--log-format', 'json', 'create', '--bundle', b.dir, runt.id()])
  t.equal(r.status, 1)
  const records = fs
    .readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  const last = records.filter((x) => x.level === 'error').pop()
  t.match(last, { level: 'error', msg: /duplicated ns/, time: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/ })
  t.same(Object.keys(last), ['level', 'msg', 'time'])
  t.equal(r.stderr, last.msg + '\n', 'the bare message on stderr')
  const missing = runt.run(['--log-format', 'json', 'state', 'nope'])
  t.same(Object.keys(JSON.parse(missing.stderr)), ['level', 'msg', 'time'])
  t.equal(JSON.parse(missing.stderr).msg, 'container does not exist')
})

t.test('invalid container ids are refused before anything is created', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['true'])
  for (const [id, msg] of [
    ['a/b', 'invalid container ID format'],
    ['..', 'invalid container ID format'],
    ['', 'container id cannot be empty'],
  ]) {
    const r = runt.run(['create', '--bundle', b.dir, id!])
    t.equal(r.status, 1)
    t.match(r.stderr, msg!)
  }
  t.notOk(fs.existsSync(runt.root) && fs.readdirSync(runt.root).length > 0, 'nothing under --root')
})

t.test("a missing bundle or config.json: runc's messages, nothing left", priv(), async (t) => {
  const runt = new Runt(t)
  const none = runt.run(['create', '--bundle', '/nonexistent-bundle', runt.id('nobundle')])
  t.equal(none.status, 1)
  t.match(none.stderr, 'runt create failed: chdir /nonexistent-bundle: no such file or directory')
  const empty = t.testdir({})
  const noConfig = runt.run(['create', '--bundle', empty, runt.id('noconfig')])
  t.equal(noConfig.status, 1)
  t.match(noConfig.stderr, 'runt create failed: JSON specification file config.json not found')
  t.same(fs.existsSync(runt.root) ? fs.readdirSync(runt.root) : [], [], 'nothing under --root')
})

t.test("an unprivileged user: runc's XDG root, and errors in its words", priv(), async (t) => {
  const xdg = tempDir(t, 'runt-xdg-')
  fs.chownSync(xdg, 65534, 65534)
  const asNobody = (args: string[], env: Record<string, string> = {}) => {
    const [cmd, argv] = cleanCommand(args, cleanEnv(env))
    return spawnSync(cmd, argv, { uid: 65534, gid: 65534, encoding: 'utf8', cwd: '/' })
  }
  const v = asNobody(['--version'])
  if (v.status !== 0) return t.skip(`nobody cannot run ${RUNT} here: ${v.stderr.trim() || v.error?.message}`, () => {})
  const list = asNobody(['list'], { XDG_RUNTIME_DIR: xdg })
  t.equal(list.status, 0, list.stderr)
  const root = path.join(xdg, 'runt')
  t.equal(fs.statSync(root).mode & 0o7777, 0o1700, '$XDG_RUNTIME_DIR/runt made, 0700 and sticky (as runc does)')
  t.equal(fs.statSync(root).uid, 65534)
  const state = asNobody(['state', 'nope'], { XDG_RUNTIME_DIR: xdg })
  t.equal(state.status, 1)
  t.match(state.stderr, 'msg="container does not exist"', 'looked in the XDG root')
  const locked = tempDir(t, 'runt-locked-')
  fs.chmodSync(locked, 0o700)
  const denied = asNobody(['--root', path.join(locked, 'state'), 'list'])
  t.equal(denied.status, 1)
  t.match(denied.stderr, `msg="open ${locked}/state: permission denied"`, "Go's wording, not Node's")
})

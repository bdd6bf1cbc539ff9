// --debug and --log: one level=debug record per setup step with its duration, from the host
// side and from the init stage alike, on stderr or in --log FILE in the chosen format; --log
// FILE exists after a successful run; no debug record without --debug.

import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { makeBundle, priv, Runt, tempDir, type Bundle } from '../fixtures/runt.js'

const DURATION = / \d+(\.\d+)?ms$/

/** A bundle running `true` with a createContainer hook and an allow-by-default seccomp profile. */
function bundle(t: Parameters<typeof makeBundle>[0]): Bundle {
  const b = makeBundle(t, ['true'])
  b.config.hooks = { createContainer: [{ path: '/bin/true' }] }
  b.config.linux!.seccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['kexec_load'], action: 'SCMP_ACT_ERRNO' }],
  }
  b.write()
  return b
}

/** The msg of every level=debug logrus text line. */
function textDebug(out: string): string[] {
  return out
    .split('\n')
    .filter((l) => / level=debug /.test(l))
    .map((l) => {
      const m = / msg=("(?:[^"\\]|\\.)*"|\S+)/.exec(l)
      return m ? (m[1]!.startsWith('"') ? (JSON.parse(m[1]!) as string) : m[1]!) : ''
    })
}

/** The steps every --debug run must name, each with a duration. */
const STEPS: [string, RegExp][] = [
  ['namespaces', /^namespaces: clone stage 1 \(new [^)]*mount/],
  ['namespaces (init)', /^namespaces: verify /],
  ['a mount', /^rootfs: mount \/proc \(proc, mounts\[\d+\]\)/],
  ['the mounts', /^rootfs: \d+ mounts/],
  ['cgroup', /^cgroup: add pid \d+/],
  ['the hook', /^hook: createContainer\[0\] \/bin\/true/],
  ['seccomp', /^seccomp: compile the filter \(\d+ BPF instructions\)/],
  ['credentials', /^credentials: switch to uid 0 gid 0/],
  ['exec', /^exec: execve \/bin\/true .*seccomp/],
  ['config', /^config: load config\.json/],
]

function checkSteps(t: Parameters<typeof makeBundle>[0], msgs: string[]): void {
  for (const [name, re] of STEPS) {
    const hit = msgs.find((m) => re.test(m))
    t.ok(hit, `a debug record for ${name}`, { found: msgs })
    if (hit) t.match(hit, DURATION, `${name}: with its duration`)
  }
}

t.test('--debug: the records go to stderr as logrus text', priv(), async (t) => {
  const runt = new Runt(t)
  const b = bundle(t)
  const r = runt.run(['--debug', 'run', '--bundle', b.dir, runt.id()])
  t.equal(r.status, 0, r.stderr)
  checkSteps(t, textDebug(r.stderr))
})

t.test('--debug --log FILE --log-format json: every line is a JSON record', priv(), async (t) => {
  const runt = new Runt(t)
  const b = bundle(t)
  const log = path.join(tempDir(t), 'runt.log')
  const r = runt.run(['--debug', '--log', log, '--log-format', 'json', 'run', '--bundle', b.dir, runt.id()])
  t.equal(r.status, 0, r.stderr)
  t.notMatch(r.stderr, /level=debug|"level":"debug"/, 'nothing on stderr')
  const lines = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean)
  const recs = lines.map((l) => JSON.parse(l) as { level: string; msg: string; time: string })
  for (const rec of recs) {
    t.type(rec.level, 'string')
    t.type(rec.msg, 'string')
    t.match(rec.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
  }
  checkSteps(
    t,
    recs.filter((r) => r.level === 'debug').map((r) => r.msg),
  )
  t.equal(fs.statSync(log).mode & 0o777, 0o644, 'created 0644, as runc does')
})

t.test('--log FILE without --debug: the file is created on success, with no debug record', priv(), async (t) => {
  const runt = new Runt(t)
  const b = bundle(t)
  const log = path.join(tempDir(t), 'runt.log')
  const r = runt.run(['--log', log, 'run', '--bundle', b.dir, runt.id()])
  t.equal(r.status, 0, r.stderr)
  t.ok(fs.existsSync(log), 'the log file exists')
  t.notMatch(fs.readFileSync(log, 'utf8'), /level=debug/)
  // Every command that is given --log opens it, as runc's does.
  const log2 = path.join(path.dirname(log), 'state.log')
  t.equal(runt.run(['--log', log2, 'list']).status, 0)
  t.ok(fs.existsSync(log2), 'list --log creates it too')
})

t.test('without --debug no debug record appears', priv(), async (t) => {
  const runt = new Runt(t)
  const b = bundle(t)
  const r = runt.run(['run', '--bundle', b.dir, runt.id()])
  t.equal(r.status, 0, r.stderr)
  t.notMatch(r.stderr, /level=debug/)
})

t.test("create, then start --debug: the steps after start are start's records", priv(), async (t) => {
  const runt = new Runt(t)
  const b = bundle(t)
  const id = runt.id()
  const c = runt.ok(['--debug', 'create', '--bundle', b.dir, id])
  const created = textDebug(c.stderr)
  t.ok(
    created.some((m) => /^rootfs: pivot_root /.test(m)),
    "create has the init's records",
  )
  t.notOk(
    created.some((m) => m.startsWith('exec: ')),
    'create has no exec record',
  )
  const s = runt.ok(['--debug', 'start', id])
  t.ok(
    textDebug(s.stderr).some((m) => /^exec: execve \/bin\/true .*ms$/.test(m)),
    'start has the exec record',
  )
  // A failing step says so, with how long it took before it failed.
  const bad = makeBundle(t, ['true'])
  bad.config.hooks = { createContainer: [{ path: '/bin/false' }] }
  bad.write()
  const f = runt.run(['--debug', 'create', '--bundle', bad.dir, runt.id()])
  t.not(f.status, 0)
  t.ok(
    textDebug(f.stderr).some((m) => /^hook: createContainer\[0\] \/bin\/false failed after \d+(\.\d+)?ms$/.test(m)),
    'the failing hook has a record',
  )
})

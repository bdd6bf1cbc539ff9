import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { RuntimeError } from '../../src/errors.js'
import { HookError, hookLabel, runHooks, type Hook } from '../../src/hooks.js'
import { setTrace } from '../../src/log.js'

const STATE = { ociVersion: '1.3.0', id: 'abc', pid: 4242, status: 'creating', bundle: '/run/b', annotations: { 'a.b': 'c' } }

// A hook that reports what it was given: argv0, argv, environment and stdin, as JSON in a file.
const REPORT =
  "const fs = require('fs');" +
  'fs.writeFileSync(process.argv[1], JSON.stringify({ argv0: process.argv0, args: process.argv.slice(2), env: process.env, stdin: fs.readFileSync(0, "utf8") }))'

function reporter(out: string, extra: Partial<Hook> = {}): Hook {
  return { path: process.execPath, args: ['my-hook', '-e', REPORT, out, 'x y'], ...extra }
}

type Report = { argv0: string; args: string[]; env: Record<string, string>; stdin: string }

/** The report, less what tap's process tracking adds to every child it spawns under test. */
function readReport(f: string): Report {
  const r = JSON.parse(fs.readFileSync(f, 'utf8')) as Report
  for (const k of Object.keys(r.env)) {
    if (k.startsWith('_TAPJS_PROCESSINFO_') || (k === 'NODE_OPTIONS' && r.env[k]!.includes('@tapjs/processinfo'))) delete r.env[k]
  }
  return r
}

/** A shell script in `dir`, executable. */
function script(dir: string, name: string, body: string): string {
  const p = path.join(dir, name)
  fs.writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 })
  return p
}

function hookError(fn: () => unknown): HookError {
  try {
    fn()
  } catch (e) {
    if (e instanceof HookError) return e
    throw e
  }
  throw new Error('no error thrown')
}

t.test('HookError', async (t) => {
  const e = new HookError('x')
  t.type(e, RuntimeError)
  t.equal(e.name, 'HookError')
  t.equal(e.code, 'EHOOK')
  t.equal(e.exitCode, 1)
})

t.test('stdin gets the state JSON; argv0 is args[0]; the rest are the arguments', async (t) => {
  const dir = t.testdir()
  const out = path.join(dir, 'report.json')
  runHooks('createRuntime', [reporter(out)], STATE)
  const r = readReport(out)
  t.equal(r.stdin, JSON.stringify(STATE))
  t.equal(r.argv0, 'my-hook')
  t.same(r.args, ['x y'])
})

t.test("only the hook's own env, split at the first =", async (t) => {
  const dir = t.testdir()
  const out = path.join(dir, 'report.json')
  process.env.RUNT_TEST_LEAK = 'leaked'
  t.teardown(() => void delete process.env.RUNT_TEST_LEAK)
  runHooks('prestart', [reporter(out, { env: ['FOO=bar', 'EQ=a=b=c', 'EMPTY=', 'NOEQUALS', '=nokey'] })], STATE)
  t.same(readReport(out).env, { FOO: 'bar', EQ: 'a=b=c', EMPTY: '' })
})

t.test('no env: an empty environment', async (t) => {
  const dir = t.testdir()
  const out = path.join(dir, 'report.json')
  runHooks('poststart', [reporter(out)], STATE)
  t.same(readReport(out).env, {})
})

t.test('no args: argv0 is the path', async (t) => {
  const dir = t.testdir()
  const p = script(dir, 'hook', `printf '%s' "$0" > "${dir}/argv0"`)
  runHooks('prestart', [{ path: p }], STATE)
  t.equal(fs.readFileSync(path.join(dir, 'argv0'), 'utf8'), p)
})

t.test('hooks run in order and stop at the first failure', async (t) => {
  const dir = t.testdir()
  const log = path.join(dir, 'log')
  const a = script(dir, 'a', `echo a >> ${log}`)
  const b = script(dir, 'b', `echo b >> ${log}; exit 2`)
  const c = script(dir, 'c', `echo c >> ${log}`)
  const e = hookError(() => runHooks('createContainer', [{ path: a }, { path: b }, { path: c }], STATE))
  t.equal(e.message, `error running createContainer hook #1 (${b}): exit status 2`)
  t.equal(fs.readFileSync(log, 'utf8'), 'a\nb\n')
})

t.test('a non-zero status: the message has stdout then stderr', async (t) => {
  const dir = t.testdir()
  const p = script(dir, 'fail', 'cat >/dev/null; echo "to stdout"; echo "to stderr" >&2; exit 3')
  const e = hookError(() => runHooks('poststop', [{ path: p }], STATE))
  t.equal(e.message, `error running poststop hook #0 (${p}): exit status 3, stdout/stderr: to stdout\nto stderr`)
  const quiet = script(dir, 'quiet', 'exit 1')
  t.equal(
    hookError(() => runHooks('startContainer', [{ path: quiet }], STATE)).message,
    `error running startContainer hook #0 (${quiet}): exit status 1`,
  )
})

t.test('killed by a signal', async (t) => {
  const dir = t.testdir()
  const p = script(dir, 'kill', 'echo bye; kill -TERM $$')
  const e = hookError(() => runHooks('prestart', [{ path: p }], STATE))
  t.equal(e.message, `error running prestart hook #0 (${p}): killed by signal SIGTERM, stdout/stderr: bye`)
})

t.test('a hook past its timeout is killed', async (t) => {
  const start = Date.now()
  const e = hookError(() => runHooks('createRuntime', [{ path: '/bin/sleep', args: ['sleep', '10'], timeout: 1 }], STATE))
  const took = Date.now() - start
  t.equal(e.message, 'error running createRuntime hook #0 (/bin/sleep): timeout after 1s')
  t.ok(took >= 900 && took < 5000, `took ${took} ms`)
})

t.test('a hook within its timeout is fine', async (t) => {
  t.doesNotThrow(() => runHooks('prestart', [{ path: '/bin/true', timeout: 5 }], STATE))
})

t.test('a hook that ignores stdin is judged by its exit status', async (t) => {
  const dir = t.testdir()
  // Larger than a pipe buffer, so our write meets EPIPE once the hook has exited.
  const big = { ...STATE, annotations: { big: 'x'.repeat(1024 * 1024) } }
  const ok = script(dir, 'ok', 'exit 0')
  t.doesNotThrow(() => runHooks('poststart', [{ path: ok }, { path: ok }], big))
  const bad = script(dir, 'bad', 'echo nope; exit 4')
  t.equal(
    hookError(() => runHooks('poststart', [{ path: bad }], big)).message,
    `error running poststart hook #0 (${bad}): exit status 4, stdout/stderr: nope`,
  )
})

t.test("a hook that cannot be started, in runc's words (not Node's spawnSync text)", async (t) => {
  const dir = t.testdir({ 'not-exec': '#!/bin/sh\n' })
  const e = hookError(() => runHooks('prestart', [{ path: '/nonexistent/hook' }], STATE))
  t.equal(e.message, 'error running prestart hook #0 (/nonexistent/hook): fork/exec /nonexistent/hook: no such file or directory')
  const p = path.join(dir, 'not-exec')
  const n = hookError(() => runHooks('prestart', [{ path: p }], STATE))
  t.equal(n.message, `error running prestart hook #0 (${p}): fork/exec ${p}: permission denied`)
})

t.test('no hooks', async (t) => {
  t.doesNotThrow(() => runHooks('prestart', undefined, STATE))
  t.doesNotThrow(() => runHooks('prestart', [], STATE))
})

t.test('hooks run in the directory they are given, or in ours when it is gone', async (t) => {
  const dir = t.testdir({ work: {} })
  const out = path.join(dir, 'pwd')
  const h: Hook = { path: '/bin/sh', args: ['sh', '-c', `pwd > ${out}`] }
  runHooks('createRuntime', [h], STATE, path.join(dir, 'work'))
  t.equal(fs.readFileSync(out, 'utf8').trim(), path.join(dir, 'work'))
  runHooks('poststop', [h], STATE, path.join(dir, 'removed-bundle'))
  t.equal(fs.readFileSync(out, 'utf8').trim(), process.cwd(), 'a missing directory is not the hook failing')
  runHooks('poststop', [h], STATE)
  t.equal(fs.readFileSync(out, 'utf8').trim(), process.cwd())
})

t.test('--debug: one record per hook, named and timed, a failure included', async (t) => {
  const got: string[] = []
  setTrace((m) => got.push(m))
  t.teardown(() => setTrace(null))
  t.equal(hookLabel('prestart', 2, { path: '/x' }), 'prestart[2] /x')
  t.throws(() => runHooks('createRuntime', [{ path: '/bin/true' }, { path: '/bin/false' }], {}))
  t.match(got, [/^hook: createRuntime\[0\] \/bin\/true \d+(\.\d+)?ms$/, /^hook: createRuntime\[1\] \/bin\/false failed after \d/])
})

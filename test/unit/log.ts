import t, { type Test } from 'tap'
import fsDefault, * as fs from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import * as path from 'node:path'
import {
  Logger,
  formatDuration,
  formatRecord,
  logger,
  rfc3339,
  setLogger,
  setTrace,
  timed,
  trace,
  tracing,
} from '../../src/log.js'

const T = '2026-11-23T21:00:00Z'

/** Capture what is written to fd 2 while `fn` runs. */
function captureStderr(fn: () => void): string {
  const real = fsDefault.writeSync
  let out = ''
  fsDefault.writeSync = ((fd: number, data: string | Buffer, ...rest: unknown[]) => {
    if (fd !== 2) return (real as (...a: unknown[]) => number)(fd, data, ...rest)
    out += data.toString()
    return Buffer.byteLength(data)
  }) as typeof fsDefault.writeSync
  syncBuiltinESMExports()
  try {
    fn()
  } finally {
    fsDefault.writeSync = real
    syncBuiltinESMExports()
  }
  return out
}

t.test('rfc3339: UTC, seconds, no fraction', async (t) => {
  t.equal(rfc3339(new Date(Date.UTC(2026, 10, 23, 21, 0, 0, 987))), T)
  t.equal(rfc3339(new Date(Date.UTC(1999, 0, 2, 3, 4, 5))), '1999-01-02T03:04:05Z')
  t.match(rfc3339(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
  const now = Date.now()
  t.ok(Math.abs(Date.parse(rfc3339()) - now) < 2000, 'now by default')
})

t.test('json records: runc/logrus shape, one line each', async (t) => {
  t.equal(
    formatRecord('json', 'error', 'container does not exist', T),
    `{"level":"error","msg":"container does not exist","time":"${T}"}\n`,
  )
  t.equal(
    formatRecord('json', 'warning', 'a "quoted"\nline', T),
    `{"level":"warning","msg":"a \\"quoted\\"\\nline","time":"${T}"}\n`,
  )
  t.equal(formatRecord('json', 'debug', '', T), `{"level":"debug","msg":"","time":"${T}"}\n`)
  const rec = JSON.parse(formatRecord('json', 'info', 'x\ty', T)) as Record<string, string>
  t.same(Object.keys(rec), ['level', 'msg', 'time'], 'the order encoding/json gives a map: sorted')
  t.same(rec, { level: 'info', msg: 'x\ty', time: T })
})

t.test('text records: logrus quoting', async (t) => {
  t.equal(
    formatRecord('text', 'error', 'runt create failed: container with given ID already exists', T),
    `time="${T}" level=error msg="runt create failed: container with given ID already exists"\n`,
  )
  t.equal(formatRecord('text', 'info', 'hello', T), `time="${T}" level=info msg=hello\n`, 'a plain word is not quoted')
  t.equal(formatRecord('text', 'info', 'a-b.c_d/e@f^g+h', T), `time="${T}" level=info msg=a-b.c_d/e@f^g+h\n`)
  t.equal(formatRecord('text', 'info', '', T), `time="${T}" level=info msg=\n`, 'empty: not quoted')
  t.equal(formatRecord('text', 'warning', 'a=b', T), `time="${T}" level=warning msg="a=b"\n`)
  t.equal(formatRecord('text', 'debug', 'x y', T), `time="${T}" level=debug msg="x y"\n`)
})

t.test("text records: escapes as Go's %q", async (t) => {
  const q = (msg: string) => formatRecord('text', 'error', msg, T).slice(`time="${T}" level=error msg=`.length, -1)
  t.equal(q('say "hi"'), '"say \\"hi\\""')
  t.equal(q('back\\slash'), '"back\\\\slash"')
  t.equal(q('a\nb\tc\rd'), '"a\\nb\\tc\\rd"')
  t.equal(q('\x07\b\f\v'), '"\\a\\b\\f\\v"')
  t.equal(q('nul\x00 esc\x1b del\x7f'), '"nul\\x00 esc\\x1b del\\x7f"')
  t.equal(q('ünïcödé 日本 😀'), '"ünïcödé 日本 😀"', 'printable runes stay')
  t.equal(q('nbsp\u00a0shy\u00ad'), '"nbsp\\u00a0shy\\u00ad"', 'non-printable runes are escaped')
  t.equal(q('ls\u2028ps\u2029'), '"ls\\u2028ps\\u2029"')
  t.equal(q('private \u{f0000}'), '"private \\U000f0000"')
  t.equal(q('lone \ud800'), '"lone \ufffd"')
})

t.test('Logger to a file: appends records at or above its level', async (t) => {
  const dir = t.testdir({ 'log.json': '{"level":"info","msg":"earlier","time":"x"}\n' })
  const file = path.join(dir, 'log.json')
  const l = new Logger(file, 'json', 'info')
  t.equal(l.toFile, true)
  l.debug('not written')
  l.info('i')
  l.warn('w')
  l.error('e')
  const lines = fs
    .readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((s) => JSON.parse(s) as Record<string, string>)
  t.same(
    lines.map((r) => [r.level, r.msg]),
    [
      ['info', 'earlier'],
      ['info', 'i'],
      ['warning', 'w'],
      ['error', 'e'],
    ],
  )
  t.ok(lines.slice(1).every((r) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(r.time!)))
  t.equal(fs.statSync(file).mode & 0o777, 0o644)
})

/** A path in a fresh test dir, with umask 022 for the test: the file mode runt asks for shows. */
function logFileUnderUmask022(t: Test, name: string): string {
  const old = process.umask(0o022)
  t.teardown(() => void process.umask(old))
  return path.join(t.testdir(), name)
}

t.test('Logger creates its file, 0644, on the first record only', async (t) => {
  const file = logFileUnderUmask022(t, 'new.log')
  const l = new Logger(file, 'text', 'warning')
  l.info('below the level')
  t.equal(fs.existsSync(file), false)
  l.warn('now')
  t.match(fs.readFileSync(file, 'utf8'), /^time="[^"]+" level=warning msg=now\n$/)
  t.equal(fs.statSync(file).mode & 0o777, 0o644)
})

t.test('Logger levels', async (t) => {
  const dir = t.testdir()
  const file = path.join(dir, 'l')
  const l = new Logger(file, 'json', 'debug')
  l.debug('d')
  l.log('info', 'i')
  const e = new Logger(file, 'json', 'error')
  e.warn('dropped')
  e.error('kept')
  t.same(
    fs
      .readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((s) => (JSON.parse(s) as { msg: string }).msg),
    ['d', 'i', 'kept'],
  )
})

t.test('Logger without a file writes to stderr', async (t) => {
  for (const file of [undefined, '']) {
    const l = new Logger(file, 'text', 'info')
    t.equal(l.toFile, false)
    const out = captureStderr(() => l.error('boom here'))
    t.match(out, /^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" level=error msg="boom here"\n$/)
  }
  const j = new Logger(undefined, 'json', 'info')
  t.match(
    captureStderr(() => j.info('x')),
    /^\{"level":"info","msg":"x","time":"[^"]+"\}\n$/,
  )
})

t.test('a log that cannot be written does not throw', async (t) => {
  const dir = t.testdir()
  const l = new Logger(path.join(dir, 'missing', 'dir', 'log'), 'json', 'info')
  t.doesNotThrow(() => l.error('lost'))
  t.equal(fs.existsSync(path.join(dir, 'missing')), false)
})

t.test('setLogger / logger', async (t) => {
  const before = logger()
  t.equal(before.toFile, false)
  t.equal(before.format, 'text')
  t.equal(before.minLevel, 'warning', 'the default before the command line is read')
  const l = new Logger(undefined, 'json', 'debug')
  setLogger(l)
  t.equal(logger(), l)
  setLogger(before)
})

t.test('open(): --log FILE exists before any record, 0644; a bad path does not throw', async (t) => {
  const file = logFileUnderUmask022(t, 'runt.log')
  const l = new Logger(file, 'text', 'info')
  await l.open()
  t.equal(fs.readFileSync(file, 'utf8'), '', 'created empty')
  t.equal(fs.statSync(file).mode & 0o777, 0o644)
  await l.open()
  l.info('one')
  t.match(fs.readFileSync(file, 'utf8'), /^time=\S+ level=info msg=one\n$/, 'opened once, appended to')
  // A file already there is opened at its first record, and appended to.
  const again = new Logger(file, 'json', 'info')
  await again.open()
  again.error('two')
  t.match(fs.readFileSync(file, 'utf8'), /msg=one\n\{"level":"error","msg":"two","time":"[^"]+"\}\n$/, 'appended after the first')
  await t.resolves(new Logger(path.join(path.dirname(file), 'no', 'log'), 'text', 'info').open())
  await t.resolves(new Logger(undefined, 'text', 'info').open(), 'stderr: nothing to open')
  t.equal(new Logger(undefined, 'text', 'debug').debugEnabled, true)
  t.equal(new Logger(undefined, 'text', 'info').debugEnabled, false)
})

t.test('formatDuration: two decimals below 10 ms, one below 100, whole above', async (t) => {
  t.equal(formatDuration(0.042), '0.04ms')
  t.equal(formatDuration(3.14159), '3.14ms')
  t.equal(formatDuration(12.345), '12.3ms')
  t.equal(formatDuration(123.4), '123ms')
  t.equal(formatDuration(-1), '0.00ms')
  t.equal(formatDuration(NaN), '0.00ms')
})

t.test('timed: one record per step with its duration, only with a sink', async (t) => {
  const got: string[] = []
  t.teardown(() => setTrace(null))
  setTrace(null)
  t.equal(tracing(), false)
  let label = 0
  t.equal(
    timed(
      () => `never ${++label}`,
      () => 7,
    ),
    7,
    'the value, without a sink',
  )
  t.equal(label, 0, 'no label built without a sink')
  trace('dropped')

  setTrace((m) => got.push(m))
  t.equal(tracing(), true)
  t.equal(
    timed('rootfs: mount /proc (proc)', () => 'v'),
    'v',
  )
  t.equal(
    timed(
      () => `rootfs: ${2} mounts`,
      () => 1,
    ),
    1,
  )
  t.throws(
    () =>
      timed('hook: prestart[0] /bin/false', () => {
        throw new Error('exit status 1')
      }),
    /exit status 1/,
    'the error goes on',
  )
  trace('plain')
  t.equal(got.length, 4)
  t.match(got[0], /^rootfs: mount \/proc \(proc\) \d+\.\d\dms$/)
  t.match(got[1], /^rootfs: 2 mounts \d+\.\d\dms$/)
  t.match(got[2], /^hook: prestart\[0\] \/bin\/false failed after \d+(\.\d+)?ms$/)
  t.equal(got[3], 'plain')

  // A step may move the sink (the init hands it from one channel to the next).
  const later: string[] = []
  timed('moved', () => setTrace((m) => later.push(m)))
  t.match(later, [/^moved \d/])
  timed('off', () => setTrace(null))
  t.equal(later.length, 1, 'nothing once the sink is gone')
})

t.test('the CLI sink: --debug records through the logger, below it nothing', async (t) => {
  t.teardown(() => setTrace(null))
  const l = new Logger(undefined, 'json', 'debug')
  setTrace((m) => l.debug(m))
  const out = captureStderr(() => timed('config: validate', () => undefined))
  const rec = JSON.parse(out) as { level: string; msg: string }
  t.equal(rec.level, 'debug')
  t.match(rec.msg, /^config: validate \d+\.\d\dms$/)
  const quiet = new Logger(undefined, 'text', 'info')
  setTrace((m) => quiet.debug(m))
  t.equal(
    captureStderr(() => timed('x', () => undefined)),
    '',
  )
})

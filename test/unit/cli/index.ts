// The command line as engines drive it: argv normalization, and main() end to end for what
// needs no root (usage errors, missing containers, --log records, list and state).

import t from 'tap'
import fsDefault, * as fs from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import * as path from 'node:path'
import { main, normalizeArgv } from '../../../src/cli/index.js'
import { readProcStat } from '../../../src/state/status.js'

t.test('normalizeArgv: lines engines send', async (t) => {
  const same = (argv: string[], what: string) => t.same(normalizeArgv(argv), argv, what)
  same(
    [
      '--root',
      '/run/containerd/runc/default',
      '--log',
      '/b/log.json',
      '--log-format',
      'json',
      'create',
      '--bundle',
      '/b',
      '--pid-file',
      '/b/init.pid',
      'abc',
    ],
    "containerd's create",
  )
  same(['--root', '/run/containerd/runc/default', '--log', '/b/log.json', '--log-format', 'json', 'start', 'abc'], 'start')
  same(['--root', '/r', '--log', '/b/log.json', '--log-format', 'json', 'kill', '--all', 'abc', '9'], 'kill --all')
  same(['--root', '/r', '--log', '/b/log.json', '--log-format', 'json', 'delete', '--force', 'abc'], 'delete --force')
  same(['--root', '/r', 'list', '--format=json'], 'list')
  same(
    [
      '--systemd-cgroup',
      'create',
      '--bundle',
      '/b',
      '--pid-file',
      '/p',
      '--no-pivot',
      '--no-new-keyring',
      '--console-socket',
      '/s.sock',
      'abc',
    ],
    "conmon's create",
  )
  same(['--root', '/r', 'kill', '-a', 'abc', 'KILL'], "CRI-O's kill -a")
  same([], 'nothing')
})

t.test('normalizeArgv: single-dash long options get two dashes', async (t) => {
  t.same(normalizeArgv(['-root', '/r', '-log-format=json', 'restore', '--detach', '-no-subreaper', '--bundle', '/b', 'abc']), [
    '--root',
    '/r',
    '--log-format=json',
    'restore',
    '--detach',
    '--no-subreaper',
    '--bundle',
    '/b',
    'abc',
  ])
  t.same(normalizeArgv(['run', '-d', '-b', '/b', 'abc']), ['run', '-d', '-b', '/b', 'abc'], 'short flags stay')
  t.same(normalizeArgv(['kill', 'abc', '-9']), ['kill', 'abc', '-9'])
  t.same(normalizeArgv(['-ab']), ['-ab'], 'two letters are short flags grouped')
})

t.test('normalizeArgv: exec flags stop at the container id', async (t) => {
  t.same(
    normalizeArgv([
      '--root',
      '/r',
      '--log',
      '/b/log.json',
      '--log-format',
      'json',
      'exec',
      '--process',
      '/tmp/runc-process1',
      '--detach',
      '--pid-file',
      '/b/e.pid',
      'abc',
    ]),
    [
      '--root',
      '/r',
      '--log',
      '/b/log.json',
      '--log-format',
      'json',
      'exec',
      '--process',
      '/tmp/runc-process1',
      '--detach',
      '--pid-file',
      '/b/e.pid',
      'abc',
      '--',
    ],
    "containerd's exec: a -- after the id, nothing after it",
  )
  t.same(
    normalizeArgv(['exec', '--pid-file', '/p', '--process', '/spec', '--detach', '--console-socket', '/s', 'abc']),
    ['exec', '--pid-file', '/p', '--process', '/spec', '--detach', '--console-socket', '/s', 'abc', '--'],
    "conmon's exec",
  )
  t.same(normalizeArgv(['exec', 'abc', 'ls', '-la']), ['exec', 'abc', '--', 'ls', '-la'])
  t.same(
    normalizeArgv(['exec', '-t', '-e', 'FOO=1', '--user', '1000:1000', '--cwd', '/tmp', 'abc', 'sh', '-c', 'ls -lah']),
    ['exec', '-t', '-e', 'FOO=1', '--user', '1000:1000', '--cwd', '/tmp', 'abc', '--', 'sh', '-c', 'ls -lah'],
    'flag values are not taken for the id',
  )
  t.same(
    normalizeArgv(['exec', 'abc', 'find', '/', '-name', 'x', '-mtime', '-1']),
    ['exec', 'abc', '--', 'find', '/', '-name', 'x', '-mtime', '-1'],
    "the command's single-dash options are its own",
  )
  t.same(
    normalizeArgv(['-root', '/r', 'exec', '-process', '/p', '-detach', 'abc', 'grep', '-rin', 'x']),
    ['--root', '/r', 'exec', '--process', '/p', '--detach', 'abc', '--', 'grep', '-rin', 'x'],
    'single-dash options before the id are normalized, after it they are not',
  )
  t.same(normalizeArgv(['exec', '--root', '/r', 'abc', 'ls']), ['exec', '--root', '/r', 'abc', '--', 'ls'], 'a global value flag')
  t.same(normalizeArgv(['exec', '--env=A=1', 'abc', 'ls']), ['exec', '--env=A=1', 'abc', '--', 'ls'])
  t.same(normalizeArgv(['exec', '--tty']), ['exec', '--tty'], 'no id: nothing added')
  t.same(normalizeArgv(['exec', '-t', '--', 'abc', '-name']), ['exec', '-t', '--', 'abc', '-name'], 'a -- already there')
})

type Run = { code: number; stdout: string; stderr: string }

/** main() in this process, with fd 1 and 2 (and process.stdout) captured. */
async function run(argv: string[]): Promise<Run> {
  const out = { stdout: '', stderr: '' }
  const real = fsDefault.writeSync
  const realWrite = process.stdout.write
  fsDefault.writeSync = ((fd: number, data: string | Uint8Array, ...rest: unknown[]) => {
    if (fd === 1 || fd === 2) {
      out[fd === 1 ? 'stdout' : 'stderr'] += Buffer.from(data as Uint8Array).toString()
      return typeof data === 'string' ? Buffer.byteLength(data) : data.length
    }
    return (real as (...a: unknown[]) => number)(fd, data, ...rest)
  }) as typeof fsDefault.writeSync
  syncBuiltinESMExports()
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out.stdout += chunk.toString()
    return true
  }) as typeof process.stdout.write
  try {
    const code = await main(argv)
    return { code, ...out }
  } finally {
    fsDefault.writeSync = real
    syncBuiltinESMExports()
    process.stdout.write = realWrite
  }
}

const TEXT = (msg: string) => new RegExp(`^time="\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ" level=error msg=${msg}\\n$`)

t.test('an unknown command exits 3', async (t) => {
  const r = await run(['foo'])
  t.equal(r.code, 3)
  t.match(r.stderr, TEXT(`"No help topic for 'foo'"`))
  t.equal(r.stdout, '')
  const g = await run(['--root', '/r', '--debug', 'foo', 'abc'])
  t.equal(g.code, 3)
  t.match(g.stderr, /msg="No help topic for 'foo'"/, 'after global flags')
})

t.test('an unknown command with --log --log-format json', async (t) => {
  const dir = t.testdir()
  const log = path.join(dir, 'log.json')
  const r = await run(['--log', log, '--log-format', 'json', 'frobnicate'])
  t.equal(r.code, 3)
  t.equal(r.stderr, "No help topic for 'frobnicate'\n", 'the bare message on stderr')
  const rec = JSON.parse(fs.readFileSync(log, 'utf8')) as Record<string, string>
  t.same(Object.keys(rec), ['level', 'msg', 'time'])
  t.equal(rec.level, 'error')
  t.equal(rec.msg, "No help topic for 'frobnicate'")
})

t.test('a missing container id', async (t) => {
  const root = t.testdir()
  // runc's wording: "exactly" for the commands that take just an id, "minimum" for kill.
  for (const cmd of ['state', 'start', 'delete', 'create', 'run', 'pause', 'resume', 'events']) {
    const r = await run(['--root', root, cmd])
    t.equal(r.code, 1, cmd)
    t.match(r.stderr, TEXT(`"runt: \\\\"${cmd}\\\\" requires exactly 1 argument\\(s\\)"`), cmd)
  }
  const k0 = await run(['--root', root, 'kill'])
  t.equal(k0.code, 1)
  t.match(k0.stderr, /msg="runt: \\"kill\\" requires a minimum of 1 argument\(s\)"/)
  const k = await run(['--root', root, 'kill', 'a', 'TERM', 'extra'])
  t.equal(k.code, 1)
  t.match(k.stderr, /msg="runt: \\"kill\\" requires a maximum of 2 argument\(s\)"/)
  const s = await run(['--root', root, 'state', 'a', 'b'])
  t.equal(s.code, 1)
  t.match(s.stderr, /msg="runt: \\"state\\" requires exactly 1 argument\(s\)"/)
})

t.test('a container that does not exist', async (t) => {
  const root = t.testdir()
  for (const argv of [
    ['state', 'nope'],
    ['start', 'nope'],
    ['kill', 'nope', '9'],
    ['kill', '--all', 'nope', 'KILL'],
    ['delete', 'nope'],
  ]) {
    const r = await run(['--root', root, ...argv])
    t.equal(r.code, 1, argv.join(' '))
    t.match(r.stderr, TEXT('"container does not exist"'), argv.join(' '))
    t.equal(r.stdout, '')
  }
  const e = await run(['--root', root, 'exec', 'nope', 'ls', '-la'])
  t.equal(e.code, 255, 'exec fails with 255, as runc')
  t.match(e.stderr, TEXT('"exec failed: container does not exist"'))
  const y = await run(['--root', root, 'state', '--', 'nope'])
  t.equal(y.code, 1, 'through yargs too')
  t.match(y.stderr, TEXT('"container does not exist"'))
  t.same(fs.readdirSync(root), [], 'nothing created under --root')
})

t.test('an invalid id', async (t) => {
  const root = t.testdir()
  const r = await run(['--root', root, 'state', '../etc'])
  t.equal(r.code, 1)
  t.match(r.stderr, TEXT('"invalid container ID format"'))
})

t.test('delete --force of a missing container succeeds quietly, as runc', async (t) => {
  const root = t.testdir({ halfmade: {} })
  for (const argv of [
    ['delete', '--force', 'nope'],
    ['delete', '-f', 'halfmade'],
  ]) {
    const r = await run(['--root', root, ...argv])
    t.same(r, { code: 0, stdout: '', stderr: '' }, argv.join(' '))
  }
  t.same(fs.readdirSync(root), [], 'the half-made directory is gone')
})

t.test('--log FILE --log-format json: a runc-shaped record in the file, the bare message on stderr', async (t) => {
  const root = t.testdir({ 'log.json': '' })
  const log = path.join(root, 'log.json')
  const r = await run(['--root', root, '--log', log, '--log-format', 'json', 'state', 'nope'])
  t.equal(r.code, 1)
  t.equal(r.stderr, 'container does not exist\n')
  const lines = fs.readFileSync(log, 'utf8').split('\n')
  t.equal(lines.length, 2)
  t.equal(lines[1], '')
  const rec = JSON.parse(lines[0]!) as Record<string, string>
  t.same(Object.keys(rec), ['level', 'msg', 'time'])
  t.same({ level: rec.level, msg: rec.msg }, { level: 'error', msg: 'container does not exist' })
  t.match(rec.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)

  const e = await run([
    '--root',
    root,
    '--log',
    log,
    '--log-format',
    'json',
    'exec',
    '--process',
    '/nonexistent',
    '--detach',
    'nope',
  ])
  t.equal(e.code, 255)
  t.equal(e.stderr, 'exec failed: container does not exist\n')
  const last = JSON.parse(fs.readFileSync(log, 'utf8').trimEnd().split('\n').at(-1)!) as Record<string, string>
  t.equal(last.msg, 'exec failed: container does not exist', 'appended')
})

t.test('--log FILE in text format', async (t) => {
  const root = t.testdir()
  const log = path.join(root, 'log.txt')
  const r = await run(['--root', root, '--log', log, 'kill', 'nope'])
  t.equal(r.code, 1)
  t.equal(r.stderr, 'container does not exist\n')
  t.match(fs.readFileSync(log, 'utf8'), TEXT('"container does not exist"'))
})

t.test('list on an empty root', async (t) => {
  const root = t.testdir()
  t.same(await run(['--root', root, 'list']), {
    code: 0,
    stdout: 'ID          PID         STATUS      BUNDLE      CREATED     OWNER\n',
    stderr: '',
  })
  t.same(await run(['--root', root, 'list', '--format=json']), { code: 0, stdout: 'null\n', stderr: '' })
  t.same(await run(['--root', root, 'list', '-f', 'json']), { code: 0, stdout: 'null\n', stderr: '' })
  t.same(await run(['--root', root, 'list', '-q']), { code: 0, stdout: '', stderr: '' })
  t.same(await run(['--root', path.join(root, 'missing'), 'list', '--format', 'json']), { code: 0, stdout: 'null\n', stderr: '' })
  const bad = await run(['--root', root, 'list', '--format', 'yaml'])
  t.equal(bad.code, 1)
  t.match(bad.stderr, TEXT('"invalid format option"'))
})

t.test('state of a created container', async (t) => {
  const st = readProcStat(process.pid)!
  const rec = {
    ociVersion: '1.3.0',
    id: 'abc',
    pid: process.pid,
    pidStartTime: st.startTime,
    bundle: '/run/b',
    rootfs: '/run/b/rootfs',
    created: '2026-11-23T21:00:00.123456789Z',
    annotations: { 'io.kubernetes.cri.container-type': 'container' },
    config: {},
    namespacePaths: {},
    cgroupPaths: {},
  }
  const root = t.testdir({ abc: { 'state.json': JSON.stringify(rec), 'exec.fifo': '' } })
  const r = await run(['--root', root, 'state', 'abc'])
  t.equal(r.code, 0)
  t.equal(r.stderr, '')
  t.equal(
    r.stdout,
    JSON.stringify(
      {
        ociVersion: '1.3.0',
        id: 'abc',
        pid: process.pid,
        status: 'created',
        bundle: '/run/b',
        rootfs: '/run/b/rootfs',
        created: '2026-11-23T21:00:00.123456789Z',
        owner: '',
        annotations: { 'io.kubernetes.cri.container-type': 'container' },
      },
      null,
      '  ',
    ),
  )
  fs.rmSync(path.join(root, 'abc', 'exec.fifo'))
  t.match(JSON.parse((await run(['--root', root, 'state', 'abc'])).stdout), { status: 'running', pid: process.pid })
})

t.test('--version', async (t) => {
  const r = await run(['--version'])
  t.equal(r.code, 0)
  t.match(r.stdout, /^runt version \S+\ncommit: \S+\nspec: 1\.3\.0\n/)
  t.same(await run(['-v']), r, '-v too')
  // runc: a global -v wins wherever the globals end, even with a command after it.
  t.same(await run(['--root', '/nonexistent/x', '-v']), r, 'after a global flag with a value')
  t.same(await run(['--log-format', 'json', '--version', 'list']), r, 'before a command')
  const cmdFlag = await run(['list', '-v'])
  t.not(cmdFlag.stdout, r.stdout, "a command's -v is not the global one")
})

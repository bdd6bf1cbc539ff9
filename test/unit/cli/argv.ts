// The fast argv path must read every command line it accepts exactly as yargs does, and must
// accept the lines engines send (containerd's go-runc, podman/conmon, docker).

import t from 'tap'
import type { Argv } from 'yargs'
import { COMMANDS } from '../../../src/cli/commands/index.js'
import { GLOBAL_OPTIONS, buildYargs, normalizeArgv } from '../../../src/cli/index.js'
import { parseFast, positionalNames, recordOptions } from '../../../src/cli/argv.js'

/** What yargs hands the command's handler, or the failure. */
async function viaYargs(argv: string[]): Promise<{ cmd?: string; args?: Record<string, unknown>; error?: string }> {
  let out: { cmd?: string; args?: Record<string, unknown>; error?: string } = {}
  const y = (await buildYargs(argv)).fail((msg, err) => {
    out = { error: err?.message ?? msg }
  })
  for (const def of COMMANDS) {
    y.command({
      command: def.command,
      describe: def.describe,
      aliases: def.aliases ?? [],
      builder: (b: Argv) => def.builder(b).strict(),
      handler: (args: Record<string, unknown>) => {
        out = { cmd: def.command.split(' ')[0]!, args }
      },
    } as never)
  }
  await y.parseAsync()
  return out
}

/** The keys a command reads: declared options, positionals and `_`. */
function canonical(cmd: string, args: Record<string, unknown>): Record<string, unknown> {
  const def = COMMANDS.find((c) => c.command.split(' ')[0] === cmd)!
  const names = [
    ...GLOBAL_OPTIONS.map((o) => o.name),
    ...recordOptions(def.builder)!.map((o) => o.name),
    ...positionalNames(def.command)!.names,
    '_',
  ]
  const out: Record<string, unknown> = {}
  for (const n of names) if (args[n] !== undefined) out[n] = args[n]
  return out
}

// Lines engines send, and variations of them the fast path should take.
const ENGINE_LINES = [
  [
    '--root',
    '/run/containerd/runc/k8s.io',
    '--log',
    '/x/log.json',
    '--log-format',
    'json',
    'create',
    '--bundle',
    '/b',
    '--pid-file',
    '/b/init.pid',
    'abc',
  ],
  [
    '--root',
    '/r',
    '--log',
    '/x/log.json',
    '--log-format',
    'json',
    '--systemd-cgroup',
    'create',
    '--bundle',
    '/b',
    '--pid-file',
    '/b/p',
    '--console-socket',
    '/s.sock',
    'abc',
  ],
  ['--root', '/r', '--log', '/x/log.json', '--log-format', 'json', 'start', 'abc'],
  ['--root', '/r', '--log', '/x/log.json', '--log-format', 'json', 'state', 'abc'],
  ['--root', '/r', '--log', '/x/log.json', '--log-format', 'json', 'kill', 'abc', '9'],
  ['--root', '/r', '--log', '/x/log.json', '--log-format', 'json', 'kill', '--all', 'abc', 'SIGKILL'],
  ['--root', '/r', '--log', '/x/log.json', '--log-format', 'json', 'delete', '--force', 'abc'],
  ['--root', '/r', 'delete', '-f', 'abc'],
  ['--systemd-cgroup', '--root', '/r', 'create', '--bundle', '/b', '--pid-file', '/p', '--no-pivot', '--no-new-keyring', 'abc'],
  ['-root', '/r', '-log-format=json', 'run', '-no-subreaper', '-d', '--pid-file', '/p', 'abc'],
  ['--debug', 'run', '--bundle=/b', '--keep', 'abc'],
  ['run', '--preserve-fds', '2', 'abc'],
  ['list', '--format', 'json'],
  ['list', '-q'],
  ['spec', '-b', '/b'],
  ['spec'],
  ['state', '0123'],
  ['state', '1e5'],
  ['kill', 'x', '15'],
  ['state'],
  ['state', 'a', 'b'],
  ['--rootless', 'true', 'state', 'a'],
  ['--log-format=text', 'state', 'a'],
  ['state', 'a', '--root', '/r'],
  ['state', '--', 'x'],
  // As yargs: a repeated flag becomes an array (which Store then rejects).
  ['state', '--root', '/a', '--root', '/b', 'x'],
  ['exec', 'x', 'sh', '-c', 'echo hi'],
  ['exec', '-e', 'A=1', '-e', 'B=2', 'x', 'ls'],
  ['exec', '--env', 'A=1', 'x', 'ls', '-l'],
  ['exec', 'x'],
  [
    '--root',
    '/r',
    '--log',
    '/l.json',
    '--log-format',
    'json',
    'exec',
    '--process',
    '/p.json',
    '--detach',
    '--pid-file',
    '/p',
    'x',
  ],
  ['--root', '/r', 'exec', '--console-socket', '/c.sock', '--tty', '--process', '/p.json', '-d', 'x'],
  ['exec', '-t', 'x', 'sh'],
  ['exec', 'x', '--', 'ls'],
  ['exec', '--cap', 'CAP_X', '--cap', 'CAP_Y', '--cap', 'CAP_Z', 'x', 'true'],
  ['--root', '/r', 'exec', 'x', '1', '2'],
  ['exec', '--root', '/r', 'x', 'true'],
  ['exec', '--user', '1000:1000', '--cwd', '/tmp', '--additional-gids', '5', 'x', 'id'],
  ['features'],
  ['--root', '/r', 'pause', 'x'],
  ['--root', '/r', 'resume', 'x'],
  ['--root', '/r', 'events', '--stats', 'x'],
  ['events', '--interval', '5s', 'x'],
  ['checkpoint', '--empty-ns', 'network', '--empty-ns', 'pid', 'x'],
  // podman's checkpoint and (through conmon) restore.
  ['checkpoint', '--image-path', '/i', '--work-path', '/w', '--leave-running', '--tcp-established', 'x'],
  ['--root', '/r', 'restore', '--bundle', '/b', '--pid-file', '/p', '--detach', '--image-path', '/i', '--work-path', '/w', 'x'],
  ['restore', '-d', '-b', '/b', '--console-socket', '/c', '--image-path', '/i', '--manage-cgroups-mode', 'soft', 'x'],
]

// Lines the fast path hands to yargs.
const YARGS_LINES = [
  ['state', '--help'],
  ['help'],
  ['--debug', 'true', 'state', 'x'],
  ['create', '--bundle', '--pid-file', 'p', 'x'],
  ['create', '--preserve-fds', 'abc', 'x'],
  ['create', '--no-bundle', 'x'],
  ['--log-format', 'xml', 'state', 'x'],
  ['--', 'state', 'x'],
  ['state', '-x', 'x'],
  ['run', '-dk', 'x'],
  ['state', 'x', '--root'],
  ['delete', '--force', 'false', 'x'],
  ['--force', 'delete', 'x'],
  ['delete', '-f', '-f', 'x'],
  // Builders that do more than .option() (ps takes its own ps(1) arguments).
  ['ps', 'x', '-ef'],
  ['update', '--memory', '100', 'x'],
]

t.test('the fast path reads engine lines as yargs does', async (t) => {
  for (const line of ENGINE_LINES) {
    const argv = normalizeArgv(line)
    const fast = parseFast(argv, GLOBAL_OPTIONS, COMMANDS)
    t.ok(fast, `fast path takes ${line.join(' ')}`)
    if (!fast) continue
    const y = await viaYargs(argv)
    t.notOk(y.error, `yargs accepts ${line.join(' ')}`)
    const cmd = fast.def.command.split(' ')[0]!
    t.equal(y.cmd, cmd, `same command for ${line.join(' ')}`)
    t.same(canonical(cmd, fast.args), canonical(cmd, y.args!), line.join(' '))
  }
})

t.test('anything unusual goes to yargs', async (t) => {
  for (const line of YARGS_LINES) t.equal(parseFast(normalizeArgv(line), GLOBAL_OPTIONS, COMMANDS), null, line.join(' '))
})

t.test('runc semantics on both paths', async (t) => {
  const y = await viaYargs(['create', '--no-pivot', 'x'])
  t.equal(y.args?.['no-pivot'], true, '--no-pivot sets no-pivot (no boolean negation)')
  t.equal((await viaYargs(['state', '1e5'])).args?.['container-id'], '1e5', 'ids are never numbers')
  t.equal(parseFast(['create', '--no-pivot', 'x'], GLOBAL_OPTIONS, COMMANDS)?.args['no-pivot'], true)
})

t.test('spec --rootless: the fast path gets it right where yargs cannot', async (t) => {
  // yargs keeps one type per key, and the global --rootless is a string: it reads `spec
  // --rootless` as false. runc's spec has its own boolean flag, and so does the fast path.
  t.equal(parseFast(['spec', '--rootless'], GLOBAL_OPTIONS, COMMANDS)?.args.rootless, true)
})

t.test('a builder doing more than .option() disables the fast path for its command', async (t) => {
  t.equal(
    recordOptions((y) => y.positional('x', {})),
    null,
  )
  t.equal(
    recordOptions((y) => y.option('env', { type: 'string', array: true } as never)),
    null,
  )
  t.same(positionalNames('exec [container-id] [command...]'), { names: ['container-id', 'command'], variadic: true })
  t.same(positionalNames('exec [container-id] [command..]'), { names: ['container-id', 'command'], variadic: true })
  t.equal(positionalNames('exec <container-id>'), null)
})

t.test('criu flags: --empty-ns once or repeated', async (t) => {
  const { criuFlags } = await import('../../../src/cli/commands/checkpoint.js')
  const once = parseFast(['checkpoint', '--empty-ns', 'network', '--pre-dump', 'x'], GLOBAL_OPTIONS, COMMANDS)!
  t.match(criuFlags(once.args), { emptyNs: ['network'], preDump: true, leaveRunning: false, imagePath: '' })
  const twice = await viaYargs(['checkpoint', '--empty-ns', 'network', '--empty-ns', 'pid', 'x'])
  t.same(criuFlags(twice.args as never).emptyNs, ['network', 'pid'])
  const none = await viaYargs(['restore', '-b', '/b', 'x'])
  t.same(criuFlags(none.args as never).emptyNs, [])
})

// The command line, runc-compatible: global flags, explicit command registration (the
// single-binary bundle must see every module), and one exit path through cli/report.ts.
// Command modules only parse and call; what they call is imported lazily, so `state` does not
// pay for what `create` needs. The argv shapes engines send are read by cli/argv.ts without
// yargs (about 40 ms of start-up); yargs is loaded only for help, errors and unusual shapes.

import type { Argv } from 'yargs'
import { Logger, setLogger, setTrace, type LogFormat } from '../log.js'
import { reportError } from './report.js'
import { UsageError } from '../errors.js'
import { COMMANDS } from './commands/index.js'
import { defaultRoot, ensureXdgRoot, xdgRoot, type CommandDef, type GlobalOptions } from './command.js'
import { parseFast, recordOptions, type OptSpec } from './argv.js'

// exec's options that take a value, so we can tell where its container id is.
const EXEC_VALUE_FLAGS = new Set([
  '--console-socket',
  '--pidfd-socket',
  '--cwd',
  '--env',
  '-e',
  '--user',
  '-u',
  '--additional-gids',
  '-g',
  '--process',
  '-p',
  '--pid-file',
  '--process-label',
  '--apparmor',
  '--cap',
  '-c',
  '--preserve-fds',
  '--cgroup',
])

/**
 * Long options urfave/cli accepts with one dash (go-runc sends `-no-subreaper`) get two; and
 * for `exec`, flag parsing stops at the container id, as in runc: what follows is the command
 * with its own options, so a `--` is put after the id.
 */
export function normalizeArgv(argv: string[]): string[] {
  const out = argv.map((a) => (/^-[a-z][a-z-]{2,}(=.*)?$/.test(a) ? '-' + a : a))
  const cmd = commandIndex(out)
  if (cmd < 0 || out[cmd] !== 'exec') return out
  for (let i = cmd + 1; i < out.length; i++) {
    const a = out[i]!
    // The command after the id keeps its own options as given (`find / -name x`).
    if (a === '--') return [...out.slice(0, i + 1), ...argv.slice(i + 1)]
    if (a.startsWith('-')) {
      if (EXEC_VALUE_FLAGS.has(a) || VALUE_FLAGS.has(a)) i++
      continue
    }
    return [...out.slice(0, i + 1), '--', ...argv.slice(i + 1)]
  }
  return out
}

/** The XDG state root where runc's rule picks one (read once: the default and its mkdir). */
const XDG_ROOT = xdgRoot()

function globalOptions(y: Argv): Argv<GlobalOptions> {
  return y
    .option('root', {
      type: 'string',
      default: defaultRoot(XDG_ROOT),
      describe: 'root directory for storage of container state (this should be located in tmpfs)',
    })
    .option('log', { type: 'string', default: '', describe: 'set the log file to write runt logs to (default is stderr)' })
    .option('log-format', { type: 'string', choices: ['text', 'json'], default: 'text', describe: 'set the log format' })
    .option('debug', { type: 'boolean', default: false, describe: 'enable debug logging' })
    .option('systemd-cgroup', { type: 'boolean', default: false, describe: 'enable systemd cgroup support' })
    .option('rootless', { type: 'string', default: 'auto', describe: 'ignore cgroup permission errors (true, false, or auto)' })
    .option('criu', { type: 'string', hidden: true }) as unknown as Argv<GlobalOptions>
}

/** The global flags as a table for the fast path (recorded from the yargs builder above). */
export const GLOBAL_OPTIONS: OptSpec[] = recordOptions(globalOptions as (y: Argv) => Argv)!

async function setLoggerFrom(g: GlobalOptions): Promise<void> {
  const l = new Logger(g.log || undefined, g['log-format'] as LogFormat, g.debug ? 'debug' : 'info')
  await l.open()
  setLogger(l)
  setTrace(g.debug ? (msg) => l.debug(msg) : null)
}

export async function main(rawArgv: string[]): Promise<number> {
  const argv = normalizeArgv(rawArgv)

  // -v among the global flags (before any command, after --root DIR or not) is the version,
  // as runc's: `runc --root DIR -v` and `runc -v list` both print it.
  const cmdAt = commandIndex(argv)
  const globalArgs = cmdAt < 0 ? argv : argv.slice(0, cmdAt)
  if (globalArgs.includes('--version') || globalArgs.includes('-v')) {
    const { VERSION_TEXT } = await import('../ops/version.js')
    process.stdout.write(await VERSION_TEXT())
    return 0
  }
  // runc with no command prints its help and exits 0.
  if (argv.length === 0) return yargsMain(argv)
  const known = new Set(COMMANDS.flatMap((c) => [c.command.split(' ')[0]!, ...(c.aliases ?? [])]))
  const cmd = firstCommand(argv)
  if (cmd !== undefined && !known.has(cmd) && cmd !== 'help') {
    await setupLoggerFromArgv(argv)
    return reportError(new UsageError(`No help topic for '${cmd}'`, 3))
  }

  const fast = parseFast(argv, GLOBAL_OPTIONS, COMMANDS)
  if (fast === null) return yargsMain(argv)
  await setLoggerFrom(fast.args)
  try {
    ensureXdgRoot(fast.args.root, XDG_ROOT)
    return await fast.def.run(fast.args)
  } catch (e) {
    // As on the yargs path: usage errors carry no "runt create failed" context.
    if (e instanceof UsageError) return reportError(e)
    const code = reportError(e, fast.def.context)
    return fast.def.exitCode ?? code
  }
}

/**
 * yargs' parser for what the fast path does not take, configured as runc reads a command
 * line: `--no-pivot` sets no-pivot (no boolean negation) and positionals stay strings.
 */
export async function buildYargs(argv: string[]): Promise<Argv> {
  const { default: yargs } = await import('yargs')
  return globalOptions(yargs(argv))
    .parserConfiguration({ 'boolean-negation': false, 'parse-numbers': false, 'parse-positional-numbers': false })
    .scriptName('runt')
    .usage('runt [global options] command [command options] [arguments...]')
    .version(false)
    .option('version', { alias: 'v', type: 'boolean', describe: 'print the version' })
    .help('help')
    .alias('help', 'h')
    .strictCommands()
    .strictOptions()
    .wrap(100)
    .exitProcess(false)
}

async function yargsMain(argv: string[]): Promise<number> {
  let exitCode = 0
  let failed: unknown = null
  let context: string | undefined
  let failExit: number | undefined
  const y = (await buildYargs(argv))
    .fail((msg, err) => {
      failed = err ?? new UsageError(msg)
    })
    .middleware((args) => setLoggerFrom(args as unknown as GlobalOptions))

  for (const def of COMMANDS) {
    y.command({
      command: def.command,
      describe: def.hidden ? false : def.describe,
      aliases: def.aliases ?? [],
      builder: (b: Argv) => def.builder(b).strict(),
      handler: async (args: unknown) => {
        context = def.context
        failExit = def.exitCode
        try {
          ensureXdgRoot((args as GlobalOptions).root, XDG_ROOT)
          exitCode = await def.run(args as Parameters<CommandDef['run']>[0])
        } catch (e) {
          failed = e
        }
      },
    } as never)
  }

  if (argv.length === 0) {
    process.stdout.write((await y.getHelp()) + '\n')
    return 0
  }
  try {
    await y.parseAsync()
  } catch (e) {
    failed = failed ?? e
  }
  if (failed) {
    if (failed instanceof UsageError) await setupLoggerFromArgv(argv)
    if (failed instanceof UsageError) return reportError(failed)
    const code = reportError(failed, context)
    return failExit ?? code
  }
  return exitCode
}

const VALUE_FLAGS = new Set(['--root', '--log', '--log-format', '--rootless', '--criu'])

/** Index of the first positional argument, the command name; -1 if none. */
function commandIndex(argv: string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--') return i + 1 < argv.length ? i + 1 : -1
    if (a.startsWith('-')) {
      if (VALUE_FLAGS.has(a)) i++
      continue
    }
    return i
  }
  return -1
}

function firstCommand(argv: string[]): string | undefined {
  const i = commandIndex(argv)
  return i < 0 ? undefined : argv[i]
}

async function setupLoggerFromArgv(argv: string[]): Promise<void> {
  const get = (name: string) => {
    const i = argv.findIndex((a) => a === name || a.startsWith(name + '='))
    if (i < 0) return undefined
    const a = argv[i]!
    return a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i + 1]
  }
  const fmt = get('--log-format') === 'json' ? 'json' : 'text'
  const l = new Logger(get('--log') || undefined, fmt, 'info')
  await l.open()
  setLogger(l)
}

export type { CommandDef }

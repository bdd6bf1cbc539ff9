// Every command, registered explicitly: flags as runc has them, and a run() that only turns
// arguments into a call. The modules doing the work are imported when the command runs.

import type { Argv } from 'yargs'
import { UsageError } from '../errors.js'
import { print } from './report.js'

export type GlobalOptions = {
  root: string
  log: string
  'log-format': string
  debug: boolean
  'systemd-cgroup': boolean
  rootless: string
}

type Args = GlobalOptions & Record<string, unknown> & { _: (string | number)[] }

export type CommandDef = {
  command: string
  describe: string
  aliases?: string[]
  hidden?: boolean
  /** Prefix for error messages, as runc's "runc create failed: ...". */
  context?: string
  builder: (y: Argv) => Argv
  run: (args: Args) => Promise<number>
}

/** The container id, with runc's message when it is missing. */
function requireId(args: Args, name: string, max = 1): string {
  const pos = positionals(args)
  if (pos.length < 1) throw new UsageError(`runt: "${name}" requires a minimum of 1 argument(s)`)
  if (pos.length > max) throw new UsageError(`runt: "${name}" requires a maximum of ${max} argument(s)`)
  return pos[0]!
}

function positionals(args: Args): string[] {
  // Declared positionals first, then any extra ones (args._[0] is the command name).
  const named = ['container-id', 'signal'].map((k) => args[k]).filter((v) => v !== undefined)
  return [...named.map(String), ...args._.slice(1).map(String)]
}

async function store(args: Args) {
  const { Store } = await import('../state/store.js')
  return new Store(args.root)
}

const createFlags = (y: Argv) =>
  y
    .option('bundle', { alias: 'b', type: 'string', default: '', describe: 'path to the root of the bundle directory, defaults to the current directory' })
    .option('console-socket', { type: 'string', default: '', describe: 'path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console\'s pseudoterminal' })
    .option('pidfd-socket', { type: 'string', default: '', describe: 'path to an AF_UNIX socket which will receive a file descriptor referencing the init process' })
    .option('pid-file', { type: 'string', default: '', describe: 'specify the file to write the process id to' })
    .option('no-pivot', { type: 'boolean', default: false, describe: 'do not use pivot root to jail process inside rootfs' })
    .option('no-new-keyring', { type: 'boolean', default: false, describe: 'do not create a new session keyring for the container' })
    .option('preserve-fds', { type: 'number', default: 0, describe: 'pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)' })

function createOptions(args: Args, id: string, st: import('../state/store.js').Store, detach: boolean) {
  const o: import('../process/create.js').CreateOptions = {
    id,
    bundle: (args.bundle as string) || process.cwd(),
    store: st,
    noPivot: args['no-pivot'] as boolean,
    noNewKeyring: args['no-new-keyring'] as boolean,
    preserveFds: validPreserve(args['preserve-fds']),
    systemdCgroup: args['systemd-cgroup'],
    reportExec: false,
    detach,
    debug: args.debug,
  }
  if (args['pid-file']) o.pidFile = args['pid-file'] as string
  if (args['console-socket']) o.consoleSocket = args['console-socket'] as string
  if (args['pidfd-socket']) o.pidfdSocket = args['pidfd-socket'] as string
  return o
}

function validPreserve(v: unknown): number {
  const n = Number(v ?? 0)
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`invalid value for --preserve-fds: ${String(v)}`)
  return n
}

export const COMMANDS: CommandDef[] = [
  {
    command: 'create [container-id]',
    describe: 'create a container',
    context: 'runt create failed',
    builder: createFlags,
    async run(args) {
      const id = requireId(args, 'create')
      const { createContainer } = await import('../process/create.js')
      createContainer(createOptions(args, id, await store(args), true))
      return 0
    },
  },
  {
    command: 'run [container-id]',
    describe: 'create and run a container',
    context: 'runt run failed',
    builder: (y) =>
      createFlags(y)
        .option('detach', { alias: 'd', type: 'boolean', default: false, describe: 'detach from the container\'s process' })
        .option('keep', { type: 'boolean', default: false, describe: 'do not delete the container after it exits' })
        .option('no-subreaper', { type: 'boolean', default: false, describe: 'disable the use of the subreaper used to reap reparented processes' }),
    async run(args) {
      const id = requireId(args, 'run')
      const { run } = await import('../ops/run.js')
      const detach = args.detach as boolean
      return run({ ...createOptions(args, id, await store(args), detach), keep: args.keep as boolean, noSubreaper: args['no-subreaper'] as boolean })
    },
  },
  {
    command: 'start [container-id]',
    describe: 'executes the user defined process in a created container',
    builder: (y) => y,
    async run(args) {
      const id = requireId(args, 'start')
      const { start } = await import('../ops/lifecycle.js')
      start(await store(args), id)
      return 0
    },
  },
  {
    command: 'state [container-id]',
    describe: 'output the state of a container',
    builder: (y) => y,
    async run(args) {
      const id = requireId(args, 'state')
      const { stateOf } = await import('../ops/container.js')
      print(JSON.stringify(stateOf(await store(args), id), null, '  '))
      return 0
    },
  },
  {
    command: 'kill [container-id] [signal]',
    describe: 'kill sends the specified signal (default: SIGTERM) to the container\'s init process',
    builder: (y) => y.option('all', { alias: 'a', type: 'boolean', default: false, describe: 'send the specified signal to all processes inside the container' }),
    async run(args) {
      const pos = positionals(args)
      if (pos.length < 1) throw new UsageError('runt: "kill" requires a minimum of 1 argument(s)')
      if (pos.length > 2) throw new UsageError('runt: "kill" requires a maximum of 2 argument(s)')
      const { kill, parseSignal } = await import('../ops/lifecycle.js')
      kill(await store(args), pos[0]!, parseSignal(pos[1] ?? 'SIGTERM'), args.all as boolean)
      return 0
    },
  },
  {
    command: 'delete [container-id]',
    describe: 'delete any resources held by the container often used with detached container',
    builder: (y) => y.option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Forcibly deletes the container if it is still running (uses SIGKILL)' }),
    async run(args) {
      const id = requireId(args, 'delete')
      const { del } = await import('../ops/lifecycle.js')
      del(await store(args), id, args.force as boolean)
      return 0
    },
  },
  {
    command: 'list',
    describe: 'lists containers started by runt with the given root',
    builder: (y) =>
      y
        .option('format', { alias: 'f', type: 'string', default: 'table', describe: 'select one of: table or json' })
        .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'display only container IDs' }),
    async run(args) {
      const { listContainers } = await import('../ops/list.js')
      print(listContainers(await store(args), args.format as string, args.quiet as boolean))
      return 0
    },
  },
  {
    command: 'spec',
    describe: 'create a new specification file',
    builder: (y) =>
      y
        .option('bundle', { alias: 'b', type: 'string', default: '', describe: 'path to the root of the bundle directory' })
        .option('rootless', { type: 'boolean', default: false, describe: 'generate a configuration for a rootless container' }),
    async run(args) {
      const { writeSpec } = await import('../ops/spec.js')
      writeSpec((args.bundle as string) || '.', args.rootless as unknown as boolean)
      return 0
    },
  },
]

// What a command is, and the argument helpers every command file shares. Command files only
// parse and call; the modules doing the work are imported when the command runs.

// node:fs and node:path are loaded where used: `state` never uses them (sys/file.ts says why).
import type { Argv } from 'yargs'
import { UsageError } from '../errors.js'
import { nodeFs } from '../sys/file.js'

export type GlobalOptions = {
  root: string
  log: string
  'log-format': string
  debug: boolean
  'systemd-cgroup': boolean
  rootless: string
}

export type Args = GlobalOptions & Record<string, unknown> & { _: (string | number)[] }

export type CommandDef = {
  command: string
  describe: string
  aliases?: string[]
  hidden?: boolean
  /** Prefix for error messages, as runc's "runc create failed: ...". */
  context?: string
  /** Exit status for a failure (runc's exec uses 255). */
  exitCode?: number
  builder: (y: Argv) => Argv
  run: (args: Args) => Promise<number>
}

/** The container id and nothing else, with runc's message (its exactArgs) otherwise. */
export function requireId(args: Args, name: string): string {
  const pos = positionals(args)
  if (pos.length !== 1) throw new UsageError(`runt: "${name}" requires exactly 1 argument(s)`)
  return pos[0]!
}

export function positionals(args: Args): string[] {
  // Declared positionals first, then any extra ones (args._[0] is the command name).
  const named = ['container-id', 'signal'].map((k) => args[k]).filter((v) => v !== undefined)
  return [...named.map(String), ...args._.slice(1).map(String)]
}

/** Not in the initial user namespace: /proc/self/uid_map is not the identity over all ids. */
export function runningInUserNs(): boolean {
  try {
    return !/^\s*0\s+0\s+4294967295\s*$/.test(nodeFs().readFileSync('/proc/self/uid_map', 'utf8'))
  } catch {
    return false
  }
}

type RootEnv = { env?: NodeJS.ProcessEnv; euid?: number; inUserNs?: () => boolean }

/**
 * `$XDG_RUNTIME_DIR/runt` where runc would use `$XDG_RUNTIME_DIR/runc` (its
 * shouldHonorXDGRuntimeDir): an unprivileged user, or root of a user namespace whose USER is
 * not root (rootless podman runs the runtime so). Otherwise undefined.
 */
export function xdgRoot(o: RootEnv = {}): string | undefined {
  const env = o.env ?? process.env
  const xdg = env.XDG_RUNTIME_DIR
  if (!xdg) return undefined
  const path = process.getBuiltinModule('node:path')
  if ((o.euid ?? process.geteuid?.() ?? 0) !== 0) return path.join(xdg, 'runt')
  if (!(o.inUserNs ?? runningInUserNs)()) return undefined
  return env.USER === 'root' ? undefined : path.join(xdg, 'runt')
}

/** The default of --root, as runc chooses its own: /run/runt, or the XDG one above. */
export function defaultRoot(xdg = xdgRoot()): string {
  return xdg ?? '/run/runt'
}

/**
 * runc makes its XDG root before any command, sticky so that the runtime directory's
 * periodic clean-up leaves it alone (XDG Base Directory spec); so does runt with its own.
 */
export function ensureXdgRoot(root: string, xdg = xdgRoot()): void {
  if (root !== xdg) return
  const fs = nodeFs()
  fs.mkdirSync(root, { recursive: true, mode: 0o700 })
  fs.chmodSync(root, 0o1700)
}

export async function store(args: Args) {
  const { openStore } = await import('../ops/store.js')
  return openStore(args.root)
}

export const createFlags = (y: Argv) =>
  y
    .option('bundle', {
      alias: 'b',
      type: 'string',
      default: '',
      describe: 'path to the root of the bundle directory, defaults to the current directory',
    })
    .option('console-socket', {
      type: 'string',
      default: '',
      describe:
        "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal",
    })
    .option('pidfd-socket', {
      type: 'string',
      default: '',
      describe: 'path to an AF_UNIX socket which will receive a file descriptor referencing the init process',
    })
    .option('pid-file', { type: 'string', default: '', describe: 'specify the file to write the process id to' })
    .option('no-pivot', { type: 'boolean', default: false, describe: 'do not use pivot root to jail process inside rootfs' })
    .option('no-new-keyring', {
      type: 'boolean',
      default: false,
      describe: 'do not create a new session keyring for the container',
    })
    .option('preserve-fds', {
      type: 'number',
      default: 0,
      describe: 'pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)',
    })

export function createOptions(args: Args, id: string, st: import('../state/store.js').Store, detach: boolean) {
  const o: import('../process/create.js').CreateOptions = {
    id,
    bundle: (args.bundle as string) || process.cwd(),
    store: st,
    noPivot: args['no-pivot'] as boolean,
    noNewKeyring: args['no-new-keyring'] as boolean,
    preserveFds: validPreserve(args['preserve-fds']),
    systemdCgroup: args['systemd-cgroup'],
    rootless: args.rootless ?? 'auto',
    inUserNs: runningInUserNs,
    reportExec: false,
    detach,
    debug: args.debug,
  }
  if (args['pid-file']) o.pidFile = args['pid-file'] as string
  if (args['console-socket']) o.consoleSocket = args['console-socket'] as string
  if (args['pidfd-socket']) o.pidfdSocket = args['pidfd-socket'] as string
  return o
}

export function validPreserve(v: unknown): number {
  const n = Number(v ?? 0)
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`invalid value for --preserve-fds: ${String(v)}`)
  return n
}

// `runt exec`: run a new process inside a container. Options stop at the container id: what
// follows is the command and its own arguments. Failures exit 255 with "exec failed: ...".

import { type CommandDef, runningInUserNs, store } from '../command.js'
import { UsageError } from '../../errors.js'

const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined || v === '' ? [] : [String(v)])

export const execCommand: CommandDef = {
  command: 'exec [container-id] [command..]',
  describe: 'execute new process inside the container',
  context: 'exec failed',
  exitCode: 255,
  builder: (y) =>
    y
      .option('console-socket', {
        type: 'string',
        default: '',
        describe:
          "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal",
      })
      .option('pidfd-socket', {
        type: 'string',
        default: '',
        describe: 'path to an AF_UNIX socket which will receive a file descriptor referencing the exec process',
      })
      .option('cwd', { type: 'string', default: '', describe: 'current working directory in the container' })
      .option('env', { alias: 'e', type: 'string', describe: 'set environment variables' })
      .option('tty', { alias: 't', type: 'boolean', default: false, describe: 'allocate a pseudo-TTY' })
      .option('user', { alias: 'u', type: 'string', default: '', describe: 'UID (format: <uid>[:<gid>])' })
      .option('additional-gids', { alias: 'g', type: 'string', describe: 'additional gids' })
      .option('process', { alias: 'p', type: 'string', default: '', describe: 'path to the process.json' })
      .option('detach', { alias: 'd', type: 'boolean', default: false, describe: "detach from the container's process" })
      .option('pid-file', { type: 'string', default: '', describe: 'specify the file to write the process id to' })
      .option('process-label', {
        type: 'string',
        default: '',
        describe: 'set the asm process label for the process commonly used with selinux',
      })
      .option('apparmor', { type: 'string', default: '', describe: 'set the apparmor profile for the process' })
      .option('no-new-privs', { type: 'boolean', default: false, describe: 'set the no new privileges value for the process' })
      .option('cap', {
        alias: 'c',
        type: 'string',
        describe: 'add a capability to the bounding set for the process',
      })
      .option('preserve-fds', {
        type: 'number',
        default: 0,
        describe: 'pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)',
      })
      .option('cgroup', {
        type: 'string',
        describe: 'run the process in an (existing) sub-cgroup(s). Format is [<controller>:]<cgroup>.',
      })
      .option('ignore-paused', { type: 'boolean', default: false, describe: 'allow exec in a paused container' }),
  async run(args) {
    // cli/index.ts put a `--` after the id: the command and its arguments arrive unparsed.
    const pos = [
      ...(args['container-id'] !== undefined ? [String(args['container-id'])] : []),
      ...list(args.command),
      ...args._.slice(1).map(String),
    ]
    const id = pos[0]
    if (id === undefined) throw new UsageError('runt: "exec" requires a minimum of 1 argument(s)')
    const command = pos.slice(1)
    const processFile = args.process as string
    if (!processFile && command.length === 0) throw new UsageError('runt: "exec" requires a minimum of 2 argument(s)')
    const gids = list(args['additional-gids']).map((g) => {
      // urfave/cli's Int64Slice: a usage error, exit 1, in its words.
      if (!/^[+-]?\d+$/.test(g))
        throw new UsageError(
          `invalid value ${JSON.stringify(g)} for flag -g: strconv.ParseInt: parsing ${JSON.stringify(g)}: invalid syntax`,
        )
      return Number(g)
    })
    const preserve = Number(args['preserve-fds'])
    if (!Number.isInteger(preserve) || preserve < 0)
      throw new UsageError(`invalid value for --preserve-fds: ${String(args['preserve-fds'])}`)
    const { exec } = await import('../../ops/exec.js')
    const o: import('../../process/exec.js').ExecOptions = {
      id,
      inUserNs: runningInUserNs,
      store: await store(args),
      args: command,
      detach: args.detach as boolean,
      tty: args.tty as boolean,
      env: list(args.env),
      additionalGids: gids,
      caps: list(args.cap),
      noNewPrivs: args['no-new-privs'] as boolean,
      preserveFds: preserve,
      ignorePaused: args['ignore-paused'] as boolean,
      cgroup: list(args.cgroup),
    }
    if (processFile) o.processFile = processFile
    if (args['pid-file']) o.pidFile = args['pid-file'] as string
    if (args['console-socket']) o.consoleSocket = args['console-socket'] as string
    if (args['pidfd-socket']) o.pidfdSocket = args['pidfd-socket'] as string
    if (args.cwd) o.cwd = args.cwd as string
    if (args.user) o.user = args.user as string
    if (args.apparmor) o.apparmor = args.apparmor as string
    if (args['process-label']) o.processLabel = args['process-label'] as string
    return exec(o)
  },
}

// `runt checkpoint`, and the CRIU flags `restore` shares with it (runc's checkpoint.go,
// restore.go).

import type { Argv } from 'yargs'
import { type Args, type CommandDef, requireId, store } from '../command.js'
import type { CriuFlags } from '../../plan/criu.js'

/** The flags both commands take, with runc's texts. */
export const sharedCriuFlags = (y: Argv) =>
  y
    .option('image-path', { type: 'string', default: '', describe: 'path for saving criu image files' })
    .option('work-path', { type: 'string', default: '', describe: 'path for saving work files and logs' })
    .option('tcp-established', { type: 'boolean', default: false, describe: 'allow open tcp connections' })
    .option('ext-unix-sk', { type: 'boolean', default: false, describe: 'allow external unix sockets' })
    .option('shell-job', { type: 'boolean', default: false, describe: 'allow shell jobs' })
    .option('file-locks', { type: 'boolean', default: false, describe: 'handle file locks, for safety' })
    .option('lazy-pages', { type: 'boolean', default: false, describe: 'use userfaultfd to lazily restore memory pages' })
    .option('manage-cgroups-mode', {
      type: 'string',
      default: '',
      describe: 'cgroups mode: soft|full|strict|ignore (default: soft)',
    })
    .option('empty-ns', { type: 'string', describe: "create a namespace, but don't restore its properties" })
    .option('auto-dedup', { type: 'boolean', default: false, describe: 'enable auto deduplication of memory images' })

/** The flags as the planner takes them; --empty-ns may be repeated. */
export function criuFlags(args: Args): CriuFlags {
  const s = (k: string) => String(args[k] ?? '')
  const b = (k: string) => args[k] === true
  const empty = args['empty-ns']
  return {
    imagePath: s('image-path'),
    workPath: s('work-path'),
    parentPath: s('parent-path'),
    leaveRunning: b('leave-running'),
    tcpEstablished: b('tcp-established'),
    tcpSkipInFlight: b('tcp-skip-in-flight'),
    linkRemap: b('link-remap'),
    extUnixSk: b('ext-unix-sk'),
    shellJob: b('shell-job'),
    fileLocks: b('file-locks'),
    preDump: b('pre-dump'),
    autoDedup: b('auto-dedup'),
    lazyPages: b('lazy-pages'),
    manageCgroupsMode: s('manage-cgroups-mode'),
    emptyNs: empty === undefined ? [] : (Array.isArray(empty) ? empty : [empty]).map(String),
    lsmProfile: s('lsm-profile'),
    lsmMountContext: s('lsm-mount-context'),
  }
}

export const checkpointCommand: CommandDef = {
  command: 'checkpoint [container-id]',
  describe: 'checkpoint a running container',
  builder: (y) =>
    sharedCriuFlags(y)
      .option('parent-path', { type: 'string', default: '', describe: 'path for previous criu image files in pre-dump' })
      .option('leave-running', { type: 'boolean', default: false, describe: 'leave the process running after checkpointing' })
      .option('tcp-skip-in-flight', { type: 'boolean', default: false, describe: 'skip in-flight tcp connections' })
      .option('link-remap', {
        type: 'boolean',
        default: false,
        describe: 'allow one to link unlinked files back when possible',
      })
      .option('pre-dump', {
        type: 'boolean',
        default: false,
        describe: "dump container's memory information only, leave the container running after this",
      }),
  async run(args) {
    const id = requireId(args, 'checkpoint')
    const { checkpoint } = await import('../../ops/checkpoint.js')
    checkpoint({ ...criuFlags(args), store: await store(args), id })
    return 0
  },
}

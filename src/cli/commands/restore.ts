// `runt restore`.

import { type CommandDef, createOptions, requireId, store } from '../command.js'
import { criuFlags, sharedCriuFlags } from './checkpoint.js'

export const restoreCommand: CommandDef = {
  command: 'restore [container-id]',
  describe: 'restore a container from a previous checkpoint',
  builder: (y) =>
    sharedCriuFlags(y)
      .option('console-socket', {
        type: 'string',
        default: '',
        describe:
          "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal",
      })
      .option('bundle', { alias: 'b', type: 'string', default: '', describe: 'path to the root of the bundle directory' })
      .option('detach', { alias: 'd', type: 'boolean', default: false, describe: "detach from the container's process" })
      .option('pid-file', { type: 'string', default: '', describe: 'specify the file to write the process id to' })
      .option('no-subreaper', {
        type: 'boolean',
        default: false,
        describe: 'disable the use of the subreaper used to reap reparented processes',
      })
      .option('no-pivot', {
        type: 'boolean',
        default: false,
        describe:
          'do not use pivot root to jail process inside rootfs.  This should be used whenever the rootfs is on top of a ramdisk',
      })
      .option('lsm-profile', {
        type: 'string',
        default: '',
        describe: 'Specify an LSM profile to be used during restore in the form of TYPE:NAME.',
      })
      .option('lsm-mount-context', {
        type: 'string',
        default: '',
        describe: 'Specify an LSM mount context to be used during restore.',
      }),
  async run(args) {
    const id = requireId(args, 'restore')
    const { restore } = await import('../../ops/restore.js')
    const detach = args.detach as boolean
    return restore({
      ...createOptions(args, id, await store(args), detach),
      ...criuFlags(args),
      noSubreaper: args['no-subreaper'] as boolean,
    })
  },
}

// `runt run`.

import { type CommandDef, requireId, store, createOptions, createFlags } from '../command.js'
export const runCommand: CommandDef = {
  command: 'run [container-id]',
  describe: 'create and run a container',
  context: 'runt run failed',
  builder: (y) =>
    createFlags(y)
      .option('detach', { alias: 'd', type: 'boolean', default: false, describe: "detach from the container's process" })
      .option('keep', { type: 'boolean', default: false, describe: 'do not delete the container after it exits' })
      .option('no-subreaper', {
        type: 'boolean',
        default: false,
        describe: 'disable the use of the subreaper used to reap reparented processes',
      }),
  async run(args) {
    const id = requireId(args, 'run')
    const { run } = await import('../../ops/run.js')
    const detach = args.detach as boolean
    return run({
      ...createOptions(args, id, await store(args), detach),
      keep: args.keep as boolean,
      noSubreaper: args['no-subreaper'] as boolean,
    })
  },
}

// `runt delete`.

import { type CommandDef, requireId, store } from '../command.js'
export const deleteCommand: CommandDef = {
  command: 'delete [container-id]',
  describe: 'delete any resources held by the container often used with detached container',
  builder: (y) =>
    y.option('force', {
      alias: 'f',
      type: 'boolean',
      default: false,
      describe: 'Forcibly deletes the container if it is still running (uses SIGKILL)',
    }),
  async run(args) {
    const id = requireId(args, 'delete')
    const { del } = await import('../../ops/lifecycle.js')
    del(await store(args), id, args.force as boolean)
    return 0
  },
}

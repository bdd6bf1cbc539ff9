// `runt create`.

import { type CommandDef, requireId, store, createOptions, createFlags } from '../command.js'
export const createCommand: CommandDef = {
  command: 'create [container-id]',
  describe: 'create a container',
  context: 'runt create failed',
  builder: createFlags,
  async run(args) {
    const id = requireId(args, 'create')
    const { create } = await import('../../ops/create.js')
    create(createOptions(args, id, await store(args), true))
    return 0
  },
}

// `runt start`.

import { type CommandDef, requireId, store } from '../command.js'
export const startCommand: CommandDef = {
  command: 'start [container-id]',
  describe: 'executes the user defined process in a created container',
  builder: (y) => y,
  async run(args) {
    const id = requireId(args, 'start')
    const { start } = await import('../../ops/lifecycle.js')
    start(await store(args), id)
    return 0
  },
}

// `runt pause`.

import { type CommandDef, requireId, store } from '../command.js'
export const pauseCommand: CommandDef = {
  command: 'pause [container-id]',
  describe: 'pause suspends all processes inside the container',
  builder: (y) => y,
  async run(args) {
    const id = requireId(args, 'pause')
    const { pause } = await import('../../ops/pause.js')
    pause(await store(args), id)
    return 0
  },
}

// `runt state`.

import { type CommandDef, requireId, store } from '../command.js'
import { print } from '../report.js'
export const stateCommand: CommandDef = {
  command: 'state [container-id]',
  describe: 'output the state of a container',
  builder: (y) => y,
  async run(args) {
    const id = requireId(args, 'state')
    const { containerState } = await import('../../ops/list.js')
    await print(JSON.stringify(await containerState(await store(args), id), null, '  '))
    return 0
  },
}

// `runt list`.

import { type CommandDef, store } from '../command.js'
import { print } from '../report.js'
export const listCommand: CommandDef = {
  command: 'list',
  describe: 'lists containers started by runt with the given root',
  builder: (y) =>
    y
      .option('format', { alias: 'f', type: 'string', default: 'table', describe: 'select one of: table or json' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'display only container IDs' }),
  async run(args) {
    const { listContainers } = await import('../../ops/list.js')
    await print(await listContainers(await store(args), args.format as string, args.quiet as boolean))
    return 0
  },
}

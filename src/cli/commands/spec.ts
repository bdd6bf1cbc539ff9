// `runt spec`.

import { type CommandDef } from '../command.js'
export const specCommand: CommandDef = {
  command: 'spec',
  describe: 'create a new specification file',
  builder: (y) =>
    y
      .option('bundle', { alias: 'b', type: 'string', default: '', describe: 'path to the root of the bundle directory' })
      .option('rootless', { type: 'boolean', default: false, describe: 'generate a configuration for a rootless container' }),
  async run(args) {
    const { writeSpec } = await import('../../ops/spec.js')
    writeSpec((args.bundle as string) || '.', args.rootless as unknown as boolean)
    return 0
  },
}

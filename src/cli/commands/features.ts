// `runt features`: the runtime-spec features document as JSON.

import { type CommandDef } from '../command.js'
import { print } from '../report.js'

export const featuresCommand: CommandDef = {
  command: 'features',
  describe: 'show the enabled features',
  builder: (y) => y,
  async run() {
    const { hostFeatures } = await import('../../ops/features.js')
    await print(JSON.stringify(await hostFeatures(), null, '    ') + '\n')
    return 0
  },
}

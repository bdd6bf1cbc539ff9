// `runt features`: the runtime-spec features document as JSON.

import { type CommandDef } from '../command.js'
import { print } from '../report.js'

export const featuresCommand: CommandDef = {
  command: 'features',
  describe: 'show the enabled features',
  builder: (y) => y,
  async run() {
    const { featuresDocument } = await import('../../ops/features.js')
    const { hostFeatureProbes } = await import('../../ops/features-probe.js')
    print(JSON.stringify(featuresDocument(hostFeatureProbes()), null, '    ') + '\n')
    return 0
  },
}

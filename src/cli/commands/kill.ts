// `runt kill`.

import { type CommandDef, positionals, store } from '../command.js'
import { UsageError } from '../../errors.js'
export const killCommand: CommandDef = {
  command: 'kill [container-id] [signal]',
  describe: "kill sends the specified signal (default: SIGTERM) to the container's init process",
  builder: (y) =>
    y.option('all', {
      alias: 'a',
      type: 'boolean',
      default: false,
      describe: 'send the specified signal to all processes inside the container',
    }),
  async run(args) {
    const pos = positionals(args)
    if (pos.length < 1) throw new UsageError('runt: "kill" requires a minimum of 1 argument(s)')
    if (pos.length > 2) throw new UsageError('runt: "kill" requires a maximum of 2 argument(s)')
    const { kill, parseSignal } = await import('../../ops/lifecycle.js')
    kill(await store(args), pos[0]!, parseSignal(pos[1] ?? 'SIGTERM'), args.all as boolean)
    return 0
  },
}

// `runt events`.

import { type CommandDef, requireId, store } from '../command.js'
import { print } from '../report.js'
export const eventsCommand: CommandDef = {
  command: 'events [container-id]',
  describe: 'display container events such as OOM notifications, cpu, memory, and IO usage statistics',
  builder: (y) =>
    y
      .option('interval', { type: 'string', default: '5s', describe: 'set the stats collection interval' })
      .option('stats', { type: 'boolean', default: false, describe: "display the container's stats then exit" }),
  async run(args) {
    const id = requireId(args, 'events')
    const { parseInterval, statsEvent, streamEvents } = await import('../../ops/events.js')
    const ms = parseInterval(String(args.interval))
    const st = await store(args)
    if (args.stats) await print(statsEvent(st, id))
    else await streamEvents(st, id, ms, print)
    return 0
  },
}

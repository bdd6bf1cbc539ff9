// `runt ps`: options stop at the container id, as in runc; what follows goes to the host's ps
// (`runt ps ID -o pid,comm`), so the raw argv is read for those.

import { type CommandDef, store } from '../command.js'
import { print } from '../report.js'
import { UsageError } from '../../errors.js'
export const psCommand: CommandDef = {
  command: 'ps [container-id] [ps-args..]',
  describe: 'ps displays the processes running inside a container',
  builder: (y) =>
    y
      .option('format', { alias: 'f', type: 'string', default: 'table', describe: 'select one of: table or json' })
      .parserConfiguration({ 'unknown-options-as-args': true }),
  async run(args) {
    const { containerPids, psJson, psTable, splitPsArgv } = await import('../../ops/ps.js')
    let id = args['container-id'] as string | undefined
    let format = String(args.format)
    let psArgs = ((args['ps-args'] as unknown[] | undefined) ?? []).map(String)
    const raw = splitPsArgv(process.argv.slice(2))
    if (raw && raw.id === id) ({ format, psArgs } = raw)
    if (id === undefined || id === '') throw new UsageError('runt: "ps" requires a minimum of 1 argument(s)')
    const pids = containerPids(await store(args), id)
    if (format === 'json') await print(psJson(pids))
    else if (format === 'table') await print(psTable(pids, psArgs))
    else throw new UsageError('invalid format option')
    return 0
  },
}

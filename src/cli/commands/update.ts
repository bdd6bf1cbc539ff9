// `runt update`.

import { type CommandDef, positionals, store } from '../command.js'
import { UsageError } from '../../errors.js'

const RESOURCES_HELP = `path to the file containing the resources to update or '-' to read from the standard input
The accepted format is a LinuxResources JSON (unchanged values can be omitted), e.g.
{"memory": {"limit": 0, "reservation": 0, "swap": 0, "checkBeforeUpdate": true},
 "cpu": {"shares": 0, "quota": 0, "burst": 0, "period": 0, "realtimeRuntime": 0, "realtimePeriod": 0, "cpus": "", "mems": "", "idle": 0},
 "blockIO": {"weight": 0}, "pids": {"limit": 0}}
Note: if data is to be read from a file or the standard input, all other options are ignored.`

const FLAGS: [string, string][] = [
  ['blkio-weight', 'Specifies per cgroup weight, range is from 10 to 1000'],
  ['cpu-period', 'CPU CFS period to be used for hardcapping (in usecs). 0 to use system default'],
  ['cpu-quota', 'CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period'],
  ['cpu-burst', 'CPU CFS hardcap burst limit (in usecs). Allowed accumulated cpu time additionally for burst a given period'],
  ['cpu-share', 'CPU shares (relative weight vs. other containers)'],
  ['cpu-rt-period', 'CPU realtime period to be used for hardcapping (in usecs). 0 to use system default'],
  ['cpu-rt-runtime', 'CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period'],
  ['cpuset-cpus', 'CPU(s) to use'],
  ['cpuset-mems', 'Memory node(s) to use'],
  ['cpu-idle', 'set cgroup SCHED_IDLE or not, 0: default behavior, 1: SCHED_IDLE'],
  ['memory', 'Memory limit (in bytes)'],
  ['memory-reservation', 'Memory reservation or soft_limit (in bytes)'],
  ['memory-swap', "Total memory usage (memory + swap); set '-1' to enable unlimited swap"],
  ['kernel-memory', '(obsoleted; do not use)'],
  ['kernel-memory-tcp', '(obsoleted; do not use)'],
  ['pids-limit', 'Maximum number of pids allowed in the container'],
  ['l3-cache-schema', 'The string of Intel RDT/CAT L3 cache schema'],
  ['mem-bw-schema', 'The string of Intel RDT/MBA memory bandwidth schema'],
]

export const updateCommand: CommandDef = {
  command: 'update [container-id]',
  describe: 'update container resource constraints',
  builder: (y) => {
    // nargs 1: the next token is the value even when it starts with a dash ("-r -", "--memory -1").
    let b = y.option('resources', { alias: 'r', type: 'string', nargs: 1, describe: RESOURCES_HELP })
    for (const [name, describe] of FLAGS) b = b.option(name, { type: 'string', nargs: 1, describe })
    return b
  },
  async run(args) {
    const pos = positionals(args)
    const resources = args.resources === undefined ? '' : String(args.resources)
    if (pos.length !== 1) throw new UsageError(`runt: "update" requires exactly 1 argument(s)`)
    const id = pos[0]!
    const { intelRdtFromFlags, resourcesFromFile, resourcesFromFlags, update, UPDATE_FLAGS } = await import('../../ops/update.js')
    const flags: Record<string, string> = {}
    for (const f of UPDATE_FLAGS) if (args[f] !== undefined) flags[f] = String(args[f])
    let patch
    if (resources !== '') patch = resourcesFromFile(resources)
    else {
      if (Object.keys(flags).length === 0)
        throw new UsageError('runt: "update" requires --resources or at least one resource option (see runt update --help)')
      patch = resourcesFromFlags(flags)
    }
    // runc reads the Intel RDT flags with -r too.
    const rdt = intelRdtFromFlags(flags)
    update(await store(args), id, patch, rdt)
    return 0
  },
}

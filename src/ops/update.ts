// `update`: change a running container's limits. The change (from -r/--resources JSON or
// runc's flags) is merged into the resources recorded at create (limits depend on each other:
// memory and swap, quota and period), the merged whole is applied (devices excepted, as runc
// does) and recorded back in state.json. --l3-cache-schema and --mem-bw-schema rewrite the
// container's resctrl group the same way (cgroups/intelrdt.ts).

import * as fs from 'node:fs'
import * as path from 'node:path'
import { RuntimeError, SpecError, UsageError, fsError, notRunning } from '../errors.js'
import type { LinuxIntelRdt, LinuxResources, Spec } from '../spec/schema.js'
import { parseJsonText, parseLinuxResources } from '../spec/load.js'
import type { Store } from '../state/store.js'
import { lockContainer } from '../state/lock.js'
import { load } from '../state/container.js'
import { managerFromRecord } from '../cgroups/open.js'
import { parseInt64, parseUint64, ramInBytes } from '../cgroups/cli-values.js'
import { realFs, type CgroupFs } from '../cgroups/fs.js'
import { planIntelRdt, probeResctrl, updateIntelRdt, type SchemaLine } from '../cgroups/intelrdt.js'

/** runc's update flags, as given on the command line (strings; undefined when absent). */
export type UpdateFlags = Partial<
  Record<
    | 'blkio-weight'
    | 'cpu-period'
    | 'cpu-quota'
    | 'cpu-burst'
    | 'cpu-share'
    | 'cpu-rt-period'
    | 'cpu-rt-runtime'
    | 'cpuset-cpus'
    | 'cpuset-mems'
    | 'cpu-idle'
    | 'memory'
    | 'memory-reservation'
    | 'memory-swap'
    | 'kernel-memory'
    | 'kernel-memory-tcp'
    | 'pids-limit'
    | 'l3-cache-schema'
    | 'mem-bw-schema',
    string
  >
>

export const UPDATE_FLAGS: (keyof UpdateFlags)[] = [
  'blkio-weight',
  'cpu-period',
  'cpu-quota',
  'cpu-burst',
  'cpu-share',
  'cpu-rt-period',
  'cpu-rt-runtime',
  'cpuset-cpus',
  'cpuset-mems',
  'cpu-idle',
  'memory',
  'memory-reservation',
  'memory-swap',
  'kernel-memory',
  'kernel-memory-tcp',
  'pids-limit',
  'l3-cache-schema',
  'mem-bw-schema',
]

function parsed<T>(flag: string, value: string, parse: (s: string) => T): T {
  try {
    return parse(value)
  } catch (e) {
    throw new UsageError(`invalid value for ${flag}: ${(e as Error).message}`)
  }
}

/** The LinuxResources change the flags ask for; throws runc's messages for bad values. */
export function resourcesFromFlags(f: UpdateFlags): LinuxResources {
  const r: LinuxResources = {}
  const cpu: NonNullable<LinuxResources['cpu']> = {}
  const mem: NonNullable<LinuxResources['memory']> = {}
  const int = (flag: string, v: string) => {
    // urfave/cli IntFlag
    if (!/^[+-]?\d+$/.test(v)) throw new UsageError(`invalid value ${JSON.stringify(v)} for flag -${flag}: parse error`)
    return Number(v)
  }
  if (f['blkio-weight'] !== undefined) {
    const w = int('blkio-weight', f['blkio-weight'])
    if (w !== 0) {
      if (w < 0 || w > 65535) throw new UsageError(`invalid value for blkio-weight: ${w} is out of range`)
      r.blockIO = { weight: w }
    }
  }
  if (f['cpuset-cpus']) cpu.cpus = f['cpuset-cpus']
  if (f['cpuset-mems']) cpu.mems = f['cpuset-mems']
  if (f['cpu-idle']) cpu.idle = Number(parsed('cpu-idle', f['cpu-idle'], parseInt64))
  for (const [flag, key] of [
    ['cpu-burst', 'burst'],
    ['cpu-period', 'period'],
    ['cpu-rt-period', 'realtimePeriod'],
    ['cpu-share', 'shares'],
  ] as const) {
    const v = f[flag]
    if (v) cpu[key] = Number(parsed(flag, v, parseUint64))
  }
  for (const [flag, key] of [
    ['cpu-quota', 'quota'],
    ['cpu-rt-runtime', 'realtimeRuntime'],
  ] as const) {
    const v = f[flag]
    if (v) cpu[key] = Number(parsed(flag, v, parseInt64))
  }
  for (const [flag, key] of [
    ['memory', 'limit'],
    ['memory-swap', 'swap'],
    ['kernel-memory', 'kernel'],
    ['kernel-memory-tcp', 'kernelTCP'],
    ['memory-reservation', 'reservation'],
  ] as const) {
    const v = f[flag]
    if (v) mem[key] = v === '-1' ? -1 : Number(parsed(flag, v, ramInBytes))
  }
  if (f['pids-limit'] !== undefined) r.pids = { limit: int('pids-limit', f['pids-limit']) }
  if (Object.keys(cpu).length) r.cpu = cpu
  if (Object.keys(mem).length) r.memory = mem
  return r
}

/** The linux.intelRdt change of --l3-cache-schema and --mem-bw-schema. */
export type RdtUpdate = { l3CacheSchema?: string; memBwSchema?: string }

/**
 * --l3-cache-schema and --mem-bw-schema (read with -r too, as runc does), refused with runc's
 * texts where the host's resctrl lacks L3 (CAT) or MB (MBA); null when neither is given.
 */
export function intelRdtFromFlags(f: UpdateFlags, root: string | null = probeResctrl(), io: CgroupFs = realFs): RdtUpdate | null {
  const l3 = f['l3-cache-schema']
  const mb = f['mem-bw-schema']
  const offers = (res: string) => root !== null && io.exists(path.join(root, 'info', res))
  if (l3 && !offers('L3')) throw new RuntimeError('Intel RDT/CAT: l3 cache schema is not enabled', 'ERDT')
  if (mb && !offers('MB')) throw new RuntimeError('Intel RDT/MBA: memory bandwidth schema is not enabled', 'ERDT')
  // As config-linux.md asks of the config's fields: one line each, memBwSchema an MB line.
  if (l3?.includes('\n')) throw new UsageError('invalid value for l3-cache-schema: must be a single line')
  if (mb && (!mb.startsWith('MB:') || mb.includes('\n')))
    throw new UsageError('invalid value for mem-bw-schema: must start with "MB:" and be a single line')
  const out: RdtUpdate = {}
  if (l3) out.l3CacheSchema = l3
  if (mb) out.memBwSchema = mb
  return l3 || mb ? out : null
}

/** -r FILE or -r - (stdin): a LinuxResources JSON; other flags are then ignored, as in runc. */
export function resourcesFromFile(file: string, readStdin: () => string = () => fs.readFileSync(0, 'utf8')): LinuxResources {
  let text: string
  try {
    text = file === '-' ? readStdin() : fs.readFileSync(file, 'utf8')
  } catch (e) {
    throw fsError(e, 'open', file)
  }
  try {
    return parseLinuxResources(parseJsonText(text))
  } catch (e) {
    if (e instanceof SpecError) throw new SpecError(e.issues, `invalid resources in ${file === '-' ? 'standard input' : file}`)
    throw e
  }
}

/** `patch` over `old`, field by field; lists and maps given in `patch` replace or extend. */
export function mergeResources(old: LinuxResources, patch: LinuxResources): LinuxResources {
  const out: LinuxResources = structuredClone(old)
  if (patch.memory) {
    out.memory = { ...out.memory, ...patch.memory }
    // "unlimited memory" with swap left out means unlimited swap too (runc).
    if (patch.memory.limit === -1 && patch.memory.swap === undefined) out.memory.swap = -1
  }
  if (patch.cpu) out.cpu = { ...out.cpu, ...patch.cpu }
  if (patch.blockIO) out.blockIO = { ...out.blockIO, ...patch.blockIO }
  if (patch.pids) out.pids = { ...out.pids, ...patch.pids }
  if (patch.hugepageLimits) out.hugepageLimits = patch.hugepageLimits
  if (patch.network) out.network = { ...out.network, ...patch.network }
  if (patch.rdma) out.rdma = { ...out.rdma, ...patch.rdma }
  if (patch.unified) out.unified = { ...out.unified, ...patch.unified }
  return out
}

/**
 * Apply `patch` (and `rdt`: the container's schemata lines are written again, all of them, as
 * runc does; if that fails the old limits are put back, as runc does).
 */
export function update(
  store: Store,
  id: string,
  patch: LinuxResources,
  rdt: RdtUpdate | null = null,
  io: CgroupFs = realFs,
): void {
  const lock = lockContainer(store, id)
  try {
    const { rec, status } = load(store, id)
    if (status === 'stopped') throw notRunning()
    const m = managerFromRecord(rec)
    if (!m || !m.exists()) throw new RuntimeError('container has no cgroup to update', 'ENOCGROUP')
    const spec = rec.config as Spec
    let rdtConfig: LinuxIntelRdt | undefined
    let rdtLines: SchemaLine[] = []
    if (rdt) {
      const old = spec.linux?.intelRdt
      if (!old || !rec.intelRdt)
        throw new RuntimeError('updating a non-existent Intel RDT configuration is not supported', 'ERDT')
      rdtConfig = { ...old, ...rdt }
      rdtLines = planIntelRdt(rdtConfig, id, rec.intelRdt.root, io).lines
    }
    const before = structuredClone(spec.linux?.resources ?? {})
    const merged = mergeResources(spec.linux?.resources ?? {}, patch)
    // checkBeforeUpdate asks about this update only; devices are not updated (runc neither).
    const { devices: _devices, ...apply } = structuredClone(merged)
    if (apply.memory) {
      if (patch.memory?.checkBeforeUpdate) apply.memory.checkBeforeUpdate = true
      else delete apply.memory.checkBeforeUpdate
    }
    m.apply(apply, { devices: null, update: true })
    if (rdt && rec.intelRdt) {
      try {
        updateIntelRdt(rec.intelRdt, rdtLines, io)
      } catch (e) {
        const { devices: _d, ...back } = before
        if (back.memory) delete back.memory.checkBeforeUpdate
        try {
          m.apply(back, { devices: null, update: true })
        } catch {
          /* the first error is the one to report */
        }
        throw e
      }
    }
    if (merged.memory) delete merged.memory.checkBeforeUpdate
    spec.linux = { ...spec.linux, resources: merged }
    if (rdtConfig) spec.linux.intelRdt = rdtConfig
    store.write(rec)
  } finally {
    lock.release()
  }
}

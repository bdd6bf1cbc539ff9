// `ps`: the container's processes, from its cgroup (and sub-cgroups). json prints the pid
// array (runc prints null for none); table runs the host's ps (default -ef) and keeps the
// header and the lines whose PID column is one of the container's.

import { spawnSync } from 'node:child_process'
import { RuntimeError } from '../errors.js'
import type { Store } from '../state/store.js'
import { load } from '../state/container.js'
import { managerFromRecord } from '../cgroups/open.js'

export function containerPids(store: Store, id: string): number[] {
  const { rec, status } = load(store, id)
  const m = managerFromRecord(rec)
  // Rootless without a cgroup (cgroups/rootless.ts): nothing to list from, as runc fails.
  if (!m && status !== 'stopped')
    throw new RuntimeError('unable to get all container pids: container has no cgroup to list processes from', 'ENOCGROUP')
  if (!m || (status === 'stopped' && !m.exists())) return []
  try {
    return m.pids()
  } catch (e) {
    throw new RuntimeError(`unable to get all container pids: ${(e as Error).message}`, 'ECGROUP')
  }
}

export function psJson(pids: number[]): string {
  return (pids.length ? JSON.stringify(pids) : 'null') + '\n'
}

/** Keep ps's header and the lines of `pids`; runc's errors when the output has no PID column. */
export function filterPsOutput(output: string, pids: number[]): string {
  const lines = output.split('\n')
  const header = lines[0] ?? ''
  const pidIndex = header.trim().split(/\s+/).indexOf('PID')
  if (pidIndex < 0) throw new RuntimeError("couldn't find PID field in ps output", 'EPS')
  const want = new Set(pids)
  const out = [header]
  for (const line of lines.slice(1)) {
    if (!line) continue
    const field = line.trim().split(/\s+/)[pidIndex] ?? ''
    const p = Number(field)
    if (!/^\d+$/.test(field))
      throw new RuntimeError(`unable to parse pid: strconv.Atoi: parsing ${JSON.stringify(field)}: invalid syntax`, 'EPS')
    if (want.has(p)) out.push(line)
  }
  return out.join('\n') + '\n'
}

export function psTable(pids: number[], psArgs: string[]): string {
  const args = psArgs.length ? psArgs : ['-ef']
  const r = spawnSync('ps', args, { encoding: 'utf8' })
  if (r.error)
    throw new RuntimeError(
      `exec: "ps": ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'executable file not found in $PATH' : r.error.message}`,
      'EPS',
    )
  if (r.status !== 0) throw new RuntimeError(`exit status ${r.status ?? 1}: ${r.stdout}${r.stderr}`, 'EPS')
  return filterPsOutput(r.stdout, pids)
}

// Global flags taking a value, which can sit before the command name.
const GLOBAL_VALUE_FLAGS = new Set(['--root', '--log', '--log-format', '--rootless', '--criu'])

/**
 * runc stops parsing ps's options at the container id: split the raw argv ("--root R ps -f json
 * ID -o pid,comm") into the format, the id and the arguments for the host's ps. Null when the
 * argv is not in a shape this recognizes.
 */
export function splitPsArgv(argv: string[]): { format: string; id: string; psArgs: string[] } | null {
  let i = 0
  for (; i < argv.length; i++) {
    const a = argv[i]!
    if (!a.startsWith('-')) break
    const name = a.replace(/^--?/, '--').split('=')[0]!
    if (GLOBAL_VALUE_FLAGS.has(name) && !a.includes('=')) i++
  }
  if (argv[i] !== 'ps') return null
  let format = 'table'
  for (i++; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--') {
      i++
      break
    }
    if (!a.startsWith('-')) break
    const m = /^--?(format|f)(=(.*))?$/.exec(a)
    if (!m) return null
    if (m[2] !== undefined) format = m[3]!
    else {
      const v = argv[++i]
      if (v === undefined) return null
      format = v
    }
  }
  const id = argv[i]
  if (id === undefined) return null
  return { format, id, psArgs: argv.slice(i + 1) }
}

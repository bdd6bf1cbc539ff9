// `list` and `state`: every container under --root as runc's table (text/tabwriter with
// minwidth 12 and padding 3), as a JSON array of states (`null` when there are none), or ids
// only (-q); one container's OCI state.

import { ociState, type OciState } from '../state/status.js'
import type { Store } from '../state/store.js'
import { stateOfShared, statusOfRecordShared } from '../state/container.js'
import { RuntimeError, UsageError } from '../errors.js'
import { logger } from '../log.js'

/** Go's text/tabwriter as runc configures it: cells padded to max(width+3, 12), width in runes. */
export function tabulate(rows: string[][]): string {
  const runes = (c: string) => [...c].length
  const widths: number[] = []
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, runes(c))))
  const pad = (c: string, i: number) => c + ' '.repeat(Math.max((widths[i] ?? 0) + 3, 12) - runes(c))
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : pad(c, i))).join('') + '\n').join('')
}

export async function listStates(store: Store): Promise<OciState[]> {
  const out: OciState[] = []
  for (const id of store.list()) {
    let rec
    try {
      rec = await store.readShared(id)
    } catch (e) {
      // Deleted meanwhile; or broken, which runc reports and lists the rest.
      if (e instanceof RuntimeError && e.code === 'ECORRUPT') logger().warn(e.message)
      continue
    }
    let owner = ''
    try {
      owner = await store.owner(id)
    } catch {
      continue
    }
    out.push(ociState(rec, await statusOfRecordShared(store, rec), owner))
  }
  return out
}

export async function listContainers(store: Store, format: string, quiet: boolean): Promise<string> {
  if (format !== 'table' && format !== 'json') throw new UsageError('invalid format option')
  const states = await listStates(store)
  if (quiet) return states.map((s) => s.id + '\n').join('')
  if (format === 'json') return (states.length ? JSON.stringify(states) : 'null') + '\n'
  const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']]
  for (const s of states) rows.push([s.id, String(s.pid), s.status, s.bundle, s.created, s.owner])
  return tabulate(rows)
}

/** `state`: one container's OCI state, as runc prints it. */
export function containerState(store: Store, id: string): Promise<OciState> {
  return stateOfShared(store, id)
}

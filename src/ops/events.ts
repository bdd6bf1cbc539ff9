// `events`: one stats event (--stats), or a stream of them every --interval plus an "oom"
// event whenever the kernel OOM-kills in the container's cgroup; one JSON object per line, in
// runc's shape. The stream ends when the container is deleted.

import { RuntimeError, UsageError } from '../errors.js'
import { logger } from '../log.js'
import type { Store } from '../state/store.js'
import { load } from '../state/container.js'
import { managerFromRecord } from '../cgroups/open.js'
import type { CgroupManager } from '../cgroups/manager.js'
import { eventLine } from '../cgroups/stats.js'
import { parseGoDuration } from '../cgroups/cli-values.js'

/** --interval as runc reads it: a Go duration, > 0. Returns milliseconds. */
export function parseInterval(text: string): number {
  let ms: number
  try {
    ms = parseGoDuration(text)
  } catch (e) {
    throw new UsageError(`invalid value ${JSON.stringify(text)} for flag -interval: ${(e as Error).message}`)
  }
  if (ms <= 0) throw new UsageError('duration interval must be greater than 0')
  return ms
}

function openRunning(store: Store, id: string): CgroupManager {
  const { rec, status } = load(store, id)
  if (status === 'stopped') throw new RuntimeError(`container with id ${id} is not running`, 'ENOTRUNNING')
  const m = managerFromRecord(rec)
  if (!m) throw new RuntimeError('container has no cgroup to read statistics from', 'ENOCGROUP')
  return m
}

/** `events --stats`: one line. */
export function statsEvent(store: Store, id: string): string {
  return eventLine('stats', id, openRunning(store, id).stats())
}

export type EventSink = (line: string) => void | Promise<void>

/**
 * The stream: stats every `intervalMs`, OOM kills checked every `oomPollMs`. Resolves when the
 * container no longer exists, or when `signal` aborts.
 */
export async function streamEvents(
  store: Store,
  id: string,
  intervalMs: number,
  write: EventSink,
  opts: { oomPollMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const m = openRunning(store, id)
  const oomPoll = Math.min(opts.oomPollMs ?? 250, intervalMs)
  let lastOom = m.oomKills()
  let nextStats = Date.now() + intervalMs
  for (;;) {
    await new Promise((r) => setTimeout(r, Math.max(0, Math.min(oomPoll, nextStats - Date.now()))))
    if (opts.signal?.aborted || !store.exists(id)) return
    const oom = m.oomKills()
    if (oom !== null && lastOom !== null && oom > lastOom) for (let i = lastOom; i < oom; i++) await write(eventLine('oom', id))
    if (oom !== null) lastOom = oom
    if (Date.now() >= nextStats) {
      nextStats += intervalMs
      if (nextStats < Date.now()) nextStats = Date.now() + intervalMs
      try {
        await write(eventLine('stats', id, m.stats()))
      } catch (e) {
        logger().error((e as Error).message)
      }
    }
  }
}

// What a created container's init gives back while it waits for `start` (docs/performance.md,
// "Memory"). Most of a Bun process's resident set is the pages of its own executable it has
// run or read (33 of 43 MB for an init): clean page-cache pages, shared with every other runt
// process, that still count in its RSS. Dropping its mappings of them (madvise(MADV_DONTNEED)
// on the executable's read-only mappings) leaves the page cache alone; what the init runs
// after `start` is faulted back in from it.
//
// Only the executable's read-only segments are touched, the mappings before its first writable
// one: nothing ever writes them (it is not position-independent, so the dynamic loader
// relocates nothing there), so they hold no private copy of a page that dropping could lose. They are read from /proc/self/maps when the
// init starts, before it enters the container's root, whose /proc the container's image could
// fake.

import * as fs from 'node:fs'
import * as C from '../sys/constants.js'
import { linux as sys } from '../sys/linux.js'

export type Range = { start: bigint; length: number }

/** Linux's dev_t split as /proc/<pid>/maps prints it: "fe:00". */
export function devName(dev: number): string {
  const d = BigInt(dev)
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn)
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn)
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`
}

/**
 * The mappings of the file with this device and inode that come before its first writable
 * one: the ELF's read-only segments (text, rodata). Read-only mappings after that one are data
 * made read-only once written (JavaScriptCore freezes its configuration so), private copies.
 */
export function readOnlyMappings(maps: string, dev: string, ino: number): Range[] {
  const out: Range[] = []
  for (const line of maps.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) [0-9a-f]+ ([0-9a-f]+:[0-9a-f]+) (\d+)/.exec(line)
    if (!m || m[4] !== dev || m[5] !== String(ino)) continue
    if (m[3] !== 'r--p' && m[3] !== 'r-xp') break
    const start = BigInt('0x' + m[1])
    out.push({ start, length: Number(BigInt('0x' + m[2]) - start) })
  }
  return out
}

/** The executable's read-only mappings, now (an empty list if /proc cannot tell). */
export function executableMappings(): Range[] {
  try {
    const st = fs.statSync('/proc/self/exe')
    return readOnlyMappings(fs.readFileSync('/proc/self/maps', 'utf8'), devName(st.dev), st.ino)
  } catch {
    return []
  }
}

/** Drop the resident pages of `ranges` from our page tables; best effort. */
export function shed(ranges: Range[]): void {
  for (const r of ranges) {
    try {
      sys.madvise(r.start, r.length, C.MADV_DONTNEED)
    } catch {
      /* the memory stays counted; nothing else changes */
    }
  }
}

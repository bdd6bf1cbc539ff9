// How to re-execute this runtime as its own init stage: the single binary re-runs itself; from
// a checkout, `bun src/main.ts` re-runs bun on that file. The environment is built from
// scratch: NODE_OPTIONS, BUN_* and the caller's other variables never reach the init.

import * as fs from 'node:fs'
import { ENV_ADDON, loadedAddon } from '../sys/koffi-addon.js'
import { InternalError } from '../errors.js'

/** True in the executable `bun build --compile` made (scripts/build.mjs). */
export function isStandalone(): boolean {
  return (globalThis as { Bun?: { isStandaloneExecutable?: boolean } }).Bun?.isStandaloneExecutable === true
}

export type SelfExec = { path: string; argv: string[] }

let cached: SelfExec | undefined

export function selfExec(): SelfExec {
  if (cached) return cached
  const exe = fs.realpathSync(process.execPath)
  if (isStandalone()) cached = { path: exe, argv: ['runt', 'init'] }
  else {
    const script = process.argv[1]
    if (!script) throw new InternalError('cannot locate the runt script to re-execute')
    cached = { path: exe, argv: ['runt', fs.realpathSync(script), 'init'] }
  }
  return cached
}

/**
 * JavaScriptCore options runt sets for its own init stage (never the caller's: main.ts drops
 * every BUN_* it was given). The init runs each of its functions about once, so no JIT tier
 * pays for itself, and JSC's compiler threads ran inside the container's cgroup once the
 * init had moved in: create + start of a `sleep` container were charged 8.6-10.2 + 3.7-4.1 ms
 * of CPU with the JIT, 3.8-4.6 + 2.1-2.7 ms without it (runc: 9-12 + 1.1-1.6), the created
 * init's RSS 45.8 -> 39.0 MiB, and create took as long (medians of 12, interleaved).
 */
export const INIT_JSC_OPTIONS: Readonly<Record<string, string>> = { BUN_JSC_useJIT: '0' }

/**
 * Environment of the init stage: only what it needs to find its channel, (single binary)
 * the FFI addon copy this process checked and loaded, which the init maps in turn, and
 * INIT_JSC_OPTIONS. The init replaces it with process.env at execve.
 */
export function initEnv(extra: Record<string, string>): string[] {
  const env: Record<string, string> = { ...INIT_JSC_OPTIONS, ...extra }
  const addon = loadedAddon()
  if (addon !== undefined) env[ENV_ADDON] = addon
  return Object.entries(env).map(([k, v]) => `${k}=${v}`)
}

/**
 * Files of the runt installation that a container's processes could reach through the init's
 * /proc/<pid>/exe or /proc/<pid>/map_files: the executable and every native addon mapped
 * (koffi's). Stage 1 binds each read-only over itself (CVE-2019-5736), with the flags its
 * mount already has (locked flags must be kept in a user namespace).
 */
export function sealTargets(statfsFlags: (p: string) => number): { path: string; flags: number }[] {
  const paths = new Set<string>([selfExec().path])
  const addon = loadedAddon()
  if (addon !== undefined) paths.add(addon)
  try {
    for (const line of fs.readFileSync('/proc/self/maps', 'utf8').split('\n')) {
      const file = line.slice(line.indexOf('/'))
      if (line.includes('/') && file.endsWith('.node')) paths.add(file)
    }
  } catch {
    /* no /proc: nothing more to find */
  }
  return [...paths].map((p) => ({ path: p, flags: statfsFlags(p) }))
}

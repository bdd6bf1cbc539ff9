// How to re-execute this runtime as its own init stage: the single binary re-runs itself; from
// a checkout, node runs the bundle. The environment is built from scratch: NODE_OPTIONS,
// NODE_EXTRA_CA_CERTS and the caller's variables never reach the init.

import * as fs from 'node:fs'
import { createRequire } from 'node:module'

function isSea(): boolean {
  try {
    const req = typeof require === 'function' ? require : createRequire(import.meta.url)
    return (req('node:sea') as { isSea(): boolean }).isSea()
  } catch {
    return false
  }
}

export type SelfExec = { path: string; argv: string[] }

let cached: SelfExec | undefined

export function selfExec(): SelfExec {
  if (cached) return cached
  const exe = fs.realpathSync(process.execPath)
  if (isSea()) cached = { path: exe, argv: ['runt', 'init'] }
  else {
    const script = process.argv[1]
    if (!script) throw new Error('cannot locate the runt script to re-execute')
    cached = { path: exe, argv: ['runt', fs.realpathSync(script), 'init'] }
  }
  return cached
}

/** Environment of the init stage: only what it needs to find its channel. */
export function initEnv(extra: Record<string, string>): string[] {
  return Object.entries(extra).map(([k, v]) => `${k}=${v}`)
}

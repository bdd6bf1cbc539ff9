// Every module of src/ loads under Node without doing anything at import (the lazy loading
// the single binary relies on), and so shows up in the coverage report, tested or not: a
// file no test imports counts as uncovered instead of being left out of the totals.
// main.ts runs the command line when imported; sys/koffi-bun.ts exists in the binary only.

import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'

const SRC = path.resolve(import.meta.dirname, '../../src')
const SKIP = new Set(['main.ts', 'sys/koffi-bun.ts'])

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) return sources(p)
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : []
  })
}

for (const file of sources(SRC)) {
  const rel = path.relative(SRC, file)
  if (SKIP.has(rel)) continue
  t.test(rel, async (t) => {
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>
    t.ok(mod, 'loads')
  })
}

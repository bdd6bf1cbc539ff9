// The structure checks itself: the import graph of src/ holds only the allowed edges between
// layers (cli -> ops -> process / rootfs / confine / cgroups / plan / state -> sys), koffi is
// imported in src/sys only, and zod and yargs only where they belong. Type-only imports are
// free: types describe the data that crosses layers. A new edge fails here with the files
// that make it; move the code instead of adding the edge.

import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'

const SRC = path.resolve(import.meta.dirname, '../../src')

/** What each layer may import at run time, besides itself. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  main: ['cli', 'process'],
  cli: ['ops', 'errors', 'log', 'sys/file'],
  ops: ['process', 'rootfs', 'confine', 'cgroups', 'plan', 'state', 'spec', 'hooks', 'errors', 'log'],
  process: ['rootfs', 'confine', 'cgroups', 'plan', 'state', 'spec', 'sys', 'hooks', 'errors', 'log'],
  rootfs: ['plan', 'spec', 'sys', 'errors', 'log'],
  confine: ['plan', 'spec', 'sys', 'errors', 'log'],
  cgroups: ['plan', 'spec', 'state', 'sys', 'errors', 'log'],
  state: ['sys', 'errors'],
  // Pure planning: kernel constants are data.
  plan: ['spec', 'errors', 'sys/constants'],
  spec: ['errors'],
  hooks: ['sys', 'errors', 'log'],
  log: ['errors', 'sys/file'],
  errors: [],
  sys: ['errors'],
}

/** Packages with a home: only these files (prefixes of src-relative paths) may import them. */
const PACKAGES: Readonly<Record<string, readonly string[]>> = {
  koffi: ['sys/koffi.ts', 'sys/koffi-bun.ts'],
  zod: ['spec/'],
  yargs: ['cli/'],
}

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) return sources(p)
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : []
  })
}

/** Specifiers a file imports at run time: static imports and re-exports, import(), require(). */
export function runtimeImports(text: string): string[] {
  const out: string[] = []
  const code = text.replace(/^\s*\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '')
  for (const m of code.matchAll(/(?:^|[\n;])\s*(import|export)\s+(type\s+)?([^'";]*?)\bfrom\s*'([^']+)'/g)) {
    if (m[2]) continue
    const names = /^\{([\s\S]*)\}$/.exec(m[3]!.trim())?.[1]
    // import { type A, type B } from '...' brings nothing at run time either.
    if (names !== undefined && names.split(',').every((n) => n.trim() === '' || /^type\s/.test(n.trim()))) continue
    out.push(m[4]!)
  }
  for (const m of code.matchAll(/(?:^|[\n;])\s*import\s*'([^']+)'/g)) out.push(m[1]!)
  // import('x').Name is a type; await import('x') and () => import('x') are not.
  for (const m of code.matchAll(/(typeof\s+)?\bimport\(\s*'([^']+)'\s*\)(\.[A-Z])?/g)) if (!m[1] && !m[3]) out.push(m[2]!)
  for (const m of code.matchAll(/\brequire\(\s*'([^']+)'\s*\)/g)) out.push(m[1]!)
  return out
}

const layerOf = (rel: string) => (rel.includes('/') ? rel.split('/')[0]! : rel.replace(/\.ts$/, ''))

type Edge = { from: string; to: string; file: string; target: string }

function edges(): { layers: Edge[]; packages: Edge[] } {
  const layers: Edge[] = []
  const packages: Edge[] = []
  for (const file of sources(SRC)) {
    const rel = path.relative(SRC, file)
    for (const spec of runtimeImports(fs.readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) {
        const pkg = spec.split('/')[0]!
        if (PACKAGES[pkg]) packages.push({ from: rel, to: pkg, file: rel, target: spec })
        continue
      }
      const target = path.relative(SRC, path.resolve(path.dirname(file), spec)).replace(/\.js$/, '.ts')
      const from = layerOf(rel)
      const to = layerOf(target)
      if (from !== to) layers.push({ from, to, file: rel, target })
    }
  }
  return { layers, packages }
}

t.test('the import parser sees what runs and skips what is only a type', async (t) => {
  const text = [
    "import * as fs from 'node:fs'",
    "import { a, type B } from './a.js'",
    "import { type C, type D } from './types-only.js'",
    "import type { E } from './type.js'",
    "import {\n  f,\n  g,\n} from './multi.js'",
    "export { h } from './reexport.js'",
    "const x: import('./annotation.js').Thing = 1",
    "type Y = typeof import('./typeof.js')",
    "const m = await import('./dynamic.js')",
    "const lazy = () => import('./lazy.js')",
    "const z = require('./required.js')",
    "// import { no } from './commented.js'",
  ].join('\n')
  t.same(runtimeImports(text).sort(), [
    './a.js',
    './dynamic.js',
    './lazy.js',
    './multi.js',
    './reexport.js',
    './required.js',
    'node:fs',
  ])
})

t.test('every edge between layers of src/ is an allowed one', async (t) => {
  const { layers } = edges()
  t.ok(layers.length > 50, `the graph was read (${layers.length} edges)`)
  const layerNames = new Set(Object.keys(ALLOWED))
  for (const e of layers) {
    if (!layerNames.has(e.from)) t.fail(`${e.file}: src/${e.from} is no known layer: add it to ALLOWED`)
  }
  const bad = layers.filter((e) => {
    const allowed = ALLOWED[e.from] ?? []
    return !allowed.includes(e.to) && !allowed.includes(e.target.replace(/\.ts$/, ''))
  })
  t.same(
    bad.map((e) => `${e.file} -> ${e.target}`),
    [],
    'no import runs against the layers (cli -> ops -> process/rootfs/confine/cgroups/plan/state -> sys)',
  )
})

t.test('koffi only in src/sys; zod only in src/spec; yargs only in src/cli', async (t) => {
  const { packages } = edges()
  t.ok(
    packages.some((e) => e.to === 'koffi'),
    'koffi is imported somewhere (the check reads the graph)',
  )
  const bad = packages.filter((e) => !(PACKAGES[e.to] ?? []).some((home) => e.file.startsWith(home)))
  t.same(
    bad.map((e) => `${e.file} imports ${e.target}`),
    [],
  )
})

t.test('sys/ffi.ts, the raw FFI, is reached from src/sys only', async (t) => {
  const { layers } = edges()
  // Within src/sys the edges are not between layers; from outside, any import of it is one.
  t.same(
    layers.filter((e) => e.target === 'sys/ffi.ts').map((e) => e.file),
    [],
  )
})

t.test('every error src/ throws is one of errors.ts (no plain Error)', async (t) => {
  const plain: string[] = []
  for (const file of sources(SRC)) {
    const lines = fs.readFileSync(file, 'utf8').split('\n')
    lines.forEach((line, i) => {
      if (/^\s*\/\//.test(line)) return
      if (/\bnew (Type|Range)?Error\(|\bthrow (Type|Range)?Error\(/.test(line))
        plain.push(`${path.relative(SRC, file)}:${i + 1}: ${line.trim()}`)
    })
  }
  t.same(plain, [], 'RuntimeError, SpecError, StateError, UsageError, SysError, StepError or InternalError')
})

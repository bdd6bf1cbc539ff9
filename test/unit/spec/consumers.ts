// Nothing in config.json is silently ignored (issue 17): every leaf property of the zod schema,
// enumerated here from the schema itself, has an entry in src/spec/consumers.ts saying which
// code carries it out, refuses it, or why it is left alone; and every entry points at code that
// exists and mentions the property.

import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { z as Z } from 'zod'
import { specSchema } from '../../../src/spec/schema.js'
import { CONSUMERS, OTHER_PLATFORMS, type Consumer } from '../../../src/spec/consumers.js'
import { parseDetailed } from '../../../src/spec/load.js'

const repo = path.resolve(import.meta.dirname, '../../..')

type Def = Z.core.$ZodTypeDef & Record<string, unknown>
const defOf = (s: unknown): Def => (s as { _zod: { def: Def } })._zod.def

/**
 * The leaf property paths of a zod schema: `a.b` for object properties, `a[].b` for array
 * items, `a{}.b` for record values; a leaf array or record of scalars without the brackets.
 * Wrappers (optional, nullable, default, pipe, lazy, ...) are seen through; a union's options
 * all count. Throws on a schema kind it does not know, so a new kind cannot hide properties.
 */
function schemaPaths(schema: unknown): string[] {
  return [...schemaLeaves(schema).keys()]
}

/** Leaf path -> the values an enum leaf admits ([] for other leaves). */
function schemaLeaves(schema: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>()
  const walk = (s: unknown, at: string, seen: Set<unknown>): void => {
    const d = defOf(s)
    switch (d.type) {
      case 'optional':
      case 'nullable':
      case 'nonoptional':
      case 'default':
      case 'prefault':
      case 'catch':
      case 'readonly':
      case 'promise':
        return walk(d.innerType, at, seen)
      case 'pipe':
        walk(d.in, at, seen)
        // A transform's output is no schema of the input; a pipe into a schema is.
        if (defOf(d.out).type !== 'transform') walk(d.out, at, seen)
        return
      case 'lazy': {
        if (seen.has(s)) return
        return walk((d.getter as () => unknown)(), at, new Set(seen).add(s))
      }
      case 'object':
        for (const [k, v] of Object.entries(d.shape as Record<string, unknown>)) walk(v, at === '' ? k : `${at}.${k}`, seen)
        return
      case 'array':
        return walk(d.element, `${at}[]`, seen)
      case 'record':
        return walk(d.valueType, `${at}{}`, seen)
      case 'union':
        for (const o of d.options as unknown[]) walk(o, at, seen)
        return
      case 'intersection':
        walk(d.left, at, seen)
        walk(d.right, at, seen)
        return
      case 'string':
      case 'number':
      case 'boolean':
      case 'bigint':
      case 'enum':
      case 'literal':
      case 'null':
      case 'transform': {
        const leaf = at.replace(/(\[\]|\{\})+$/, '')
        const values =
          d.type === 'enum'
            ? Object.values(d.entries as Record<string, string>)
            : d.type === 'literal'
              ? (d.values as unknown[]).map(String)
              : []
        out.set(leaf, [...(out.get(leaf) ?? []), ...values])
        return
      }
      default:
        throw new Error(`schemaPaths: unhandled zod type "${d.type}" at ${at || '(root)'}`)
    }
  }
  walk(schema, '', new Set())
  return out
}

/** The last property name of a path: 'process.rlimits[].type' -> 'type'. */
const lastSegment = (p: string) =>
  p
    .split('.')
    .pop()!
    .replace(/(\[\]|\{\})+$/, '')

const withoutComments = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1')

const texts = new Map<string, string | null>()
const textOf = (file: string): string | null => {
  if (!texts.has(file)) {
    const abs = path.join(repo, file)
    // Comments do not count: a site must be code that names the symbol and the property.
    texts.set(file, fs.existsSync(abs) ? withoutComments(fs.readFileSync(abs, 'utf8')) : null)
  }
  return texts.get(file)!
}

const word = (w: string) => new RegExp(`(?<![A-Za-z0-9_$])${w.replace(/[$]/g, '\\$')}(?![A-Za-z0-9_$])`)

/** What is wrong with one entry's sites (none: []). */
function siteProblems(p: string, c: Consumer): string[] {
  const at = c.kind === 'ignored' ? (c.at ?? []) : c.at
  if (c.kind === 'consumed' && c.pending) return []
  const problems: string[] = []
  if (c.kind !== 'ignored' && at.length === 0) problems.push(`${p}: no site`)
  const seg = lastSegment(p)
  let segSeen = at.length === 0
  for (const site of at) {
    const m = /^(\S+\.ts) (\S+)$/.exec(site)
    if (!m) {
      problems.push(`${p}: site "${site}" is not "<file.ts> <symbol>"`)
      continue
    }
    const [, file, symbol] = m as unknown as [string, string, string]
    const text = textOf(file)
    if (text === null) problems.push(`${p}: ${file} does not exist`)
    else {
      if (!word(symbol).test(text)) problems.push(`${p}: ${file} has no ${symbol}`)
      if (word(seg).test(text)) segSeen = true
    }
  }
  if (!segSeen) problems.push(`${p}: none of ${at.join(', ')} mentions "${seg}"`)
  return problems
}

/** The enum values of `p` that no site's file (nor the `values` table's) names. */
function unnamedValues(p: string, c: Consumer, values: readonly string[]): string[] {
  if (c.kind !== 'consumed' || c.pending || c.anyValue || values.length === 0) return []
  const files = [...c.at, ...(c.values ? [c.values] : [])].map((s) => s.split(' ')[0]!)
  const text = files.map((f) => textOf(f) ?? '').join('\n')
  // Quoted ('SCHED_FIFO') or an object key (SCHED_FIFO: 1).
  return values.filter((v) => !new RegExp(`['"\`]${v}['"\`]|(?<![\\w$])${v}\\s*:`).test(text))
}

const leaves = schemaLeaves(specSchema())
const paths = [...leaves.keys()]

t.test('the walker finds the properties of the schema', async (t) => {
  // A few the spec is known to have, of each shape.
  for (const p of [
    'ociVersion',
    'process.rlimits[].type',
    'mounts[].options',
    'linux.resources.memory.limit',
    'linux.resources.rdma{}.hcaHandles',
    'linux.sysctl',
    'linux.intelRdt.schemata',
    'hooks.poststop[].timeout',
  ])
    t.ok(paths.includes(p), p)
  t.notOk(paths.includes('linux.resources.memory'), 'objects are not leaves')
  t.equal(new Set(paths).size, paths.length, 'no duplicates')
  t.ok(paths.length > 150, `${paths.length} paths`)
})

t.test('the walker sees through wrappers and refuses what it does not know', async (t) => {
  const { z } = await import('zod')
  const s = z.object({
    a: z.string().optional().nullable().default('x'),
    b: z.lazy(() => z.object({ c: z.number() })),
    d: z.array(z.union([z.object({ e: z.string() }), z.object({ f: z.boolean() })])),
    g: z.record(z.string(), z.array(z.string())),
    h: z.string().transform((v) => v.length),
    i: z.string().pipe(z.string()),
  })
  t.same(schemaPaths(s).sort(), ['a', 'b.c', 'd[].e', 'd[].f', 'g', 'h', 'i'])
  t.throws(() => schemaPaths(z.object({ m: z.map(z.string(), z.string()) })), /unhandled zod type "map" at m/)
})

t.test('every schema property has an entry in spec/consumers.ts', async (t) => {
  const missing = paths.filter((p) => !Object.hasOwn(CONSUMERS, p))
  t.same(missing, [], 'add an entry (consumed, refused or ignored) for each')
})

t.test('every entry is a property of the schema', async (t) => {
  const stale = Object.keys(CONSUMERS).filter((p) => !paths.includes(p))
  t.same(stale, [], 'remove or rename these entries')
})

t.test('every entry points at code that exists and mentions the property', async (t) => {
  const problems = Object.entries(CONSUMERS).flatMap(([p, c]) => siteProblems(p, c))
  t.same(problems, [])
})

t.test('every value of an enum the code carries out is named where it is mapped', async (t) => {
  const problems = Object.entries(CONSUMERS).flatMap(([p, c]) =>
    unnamedValues(p, c, leaves.get(p) ?? []).map((v) => `${p}: ${v}`),
  )
  t.same(problems, [], 'map each value, or give the entry values (its table) or anyValue (the rule)')
  t.same(unnamedValues('x', { kind: 'consumed', at: ['src/confine/sched.ts schedAttr'] }, ['SCHED_FIFO', 'SCHED_NOPE']), [
    'SCHED_NOPE',
  ])
  const enums = [...leaves].filter(([, v]) => v.length > 0).map(([p]) => p)
  t.ok(enums.includes('process.scheduler.policy') && enums.includes('linux.seccomp.flags'), `${enums.length} enum leaves`)
})

t.test('ignored entries give a reason; pending ones name files still to come', async (t) => {
  for (const [p, c] of Object.entries(CONSUMERS)) {
    if (c.kind === 'ignored') t.ok(c.reason.length > 20, `${p}: a reason`)
    if (c.kind === 'consumed' && c.pending) {
      // Once the file exists the entry must stop being pending, so its check runs.
      const files = c.at.map((s) => s.split(' ')[0]!)
      t.ok(
        files.some((f) => textOf(f) === null),
        `${p}: pending, and ${files.join(', ')} not yet there`,
      )
    }
  }
})

t.test('the check catches an entry that points at nothing', async (t) => {
  t.same(siteProblems('a.b', { kind: 'consumed', at: ['src/spec/nothing.ts x'] }), [
    'a.b: src/spec/nothing.ts does not exist',
    'a.b: none of src/spec/nothing.ts x mentions "b"',
  ])
  t.same(siteProblems('linux.resources.memory.limit', { kind: 'consumed', at: ['src/spec/schema.ts noSuchSymbol'] }), [
    'linux.resources.memory.limit: src/spec/schema.ts has no noSuchSymbol',
  ])
  t.same(siteProblems('x.zzzNotThere', { kind: 'consumed', at: ['src/spec/schema.ts specSchema'] }), [
    'x.zzzNotThere: none of src/spec/schema.ts specSchema mentions "zzzNotThere"',
  ])
  t.same(siteProblems('a', { kind: 'refused', at: [] }), ['a: no site'])
  t.same(siteProblems('a', { kind: 'consumed', at: ['nofile'] }), [
    'a: site "nofile" is not "<file.ts> <symbol>"',
    'a: none of nofile mentions "a"',
  ])
  t.same(siteProblems('a.b', { kind: 'consumed', at: ['src/spec/nothing.ts x'], pending: true }), [], 'pending: not checked')
  t.same(siteProblems('a', { kind: 'ignored', reason: 'the spec says so' }), [], 'ignored without a site')
})

t.test("other platforms' sections are not in the schema, and are dropped as unknown", async (t) => {
  const tops = new Set(paths.map((p) => p.split(/[.[{]/)[0]))
  const json: Record<string, unknown> = { ociVersion: '1.3.0' }
  for (const k of Object.keys(OTHER_PLATFORMS)) {
    t.notOk(tops.has(k), `${k}: not declared (declare it and it needs entries of its own)`)
    json[k] = { x: 1 }
  }
  t.same(parseDetailed('spec', json).unknownKeys, Object.keys(OTHER_PLATFORMS))
})

t.test('nothing in src/ imports the table', async (t) => {
  const importers: string[] = []
  const visit = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name)
      if (e.isDirectory()) visit(p)
      else if (p.endsWith('.ts') && /from\s+'[^']*consumers\.js'/.test(fs.readFileSync(p, 'utf8'))) importers.push(p)
    }
  }
  visit(path.join(repo, 'src'))
  t.same(importers, [])
})

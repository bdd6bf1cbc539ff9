// Reads <bundle>/config.json and turns JSON into a typed Spec, or throws SpecError whose issues
// name the JSON position or the field (`linux.namespaces[2].type`). The only file in spec/ that
// touches node:fs. Schema checks only: cross-field rules are in validate.ts.

import * as fs from 'node:fs'
import * as path from 'node:path'
import { RuntimeError, SpecError, fsError } from '../errors.js'
import {
  formatPath,
  formatZodIssues,
  documentSchema,
  type LinuxResources,
  type Process,
  type Spec,
  type SpecSchemas,
} from './schema.js'

export type LoadOptions = {
  /** Called with the paths of properties the schema does not know and dropped (for --debug). */
  onUnknownKeys?: (paths: string[]) => void
}

/** Read and schema-check `<bundleDir>/config.json`. */
export function loadSpec(bundleDir: string, opts: LoadOptions = {}): Spec {
  const file = path.join(bundleDir, 'config.json')
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    // runc's wording, which scripts and tests match on.
    if (code === 'ENOENT') throw new RuntimeError('JSON specification file config.json not found')
    throw fsError(err, 'read', file)
  }
  const { value, unknownKeys } = parseDetailed('spec', parseJsonText(text))
  if (unknownKeys.length > 0) opts.onUnknownKeys?.(unknownKeys)
  return value
}

/** Schema-check an already parsed config.json value. */
export function parseSpec(json: unknown): Spec {
  return parseDetailed('spec', json).value
}

/** Schema-check a process.json (`exec --process`), which holds a spec `process` object. */
export function parseProcess(json: unknown): Process {
  return parseDetailed('process', json).value
}

/** Schema-check a resources file (`update -r`), which holds a `linux.resources` object. */
export function parseLinuxResources(json: unknown): LinuxResources {
  return parseDetailed('resources', json).value
}

/**
 * Parse with one of the schemas, returning the typed value and the dropped unknown keys.
 * Object properties set to null are treated as absent first, as Go's encoding/json (and so
 * runc) does; a required property set to null is therefore reported as `required`.
 */
export function parseDetailed<K extends 'spec' | 'process' | 'resources'>(
  kind: K,
  json: unknown,
): { value: ReturnType<SpecSchemas[K]['parse']>; unknownKeys: string[] } {
  const input = dropNulls(json)
  const schema = documentSchema(kind)
  const result = schema.safeParse(input, { reportInput: true })
  if (!result.success) throw new SpecError(formatZodIssues(result.error.issues))
  const value = result.data as ReturnType<SpecSchemas[K]['parse']>
  return { value, unknownKeys: unknownKeys(input, value) }
}

/** JSON.parse, with a SpecError naming line and column instead of V8's message. */
export function parseJsonText(text: string): unknown {
  // runc (Go's encoding/json) refuses a byte-order mark, and so does runt: what runc does not
  // run, runt does not either.
  if (text.charCodeAt(0) === 0xfeff)
    throw new SpecError([
      { path: '', message: 'invalid JSON at line 1, column 1: a byte-order mark (U+FEFF) is not JSON; save the file without it' },
    ])
  const body = text
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch (err) {
    const where = locateJsonError(body)
    if (where === undefined) {
      throw new SpecError([{ path: '', message: `invalid JSON: ${(err as Error).message}` }])
    }
    throw new SpecError([{ path: '', message: `invalid JSON at line ${where.line}, column ${where.column}: ${where.reason}` }])
  }
  const depth = jsonDepth(value, MAX_JSON_DEPTH)
  if (depth > MAX_JSON_DEPTH)
    throw new SpecError([{ path: '', message: `invalid JSON: nested deeper than ${MAX_JSON_DEPTH} levels (runc's limit)` }])
  return value
}

/** Go's encoding/json refuses more nesting than this, and so runc does; so does runt. */
export const MAX_JSON_DEPTH = 10000

/** How deep `v` nests arrays and objects, counted without recursion; stops past `limit`. */
export function jsonDepth(v: unknown, limit = Infinity): number {
  let max = 0
  const stack: [unknown, number][] = [[v, 1]]
  while (stack.length) {
    const [x, d] = stack.pop()!
    if (typeof x !== 'object' || x === null) continue
    if (d > max) max = d
    if (max > limit) return max
    for (const y of Array.isArray(x) ? x : Object.values(x)) if (typeof y === 'object' && y !== null) stack.push([y, d + 1])
  }
  return max
}

// ---------------------------------------------------------------------------------------------

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** A copy of `v` without object properties whose value is null (array items are kept). */
export function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls)
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x)
    return out
  }
  return v
}

/** Paths of properties present in `input` but stripped from the parsed `output`. */
export function unknownKeys(input: unknown, output: unknown, at: PropertyKey[] = []): string[] {
  const found: string[] = []
  if (Array.isArray(input) && Array.isArray(output)) {
    input.forEach((x, i) => found.push(...unknownKeys(x, output[i], [...at, i])))
  } else if (isPlainObject(input) && isPlainObject(output)) {
    for (const [k, x] of Object.entries(input)) {
      if (!(k in output)) found.push(formatPath([...at, k]))
      else found.push(...unknownKeys(x, output[k], [...at, k]))
    }
  }
  return found
}

export type JsonErrorLocation = { offset: number; line: number; column: number; reason: string }

class JsonSyntax {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {}
}

/**
 * Find the first syntax error in `text` (RFC 8259), with a 1-based line and column. Returns
 * undefined when the text is valid JSON. V8's messages differ between versions and some carry
 * no position, so the position is computed here.
 */
export function locateJsonError(text: string): JsonErrorLocation | undefined {
  let i = 0
  const fail = (reason: string, at = i): never => {
    throw new JsonSyntax(at, reason)
  }
  const got = (at: number) => (at >= text.length ? 'end of input' : JSON.stringify(text[at]))
  const describe = (at: number) =>
    at >= text.length ? 'unexpected end of input' : `unexpected character ${JSON.stringify(text[at])}`
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++
  }
  const literal = (word: string) => {
    for (let k = 0; k < word.length; k++) if (text[i + k] !== word[k]) fail(describe(i + k), i + k)
    i += word.length
  }
  const string = () => {
    const start = i
    i++ // opening quote
    for (;;) {
      if (i >= text.length) fail('unterminated string', start)
      const c = text.charCodeAt(i)
      if (c === 0x22) {
        i++
        return
      }
      if (c < 0x20) fail('control character in string')
      if (c === 0x5c) {
        const e = text[i + 1]
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('invalid unicode escape')
          i += 6
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2
        else fail('invalid escape in string')
      } else i++
    }
  }
  const number = () => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400))
    if (!m || m[0] === '-') fail('invalid number')
    i += m![0].length
  }
  const value = (depth: number): void => {
    if (depth > 10000) fail('nesting too deep')
    ws()
    const c = text[i]
    if (c === '{') {
      i++
      ws()
      if (text[i] === '}') {
        i++
        return
      }
      for (;;) {
        ws()
        if (text[i] !== '"') fail(text[i] === '}' ? 'trailing comma before "}"' : `expected string key, got ${got(i)}`)
        string()
        ws()
        if (text[i] !== ':') fail(`expected ':' after key, got ${got(i)}`)
        i++
        value(depth + 1)
        ws()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === '}') {
          i++
          return
        }
        fail(`expected ',' or '}', got ${got(i)}`)
      }
    } else if (c === '[') {
      i++
      ws()
      if (text[i] === ']') {
        i++
        return
      }
      for (;;) {
        ws()
        if (text[i] === ']') fail('trailing comma before "]"')
        value(depth + 1)
        ws()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === ']') {
          i++
          return
        }
        fail(`expected ',' or ']', got ${got(i)}`)
      }
    } else if (c === '"') string()
    else if (c === 't') literal('true')
    else if (c === 'f') literal('false')
    else if (c === 'n') literal('null')
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) number()
    else fail(describe(i))
  }
  try {
    value(0)
    ws()
    if (i < text.length) fail(`unexpected data after the JSON value: ${got(i)}`)
    return undefined
  } catch (err) {
    if (!(err instanceof JsonSyntax)) return undefined
    let line = 1
    let lineStart = 0
    for (let k = 0; k < err.offset && k < text.length; k++) {
      if (text[k] === '\n') {
        line++
        lineStart = k + 1
      }
    }
    return { offset: err.offset, line, column: err.offset - lineStart + 1, reason: err.reason }
  }
}

// The command line's fast path: the argv shapes engines send (global flags, one command, its
// flags and positionals) parsed without loading yargs, which costs about 40 ms of start-up.
// The option table is recorded from each command's own yargs builder, so there is one source
// of truth. Whatever this parser cannot read exactly as yargs would (help, an unknown, repeated
// or negated flag, `--`, a missing value, grouped short flags, a builder using more than
// `.option()`) makes it return null, and cli/index.ts hands the argv to yargs.

import type { Argv } from 'yargs'
import type { Args, CommandDef } from './command.js'

type OptType = 'string' | 'boolean' | 'number'

/** One flag as a builder declared it. */
export type OptSpec = {
  name: string
  aliases: string[]
  type: OptType
  default?: unknown
  choices?: readonly unknown[]
}

/** The option keys the fast path understands; any other key sends the argv to yargs. */
const KNOWN_KEYS = new Set(['alias', 'type', 'default', 'describe', 'description', 'desc', 'hidden', 'choices'])

/**
 * The .option() calls of a yargs builder, or null if it does anything else (positional(),
 * check(), an option with nargs, arrays, coerce...): such a command always goes through yargs.
 */
export function recordOptions(builder: (y: Argv) => Argv): OptSpec[] | null {
  const opts: OptSpec[] = []
  let ok = true
  const recorder: unknown = new Proxy(
    {},
    {
      get(_target, prop) {
        if (prop === 'option' || prop === 'options') {
          return (name: unknown, o: Record<string, unknown> = {}) => {
            const spec = toSpec(name, o)
            if (spec) opts.push(spec)
            else ok = false
            return recorder
          }
        }
        // strict() only makes yargs reject what the fast path already refuses.
        if (prop === 'strict') return () => recorder
        ok = false
        return () => recorder
      },
    },
  )
  try {
    builder(recorder as Argv)
  } catch {
    return null
  }
  return ok ? opts : null
}

function toSpec(name: unknown, o: Record<string, unknown>): OptSpec | null {
  if (typeof name !== 'string') return null
  if (Object.keys(o).some((k) => !KNOWN_KEYS.has(k))) return null
  const type = o.type
  if (type !== 'string' && type !== 'boolean' && type !== 'number') return null
  const alias = o.alias === undefined ? [] : Array.isArray(o.alias) ? o.alias : [o.alias]
  if (!alias.every((a): a is string => typeof a === 'string')) return null
  const spec: OptSpec = { name, aliases: alias, type }
  if ('default' in o) spec.default = o.default
  if (Array.isArray(o.choices)) spec.choices = o.choices
  return spec
}

/** Positional names of a yargs command string: 'kill [container-id] [signal]'. */
export function positionalNames(command: string): { names: string[]; variadic: boolean } | null {
  const parts = command.split(' ').slice(1)
  const names: string[] = []
  let variadic = false
  for (const [i, p] of parts.entries()) {
    const m = /^\[([\w-]+)(\.\.\.?)?\]$/.exec(p)
    if (!m) return null // <required> positionals: yargs' own error texts
    if (m[2]) {
      if (i !== parts.length - 1) return null
      variadic = true
    }
    names.push(m[1]!)
  }
  return { names, variadic }
}

export type FastParse = { def: CommandDef; args: Args }

type Table = { byFlag: Map<string, OptSpec>; specs: OptSpec[] }

function table(specs: OptSpec[]): Table {
  const byFlag = new Map<string, OptSpec>()
  for (const s of specs) for (const f of [s.name, ...s.aliases]) byFlag.set(f, s)
  return { byFlag, specs }
}

/** Any token starting with a dash is a flag here; "-1" or "-" as a value goes to yargs. */
const isFlag = (t: string) => t.startsWith('-')

/**
 * Parse argv (already normalized) the way yargs does for these shapes, or return null.
 * `globals` are the runtime-wide options; a command's option of the same name wins, as in
 * yargs. Values are kept as strings: runc reads ids and signals as text.
 */
export function parseFast(argv: string[], globals: OptSpec[], commands: readonly CommandDef[]): FastParse | null {
  const globalTable = table(globals)
  const values = new Map<OptSpec, unknown>()
  const positionals: string[] = []
  // After `--` (cli/index.ts puts one after exec's container id) every token is an argument.
  let afterDashes: string[] = []
  let def: CommandDef | undefined
  let cmdTable: Table | undefined
  let pos: { names: string[]; variadic: boolean } | undefined

  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]!
    if (!isFlag(tok)) {
      if (tok === 'help' && def === undefined) return null
      positionals.push(tok)
      if (def === undefined) {
        def = commands.find((c) => c.command.split(' ')[0] === tok || c.aliases?.includes(tok))
        if (!def) return null
        const specs = recordOptions(def.builder)
        const p = positionalNames(def.command)
        if (!specs || !p) return null
        pos = p
        // A command's option shadows a global one of the same name or alias.
        const shadowed = new Set(specs.flatMap((s) => [s.name, ...s.aliases]))
        const inherited = globals.filter((g) => ![g.name, ...g.aliases].some((f) => shadowed.has(f)))
        cmdTable = table([...inherited, ...specs])
        for (const [spec] of values) if (!cmdTable.specs.includes(spec)) return null
      }
      continue
    }
    if (tok === '--') {
      if (def === undefined) return null
      afterDashes = argv.slice(i + 1)
      break
    }
    let name: string
    let inline: string | undefined
    if (tok.startsWith('--')) {
      const eq = tok.indexOf('=')
      name = eq < 0 ? tok.slice(2) : tok.slice(2, eq)
      if (eq >= 0) inline = tok.slice(eq + 1)
    } else {
      // -x only; grouped short flags (-df), -x=value and "-1" are yargs' business.
      if (tok.length !== 2) return null
      name = tok[1]!
    }
    if (name === 'help' || name === 'h' || name === 'version' || name === 'v') return null
    const spec = (cmdTable ?? globalTable).byFlag.get(name)
    if (!spec) return null
    // yargs collects a repeated flag into an array (exec --env, --cap); only strings here.
    if (values.has(spec) && spec.type !== 'string') return null
    let value: unknown
    if (spec.type === 'boolean') {
      if (inline === undefined) {
        // yargs takes a following literal true/false as the flag's value.
        const next = argv[i + 1]
        if (next === 'true' || next === 'false') return null
        value = true
      } else if (inline === 'true' || inline === 'false') value = inline === 'true'
      else return null
    } else {
      let text = inline
      if (text === undefined) {
        const next = argv[i + 1]
        if (next === undefined || isFlag(next)) return null
        text = next
        i++
      }
      if (spec.type === 'number') {
        if (!/^-?\d+$/.test(text)) return null
        value = Number(text)
      } else value = text
    }
    if (spec.choices && !spec.choices.includes(value)) return null
    const prev = values.get(spec)
    values.set(spec, prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value])
  }
  if (!def || !cmdTable || !pos) return null

  const args: Record<string, unknown> = { _: [positionals[0]!] }
  for (const s of cmdTable.specs) {
    const v = values.has(s) ? values.get(s) : s.default
    if (v !== undefined) args[s.name] = v
  }
  const rest = positionals.slice(1)
  pos.names.forEach((n, i) => {
    if (pos!.variadic && i === pos!.names.length - 1) {
      args[n] = rest.slice(i)
    } else if (rest[i] !== undefined) args[n] = rest[i]
  })
  if (!pos.variadic) (args._ as string[]).push(...rest.slice(pos.names.length))
  ;(args._ as string[]).push(...afterDashes)
  return { def, args: args as Args }
}

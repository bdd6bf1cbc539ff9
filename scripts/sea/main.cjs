'use strict'
// The single executable's entry point (its SEA `main`). It compiles the runtime's bundle and,
// on first use, the chunks it keeps apart (zod for config.json, yargs for help and unusual
// command lines) from the executable's SEA assets, each with the V8 code cache that
// scripts/sea/train.cjs made at build time, and runs the bundle. Keep it small: it is
// compiled on every start. scripts/sea/train.cjs must load the scripts the same way.

const { getRawAsset } = require('node:sea')
const { Script } = require('node:vm')
const path = require('node:path')

function asset(name) {
  try {
    return Buffer.from(getRawAsset(name))
  } catch {
    return undefined
  }
}

/**
 * The command, found as cli/index.ts finds it: the first argument that is neither a global
 * flag nor the value of one. A wrong answer costs time, never correctness.
 */
function command() {
  const argv = process.argv.slice(2)
  for (let i = 0; i < argv.length; i++) {
    if (/^--?(root|log|log-format|rootless|criu)$/.test(argv[i])) i++
    else if (!argv[i].startsWith('-')) return argv[i]
  }
  return undefined
}

// Commands that run little code read the light cache, made from just their training lines.
const LIGHT = new Set(['state', 'list', 'start', 'kill', 'delete'])

/** Compile <name>.js (a function expression taking CommonJS' five arguments) and run it. */
function load(name, cache = `${name}.cc`) {
  const source = asset(`${name}.js`).toString('latin1')
  const script = new Script(source, { filename: `runt:${name}.js`, cachedData: asset(cache) ?? asset(`${name}.cc`) })
  const module = { exports: {} }
  script.runInThisContext()(module.exports, require, module, process.execPath, path.dirname(process.execPath))
  return module.exports
}

const chunks = new Map()
globalThis[Symbol.for('runt.chunk')] = (name) => {
  if (!chunks.has(name)) chunks.set(name, load(name))
  return chunks.get(name)
}

load('runt', LIGHT.has(command()) ? 'runt-light.cc' : 'runt.cc')

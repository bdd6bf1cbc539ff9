'use strict'
// Build step: make the V8 code caches the single executable starts with. Compiles DIR/runt.js
// and its chunks as scripts/sea/main.cjs does (from files instead of SEA assets), runs
// command lines that exercise what engines call (against a scratch --root and bundle, without
// touching the host), and writes DIR/<name>.cc. A cache made after running holds the bytecode
// of every function that ran, where one made right after compiling holds only the top level.
//
// usage: node scripts/sea/train.cjs DIR   (stdout and stderr are the commands' own noise)

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Script } = require('node:vm')

const dir = path.resolve(process.argv[2])
const scripts = new Map()

function load(name) {
  const source = fs.readFileSync(path.join(dir, `${name}.js`), 'latin1')
  const script = new Script(source, { filename: `runt:${name}.js` })
  scripts.set(name, script)
  const module = { exports: {} }
  // This require finds koffi in node_modules: under plain node, sys/koffi-sea.ts uses it.
  script.runInThisContext()(module.exports, require, module, process.execPath, dir)
  return module.exports
}

const chunks = new Map()
globalThis[Symbol.for('runt.chunk')] = (name) => {
  if (!chunks.has(name)) chunks.set(name, load(name))
  return chunks.get(name)
}

async function main() {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-train-'))
  const root = path.join(scratch, 'root')
  const id = `runt-train-${process.pid}`
  const bundle = path.join(scratch, 'bundle')
  fs.mkdirSync(bundle)
  // A container record whose init is this process: `state` takes its success path.
  const stat = fs.readFileSync('/proc/self/stat', 'utf8')
  const startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  fs.mkdirSync(path.join(root, 'fake'), { recursive: true })
  fs.writeFileSync(
    path.join(root, 'fake', 'state.json'),
    JSON.stringify({
      ociVersion: '1.3.0',
      id: 'fake',
      pid: process.pid,
      pidStartTime: startTime,
      bundle,
      rootfs: path.join(bundle, 'rootfs'),
      created: new Date().toISOString(),
      config: {},
      namespacePaths: {},
      cgroupPaths: {},
    }),
  )
  const lines = [
    ['--root', root, 'state', 'nope'],
    ['--root', root, 'state', 'fake'],
    ['--root', root, 'list'],
    ['--root', root, 'list', '--format', 'json'],
    ['--root', root, 'start', 'nope'],
    ['--root', root, 'kill', 'nope', 'KILL'],
    ['--root', root, 'delete', 'nope'],
    ['--root', root, 'delete', '--force', 'nope'],
    // LIGHT: the lines above are the light cache's.
    ['--root', root, 'exec', 'nope', 'true'],
    ['spec', '--bundle', bundle],
    // config.json parses and validates; the missing rootfs stops create before any effect.
    ['--root', root, '--log-format', 'json', 'create', '--bundle', bundle, '--pid-file', path.join(scratch, 'pid'), id],
    ['--root', root, 'run', '--bundle', bundle, id],
    ['--help'],
    ['state', '--help'],
  ]
  const LIGHT = lines.findIndex((l) => l.includes('exec'))
  try {
    process.argv = [process.execPath, 'runt', ...lines[0]]
    load('runt')
    const runt = globalThis[Symbol.for('runt.main')]
    await runt.done
    for (const [i, line] of lines.entries()) {
      // The light cache: what state, list, start, kill and delete run, and nothing more (a
      // smaller cache is read faster; scripts/sea/main.cjs takes it for those commands).
      if (i === LIGHT) fs.writeFileSync(path.join(dir, 'runt-light.cc'), scripts.get('runt').createCachedData())
      if (i === 0) continue
      process.argv = [process.execPath, 'runt', ...line]
      await runt.entry()
    }
    await runt.warmInit()
  } finally {
    // Should create ever get further, nothing may stay behind.
    process.argv = [process.execPath, 'runt', '--root', root, 'delete', '--force', id]
    await globalThis[Symbol.for('runt.main')]?.entry()
    fs.rmSync(scratch, { recursive: true, force: true })
  }
  for (const [name, script] of scripts) fs.writeFileSync(path.join(dir, `${name}.cc`), script.createCachedData())
  process.exitCode = 0
}

main().catch((e) => {
  fs.writeSync(2, `train: ${e.stack}\n`)
  process.exit(1)
})

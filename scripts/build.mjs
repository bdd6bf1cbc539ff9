#!/usr/bin/env node
// Build dist/runt, the single executable (docs/performance.md says why it is built so):
//  1. esbuild bundles src/main.ts into dist/runt.cjs (also runnable as `node dist/runt.cjs`
//     from a checkout) with zod and yargs left out: they become chunks of their own, loaded
//     only by the commands that need them (zod's locales, which runt never uses, are dropped);
//  2. scripts/sea/train.cjs runs the bundle on scratch command lines and saves V8 code caches
//     holding the bytecode of what ran;
//  3. node's single-executable support takes scripts/sea/main.cjs as its entry and carries the
//     bundle, the chunks, their caches and koffi's native addon as assets; postject injects
//     that into a copy of the node binary running this script, stripped of its symbol table.
// Inputs come from package-lock.json (npm ci) and this node; the output needs neither.
//
//   node scripts/build.mjs                 the single executable (npm run build)
//   node scripts/build.mjs --reproducible  the same without trained code caches: bit for bit
//                                          the same output from the same inputs, slower starts
//   node scripts/build.mjs --bundle        dist/runt.cjs only

import { build } from 'esbuild'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const DIST = path.join(ROOT, 'dist')
const WORK = path.join(DIST, '.sea')
const BUNDLE = path.join(DIST, 'runt.cjs')
const OUT = path.join(DIST, 'runt')
// The fuse Node looks for to know it carries a SEA blob (node/src/node_sea.cc).
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'
const ADDON_ASSET = 'koffi.node'

/** Environment for every tool we start: never NODE_OPTIONS or NODE_EXTRA_CA_CERTS. */
function cleanEnv() {
  const env = { ...process.env }
  delete env.NODE_OPTIONS
  delete env.NODE_EXTRA_CA_CERTS
  return env
}

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'], ...opts })
}

function gitCommit() {
  try {
    return run('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8' }).trim()
  } catch {
    return 'unknown'
  }
}

/** koffi's prebuilt glibc addon for this machine, and what the bundle must know about it. */
function koffiAddon() {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/koffi/package.json'), 'utf8'))
  const triplet = { x64: 'linux_x64', arm64: 'linux_arm64', riscv64: 'linux_riscv64d' }[process.arch]
  const file = path.join(ROOT, `node_modules/@koromix/koffi-linux-${process.arch}`, triplet ?? '', 'koffi.node')
  if (!triplet || !fs.existsSync(file)) throw new Error(`no koffi addon for linux-${process.arch} (${file})`)
  const bytes = fs.readFileSync(file)
  return {
    file,
    meta: {
      version: pkg.version,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      size: bytes.length,
      asset: ADDON_ASSET,
    },
  }
}

async function bundle(addon) {
  fs.mkdirSync(DIST, { recursive: true })
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  // sys/koffi.ts imports koffi from node_modules; the single binary loads its own copy.
  const seaKoffi = {
    name: 'sea-koffi',
    setup(b) {
      b.onResolve({ filter: /^\.\/koffi\.js$/ }, (args) =>
        args.importer.endsWith(path.join('src', 'sys', path.basename(args.importer)))
          ? { path: path.join(ROOT, 'src/sys/koffi-sea.ts') }
          : undefined,
      )
    },
  }
  const result = await build({
    entryPoints: [path.join(ROOT, 'src/main.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: BUNDLE,
    charset: 'ascii',
    banner: { js: PLAIN_NODE_CHUNKS },
    // Only the plain-node fallback of sys/koffi-sea.ts requires it.
    external: ['koffi'],
    plugins: [seaKoffi, chunkImports],
    define: {
      'import.meta.url': '__runtImportMetaUrl',
      __RUNT_VERSION__: JSON.stringify(pkg.version),
      __RUNT_COMMIT__: JSON.stringify(gitCommit()),
      __RUNT_KOFFI__: JSON.stringify(addon.meta),
    },
    logLevel: 'warning',
    // spec/schema.ts reaches zod through createRequire(import.meta.url) only outside a bundle.
    logOverride: { 'empty-import-meta': 'silent' },
    metafile: true,
  })
  if (process.env.RUNT_BUILD_META) fs.writeFileSync(process.env.RUNT_BUILD_META, JSON.stringify(result.metafile))
}

/**
 * The bundle reaches a chunk through a loader on globalThis, set by scripts/sea/main.cjs (SEA
 * assets) or scripts/sea/train.cjs; run by plain node, the bundle sets one reading dist/.sea.
 */
const PLAIN_NODE_CHUNKS = `globalThis[Symbol.for('runt.chunk')] ??= (() => {
  const loaded = new Map()
  return (name) => {
    if (!loaded.has(name)) {
      const file = require('node:path').join(__dirname, '.sea', name + '.js')
      const fn = new (require('node:vm').Script)(require('node:fs').readFileSync(file, 'latin1'), { filename: file }).runInThisContext()
      const module = { exports: {} }
      fn(module.exports, require, module, file, __dirname)
      loaded.set(name, module.exports)
    }
    return loaded.get(name)
  }
})();`

/** `import 'zod'` and `import('yargs')` in src/ become a call to the chunk loader. */
const chunkImports = {
  name: 'chunk-imports',
  setup(b) {
    b.onResolve({ filter: /^(zod|yargs)$/ }, (args) =>
      args.importer.startsWith(path.join(ROOT, 'src')) ? { path: args.path, namespace: 'runt-chunk' } : undefined,
    )
    b.onLoad({ filter: /.*/, namespace: 'runt-chunk' }, (args) => ({
      contents: `module.exports = globalThis[Symbol.for('runt.chunk')](${JSON.stringify(args.path)})`,
      loader: 'js',
    }))
  },
}

/** Chunks kept out of the bundle: what each is built from, and how its entry exports it. */
const CHUNKS = {
  zod: "module.exports = require('zod')",
  // The function itself: the bundle's `await import('yargs')` takes module.exports as default.
  yargs: "module.exports = require('yargs').default",
}

// zod's classic API imports every locale (half of zod's size); runt uses English only.
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.c?js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer)
        ? { path: args.path, namespace: 'zod-locales', pluginData: path.join(args.resolveDir, '../locales') }
        : undefined,
    )
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => {
      const ext = args.path.endsWith('.cjs') ? '.cjs' : '.js'
      return {
        contents:
          ext === '.cjs' ? `module.exports = { en: require('./en${ext}') }` : `export { default as en } from './en${ext}'`,
        resolveDir: args.pluginData,
        loader: 'js',
      }
    })
  },
}

/** A chunk as a script: a function expression taking CommonJS' five arguments. */
function wrap(code) {
  return `(function (exports, require, module, __filename, __dirname) {${code}\n})`
}

async function chunks() {
  for (const [name, entry] of Object.entries(CHUNKS)) {
    const r = await build({
      stdin: { contents: entry, resolveDir: ROOT, sourcefile: `${name}-chunk.js`, loader: 'js' },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      charset: 'ascii',
      write: false,
      plugins: [zodEnglishOnly],
      banner: { js: "const __runtImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
      define: { 'import.meta.url': '__runtImportMetaUrl' },
      logLevel: 'warning',
    })
    fs.writeFileSync(path.join(WORK, `${name}.js`), wrap(r.outputFiles[0].text))
  }
}

function train() {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/sea/train.cjs'), WORK], {
    cwd: WORK,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    stdio: ['ignore', 'ignore', 'ignore'],
  })
  // A script the training never reached starts without a cache: slower, never wrong.
  for (const name of ['runt', ...Object.keys(CHUNKS)])
    if (!fs.existsSync(path.join(WORK, `${name}.cc`)))
      console.warn(`build: no code cache for ${name}.js (training did not load it)`)
}

function sea(addon) {
  const blob = path.join(WORK, 'sea-prep.blob')
  const assets = { [ADDON_ASSET]: addon.file }
  for (const name of ['runt', ...Object.keys(CHUNKS)]) {
    assets[`${name}.js`] = path.join(WORK, `${name}.js`)
    if (fs.existsSync(path.join(WORK, `${name}.cc`))) assets[`${name}.cc`] = path.join(WORK, `${name}.cc`)
  }
  if (fs.existsSync(path.join(WORK, 'runt-light.cc'))) assets['runt-light.cc'] = path.join(WORK, 'runt-light.cc')
  const config = {
    main: path.join(ROOT, 'scripts/sea/main.cjs'),
    output: blob,
    disableExperimentalSEAWarning: true,
    // main.cjs is a few lines; its own cache would save nothing and is not deterministic.
    useCodeCache: false,
    assets,
  }
  const configFile = path.join(WORK, 'sea-config.json')
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2) + '\n')
  run(process.execPath, ['--experimental-sea-config', configFile])

  // A copy of this node, without its symbol table (13 MB; nothing loads it at run time).
  const exe = path.join(WORK, 'runt')
  fs.copyFileSync(process.execPath, exe)
  fs.chmodSync(exe, 0o755)
  try {
    run('strip', ['--strip-all', exe])
  } catch {
    /* no binutils: keep the symbols */
  }
  const postject = path.join(ROOT, 'node_modules/postject/dist/cli.js')
  run(process.execPath, [postject, exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE])
  fs.renameSync(exe, OUT)
}

/** The binary must run alone: an empty directory, an empty environment. */
function smokeTest() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-build-'))
  try {
    fs.copyFileSync(OUT, path.join(dir, 'runt'))
    fs.chmodSync(path.join(dir, 'runt'), 0o755)
    const out = execFileSync(path.join(dir, 'runt'), ['--version'], { cwd: dir, env: {}, encoding: 'utf8' })
    if (!out.startsWith('runt version ')) throw new Error(`unexpected --version output: ${out}`)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

const addon = koffiAddon()
fs.rmSync(WORK, { recursive: true, force: true })
fs.mkdirSync(WORK, { recursive: true })
await bundle(addon)
await chunks()
if (!process.argv.includes('--bundle')) {
  fs.writeFileSync(path.join(WORK, 'runt.js'), wrap(fs.readFileSync(BUNDLE, 'latin1')))
  // V8 code caches made after running differ from one build to the next (what got compiled
  // when, and in what order, is not deterministic); sources and bundles never do.
  if (!process.argv.includes('--reproducible')) train()
  sea(addon)
  smokeTest()
}

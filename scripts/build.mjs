#!/usr/bin/env node
// Build dist/runt, the single executable (docs/performance.md says why it is built so): Bun's
// compiler bundles src/main.ts with a copy of the Bun runtime, koffi's native addon embedded
// as a file. Every command is one start of this binary, so what loads at start is what counts:
//  - code splitting: each `await import()` of src/ (a command, the init stage, yargs, the
//    cgroup managers) is a chunk of its own, loaded when it is reached, never at start;
//  - bytecode: JavaScriptCore's bytecode is compiled at build time, not at every start;
//  - minification: less to load;
//  - no autoloading: the binary never reads a .env, bunfig.toml, tsconfig.json or package.json
//    from the directory it is started in (a bundle directory is the user's).
// Bun is the pinned devDependency `bun` (npm ci installs it); this script re-runs itself under
// it when started by node (`node scripts/build.mjs`).
//
//   npm run build                       dist/runt
//   node scripts/build.mjs --no-bytecode   the same without bytecode (for comparisons)

import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const DIST = path.join(ROOT, 'dist')
const OUT = path.join(DIST, 'runt')
const BUN = path.join(ROOT, 'node_modules/.bin/bun')

/** Environment for every tool we start: never NODE_OPTIONS, NODE_EXTRA_CA_CERTS or BUN_*. */
function cleanEnv() {
  const env = { ...process.env }
  for (const k of Object.keys(env)) if (k === 'NODE_OPTIONS' || k === 'NODE_EXTRA_CA_CERTS' || k.startsWith('BUN_')) delete env[k]
  return env
}

function pinnedBun() {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  return pkg.devDependencies.bun
}

if (typeof globalThis.Bun === 'undefined') {
  if (!fs.existsSync(BUN)) {
    console.error(`build: ${BUN} is missing: run npm ci (bun ${pinnedBun()} is a devDependency)`)
    process.exit(1)
  }
  try {
    execFileSync(BUN, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env: cleanEnv() })
  } catch (e) {
    process.exit(e.status ?? 1)
  }
  process.exit(0)
}

function run(cmd, args) {
  return execFileSync(cmd, args, { cwd: ROOT, env: cleanEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

function gitCommit() {
  try {
    return run('git', ['rev-parse', '--short=12', 'HEAD']).trim()
  } catch {
    return 'unknown'
  }
}

/** koffi's prebuilt glibc addon for this machine, and what the binary must know about it. */
function koffiAddon() {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/koffi/package.json'), 'utf8'))
  const triplet = { x64: 'linux_x64', arm64: 'linux_arm64', riscv64: 'linux_riscv64d' }[process.arch]
  const file = path.join(ROOT, `node_modules/@koromix/koffi-linux-${process.arch}`, triplet ?? '', 'koffi.node')
  if (!triplet || !fs.existsSync(file)) throw new Error(`no koffi addon for linux-${process.arch} (${file})`)
  const bytes = fs.readFileSync(file)
  return {
    file,
    meta: { version: pkg.version, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length },
  }
}

/** sys/koffi.ts (koffi from node_modules) becomes sys/koffi-bun.ts, which loads the embedded addon. */
function koffiPlugin(addon) {
  return {
    name: 'runt-koffi',
    setup(b) {
      b.onResolve({ filter: /^\.\/koffi\.js$/ }, (args) =>
        path.dirname(args.importer) === path.join(ROOT, 'src/sys')
          ? { path: path.join(ROOT, 'src/sys/koffi-bun.ts') }
          : undefined,
      )
      // The addon as an embedded file (its path inside the executable), never as a module to load.
      b.onResolve({ filter: /^runt:koffi-addon$/ }, () => ({ path: 'koffi-addon', namespace: 'runt' }))
      b.onLoad({ filter: /^koffi-addon$/, namespace: 'runt' }, () => ({
        contents: `import file from ${JSON.stringify(addon.file)} with { type: 'file' }\nexport default file\n`,
        loader: 'js',
      }))
    },
  }
}

/** zod's `z` namespace carries every locale (most of zod's size); runt speaks English only. */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer)
        ? { path: path.join(path.dirname(args.importer), '../locales/index.js'), namespace: 'zod-locales' }
        : undefined,
    )
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(path.join(path.dirname(args.path), 'en.js'))}`,
      loader: 'js',
    }))
  },
}

async function compile(addon) {
  if (Bun.version !== pinnedBun()) throw new Error(`build: bun ${Bun.version} runs this, package.json pins ${pinnedBun()}`)
  fs.mkdirSync(DIST, { recursive: true })
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  const tmp = `${OUT}.${process.pid}.tmp`
  const r = await Bun.build({
    entrypoints: [path.join(ROOT, 'src/main.ts')],
    target: 'bun',
    format: 'esm',
    splitting: true,
    minify: true,
    bytecode: !process.argv.includes('--no-bytecode'),
    plugins: [koffiPlugin(addon), zodEnglishOnly],
    define: {
      __RUNT_VERSION__: JSON.stringify(pkg.version),
      __RUNT_COMMIT__: JSON.stringify(gitCommit()),
      __RUNT_KOFFI__: JSON.stringify(addon.meta),
    },
    compile: {
      outfile: tmp,
      autoloadDotenv: false,
      autoloadBunfig: false,
      autoloadTsconfig: false,
      autoloadPackageJson: false,
    },
    throw: false,
  })
  if (!r.success) {
    for (const m of r.logs) console.error(String(m))
    throw new Error('build: bun build failed')
  }
  fs.chmodSync(tmp, 0o755)
  fs.renameSync(tmp, OUT)
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
await compile(addon)
smokeTest()

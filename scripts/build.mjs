#!/usr/bin/env node
// Build dist/runt: one esbuild bundle of src/main.ts with a node shebang. koffi stays
// external (its native addon is loaded from node_modules); scripts/build-sea.mjs turns the
// bundle into the single executable.

import { build } from 'esbuild'
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
let commit = 'unknown'
try {
  commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim()
} catch {
  /* not a git checkout */
}

mkdirSync('dist', { recursive: true })
// The repository is "type": "module"; the extensionless bundle is CommonJS.
writeFileSync('dist/package.json', '{"type": "commonjs"}\n')
const result = await build({
  entryPoints: ['src/main.ts'],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: 'dist/runt',
  // ESM dependencies (yargs) call createRequire(import.meta.url): give the CJS bundle one.
  banner: { js: "#!/usr/bin/env node\nconst __runtImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  external: ['koffi'],
  define: {
    'import.meta.url': '__runtImportMetaUrl',
    __RUNT_VERSION__: JSON.stringify(pkg.version),
    __RUNT_COMMIT__: JSON.stringify(commit),
  },
  logLevel: 'warning',
  // spec/schema.ts reaches zod through createRequire(import.meta.url) only outside a bundle.
  logOverride: { 'empty-import-meta': 'silent' },
  metafile: true,
})
chmodSync('dist/runt', 0o755)
if (process.env.RUNT_BUILD_META) console.log(JSON.stringify(result.metafile))

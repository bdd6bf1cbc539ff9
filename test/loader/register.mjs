// tap's TypeScript loader (`node --import=./test/loader/register.mjs`): esbuild transpiles each
// .ts file of src/ and test/ as it loads, keeping lines as they are and an inline source map,
// so that coverage is counted per statement. (tsx minifies every file onto one line, which
// made c8 count each file as one covered statement.) ES modules through module.register();
// require() of a .ts file (spec/schema.ts requires zod-lib.ts on first use) through the
// CommonJS extension table. A ".js" specifier that does not exist resolves to its ".ts".

import { register } from 'node:module'
import Module from 'node:module'
import * as fs from 'node:fs'
import { transformSync } from 'esbuild'

register('./hooks.mjs', import.meta.url)

const options = (file, format) => ({
  loader: 'ts',
  format,
  target: 'node20',
  sourcemap: 'inline',
  sourcefile: file,
})

Module._extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), options(filename, 'cjs'))
  module._compile(code, filename)
}

const resolveFilename = Module._resolveFilename
Module._resolveFilename = function (request, parent, ...rest) {
  try {
    return resolveFilename.call(this, request, parent, ...rest)
  } catch (e) {
    if (!request.startsWith('.') || !request.endsWith('.js')) throw e
    return resolveFilename.call(this, request.slice(0, -3) + '.ts', parent, ...rest)
  }
}

// node:child_process, loaded on first use rather than at import: it costs every start, kill
// and delete about 3 ms, and most containers have no hooks. For the hooks and busctl.

import { createRequire } from 'node:module'

export function childProcess(): typeof import('node:child_process') {
  const req = typeof require === 'function' ? require : createRequire(import.meta.url)
  return req('node:child_process') as typeof import('node:child_process')
}

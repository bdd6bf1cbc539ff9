// `runt --version`, in runc's line format (go-runc parses "runt version", "commit:", "spec:").

import { OCI_VERSION } from '../spec/defaults.js'

declare const __RUNT_VERSION__: string | undefined
declare const __RUNT_COMMIT__: string | undefined

export const VERSION = typeof __RUNT_VERSION__ === 'string' ? __RUNT_VERSION__ : '0.0.0-dev'
export const COMMIT = typeof __RUNT_COMMIT__ === 'string' ? __RUNT_COMMIT__ : 'unknown'

/** The JavaScript runtime's line, as runc prints its Go's: `bun: 1.4.5` in the single binary. */
function runtime(): string {
  const bun = (process.versions as Record<string, string | undefined>).bun
  return bun ? `bun: ${bun}` : `node: ${process.version}`
}

export async function VERSION_TEXT(): Promise<string> {
  const { libseccompVersion } = await import('../confine/probe.js')
  const seccomp = libseccompVersion() ?? 'unavailable'
  return `runt version ${VERSION}\ncommit: ${COMMIT}\nspec: ${OCI_VERSION}\n${runtime()}\nlibseccomp: ${seccomp}\n`
}

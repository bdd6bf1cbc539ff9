// Where koffi comes from in the single binary (scripts/build.mjs puts this module in place of
// sys/koffi.ts). Bun embeds koffi's native addon in the executable; sys/koffi-addon.ts keeps a
// checked, read-only copy on disk for process.dlopen() (Bun's own extraction of an embedded
// addon would write a fresh, writable file at every start). What follows the dlopen mirrors
// koffi's index.cjs: the version check and the deprecated aliases runt never calls are left
// out. Run from a checkout (`bun src/main.ts`), koffi comes from node_modules as usual.

import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type koffiApi from 'koffi'
// The build resolves this to koffi's addon for the target and embeds it (`type: 'file'`
// gives its path inside the executable, readable with fs).
import embeddedAddon from 'runt:koffi-addon' with { type: 'file' }
import { ENV_ADDON, addonDirs, setLoadedAddon, trustedDir, usableAddon, writeAddon } from './koffi-addon.js'
import { RuntimeError } from '../errors.js'

type Koffi = typeof koffiApi

/** Set by the build: the addon the binary carries. */
declare const __RUNT_KOFFI__: { version: string; sha256: string; size: number }

function fileName(): string {
  return `koffi-${__RUNT_KOFFI__.version}-${__RUNT_KOFFI__.sha256.slice(0, 16)}.node`
}

function dirsFor(euid: number): string[] {
  // Root whose "/" shows up owned by someone else (the overflow uid): root of a user
  // namespace on the host's tree, which may write none of root's directories.
  const rootOwnsRoot = euid === 0 && fs.statSync('/').uid === 0
  return addonDirs(euid, process.env, rootOwnsRoot ? undefined : os.homedir(), rootOwnsRoot)
}

/** The copy to load: the parent's (in the init stage), or one cached by an earlier run. */
function cachedAddon(euid: number): string | undefined {
  const { size } = __RUNT_KOFFI__
  // The init stage runs with a clean environment holding only what the parent put there;
  // inside a user namespace the parent's root-owned copy shows up as the overflow uid.
  const fromParent = process.env._RUNT_SYNC_FD !== undefined ? process.env[ENV_ADDON] : undefined
  if (fromParent && usableAddon(fromParent, size, euid, false)) return fromParent
  for (const dir of dirsFor(euid)) {
    const file = path.join(dir, fileName())
    if (usableAddon(file, size, euid)) return file
  }
  return undefined
}

function sha256(bytes: Uint8Array): string {
  // node:crypto costs a few ms to load: only here, on the first run of a build.
  const { createHash } = require('node:crypto') as typeof import('node:crypto')
  return createHash('sha256').update(bytes).digest('hex')
}

/** First run of this binary (or an upgrade): check what we carry, write it, load it. */
function freshAddon(euid: number): Koffi {
  const bytes = fs.readFileSync(embeddedAddon)
  const digest = sha256(bytes)
  if (digest !== __RUNT_KOFFI__.sha256)
    throw new RuntimeError(`the FFI addon inside ${process.execPath} is corrupt (sha256 ${digest})`, 'EADDON')
  const dirs = dirsFor(euid)
  let err: unknown
  for (const dir of dirs) {
    if (!trustedDir(dir, euid)) continue
    const file = path.join(dir, fileName())
    try {
      writeAddon(file, bytes)
      // Not usable: a noexec mount (access(2) says so). The next directory may do.
      if (usableAddon(file, bytes.length, euid)) return open(file)
    } catch (e) {
      err = e
    }
  }
  const why = err instanceof Error ? `: ${err.message}` : ''
  throw new RuntimeError(`cannot keep the FFI addon in an executable directory (tried ${dirs.join(', ')})${why}`, 'EADDON')
}

function open(file: string): Koffi {
  const m = { exports: {} as Koffi }
  process.dlopen(m, file)
  if ((m.exports as unknown as { version: string }).version !== __RUNT_KOFFI__.version)
    throw new RuntimeError('Mismatched native Koffi modules', 'EADDON')
  setLoadedAddon(file)
  return m.exports
}

function loadNative(): Koffi {
  const euid = process.geteuid?.() ?? 0
  const file = cachedAddon(euid)
  if (file !== undefined) {
    try {
      return open(file)
    } catch {
      /* damaged or replaced by a different build: write a fresh copy */
    }
  }
  return freshAddon(euid)
}

const koffi: Koffi = loadNative()

export default koffi

// Where koffi comes from in the single binary (scripts/build.mjs puts this module in place of
// sys/koffi.ts). The native addon is a SEA asset of the executable; sys/koffi-addon.ts keeps
// a checked copy on disk for process.dlopen(). What follows the dlopen mirrors koffi's own
// index.cjs (wrapNative). Run with plain node (`node dist/runt.cjs`), koffi comes from
// node_modules as usual.

import * as os from 'node:os'
import * as path from 'node:path'
import * as util from 'node:util'
import type koffiApi from 'koffi'
import { ENV_ADDON, addonDirs, setLoadedAddon, trustedDir, usableAddon, writeAddon } from './koffi-addon.js'

type Koffi = typeof koffiApi

/** Set by the build: the addon the binary carries. */
declare const __RUNT_KOFFI__: { version: string; sha256: string; size: number; asset: string }

type Sea = { isSea(): boolean; getRawAsset(key: string): ArrayBuffer }

function sea(): Sea | null {
  try {
    const s = require('node:sea') as Sea
    return s.isSea() ? s : null
  } catch {
    return null
  }
}

function fileName(): string {
  return `koffi-${__RUNT_KOFFI__.version}-${__RUNT_KOFFI__.sha256.slice(0, 16)}.node`
}

/** The copy to load: the parent's (in the init stage), or one cached by an earlier run. */
function cachedAddon(euid: number): string | undefined {
  const { size } = __RUNT_KOFFI__
  // The init stage runs with a clean environment holding only what the parent put there;
  // inside a user namespace the parent's root-owned copy shows up as the overflow uid.
  const fromParent = process.env._RUNT_SYNC_FD !== undefined ? process.env[ENV_ADDON] : undefined
  if (fromParent && usableAddon(fromParent, size, euid, false)) return fromParent
  for (const dir of addonDirs(euid, process.env, euid === 0 ? undefined : os.homedir())) {
    const file = path.join(dir, fileName())
    if (usableAddon(file, size, euid)) return file
  }
  return undefined
}

/** First run of this binary (or an upgrade): check what we carry, write it, load it. */
function freshAddon(s: Sea, euid: number): Koffi {
  const bytes = new Uint8Array(s.getRawAsset(__RUNT_KOFFI__.asset))
  // node:crypto costs about 3 ms to load: only here, never on the common path.
  const { createHash } = require('node:crypto') as typeof import('node:crypto')
  const digest = createHash('sha256').update(bytes).digest('hex')
  if (digest !== __RUNT_KOFFI__.sha256) throw new Error(`the FFI addon inside ${process.execPath} is corrupt (sha256 ${digest})`)
  const dirs = addonDirs(euid, process.env, euid === 0 ? undefined : os.homedir())
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
  throw new Error(`cannot keep the FFI addon in an executable directory (tried ${dirs.join(', ')})${why}`)
}

function open(file: string): Koffi {
  const m = { exports: {} as Koffi }
  process.dlopen(m, file)
  const k = wrapNative(m.exports)
  setLoadedAddon(file)
  return k
}

function loadNative(): Koffi {
  const s = sea()
  // Plain node running the bundle: koffi from node_modules next to it.
  if (!s) return require('koffi') as Koffi
  const euid = process.geteuid?.() ?? 0
  const file = cachedAddon(euid)
  if (file !== undefined) {
    try {
      return open(file)
    } catch {
      /* damaged or replaced by a different build: write a fresh copy */
    }
  }
  return freshAddon(s, euid)
}

/** koffi's index.cjs after the native module is loaded: version check and deprecated aliases. */
function wrapNative(native: Koffi): Koffi {
  const n = native as unknown as Record<string, unknown> & Koffi
  if (n.version !== __RUNT_KOFFI__.version) throw new Error('Mismatched native Koffi modules')
  const load = n.load
  const register = n.register as (...args: unknown[]) => unknown
  n.register = ((...args: unknown[]) => {
    if (args.length >= 3 && typeof args[1] == 'function') {
      process.emitWarning(
        'Using koffi.register() with a custom this value was deprecated in Koffi 2.17, use function.bind() instead',
        'DeprecationWarning',
        'KOFFI009',
      )
      args[1] = (args[1] as (...a: unknown[]) => unknown).bind(args[0])
      args = args.slice(1)
    }
    return register(...args)
  }) as Koffi['register']
  n.load = ((...args: Parameters<Koffi['load']>) => {
    const lib = load(...args)
    const func = lib.func as (...a: unknown[]) => unknown
    const ext = lib as unknown as Record<string, unknown>
    ext.cdecl = util.deprecate(
      (...a: unknown[]) => func('__cdecl', ...a),
      'The koffi.cdecl() function was deprecated in Koffi 2.7, use koffi.func(...) instead',
      'KOFFI003',
    )
    ext.stdcall = util.deprecate(
      (...a: unknown[]) => func('__stdcall', ...a),
      'The koffi.stdcall() function was deprecated in Koffi 2.7, use koffi.func("__stdcall", ...) instead',
      'KOFFI004',
    )
    ext.fastcall = util.deprecate(
      (...a: unknown[]) => func('__fastcall', ...a),
      'The koffi.fastcall() function was deprecated in Koffi 2.7, use koffi.func("__fastcall", ...) instead',
      'KOFFI005',
    )
    ext.thiscall = util.deprecate(
      (...a: unknown[]) => func('__thiscall', ...a),
      'The koffi.thiscall() function was deprecated in Koffi 2.7, use koffi.func("__thiscall", ...) instead',
      'KOFFI006',
    )
    return lib
  }) as Koffi['load']
  n.resolve = util.deprecate(
    n.type,
    'The koffi.resolve() function was deprecated in Koffi 3.0, use koffi.type() instead',
    'KOFFI007',
  ) as Koffi['resolve']
  n.introspect = util.deprecate(
    n.type,
    'The koffi.introspect() function was deprecated in Koffi 3.0, use koffi.type() instead',
    'KOFFI008',
  ) as Koffi['introspect']
  return native
}

const koffi: Koffi = loadNative()

export default koffi

// OCI hooks: run one hook list with the container state JSON on stdin, only the hook's own
// args and env, killed at its timeout; stdout and stderr are captured into the error. Which
// hooks run where (runtime or container namespace) is decided by the callers.

import * as fs from 'node:fs'
import { childProcess } from './sys/child-process.js'
import { RuntimeError, bounded, fsErrorText } from './errors.js'
import { timed } from './log.js'

export type Hook = { path: string; args?: string[]; env?: string[]; timeout?: number }
export type HookName = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop'

export class HookError extends RuntimeError {
  constructor(message: string) {
    super(message, 'EHOOK')
    this.name = 'HookError'
  }
}

/** The hook's own environment: its `env` entries of the form NAME=VALUE, nothing inherited. */
export function hookEnv(env: string[] | undefined): string[] {
  return (env ?? []).filter((kv) => kv.indexOf('=') > 0)
}

function envObject(env: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const kv of hookEnv(env)) {
    const i = kv.indexOf('=')
    out[kv.slice(0, i)] = kv.slice(i + 1)
  }
  return out
}

export type HookFailure = {
  output?: string
  timedOut?: boolean
  /** The hook could not be started (fork/exec). */
  execError?: unknown
  signal?: string
  status?: number
  /** Anything else, said as is. */
  detail?: string
}

/** The HookError for hook #i of `name`, with what it printed. */
export function hookError(name: HookName, i: number, h: Hook, f: HookFailure): HookError {
  const out = f.output?.trim()
  const tail = out ? `, stdout/stderr: ${bounded(out, 2000)}` : ''
  const label = `${name} hook #${i} (${h.path})`
  // runc's words: "fork/exec /x: no such file or directory", not Node's spawnSync text.
  const what = f.timedOut
    ? `timeout after ${h.timeout}s`
    : f.execError !== undefined
      ? fsErrorText(f.execError, 'fork/exec', h.path)
      : f.signal
        ? `killed by signal ${f.signal}`
        : f.status !== undefined
          ? `exit status ${f.status}`
          : (f.detail ?? 'failed')
  return new HookError(`error running ${label}: ${what}${tail}`)
}

/**
 * Run `hooks` in order; the first failure throws a HookError naming the hook and its output.
 * `cwd` is their working directory, as runc gives it: the bundle for the hooks in the runtime
 * namespace, the rootfs for createContainer. A directory that is gone by then (a bundle an
 * engine removed before `delete`) leaves them in ours, rather than failing the hook.
 */
export function runHooks(name: HookName, hooks: Hook[] | undefined, state: object, cwd?: string): void {
  if (!hooks?.length) return
  const input = JSON.stringify(state)
  const dir = cwd !== undefined && isDir(cwd) ? cwd : undefined
  hooks.forEach((h, i) =>
    timed(
      () => `hook: ${hookLabel(name, i, h)}`,
      () => runOne(name, i, h, input, dir),
    ),
  )
}

/** "prestart[0] /usr/bin/hook": the record name of one hook. */
export function hookLabel(name: HookName, i: number, h: Hook): string {
  return `${name}[${i}] ${h.path}`
}

function runOne(name: HookName, i: number, h: Hook, input: string, dir: string | undefined): void {
  const args = h.args ?? [h.path]
  const { spawnSync } = childProcess()
  const r = spawnSync(h.path, args.slice(1), {
    ...(dir !== undefined ? { cwd: dir } : {}),
    argv0: args[0] ?? h.path,
    env: envObject(h.env),
    input,
    timeout: h.timeout ? h.timeout * 1000 : undefined,
    killSignal: 'SIGKILL',
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 4 * 1024 * 1024,
  })
  const output = `${r.stdout?.toString() ?? ''}${r.stderr?.toString() ?? ''}`
  // A hook that exits without reading its stdin makes our write fail with EPIPE: not an
  // error of the hook's; its exit status decides.
  if (r.error && (r.error as NodeJS.ErrnoException).code !== 'EPIPE') {
    const code = (r.error as NodeJS.ErrnoException).code
    if (code === 'ETIMEDOUT') throw hookError(name, i, h, { timedOut: true, output })
    throw hookError(name, i, h, { execError: r.error, output })
  }
  if (r.signal) throw hookError(name, i, h, { signal: r.signal, output })
  if (r.status !== 0) throw hookError(name, i, h, { status: r.status ?? -1, output })
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory()
  } catch {
    return false
  }
}

// OCI hooks: run one hook list with the container state JSON on stdin, only the hook's own
// args and env, killed at its timeout; stdout and stderr are captured into the error. Which
// hooks run where (runtime or container namespace) is decided by the callers.

import { childProcess } from './sys/child-process.js'
import { RuntimeError, bounded, fsErrorText } from './errors.js'

export type Hook = { path: string; args?: string[]; env?: string[]; timeout?: number }
export type HookName = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop'

export class HookError extends RuntimeError {
  constructor(message: string) {
    super(message, 'EHOOK')
    this.name = 'HookError'
  }
}

function envObject(env: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const kv of env ?? []) {
    const i = kv.indexOf('=')
    if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1)
  }
  return out
}

/** Run `hooks` in order; the first failure throws a HookError naming the hook and its output. */
export function runHooks(name: HookName, hooks: Hook[] | undefined, state: object): void {
  const input = JSON.stringify(state)
  ;(hooks ?? []).forEach((h, i) => {
    const args = h.args ?? [h.path]
    const { spawnSync } = childProcess()
    const r = spawnSync(h.path, args.slice(1), {
      argv0: args[0] ?? h.path,
      env: envObject(h.env),
      input,
      timeout: h.timeout ? h.timeout * 1000 : undefined,
      killSignal: 'SIGKILL',
      stdio: ['pipe', 'pipe', 'pipe'],
      maxBuffer: 4 * 1024 * 1024,
    })
    const out = `${r.stdout?.toString() ?? ''}${r.stderr?.toString() ?? ''}`.trim()
    const tail = out ? `, stdout/stderr: ${bounded(out, 2000)}` : ''
    const label = `${name} hook #${i} (${h.path})`
    // A hook that exits without reading its stdin makes our write fail with EPIPE: not an
    // error of the hook's; its exit status decides.
    if (r.error && (r.error as NodeJS.ErrnoException).code !== 'EPIPE') {
      const code = (r.error as NodeJS.ErrnoException).code
      if (code === 'ETIMEDOUT') throw new HookError(`error running ${label}: timeout after ${h.timeout}s${tail}`)
      // runc's words: "fork/exec /x: no such file or directory", not Node's spawnSync text.
      throw new HookError(`error running ${label}: ${fsErrorText(r.error, 'fork/exec', h.path)}${tail}`)
    }
    if (r.signal) throw new HookError(`error running ${label}: killed by signal ${r.signal}${tail}`)
    if (r.status !== 0) throw new HookError(`error running ${label}: exit status ${r.status}${tail}`)
  })
}

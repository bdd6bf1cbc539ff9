// Error classes shared by every layer. Errors carry data (errno, path, spec field) and are
// rendered to text in exactly one place (cli/report.ts). They cross the parent/init socket as
// JSON (toWire/fromWire) so the parent can rethrow the same class the init threw.

export type ErrorWire = {
  name: string
  message: string
  code: string
  exitCode?: number
  syscall?: string
  errno?: number
  errnoName?: string
  path?: string
  path2?: string
  detail?: Record<string, string>
  step?: string
  issues?: SpecIssue[]
  cause?: ErrorWire
}

/** Base of every expected failure: a stable E-prefixed code and the process exit code. */
export class RuntimeError extends Error {
  code: string
  exitCode: number
  /** What failed while undoing after this error (cli/report.ts logs them after it). */
  cleanup?: Error[]
  constructor(message: string, code = 'ERUNTIME', exitCode = 1) {
    super(message)
    this.name = 'RuntimeError'
    this.code = code
    this.exitCode = exitCode
  }
}

export type SpecIssue = { path: string; message: string }

/** config.json is malformed or violates a spec rule; `issues` name the JSON path of each. */
export class SpecError extends RuntimeError {
  issues: SpecIssue[]
  constructor(issues: SpecIssue[], prefix = 'invalid config.json') {
    super(
      issues.length === 1 ? `${prefix}: ${formatIssue(issues[0]!)}` : `${prefix}: ${issues.map(formatIssue).join('; ')}`,
      'ESPEC',
    )
    this.name = 'SpecError'
    this.issues = issues
  }
}

const formatIssue = (i: SpecIssue) => (i.path ? `${i.path}: ${i.message}` : i.message)

/** A container state problem: unknown id, wrong status, id in use. */
export class StateError extends RuntimeError {
  constructor(message: string, code: string) {
    super(message, code)
    this.name = 'StateError'
  }
}

/** Bad command-line usage. runc exits 1 for these, 3 for an unknown command. */
export class UsageError extends RuntimeError {
  constructor(message: string, exitCode = 1) {
    super(message, 'EUSAGE', exitCode)
    this.name = 'UsageError'
  }
}

/** A failed system call, with the errno read right after it. */
export class SysError extends RuntimeError {
  syscall: string
  errno: number
  errnoName: string
  path?: string
  path2?: string
  detail?: Record<string, string>
  constructor(opts: {
    syscall: string
    errno: number
    errnoName: string
    strerror: string
    path?: string
    path2?: string
    detail?: Record<string, string>
  }) {
    super(SysError.format(opts), opts.errnoName)
    this.name = 'SysError'
    this.syscall = opts.syscall
    this.errno = opts.errno
    this.errnoName = opts.errnoName
    if (opts.path !== undefined) this.path = opts.path
    if (opts.path2 !== undefined) this.path2 = opts.path2
    if (opts.detail !== undefined) this.detail = opts.detail
  }

  static format(o: {
    syscall: string
    errnoName: string
    strerror: string
    path?: string
    path2?: string
    detail?: Record<string, string>
  }): string {
    let head = o.syscall
    if (o.path !== undefined && o.path2 !== undefined) head += ` ${o.path} to ${o.path2}`
    else if (o.path !== undefined) head += ` ${o.path}`
    if (o.detail) {
      const d = Object.entries(o.detail)
        .filter(([, v]) => v !== '')
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')
      if (d) head += ` (${d})`
    }
    return `${head}: ${o.strerror}`
  }
}

/** A failure while carrying out one step of a plan; `step` points back into the spec. */
export class StepError extends RuntimeError {
  step: string
  override cause: Error
  constructor(step: string, cause: Error, what?: string) {
    const label = what ? `${step} ${what}` : step
    super(`${label}: ${cause.message}`, cause instanceof RuntimeError ? cause.code : 'ESTEP')
    this.name = 'StepError'
    this.step = step
    this.cause = cause
  }
}

/** Run one step of a plan; a failure becomes a StepError naming `field` (the first one wins). */
export function step<T>(field: string, fn: () => T): T {
  try {
    return fn()
  } catch (e) {
    if (e instanceof StepError) throw e
    throw new StepError(field, e as Error)
  }
}

export function toWire(err: unknown): ErrorWire {
  if (!(err instanceof Error)) return { name: 'RuntimeError', message: String(err), code: 'ERUNTIME' }
  const w: ErrorWire = {
    name: err.name,
    message: err.message,
    code: err instanceof RuntimeError ? err.code : 'EINTERNAL',
  }
  if (err instanceof RuntimeError) w.exitCode = err.exitCode
  if (err instanceof SysError) {
    w.syscall = err.syscall
    w.errno = err.errno
    w.errnoName = err.errnoName
    if (err.path !== undefined) w.path = err.path
    if (err.path2 !== undefined) w.path2 = err.path2
    if (err.detail !== undefined) w.detail = err.detail
  }
  if (err instanceof SpecError) w.issues = err.issues
  if (err instanceof StepError) {
    w.step = err.step
    w.cause = toWire(err.cause)
  }
  return w
}

/** Rebuild an error received from the init stage; the message is kept verbatim. */
export function fromWire(w: ErrorWire): RuntimeError {
  let e: RuntimeError
  switch (w.name) {
    case 'SysError': {
      const o: ConstructorParameters<typeof SysError>[0] = {
        syscall: w.syscall ?? '',
        errno: w.errno ?? 0,
        errnoName: w.errnoName ?? w.code,
        strerror: '',
      }
      if (w.path !== undefined) o.path = w.path
      if (w.path2 !== undefined) o.path2 = w.path2
      if (w.detail !== undefined) o.detail = w.detail
      e = new SysError(o)
      break
    }
    case 'StepError': {
      const cause = w.cause ? fromWire(w.cause) : new RuntimeError('unknown cause')
      e = new StepError(w.step ?? '', cause)
      break
    }
    case 'SpecError':
      e = new SpecError(w.issues ?? [])
      break
    case 'StateError':
      e = new StateError(w.message, w.code)
      break
    default:
      e = new RuntimeError(w.message, w.code)
  }
  e.message = w.message
  e.name = w.name === 'Error' || w.name === 'TypeError' ? 'RuntimeError' : w.name
  if (w.exitCode !== undefined) e.exitCode = w.exitCode
  return e
}

/** Prefix a message with context, keeping class and data: `wrap(err, 'runt create failed')`. */
export function withContext<E extends Error>(err: E, context: string): E {
  err.message = `${context}: ${err.message}`
  return err
}

/**
 * A failure while undoing what a failed command had made: kept on the error that caused the
 * undo, never replacing it.
 */
export function attachCleanup(cause: unknown, failure: unknown): void {
  if (typeof cause !== 'object' || cause === null) return
  const c = cause as { cleanup?: Error[] }
  ;(c.cleanup ??= []).push(failure instanceof Error ? failure : new RuntimeError(String(failure)))
}

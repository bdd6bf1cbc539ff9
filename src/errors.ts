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
  cleanup?: ErrorWire[]
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
    super(`${prefix}: ${formatIssues(issues)}`, 'ESPEC')
    this.name = 'SpecError'
    this.issues = issues
  }
}

/** How many distinct faults a message names; the rest are counted. */
const MAX_ISSUES = 10

/**
 * The issues as one line of bounded length: a fault repeated on many fields is said once with
 * its count (10000 duplicated namespaces are one line, not 500 KB), at most MAX_ISSUES
 * distinct ones, each path and message cut to a head.
 */
export function formatIssues(issues: SpecIssue[]): string {
  const count = new Map<string, number>()
  for (const i of issues) count.set(i.message, (count.get(i.message) ?? 0) + 1)
  const said = new Set<string>()
  const parts: string[] = []
  let rest = 0
  for (const i of issues) {
    const n = count.get(i.message)!
    // A fault on a few fields is said for each; on more, once, with the count.
    if (n > REPEATS_LISTED && said.has(i.message)) continue
    if (parts.length === MAX_ISSUES) {
      rest++
      continue
    }
    said.add(i.message)
    const head = i.path ? `${bounded(i.path, 200)}: ${bounded(i.message, 400)}` : bounded(i.message, 400)
    parts.push(n > REPEATS_LISTED ? `${head} (and ${n - 1} more like it)` : head)
  }
  return parts.join('; ') + (rest > 0 ? `; and ${rest} more` : '')
}

/** A fault repeated on more fields than this is said once. */
const REPEATS_LISTED = 3

/**
 * `text` cut to its first `max` characters, saying how long it was: every error message stays
 * bounded whatever the input held (a 10 MB hostname gives a short error).
 */
export function bounded(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max)}... (${text.length} characters)`
}

/** A container state problem: unknown id, wrong status, id in use. */
export class StateError extends RuntimeError {
  constructor(message: string, code: string) {
    super(message, code)
    this.name = 'StateError'
  }
}

/**
 * A broken invariant of runt's own (a bug, never bad input): reported as "internal error",
 * and named so, so that a test can tell it from a refusal.
 */
export class InternalError extends RuntimeError {
  constructor(message: string) {
    super(`internal error: ${message}`, 'EINTERNAL')
    this.name = 'InternalError'
  }
}

/**
 * CRIU refused or failed a request: as runc words it (`criu failed: type DUMP errno 0`), with
 * the path of CRIU's log, where the reason is.
 */
export class CriuError extends RuntimeError {
  logFile?: string
  constructor(message: string, logFile?: string) {
    super(logFile ? `${message}\nlog file: ${logFile}` : message, 'ECRIU')
    this.name = 'CriuError'
    if (logFile) this.logFile = logFile
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
    if (o.path !== undefined && o.path2 !== undefined) head += ` ${bounded(o.path)} to ${bounded(o.path2)}`
    else if (o.path !== undefined) head += ` ${bounded(o.path)}`
    if (o.detail) {
      const d = Object.entries(o.detail)
        .filter(([, v]) => v !== '')
        .map(([k, v]) => `${k}=${bounded(v)}`)
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
  const cleanup = (err as { cleanup?: Error[] }).cleanup
  if (cleanup?.length) w.cleanup = cleanup.map(toWire)
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
  if (w.cleanup?.length) e.cleanup = w.cleanup.map(fromWire)
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

// ---------------------------------------------------------------------------------------------
// runc's texts that engines and scripts match (containerd's shim, podman, docker look for
// these words), typed once.

export const TEXT = {
  notExist: 'container does not exist',
  exists: 'container with given ID already exists',
  notRunning: 'container not running',
  startStopped: 'cannot start a container that has stopped',
  startRunning: 'cannot start an already running container',
  startPaused: 'cannot start a paused container',
  execStopped: 'cannot exec in a stopped container',
  setupUser: 'unable to setup user',
  seccompAgent: 'failed to connect with seccomp agent specified in the seccomp profile',
} as const

export const notExist = (): StateError => new StateError(TEXT.notExist, 'ENOTEXIST')
export const notRunning = (): StateError => new StateError(TEXT.notRunning, 'ENOTRUNNING')

// ---------------------------------------------------------------------------------------------
// File-system errors as Go's os package words them, as runc prints them: "open /run/runt:
// permission denied", never Node's "EACCES: permission denied, scandir '/run/runt'".

/** strerror(3) texts, lowercased as Go prints them, by errno name. */
const ERRNO_TEXT: Record<string, string> = {
  E2BIG: 'argument list too long',
  EACCES: 'permission denied',
  EAGAIN: 'resource temporarily unavailable',
  EBADF: 'bad file descriptor',
  EBUSY: 'device or resource busy',
  EEXIST: 'file exists',
  EFAULT: 'bad address',
  EINVAL: 'invalid argument',
  EIO: 'input/output error',
  EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'file name too long',
  ENODEV: 'no such device',
  ENOENT: 'no such file or directory',
  ENOMEM: 'cannot allocate memory',
  ENOSPC: 'no space left on device',
  ENOSYS: 'function not implemented',
  ENOTDIR: 'not a directory',
  ENOTEMPTY: 'directory not empty',
  ENOTSUP: 'operation not supported',
  ENXIO: 'no such device or address',
  EOPNOTSUPP: 'operation not supported',
  EPERM: 'operation not permitted',
  ERANGE: 'numerical result out of range',
  EROFS: 'read-only file system',
  ESRCH: 'no such process',
  ETXTBSY: 'text file busy',
  EXDEV: 'invalid cross-device link',
}

/** Node's syscall names where Go's os package reports another operation. */
const GO_OPS: Record<string, string> = { scandir: 'open', unlink: 'remove', rmdir: 'remove', fstat: 'stat' }

/** The errno name of a Node file-system error (EIO when it has none). */
export function errnoCode(e: unknown): string {
  return (e as NodeJS.ErrnoException | undefined)?.code ?? 'EIO'
}

/** What went wrong, in strerror(3)'s words: "no such file or directory". */
export function errnoText(e: unknown): string {
  if (e instanceof RuntimeError) return e.message
  const code = (e as NodeJS.ErrnoException | undefined)?.code
  if (code && ERRNO_TEXT[code]) return ERRNO_TEXT[code]
  const m = e instanceof Error ? /^[A-Z0-9_]+: (.+?), [a-z_]+(?: '|$)/.exec(e.message) : null
  return m?.[1] ?? code ?? (e instanceof Error ? e.message : String(e))
}

/**
 * Node's file-system error as Go words it: "<op> <path> [<dest>]: <text>", with the operation
 * and path Node recorded, or the ones given.
 */
export function fsErrorText(e: unknown, op?: string, path?: string): string {
  const n = e as NodeJS.ErrnoException & { dest?: string }
  const syscall = op ?? n.syscall ?? 'open'
  const verb = GO_OPS[syscall] ?? syscall
  const where = [path ?? n.path, path === undefined ? n.dest : undefined].filter((p) => p !== undefined).join(' ')
  return where ? `${verb} ${where}: ${errnoText(e)}` : `${verb}: ${errnoText(e)}`
}

/** A RuntimeError for a failed file-system call, worded as Go words it, coded by errno. */
export function fsError(e: unknown, op?: string, path?: string, prefix?: string, suffix = ''): RuntimeError {
  const text = fsErrorText(e, op, path) + suffix
  return new RuntimeError(prefix ? `${prefix}: ${text}` : text, errnoCode(e))
}

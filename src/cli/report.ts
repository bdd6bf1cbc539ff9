// The one place that turns an error into stderr text, a --log record and an exit code.
// runc's behaviour: without --log the logrus line goes to stderr; with --log the record goes
// to the file and the bare message to stderr. Expected errors never show a stack trace.

import { RuntimeError, bounded, fsErrorText } from '../errors.js'
import { nodeFs, writeAll } from '../sys/file.js'

/** No error message is longer than this, whatever produced it. */
const MAX_MESSAGE = 4096
import { logger } from '../log.js'

export type Exit = { code: number }

/** Text of an error as it should reach a user: message only, plus cause chain if distinct. */
export function describe(err: unknown): string {
  if (err instanceof RuntimeError) return err.message
  if (err instanceof Error) {
    const e = err as NodeJS.ErrnoException
    if (e.code && e.syscall) return fsErrorText(e)
    // An unexpected failure (a bug): keep it one line, but say it is internal.
    return e.code ? `${err.message}` : `internal error: ${err.message}`
  }
  return String(err)
}

export function exitCodeOf(err: unknown): number {
  return err instanceof RuntimeError ? err.exitCode : 1
}

/** Report a fatal error and return the exit code to use. */
export function reportError(err: unknown, context?: string): number {
  const log = logger()
  let msg = bounded(describe(err), MAX_MESSAGE)
  if (context) msg = `${context}: ${msg}`
  // Before the error: engines take the last record as the reason.
  for (const c of (err as { cleanup?: Error[] } | null)?.cleanup ?? []) log.warn(`cleanup after the failure: ${describe(c)}`)
  log.error(msg)
  if (log.toFile) {
    try {
      nodeFs().writeSync(2, msg + '\n')
    } catch {
      /* stderr closed */
    }
  }
  if (process.env.RUNT_DEBUG_STACK && err instanceof Error && err.stack) {
    try {
      nodeFs().writeSync(2, err.stack + '\n')
    } catch {
      /* ignore */
    }
  }
  return exitCodeOf(err)
}

/** Write all of `text` to stdout before the command returns its exit code. */
export function print(text: string): Promise<void> {
  return writeAll(1, text)
}

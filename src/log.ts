// Log records in runc's shapes. JSON: {"level":"error","msg":"...","time":"<RFC3339>"} (what
// containerd's shim parses from --log); text: time="..." level=error msg="..." (logrus).
// The destination is --log FILE, else stderr. Never decides exit codes (cli/report.ts does).

import { nodeFs, pathExists } from './sys/file.js'

export type Level = 'debug' | 'info' | 'warning' | 'error'
export type LogFormat = 'text' | 'json'

const ORDER: Record<Level, number> = { debug: 0, info: 1, warning: 2, error: 3 }

export function rfc3339(d = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** logrus' text quoting: quote unless every character is [A-Za-z0-9-._/@^+], escape like Go's %q. */
function quote(s: string): string {
  return /^[A-Za-z0-9\-._/@^+]*$/.test(s) ? s : goQuote(s)
}

const GO_ESCAPES: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '"': '\\"',
  '\\': '\\\\',
}

/** strconv.Quote: printable runes as they are (unicode.IsPrint: letters, marks, numbers, punctuation, symbols, ASCII space). */
function goQuote(s: string): string {
  let out = '"'
  for (const ch of s) {
    const c = ch.codePointAt(0)!
    const hex = (n: number) => c.toString(16).padStart(n, '0')
    if (GO_ESCAPES[ch] !== undefined) out += GO_ESCAPES[ch]
    else if (c < 0x80) out += c >= 0x20 && c < 0x7f ? ch : '\\x' + hex(2)
    else if (c >= 0xd800 && c <= 0xdfff)
      out += '\ufffd' // a lone surrogate reaches Go as U+FFFD
    else if (/[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(ch)) out += ch
    else out += c > 0xffff ? '\\U' + hex(8) : '\\u' + hex(4)
  }
  return out + '"'
}

export function formatRecord(format: LogFormat, level: Level, msg: string, time = rfc3339()): string {
  if (format === 'json') return JSON.stringify({ level, msg, time }) + '\n'
  return `time=${quote(time)} level=${level} msg=${quote(msg)}\n`
}

export class Logger {
  private fd: number | null = null
  constructor(
    readonly file: string | undefined,
    readonly format: LogFormat,
    readonly minLevel: Level,
  ) {}

  /** True when records go to a file rather than stderr. */
  get toFile(): boolean {
    return this.file !== undefined && this.file !== ''
  }

  /** True when debug records are written (--debug). */
  get debugEnabled(): boolean {
    return this.minLevel === 'debug'
  }

  private out(): number {
    if (!this.toFile) return 2
    if (this.fd === null) {
      const fs = nodeFs()
      this.fd = fs.openSync(
        this.file!,
        fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | 0o2000000 /* O_CLOEXEC */,
        0o644,
      )
    }
    return this.fd
  }

  /**
   * Make --log FILE exist now, as runc does at start: the file exists after any command given
   * it, a successful one that logs nothing included. A file already there (a bundle's
   * log.json after the first command) is opened at the first record only, so `state` loads
   * no node:fs for it. A file that cannot be opened is retried at the first record, whose
   * write then fails quietly as before.
   */
  async open(): Promise<void> {
    if (!this.toFile || (await pathExists(this.file!))) return
    try {
      this.out()
    } catch {
      /* see log() */
    }
  }

  log(level: Level, msg: string): void {
    if (ORDER[level] < ORDER[this.minLevel]) return
    try {
      nodeFs().writeSync(this.out(), formatRecord(this.format, level, msg))
    } catch {
      /* a log that cannot be written must not turn success into failure */
    }
  }

  debug(msg: string): void {
    this.log('debug', msg)
  }
  info(msg: string): void {
    this.log('info', msg)
  }
  warn(msg: string): void {
    this.log('warning', msg)
  }
  error(msg: string): void {
    this.log('error', msg)
  }
}

let current = new Logger(undefined, 'text', 'warning')

export function setLogger(l: Logger): void {
  current = l
}
export function logger(): Logger {
  return current
}

// --- --debug step timing ------------------------------------------------------------------
// `timed(what, fn)` runs fn and, only when a sink is set, emits one debug record "<what>
// <duration>" (or "<what> failed after <duration>"). The CLI sets the sink to its logger with
// --debug; the init stage sets it to the sync channel, so its records reach the parent's
// destination. Without --debug the sink is null and timed() costs one check.

export type TraceSink = (msg: string) => void

let sink: TraceSink | null = null

/** Where timed records go; null turns timing off. */
export function setTrace(s: TraceSink | null): void {
  sink = s
}

/** True when --debug records are wanted (the cheap check for callers that build details). */
export function tracing(): boolean {
  return sink !== null
}

/** A debug record without a timing (a summary or a decision), when tracing. */
export function trace(msg: string): void {
  if (sink !== null) sink(msg)
}

/** 0.042 -> "0.04ms", 3.14159 -> "3.1ms", 123.4 -> "123ms". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) ms = 0
  if (ms < 10) return `${ms.toFixed(2)}ms`
  if (ms < 100) return `${ms.toFixed(1)}ms`
  return `${Math.round(ms)}ms`
}

/** Milliseconds since `t0` (a performance.now() value). */
export function since(t0: number): number {
  return performance.now() - t0
}

/**
 * Run `fn`; when tracing, record how long it took under `what` ("rootfs: mount /proc (proc)").
 * `what` may be a function, for a label that costs something to build.
 */
export function timed<T>(what: string | (() => string), fn: () => T): T {
  if (sink === null) return fn()
  const t0 = performance.now()
  let ok = false
  try {
    const r = fn()
    ok = true
    return r
  } finally {
    // The sink may be replaced by fn (the init moves it from one channel to the next).
    const s = sink
    if (s !== null) {
      const label = typeof what === 'function' ? what() : what
      s(ok ? `${label} ${formatDuration(since(t0))}` : `${label} failed after ${formatDuration(since(t0))}`)
    }
  }
}

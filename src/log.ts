// Log records in runc's shapes. JSON: {"level":"error","msg":"...","time":"<RFC3339>"} (what
// containerd's shim parses from --log); text: time="..." level=error msg="..." (logrus).
// The destination is --log FILE, else stderr. Never decides exit codes (cli/report.ts does).

import * as fs from 'node:fs'

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
      this.fd = fs.openSync(
        this.file!,
        fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | 0o2000000 /* O_CLOEXEC */,
        0o644,
      )
    }
    return this.fd
  }

  /**
   * Open --log FILE now, as runc does at start: the file exists after any command given it,
   * a successful one that logs nothing included. A file that cannot be opened is retried at
   * the first record, whose write then fails quietly as before.
   */
  open(): void {
    if (!this.toFile) return
    try {
      this.out()
    } catch {
      /* see log() */
    }
  }

  log(level: Level, msg: string): void {
    if (ORDER[level] < ORDER[this.minLevel]) return
    try {
      fs.writeSync(this.out(), formatRecord(this.format, level, msg))
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

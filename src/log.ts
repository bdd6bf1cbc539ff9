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

/** logrus' text quoting: quote when needed, escape like Go's %q. */
function quote(s: string): string {
  return JSON.stringify(s)
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

// The file layer under every cgroup manager: a small `CgroupFs` seam (real node:fs by default,
// a temp-dir tree or a recording fake in tests) and `CgDir`, which writes one control file in
// one write(2) and turns a failure into an error naming the spec field. Never decides values.

import * as fs from 'node:fs'
import * as path from 'node:path'
import { RuntimeError, errnoCode, errnoText } from '../errors.js'

export type CgroupFs = {
  read(file: string): string
  /** One write(2) of `data`; the file must exist (cgroup files are never created). */
  write(file: string, data: string): void
  exists(file: string): boolean
  mkdir(dir: string): void
  rmdir(dir: string): void
  /** Names of the sub-directories of `dir`. */
  subdirs(dir: string): string[]
}

export const realFs: CgroupFs = {
  read: (file) => fs.readFileSync(file, 'utf8'),
  write(file, data) {
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_TRUNC | 0o2000000 /* O_CLOEXEC */)
    try {
      fs.writeSync(fd, data)
    } finally {
      fs.closeSync(fd)
    }
  },
  exists: (file) => fs.existsSync(file),
  mkdir: (dir) => fs.mkdirSync(dir, { mode: 0o755 }),
  rmdir: (dir) => fs.rmdirSync(dir),
  subdirs: (dir) =>
    fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name),
}

/** An error about a cgroup, led by the spec field it concerns. */
export function cgroupError(field: string, message: string): RuntimeError {
  return new RuntimeError(field ? `${field}: ${message}` : message, 'ECGROUP')
}

/** Block the (single) thread for `ms`: the cgroup code is synchronous throughout. */
export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/** One cgroup directory and the file system it lives on. */
export class CgDir {
  constructor(
    readonly path: string,
    readonly io: CgroupFs = realFs,
  ) {}

  file(name: string): string {
    return path.join(this.path, name)
  }

  has(name: string): boolean {
    return this.io.exists(this.file(name))
  }

  /** The file's text, or null when it cannot be read. */
  read(name: string): string | null {
    try {
      return this.io.read(this.file(name))
    } catch {
      return null
    }
  }

  /** Write, returning the errno code of a failure instead of throwing. */
  tryWrite(name: string, value: string | number | bigint): string | null {
    try {
      this.io.write(this.file(name), String(value))
      return null
    } catch (e) {
      return errnoCode(e)
    }
  }

  /** Write, or throw an error naming `field` (the spec field the value came from). */
  write(field: string, name: string, value: string | number | bigint): void {
    const code = this.tryWrite(name, value)
    if (code) throw this.writeError(field, name, value, code)
  }

  writeError(field: string, name: string, value: string | number | bigint, code: string): RuntimeError {
    if (code === 'ENOENT')
      return cgroupError(
        field,
        `${name} does not exist in ${this.path}: the controller is not available here or the kernel does not support it`,
      )
    return cgroupError(field, `write ${JSON.stringify(String(value))} to ${this.file(name)}: ${errnoText({ code })}`)
  }
}

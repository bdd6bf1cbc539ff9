// Files and standard output the cheapest way the runtime has, for the commands an engine sends
// most (`state`, `list`) and for what every command does (print, open --log). In the Bun
// binary the first use of node:fs costs about 200 page faults (3-9 ms, more than the rest of
// `state`), and Bun's own file API does not load it (docs/performance.md, "Where state's time
// goes"); under Node (tests, a checkout) these are node:fs. No FFI here.

import type * as NodeFs from 'node:fs'

type BunFile = { text(): Promise<string>; exists(): Promise<boolean>; stat(): Promise<{ uid: number }> }
type BunGlob = { scanSync(o: { cwd: string; onlyFiles: boolean; dot: boolean }): Iterable<string> }
type BunApi = {
  file(path: string): BunFile
  Glob: new (pattern: string) => BunGlob
  write(dest: unknown, data: string): Promise<number>
  stdout: unknown
  stderr: unknown
}

const bun = (globalThis as { Bun?: BunApi }).Bun

/** node:fs, loaded on first use (synchronous, as `require` would be). */
export function nodeFs(): typeof NodeFs {
  return process.getBuiltinModule('node:fs')
}

/** The whole file as UTF-8; rejects with the errno's `code` (ENOENT...) as node:fs does. */
export function readText(path: string): Promise<string> {
  return bun ? bun.file(path).text() : nodeFs().promises.readFile(path, 'utf8')
}

/** The file as text, or null when it cannot be read (gone, no permission). */
export async function readTextOrNull(path: string): Promise<string | null> {
  try {
    return await readText(path)
  } catch {
    return null
  }
}

/**
 * `path` exists and is not a directory (symlinks followed). Never opens it: a FIFO (exec.fifo)
 * is not blocked on. (Bun's exists() is false for a directory; node:fs is made to agree.)
 */
export function pathExists(path: string): Promise<boolean> {
  if (bun) return bun.file(path).exists()
  try {
    return Promise.resolve(!nodeFs().statSync(path).isDirectory())
  } catch {
    return Promise.resolve(false) // gone, or not reachable (EACCES, ENOTDIR): as existsSync
  }
}

/**
 * Names of the directories in `dir` that hold a file `name`, sorted as runc's list sorts them
 * (dot names included, symlinks to directories not followed); [] when `dir` does not exist.
 */
export function dirsHolding(dir: string, name: string): string[] {
  try {
    if (bun) {
      const suffix = '/' + name
      const found = new bun.Glob('*' + suffix).scanSync({ cwd: dir, onlyFiles: true, dot: true })
      return [...found].map((p) => p.slice(0, -suffix.length)).sort()
    }
    const fs = nodeFs()
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && fs.statSync(`${dir}/${d.name}/${name}`, { throwIfNoEntry: false })?.isFile())
      .map((d) => d.name)
      .sort()
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw e
  }
}

/** The owner (uid) of `path`, symlinks followed; rejects with the errno's `code`. */
export async function ownerOf(path: string): Promise<number> {
  return bun ? (await bun.file(path).stat()).uid : (await nodeFs().promises.stat(path)).uid
}

/** Write all of `text` to stdout (1) or stderr (2), whatever their kind (pipe, tty, file). */
export async function writeAll(fd: 1 | 2, text: string): Promise<void> {
  if (bun) {
    await bun.write(fd === 1 ? bun.stdout : bun.stderr, text)
    return
  }
  const fs = nodeFs()
  let buf = Buffer.from(text)
  while (buf.length) {
    try {
      buf = buf.subarray(fs.writeSync(fd, buf))
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue
      throw e
    }
  }
}

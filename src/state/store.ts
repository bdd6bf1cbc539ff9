// The --root state directory: one directory per container holding state.json (written
// atomically) and exec.fifo while the container is created-but-not-started. A container is
// locked by flock(2) on its directory, so concurrent commands on one id serialize and a lock
// never outlives its directory. Never decides status (state/status.ts does).

import { RuntimeError, StateError, notExist } from '../errors.js'
import { dirsHolding, nodeFs, ownerOf, readText, readTextOrNull } from '../sys/file.js'

export const STATE_FILE = 'state.json'
export const EXEC_FIFO = 'exec.fifo'
export const START_SOCKET = 'init.sock'
/** What a create in progress has made (its init, its cgroup), until state.json replaces it. */
export const CREATING_FILE = 'creating.json'

/** What we persist for a container. The OCI state printed by `state` is derived from it. */
export type ContainerRecord = {
  ociVersion: string
  id: string
  /** Host pid of the container's init (the user process after start). */
  pid: number
  /** /proc/<pid>/stat start time, so a reused pid is not mistaken for our init. */
  pidStartTime: string
  bundle: string
  rootfs: string
  created: string
  annotations?: Record<string, string>
  /** The validated config.json as it was at create time. */
  config: unknown
  /** Paths of the container's namespaces as /proc/<pid>/ns/<type>, keyed by spec type. */
  namespacePaths: Record<string, string>
  /** Cgroup paths per controller ("" for the v2 unified hierarchy). */
  cgroupPaths: Record<string, string>
  /** Whether runt created the cgroups (and so must remove them). */
  cgroupOwned?: boolean
  systemdCgroup?: boolean
  /** linux.intelRdt: the resctrl group the container is in (cgroups/intelrdt.ts). */
  intelRdt?: {
    /** The resctrl mount point. */
    root: string
    /** The CTRL_MON group. */
    path: string
    /** runt created the group and removes it on delete (never a group named by closID). */
    owned: boolean
    /** runt writes the group's schemata (false for an existing group named by closID). */
    written: boolean
    /** The container's own monitoring group (mon_groups/<id>), removed on delete. */
    monPath?: string
  }
  /** Created with --no-new-keyring: exec does not join _ses.<id> either. */
  noNewKeyring?: boolean
  rootless?: boolean
  /** Set by `run` when it is the container's parent and reaps it. */
  parentPid?: number
  /** No mount namespace listed: the container's mounts are in the runtime's (process/shared-mount.ts). */
  sharedRootfs?: SharedRootfs
}

/**
 * Where a container sharing the runtime's mount namespace has its mounts: stacked at
 * `mountPoint` (root.path, resolved) above mount `below` (null: nothing was mounted there), in
 * the mount namespace `mntns` (the nsfs inode and device of /proc/self/ns/mnt).
 */
export type SharedRootfs = { mountPoint: string; below: number | null; mntns: { ino: number; dev: number } }

const ID_RE = /^[\w+.-]+$/

export function validateId(id: string): void {
  if (id === '') throw new StateError('container id cannot be empty', 'EINVALIDID')
  if (!ID_RE.test(id) || id === '.' || id === '..') throw new StateError('invalid container ID format', 'EINVALIDID')
}

/** The user name of `uid` in a passwd file's text, `#uid` when it has none (or no text). */
export function userName(uid: number, passwd: string | null): string {
  for (const line of passwd?.split('\n') ?? []) {
    const f = line.split(':')
    if (f[2] === String(uid) && f[0]) return f[0]
  }
  return `#${uid}`
}

export class Store {
  private passwd: Promise<string | null> | undefined
  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, id)
  }

  ensureRoot(): void {
    nodeFs().mkdirSync(this.root, { recursive: true, mode: 0o700 })
  }

  exists(id: string): boolean {
    return nodeFs().existsSync(join(this.dir(id), STATE_FILE))
  }

  read(id: string): ContainerRecord {
    validateId(id)
    const file = join(this.dir(id), STATE_FILE)
    let text: string
    try {
      text = nodeFs().readFileSync(file, 'utf8')
    } catch (e) {
      throw notExistOr(e)
    }
    return parseRecord(file, text)
  }

  /** read(), without node:fs: for `state` and `list`, which change nothing (sys/file.ts). */
  async readShared(id: string): Promise<ContainerRecord> {
    validateId(id)
    const file = join(this.dir(id), STATE_FILE)
    let text: string
    try {
      text = await readText(file)
    } catch (e) {
      throw notExistOr(e)
    }
    return parseRecord(file, text)
  }

  /**
   * Write state.json atomically: a temp file in the same directory, renamed. Not fsync'd, as
   * runc does not: --root is a tmpfs by convention, and a container's processes do not
   * survive a crash of the machine either (an fsync cost 2-55 ms on this disk).
   */
  write(rec: ContainerRecord): void {
    writeFileAtomic(join(this.dir(rec.id), STATE_FILE), JSON.stringify(rec), 0o600)
  }

  /**
   * Record what a create in progress has made so far, for `delete --force` to undo if the
   * create dies before state.json. Atomic, as state.json.
   */
  writeCreating(rec: ContainerRecord): void {
    writeFileAtomic(join(this.dir(rec.id), CREATING_FILE), JSON.stringify(rec), 0o600)
  }

  /** The record of a create that died before writing state.json, if it got that far. */
  readCreating(id: string): ContainerRecord | null {
    try {
      const rec = JSON.parse(nodeFs().readFileSync(join(this.dir(id), CREATING_FILE), 'utf8')) as unknown
      return recordProblem(rec) === null ? (rec as ContainerRecord) : null
    } catch {
      return null
    }
  }

  removeCreating(id: string): void {
    nodeFs().rmSync(join(this.dir(id), CREATING_FILE), { force: true })
  }

  fifoPath(id: string): string {
    return join(this.dir(id), EXEC_FIFO)
  }

  startSocketPath(id: string): string {
    return join(this.dir(id), START_SOCKET)
  }

  /** Ids with a state file, in name order (runc's list reads the root with os.ReadDir, which sorts). */
  list(): string[] {
    return dirsHolding(this.root, STATE_FILE).filter((n) => ID_RE.test(n) && n !== '.' && n !== '..')
  }

  /** The user who owns the container's directory, by name (`#uid` when /etc/passwd has none), as runc's list. */
  async owner(id: string): Promise<string> {
    const uid = await ownerOf(this.dir(id))
    return userName(uid, await (this.passwd ??= readTextOrNull('/etc/passwd')))
  }

  /** Remove the container's directory and everything in it. */
  remove(id: string): void {
    nodeFs().rmSync(this.dir(id), { recursive: true, force: true })
  }
}

/** `dir`/`name` for a name without slashes (node:path costs a module load on the `state` path). */
function join(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`
}

function notExistOr(e: unknown): unknown {
  return (e as NodeJS.ErrnoException).code === 'ENOENT' ? notExist() : e
}

function parseRecord(file: string, text: string): ContainerRecord {
  let rec: unknown
  try {
    rec = JSON.parse(text)
  } catch {
    throw corrupt(file, 'not JSON')
  }
  const problem = recordProblem(rec)
  if (problem) throw corrupt(file, problem)
  return rec as ContainerRecord
}

function corrupt(file: string, why: string): RuntimeError {
  return new RuntimeError(`corrupt state file ${file}: ${why}`, 'ECORRUPT')
}

/**
 * What is wrong with a parsed state.json, or null: the fields every command reads, by type.
 * Another tool, a full disk or a hand edit can leave anything there.
 */
export function recordProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return `expected an object, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`
  const r = v as Record<string, unknown>
  const want: [string, string][] = [
    ['ociVersion', 'string'],
    ['id', 'string'],
    ['pid', 'number'],
    ['pidStartTime', 'string'],
    ['bundle', 'string'],
    ['rootfs', 'string'],
    ['created', 'string'],
    ['namespacePaths', 'object'],
    ['cgroupPaths', 'object'],
  ]
  for (const [k, type] of want) {
    const got = r[k] === null ? 'null' : Array.isArray(r[k]) ? 'array' : typeof r[k]
    if (got !== type) return `${k}: expected ${type}, got ${got}`
  }
  if (!Number.isSafeInteger(r.pid)) return 'pid: expected an integer'
  for (const [k, p] of Object.entries(r.cgroupPaths as object))
    if (typeof p !== 'string') return `cgroupPaths.${k}: expected string`
  if (typeof r.config !== 'object' || r.config === null) return 'config: expected an object'
  if (r.intelRdt !== undefined) {
    // delete removes these directories: they must lie in the resctrl mount.
    const path = process.getBuiltinModule('node:path')
    const rdt = r.intelRdt as Record<string, unknown> | null
    if (typeof rdt !== 'object' || rdt === null || typeof rdt.root !== 'string' || !path.isAbsolute(rdt.root))
      return 'intelRdt: expected an object with an absolute root'
    for (const k of ['path', 'monPath']) {
      const p = rdt[k]
      if (p === undefined && k === 'monPath') continue
      if (typeof p !== 'string' || path.relative(rdt.root, p).startsWith('..') || !path.isAbsolute(p))
        return `intelRdt.${k}: expected a path in ${rdt.root}`
    }
  }
  return null
}

/** Write `file` as a temp file next to it, renamed over it: readers see the old or the new. */
export function writeFileAtomic(file: string, data: string | Buffer, mode = 0o644): void {
  const fs = nodeFs()
  const path = process.getBuiltinModule('node:path')
  const dir = path.dirname(file)
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`)
  const fd = fs.openSync(tmp, 'w', mode)
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data)
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(tmp, file)
}

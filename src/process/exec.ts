// The host side of `exec`: a new process in every namespace of a running container (the user
// namespace first), in its cgroup, under the confinement its process spec asks for. Stage 1
// joins the namespaces; the init stage, in exec mode, joins the mount namespace and root,
// switches credentials and execs. A failure is "exec failed: ..." with exit status 255.

import * as fs from 'node:fs'
import * as path from 'node:path'
import * as C from '../sys/constants.js'
import { linux as sys } from '../sys/linux.js'
import { RuntimeError, SpecError, StateError, TEXT, fsError } from '../errors.js'
import { MAX_JSON_DEPTH, isPlainObject, jsonDepth, parseProcess } from '../spec/load.js'
import { validateProcess } from '../spec/validate.js'
import type { Process, Spec } from '../spec/schema.js'
import { NS_INFO, type NsType } from '../plan/namespaces.js'
import { capBit, capSets } from '../confine/capabilities.js'
import { Store, writeFileAtomic, type ContainerRecord } from '../state/store.js'
import { lockContainer } from '../state/lock.js'
import { isAlive } from '../state/status.js'
import { statusOfRecord } from '../state/container.js'
import { killAndReap, sameInode, type OpenedJoin } from './host-ns.js'
import type { InitConfig } from './init-config.js'
import { checkTerminal, Launch } from './launch.js'
import { checkInheritedFds, lastCap, processConfig, stateBase } from './create.js'
import { execCgroupTargets, homeCgroups, joinCgroups, warmAttach, warmAttachSoon } from '../cgroups/join.js'
import { probeHost } from '../cgroups/host.js'
import { joinIntelRdt } from '../cgroups/intelrdt.js'
import { logger, timed } from '../log.js'
import { waitChild } from './wait.js'
import { openConsoleSocket, type ConsoleHandle } from './console-host.js'

export type ExecOptions = {
  id: string
  /** Runt runs in a user namespace other than the initial one (the cli's uid_map check). */
  inUserNs?: () => boolean
  store: Store
  /** The command, when there is no --process file. */
  args: string[]
  processFile?: string
  detach: boolean
  pidFile?: string
  tty: boolean
  consoleSocket?: string
  pidfdSocket?: string
  cwd?: string
  env: string[]
  user?: string
  additionalGids: number[]
  caps: string[]
  noNewPrivs: boolean
  apparmor?: string
  processLabel?: string
  preserveFds: number
  ignorePaused: boolean
  cgroup: string[]
}

/** A --process FILE ("-": stdin) read and parsed as JSON; not validated yet. */
export function readProcessFile(file: string): unknown {
  let text: string
  try {
    text = file === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(file, 'utf8')
  } catch (e) {
    throw fsError(e, 'open', file)
  }
  let value: unknown
  try {
    value = JSON.parse(text) as unknown
  } catch (e) {
    throw new SpecError([{ path: '', message: `invalid JSON in ${file}: ${(e as Error).message}` }], 'invalid process file')
  }
  if (jsonDepth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH)
    throw new SpecError(
      [{ path: '', message: `invalid JSON in ${file}: nested deeper than ${MAX_JSON_DEPTH} levels` }],
      'invalid process file',
    )
  return value
}

/**
 * A process file's user as runc reads it: Go decodes `user` into a struct, so a missing user
 * (or uid, or gid) is 0. Engines write process files with no user for root.
 */
export function withDefaultUser(json: unknown): unknown {
  if (!isPlainObject(json)) return json
  const user = json.user ?? {}
  if (!isPlainObject(user)) return json
  return { ...json, user: { ...user, uid: user.uid ?? 0, gid: user.gid ?? 0 } }
}

/** A process file's JSON through the spec's schema and checks. */
export function validProcess(json: unknown): Process {
  let p: Process
  try {
    p = parseProcess(withDefaultUser(json))
  } catch (e) {
    if (e instanceof SpecError) throw new SpecError(e.issues, 'invalid process file')
    throw e
  }
  const { errors } = validateProcess(p)
  if (errors.length) throw new SpecError(errors, 'invalid process file')
  return p
}

/** The process to run: --process FILE as is, or the container's process with the flags. */
export function execProcessSpec(base: Process | undefined, o: ExecOptions): Process {
  if (o.processFile) return validProcess(readProcessFile(o.processFile))
  if (o.args.length === 0) throw new RuntimeError('args must not be empty', 'EARGS')
  const p: Process = {
    ...(base ?? { user: { uid: 0, gid: 0 }, cwd: '/' }),
    args: o.args,
    terminal: o.tty,
    env: [...(base?.env ?? []), ...o.env],
  } as Process
  if (o.cwd) p.cwd = o.cwd
  if (o.user) {
    // runc's -u: uid[:gid], each strconv.Atoi'd, with its texts; exec fails (255), as runc's.
    const [u, g] = o.user.split(':', 2) as [string, string | undefined]
    const atoi = (s: string, what: 'uid' | 'gid') => {
      if (!/^[+-]?\d+$/.test(s))
        throw new RuntimeError(
          `parsing ${s} as int for ${what} failed: strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`,
          'EUSER',
        )
      return Number(s)
    }
    p.user = { ...p.user, uid: atoi(u, 'uid'), gid: g !== undefined ? atoi(g, 'gid') : 0 }
  }
  if (o.additionalGids.length) p.user = { ...p.user, additionalGids: o.additionalGids }
  if (o.caps.length) {
    const caps = { ...(p.capabilities ?? {}) }
    for (const c of o.caps) {
      const name = c.toUpperCase().startsWith('CAP_') ? c.toUpperCase() : 'CAP_' + c.toUpperCase()
      if (capBit(name) < 0) throw new RuntimeError(`unknown capability "${c}"`, 'ECAP')
      for (const set of ['bounding', 'effective', 'permitted'] as const) {
        // ambient/inheritable are left alone: adding a cap there for a non-root user would
        // hand it to every program it runs (CVE-2022-29162).
        const list = caps[set] ?? []
        if (!list.includes(name)) caps[set] = [...list, name]
      }
    }
    p.capabilities = caps
  }
  if (o.noNewPrivs) p.noNewPrivileges = true
  if (o.apparmor) p.apparmorProfile = o.apparmor
  if (o.processLabel) p.selinuxLabel = o.processLabel
  return p
}

/** The container's namespaces other than ours, opened through its init's /proc entries. */
function openContainerNs(rec: ContainerRecord): OpenedJoin[] {
  const out: OpenedJoin[] = []
  try {
    // The init's mount namespace always: with none listed it is the runtime's (the init
    // chrooted there), and the exec init still joins it to chroot into /proc/<init>/root.
    for (const type of new Set([...Object.keys(rec.namespacePaths), 'mount']) as Set<NsType>) {
      const proc = NS_INFO[type].proc
      const p = `/proc/${rec.pid}/ns/${proc}`
      const fd = sys.openat(C.AT_FDCWD, p, C.O_RDONLY)
      const theirs = fs.fstatSync(fd)
      const ours = fs.statSync(`/proc/self/ns/${proc}`)
      if (sameInode(theirs, ours) && type !== 'mount') {
        sys.close(fd)
        continue
      }
      out.push({ type, fd, field: `namespace ${type}`, path: p })
    }
  } catch (e) {
    for (const o of out) sys.close(o.fd)
    throw e
  }
  return out
}

export async function execInContainer(o: ExecOptions): Promise<number> {
  const log = logger()
  const lock = lockContainer(o.store, o.id)
  const fds: number[] = []
  let launch: Launch | null = null
  let pid = 0
  let released = false
  const release = () => {
    if (!released) lock.release()
    released = true
  }
  let console: ConsoleHandle | null = null
  try {
    const rec = o.store.read(o.id)
    const status = statusOfRecord(o.store, rec)
    if (status === 'stopped') throw new StateError(TEXT.execStopped, 'ESTOPPED')
    if (status === 'paused' && !o.ignorePaused)
      throw new StateError('cannot exec in a paused container (use --ignore-paused to override)', 'EPAUSED')
    const spec = rec.config as Spec
    // --cgroup is checked before anything starts, as runc does ("unknown controller ...").
    const cgroups = execCgroupTargets(rec.cgroupPaths, o.cgroup)
    for (const c of cgroups.ignored) log.warn(`--cgroup ${c}:...: ignored: cgroup v2 has one path for every controller`)
    // A process file (how engines call exec) is validated once the init is on its way: zod's
    // 15-20 ms then run while the init boots. Only its terminal flag is needed before the
    // clone, for the console socket; a file that fails validation kills the init.
    const raw = o.processFile ? readProcessFile(o.processFile) : undefined
    const flagged = raw === undefined ? execProcessSpec(spec.process, o) : undefined
    const terminal = flagged ? flagged.terminal === true : (raw as { terminal?: unknown } | null)?.terminal === true
    checkTerminal(terminal, o.detach, o.consoleSocket)
    checkInheritedFds(o.preserveFds)

    const joins = openContainerNs(rec)
    fds.push(...joins.map((j) => j.fd))
    const rootFd = sys.openat(C.AT_FDCWD, `/proc/${rec.pid}/root`, C.O_PATH | C.O_DIRECTORY)
    fds.push(rootFd)
    // The namespaces and root we opened must belong to the init we recorded, not a reused pid.
    if (!isAlive(rec.pid, rec.pidStartTime)) throw new StateError(TEXT.execStopped, 'ESTOPPED')
    const mnt = joins.find((j) => j.type === 'mount')
    if (!mnt) throw new RuntimeError('container has no mount namespace', 'ENONS')

    // The cgroup lock's grace period, paid in the background from here (see below).
    void warmAttachSoon()
    launch = new Launch()
    if (terminal) {
      console = openConsoleSocket(o.consoleSocket)
      fds.push(console.initFd)
    }

    const inherit: number[] = []
    for (let fd = 3; fd < 3 + o.preserveFds; fd++) inherit.push(fd)
    inherit.push(mnt.fd, rootFd)
    if (console) inherit.push(console.initFd)
    const env: Record<string, string> = { _RUNT_MNT_FD: String(mnt.fd), _RUNT_ROOT_FD: String(rootFd) }
    // The init joins net, uts, ipc and cgroup itself, and pid around the clone of its child;
    // the process it forks joins user and time (process/exec-process.ts). Stage 1 joins
    // nothing.
    const joinFds = joins.filter((j) => ['network', 'uts', 'ipc', 'cgroup'].includes(j.type))
    if (joinFds.length) env._RUNT_JOIN_FDS = joinFds.map((j) => `${j.type}:${j.fd}`).join(',')
    const pidJoin = joins.find((j) => j.type === 'pid')
    const user = joins.find((j) => j.type === 'user')
    const time = joins.find((j) => j.type === 'time')
    // Not root (rootless): stage 1 joins the user namespace first, and everything after it is
    // inside: the init (root there) joins the rest, and its process needs no join of its own.
    // The init could not come back to our pid namespace after a join of the container's (no
    // privilege over ours), so stage 1 joins it too and forks the init into it, as runc's
    // exec runs its init in the container's pid namespace.
    const userFirst = user !== undefined && (process.geteuid?.() ?? 0) !== 0
    // Root of a user namespace (rootless podman runs the runtime so, with a config that has
    // none) has no privilege over the pid namespace it runs in either: the same way in.
    const pidInStage1 = pidJoin !== undefined && (userFirst || (o.inUserNs?.() ?? false))
    const late = userFirst || pidInStage1
    if (pidJoin && !pidInStage1) env._RUNT_PID_FD = String(pidJoin.fd)
    if (user && !userFirst) env._RUNT_USER_FD = String(user.fd)
    if (time) env._RUNT_TIME_FD = String(time.fd)
    inherit.push(...joins.filter((j) => j.type !== 'mount').map((j) => j.fd))
    // Stage 1 and the init stay in our pid namespace, where the container cannot see them; the
    // init forks the container process into the container's (see process/init.ts).
    // Non-dumpable, so are they until they exec the sealed binary.
    sys.prctl(C.PR_SET_DUMPABLE, 0)
    launch.spawn({
      cloneFlags: userFirst ? 0 : C.CLONE_NEWNS,
      ...(userFirst ? { userFirstFd: user.fd } : {}),
      ...(late ? { lateUnshare: 0 } : {}),
      chainJoins: pidInStage1 ? [{ fd: pidJoin.fd, nstype: C.CLONE_NEWPID }] : [],
      timeEarly: false,
      becomeRoot: false,
      inherit,
      env,
      close: [lock.descriptor],
    })
    pid = launch.hello('exec stage')
    // The intermediate exits once it has forked the init (stage1.ts, the late path).
    if (late) sys.waitpid(launch.stage1Pid, 0)
    launch.go()

    const p = flagged ?? validProcess(raw)
    const { sets, warnings } = capSets(p.capabilities, lastCap())
    for (const w of warnings) log.warn(w)
    const proc = processConfig(p, { ...spec, process: p }, { caps: sets, consoleSocket: o.consoleSocket })

    const cfg: InitConfig = {
      mode: 'exec',
      id: o.id,
      bundle: rec.bundle,
      rootfs: rec.rootfs,
      process: proc,
      joined: [],
      created: [],
      cgroupns: false,
      sysctl: {},
      hooks: { createContainer: [], startContainer: [], runtime: false },
      state: { ...stateBase(o.id, rec.bundle, spec), pid: rec.pid },
      extraFds: o.preserveFds,
      // runc's exec joins the container's session keyring (_ses.<id>).
      noNewKeyring: rec.noNewKeyring === true,
      lastCap: lastCap(),
      reportExec: true,
      debug: log.debugEnabled,
    }
    if (console) cfg.consoleSocketFd = console.initFd
    launch.bootstrap(cfg, pid)
    for (const fd of fds.splice(0)) sys.close(fd)
    console?.closeInitEnd()
    release()
    // The init boots (10-15 ms) before it asks to be put in the container's cgroup: meanwhile
    // keep the cgroup lock's RCU grace period (5-25 ms, once after a quiet spell) paid, or it
    // would stall that join on our critical path (cgroups/join.ts).
    const l = launch
    warmAttach((ms) => sys.poll([{ fd: l.channel.fd, events: C.POLLIN }], ms)[0] !== 0)

    // 'cgroup': the init is about to fork the process; put it in the container's cgroup (the
    // process will be born there). 'exec {pid}': that process has exec'd.
    let execPid = 0
    const initPid = pid
    launch.serve({
      cgroup: () =>
        l.answer(
          () => {
            timed('cgroup: join the container cgroup', () => joinCgroups(cgroups.targets, initPid))
            if (rec.intelRdt) joinIntelRdt(rec.intelRdt, initPid)
          },
          { type: 'cgroup-done' },
        ),
      'cgroup-leave': () =>
        l.answer(() => timed('cgroup: the exec init back in our own cgroup', () => leaveCgroups(cgroups.targets, initPid)), {
          type: 'cgroup-left',
        }),
      exec: (msg) => {
        if (msg.pid) execPid = msg.pid
      },
    })
    sys.waitpid(pid, 0)
    pid = 0
    if (!execPid) throw new RuntimeError('exec stage exited unexpectedly', 'EINIT')
    pid = execPid
    launch.close()
    const master = console ? console.receiveMaster() : null

    if (o.pidFile) writeFileAtomic(path.resolve(o.pidFile), String(pid))
    if (o.pidfdSocket) {
      const { sendPidfd } = await import('./console-host.js')
      sendPidfd(o.pidfdSocket, pid)
    }
    if (o.detach) return 0
    const code = await waitChild(pid, master)
    pid = 0
    return code
  } catch (e) {
    if (pid) killAndReap(pid)
    throw e
  } finally {
    for (const fd of fds) sys.close(fd)
    launch?.close()
    console?.close()
    release()
  }
}

/**
 * The exec init back where it came from (our own cgroups) once its process is born in the
 * container's. Best effort: where that cannot be written (rootless, a read-only cgroupfs, a
 * host that is itself a container) it stays, charged to the container as before.
 */
function leaveCgroups(targets: string[], pid: number): void {
  if (!targets.length) return
  const home = homeCgroups(probeHost(), targets)
  if (!home) return
  try {
    joinCgroups(home, pid)
  } catch (e) {
    logger().debug(`exec init stays in the container cgroup: ${(e as Error).message}`)
  }
}

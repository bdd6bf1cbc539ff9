// The init stage: a fresh Node process, born in the container's namespaces by stage 1
// (sys/clone-chain.ts), that builds the container and ends in execve of the user program.
// After the first namespace or root change it makes only synchronous main-thread calls.
// Errors go to the parent over the sync channel as data; nothing is printed to the
// container's stdio unless nobody is left to tell.

import * as fs from 'node:fs'
import { sysctlPath } from '../confine/sysctl.js'
import * as path from 'node:path'
import * as C from '../sys/constants.js'
import { linux as sys } from '../sys/linux.js'
import { Channel, type Message } from './sync.js'
import { sameInode } from './host-ns.js'
import { acceptUnix } from '../sys/scm.js'
import { spawnExecProcess } from './exec-process.js'
import { attrPath, execAttrValue } from '../confine/lsm.js'
import { NS_INFO, type NsType } from '../plan/namespaces.js'
import { RuntimeError, step, fromWire, toWire } from '../errors.js'
import { ENV_SYNC_FD, type InitConfig, type NsExpectation } from './init-config.js'
import {
  enterRoot,
  finalizeRoot,
  maskPaths,
  mountAll,
  openDevNull,
  prepareRoot,
  setupDev,
  type RootfsContext,
} from '../rootfs/build.js'
import { InRoot } from '../rootfs/in-root.js'
import { setupConsole, useConsole } from '../rootfs/console.js'
import { runHooks } from '../hooks.js'
import { runBoundHooks } from './hook-process.js'
import { preload } from '../confine/confinement.js'
import { closeAll, receiveBindSources } from './bind-sources.js'
import { setTrace, timed, tracing } from '../log.js'
import { executableMappings, shed } from './shed.js'

/**
 * --debug records go to whoever listens at the time, never to a file or fd of the init's own:
 * the parent over the sync channel until 'ready', then `start` over its connection if it asked
 * for them, and nobody once the last calls before execve begin (a seccomp filter may forbid
 * even write(2)).
 */
function traceTo(ch: Channel | null): void {
  setTrace(
    ch === null
      ? null
      : (msg) => {
          try {
            ch.send({ type: 'log', level: 'debug', msg })
          } catch {
            /* the listener went away: its records with it */
          }
        },
  )
}

function nsIno(proc: string): { ino: number; dev: number } {
  const st = fs.statSync(`/proc/self/ns/${proc}`)
  return { ino: st.ino, dev: st.dev }
}

/** The clone chain cannot report errors: check that each namespace step took effect. */
function verifyNamespaces(cfg: InitConfig): void {
  const check = (e: NsExpectation, want: boolean) => {
    const got = nsIno(e.proc)
    const same = sameInode(got, e)
    if (same !== want)
      throw new RuntimeError(
        want ? `failed to join ${e.type} namespace (linux.namespaces ${e.type})` : `failed to create a new ${e.type} namespace`,
        'ENAMESPACE',
      )
  }
  // pid and time apply to children of the parent, which this process is.
  for (const e of cfg.joined) check(e, true)
  for (const e of cfg.created) check(e, false)
}

/**
 * The runtime binary must not be writable from the container (CVE-2019-5736): stage 1
 * bind-mounted it read-only over itself before exec'ing it. Verify rather than trust.
 */
function verifySealedExe(): void {
  const st = sys.statfs('/proc/self/exe')
  if (!(st.flags & C.ST_RDONLY))
    throw new RuntimeError('runtime binary is not sealed read-only (stage 1 bind mount failed)', 'ESEAL')
  // And every native addon we mapped (koffi's), reachable through /proc/<pid>/map_files.
  for (const line of fs.readFileSync('/proc/self/maps', 'utf8').split('\n')) {
    const file = line.includes('/') ? line.slice(line.indexOf('/')) : ''
    if (!file.endsWith('.node')) continue
    if (!(sys.statfs(file).flags & C.ST_RDONLY)) throw new RuntimeError(`runtime addon ${file} is not sealed read-only`, 'ESEAL')
  }
}

/** Find the program like execvp does: a name with a slash is taken as is. */
export function lookPath(file: string, env: string[], exists: (p: string) => boolean): string {
  if (file.includes('/')) {
    if (exists(file)) return file
    throw new RuntimeError(`exec: "${file}": stat ${file}: no such file or directory`, 'ENOENT')
  }
  const pathVar =
    env
      .filter((e) => e.startsWith('PATH='))
      .pop()
      ?.slice(5) ?? ''
  for (const dir of pathVar.split(':')) {
    const p = path.join(dir || '.', file)
    if (exists(p)) return p
  }
  throw new RuntimeError(`exec: "${file}": executable file not found in $PATH`, 'ENOENT')
}

function isExecutableFile(p: string): boolean {
  try {
    const st = fs.statSync(p)
    if (!st.isFile()) return false
    fs.accessSync(p, fs.constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** Ask the parent for `msg` and wait for its answer; its error is ours. */
function ask(ch: Channel, msg: Message, what: string): void {
  ch.send(msg)
  const reply = ch.recv()
  if (!reply) throw new RuntimeError(`parent went away while ${what}`, 'EPARENT')
  if (reply.type === 'error') throw fromWire(reply.error)
}

/**
 * The parent moves us into the container's cgroup as late as the container allows, so that
 * neither our start-up nor the building of its root is charged to it (or throttled by its
 * quota): before the first cgroup mount (which shows, or binds, our own cgroup), before any
 * hook (which may look at our cgroup), at the latest before the credentials switch (the
 * cgroup namespace needs CAP_SYS_ADMIN). Everything of the container's own happens inside.
 * That cgroup becomes the root of the cgroup namespace: only this thread moves, the one that
 * goes on to execve (and forks hooks); unshare(CLONE_NEWCGROUP) has no single-thread rule.
 */
function cgroupEntry(cfg: InitConfig, ch: Channel): () => void {
  let done = false
  return () => {
    if (done) return
    done = true
    timed('cgroup: moved into the container cgroup', () =>
      ask(ch, { type: 'cgroup', pid: hostPid() }, 'moving us into the container cgroup'),
    )
    if (!cfg.cgroupns) return
    timed('namespaces: unshare cgroup', () => sys.unshare(C.CLONE_NEWCGROUP))
    verifyNamespaces({ ...cfg, joined: [], created: cfg.created.filter((e) => e.type === 'cgroup') })
  }
}

function buildContainer(cfg: InitConfig, ch: Channel, bindSources: Map<string, number>, enterCgroup: () => void): void {
  const plan = cfg.rootfsPlan!
  const ctx: RootfsContext = {
    sys,
    plan,
    cgroupns: cfg.cgroupns,
    warn: (msg) => ch.send({ type: 'log', level: 'warning', msg }),
    bindSources,
    enterCgroup,
  }
  if (cfg.idmapFields?.length) {
    ctx.attachIdmapped = (field, targetFd) => ask(ch, { type: 'idmap', field, fd: targetFd }, 'attaching an idmapped mount')
  }
  timed('rootfs: prepare (root propagation, bind root.path)', () => prepareRoot(ctx))
  const root = InRoot.open(sys, plan.rootfs)
  try {
    try {
      timed(`rootfs: ${plan.mounts.length} mounts`, () => mountAll(ctx, root))
    } finally {
      // Host files: gone before any hook, or the container, runs.
      closeAll(bindSources.values())
      bindSources.clear()
    }
    if (plan.setupDev) timed(`rootfs: /dev (${plan.devices.length} devices, symlinks)`, () => setupDev(ctx, root))
    if (cfg.process.terminal && cfg.consoleSocketFd !== undefined) {
      const slave = timed('rootfs: console', () =>
        step('process.terminal', () =>
          setupConsole(sys, root, { socketFd: cfg.consoleSocketFd!, size: cfg.process.consoleSize, bindConsole: true }),
        ),
      )
      useConsole(sys, slave, { newSession: true, controlling: true })
    } else {
      // The container's init leads a session of its own, as with runc.
      sys.setsid()
    }
    if (cfg.hooks.runtime || cfg.hooks.createContainer.length) enterCgroup()
    if (cfg.hooks.runtime) {
      // prestart and createRuntime run in the runtime namespace: the parent runs them.
      ask(ch, { type: 'hooks', state: { ...cfg.state, pid: process.pid, status: 'creating' } }, 'running hooks')
    }
    // createContainer: in the container's namespaces, before pivot_root (host paths).
    runHooks('createContainer', cfg.hooks.createContainer, { ...cfg.state, pid: hostPid(), status: 'creating' }, cfg.rootfs)
    // Before linux.readonlyPaths makes /proc/sys read-only (runc's order). Through the host's
    // procfs, still ours before pivot_root: /proc/sys answers for the writer's namespaces.
    const keys = Object.keys(cfg.sysctl).length
    if (keys) timed(`sysctl: ${keys} keys`, () => writeSysctls(cfg.sysctl))
    const devNull = openDevNull(sys)
    try {
      timed(`rootfs: ${plan.maskedPaths.length} masked and ${plan.readonlyPaths.length} read-only paths`, () =>
        maskPaths(ctx, root, devNull),
      )
    } finally {
      sys.close(devNull)
    }
  } finally {
    root.close()
  }
  timed(plan.noPivot ? 'rootfs: move the root and chroot (--no-pivot)' : 'rootfs: pivot_root', () => enterRoot(ctx))
  if (plan.devReadonly || plan.readonlyRoot) timed('rootfs: read-only remounts', () => finalizeRoot(ctx))
}

/** runc sets HOME when the process env has none: the user's home in the container, or "/". */
function setHome(p: InitConfig['process']): void {
  if (p.env.some((e) => e.startsWith('HOME='))) return
  let home = '/'
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':')
      if (f[2] === String(p.uid) && f[5]) {
        home = f[5]
        break
      }
    }
  } catch {
    /* no /etc/passwd in the container */
  }
  p.env.push(`HOME=${home}`)
}

/** Our pid as the host sees it (hooks get the host pid, which the parent told us). */
let hostPidValue = 0
function hostPid(): number {
  return hostPidValue || process.pid
}

function setNames(cfg: InitConfig): void {
  if (cfg.hostname !== undefined) timed('uts: sethostname', () => step('hostname', () => sys.sethostname(cfg.hostname!)))
  if (cfg.domainname !== undefined) step('domainname', () => sys.setdomainname(cfg.domainname!))
}

/**
 * Write each key below /proc/sys: opened from a /proc/sys fd that is procfs, with
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, so no key can name a file elsewhere (the planner has
 * already refused "..", absolute and empty components; this holds even if it had not).
 */
function writeSysctls(sysctl: Record<string, string>): void {
  const entries = Object.entries(sysctl)
  if (entries.length === 0) return
  const dir = sys.openat(C.AT_FDCWD, '/proc/sys', C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW)
  try {
    if (sys.fstatfs(dir, '/proc/sys').type !== C.PROC_SUPER_MAGIC) throw new RuntimeError('/proc/sys is not on procfs', 'ESYSCTL')
    for (const [key, value] of entries) {
      const rel = sysctlPath(key)
      step(`linux.sysctl[${JSON.stringify(key)}]`, () => {
        const resolve = C.RESOLVE_BENEATH | C.RESOLVE_NO_SYMLINKS | C.RESOLVE_NO_MAGICLINKS
        const fd = sys.openat2(dir, rel, C.O_WRONLY, 0, resolve, `/proc/sys/${rel}`)
        try {
          if (sys.fstatfs(fd, `/proc/sys/${rel}`).type !== C.PROC_SUPER_MAGIC)
            throw new RuntimeError(`/proc/sys/${rel} is not on procfs`, 'ESYSCTL')
          sys.write(fd, Buffer.from(value))
        } finally {
          sys.close(fd)
        }
      })
    }
  } finally {
    sys.close(dir)
  }
}

/** Wait for `start` on the listening socket; returns the connection to report on. */
function waitForStart(listenFd: number): { conn: Channel; debug: boolean } {
  const conn = new Channel(acceptUnix(listenFd))
  sys.close(listenFd)
  const msg = conn.recv()
  if (!msg || msg.type !== 'start') throw new RuntimeError('start: unexpected message on init.sock', 'ESTART')
  return { conn, debug: msg.debug === true }
}

function finalFds(cfg: InitConfig): void {
  // Everything above the stdio and the preserved fds is closed by execve.
  sys.closeRangeCloexec(3 + cfg.extraFds)
  for (let fd = 0; fd < 3 + cfg.extraFds; fd++) {
    try {
      sys.setCloexec(fd, false)
    } catch {
      /* not open */
    }
  }
}

/** The executable's read-only mappings, read as the init starts (process/shed.ts). */
let textMappings: ReturnType<typeof executableMappings> = []

/** Where a failure is reported: `start` once it is connected, else the parent, once. */
type Report = { startConn: Channel | null; reported: boolean }

export function runInit(): void {
  const fd = Number(process.env[ENV_SYNC_FD])
  const ch = new Channel(fd)
  const rep: Report = { startConn: null, reported: false }
  try {
    process.title = 'runt:[2:INIT]'
    // Nobody in the container may ptrace us or open /proc/<pid>/{exe,fd} while we hold host
    // resources; execve resets this.
    sys.prctl(C.PR_SET_DUMPABLE, 0)
    const msg = ch.recv()
    if (!msg || msg.type !== 'bootstrap') throw new RuntimeError('init: no bootstrap from the parent', 'EPARENT')
    const cfg = msg.config as InitConfig
    hostPidValue = msg.hostPid
    // Read now, from the runtime's /proc: shed before waiting for `start` (process/shed.ts).
    if (cfg.mode === 'create') textMappings = executableMappings()
    if (cfg.debug) traceTo(ch)
    // They follow the bootstrap on the channel, before any other message.
    const bindSources =
      cfg.mode === 'create' && cfg.bindSourceFields?.length
        ? receiveBindSources(ch, cfg.bindSourceFields)
        : new Map<string, number>()
    // The cgroup namespace is unshared once we are in the container's cgroup (enterCgroup).
    const early = { ...cfg, created: cfg.created.filter((e) => e.type !== 'cgroup') }
    timed(
      () => `namespaces: verify (new ${names(early.created) || 'none'}; joined ${names(cfg.joined) || 'none'})`,
      () => verifyNamespaces(early),
    )
    timed('init: verify the sealed runtime binary', () => verifySealedExe())
    const confinement = timed('confine: preload', () => preload(cfg, sys, (level, msg) => ch.send({ type: 'log', level, msg })))
    if (cfg.mode === 'exec') initExec(cfg, ch, confinement)
    else initCreate(cfg, ch, confinement, rep, bindSources)
  } catch (e) {
    const err = e instanceof Error ? e : new RuntimeError(String(e))
    if (rep.startConn) {
      try {
        rep.startConn.send({ type: 'error', error: toWire(err) })
        rep.reported = true
      } catch {
        /* start went away */
      }
    }
    if (!rep.reported) {
      try {
        ch.send({ type: 'error', error: toWire(err) })
        rep.reported = true
      } catch {
        /* parent gone */
      }
    }
    if (!rep.reported) {
      try {
        fs.writeSync(2, `runt init: ${err.message}\n`)
      } catch {
        /* nothing left to tell */
      }
    }
    process.exit(255)
  }
}

/**
 * create: build the container, switch to its user, report ready, wait for `start`, run the
 * startContainer hooks, then confine and execve. Confinement is in the order
 * confine/confinement.ts explains: privileged steps, the user switch (with the cwd proven inside
 * the root), after start everything that binds the process execve will run, and last the
 * capability sets and the seccomp filter.
 */
function initCreate(
  cfg: InitConfig,
  ch: Channel,
  confinement: ReturnType<typeof preload>,
  rep: Report,
  bindSources: Map<string, number>,
): void {
  if (cfg.mountNsPath) {
    // setns into a mount namespace needs a private fs_struct (see DESIGN.md fact 4).
    timed(`namespaces: join mount ${cfg.mountNsPath}`, () => {
      sys.unshare(C.CLONE_FS)
      const nsfd = sys.openat(C.AT_FDCWD, cfg.mountNsPath!, C.O_RDONLY)
      sys.setns(nsfd, C.CLONE_NEWNS, cfg.mountNsPath)
      sys.close(nsfd)
      // The descriptor create passed: no hook or process of the container needs it.
      const passed = /^\/proc\/self\/fd\/(\d+)$/.exec(cfg.mountNsPath!)
      if (passed) sys.close(Number(passed[1]))
    })
  }
  const enterCgroup = cgroupEntry(cfg, ch)
  buildContainer(cfg, ch, bindSources, enterCgroup)
  setNames(cfg)
  setHome(cfg.process)
  enterCgroup()
  const p = cfg.process
  if (confinement.plan.memoryPolicy) timed('confine: memory policy', () => confinement.memoryPolicy())
  timed('confine: session keyring, rlimit hard limits', () => confinement.privileged())
  timed(`credentials: switch to uid ${p.uid} gid ${p.gid} (bounding set, groups, cwd, capabilities)`, () =>
    confinement.switchUser(),
  )
  const exe = step('process.args', () => lookPath(p.args[0]!, p.env, isExecutableFile))
  // Made now, so that what runs between `start` and execve (charged and throttled) is short.
  const exec = sys.prepareExec(exe, p.args, p.env)
  // Stage 1 made us die with create; from here we outlive it, waiting for `start`. (Killed
  // between here and its state.json, create leaves creating.json for delete --force.)
  sys.prctl(C.PR_SET_PDEATHSIG, 0)
  ch.send({ type: 'ready', pid: hostPid() })
  // The parent reads no more records after 'ready'; `start` may want the rest.
  traceTo(null)
  if (!cfg.reportExec) {
    ch.close()
    rep.reported = true
  }
  if (cfg.shed) shed(textMappings)
  const started = waitForStart(cfg.startFd!)
  rep.startConn = started.conn
  if (started.debug) traceTo(started.conn)
  // As runc's init runs them: bound by the container's rlimits, umask, no_new_privs and seccomp
  // filter, with stdio only (process/hook-process.ts).
  runBoundHooks(
    'startContainer',
    cfg.hooks.startContainer,
    { ...cfg.state, pid: hostPid(), status: 'created' },
    {
      filter: confinement.compiledFilter,
      noNewPrivileges: p.noNewPrivileges,
      rlimits: confinement.plan.rlimits,
      ...(p.umask !== undefined ? { umask: p.umask } : {}),
    },
  )
  timed('confine: umask, affinity, scheduler, personality, LSM label, no_new_privs', () => confinement.late())
  finalFds(cfg)
  sys.resetSignals(exec.ignored)
  rep.startConn.send(tracing() ? { type: 'exec', detail: execDetail(exe, confinement.lockdownSteps) } : { type: 'exec' })
  traceTo(null)
  // From here the filter may be in force: only execve follows (and sendmsg of the notify
  // fd to its agent; capset without no_new_privs). An error reaches `start` if it can.
  confinement.lockdown(hostPid())
  sys.execPrepared(exec)
}

/** exec: enter the container's root, set up its terminal, and fork the process. */
function initExec(cfg: InitConfig, ch: Channel, confinement: ReturnType<typeof preload>): void {
  const host = timed('namespaces: join the container namespaces and root', () => enterExecRoot(cfg))
  if (cfg.process.terminal && cfg.consoleSocketFd !== undefined) {
    const root = InRoot.open(sys, '/')
    try {
      const slave = step('process.terminal', () =>
        setupConsole(sys, root, { socketFd: cfg.consoleSocketFd!, size: cfg.process.consoleSize, bindConsole: false }),
      )
      // The process forked at the end takes the terminal as its controlling one.
      useConsole(sys, slave, { newSession: false, controlling: false })
    } finally {
      root.close()
    }
  }
  setHome(cfg.process)
  execTail(cfg, ch, confinement, host)
}

/** What the exec init keeps from the host side before it chroots into the container. */
type ExecHost = {
  hostProc: number
  userFd?: number
  timeFd?: number
  pidFd?: number
  setgroups: boolean
  lsmAttrPath?: string
}

/**
 * exec mode: this process stays in the host's user and pid namespaces (the container cannot
 * see it); it joins the container's net, uts, ipc and cgroup namespaces, its mount namespace
 * and root; its pid namespace only around the clone of the process it forks. The user and time namespaces are joined
 * by that process (process/exec-process.ts). The parent passed every fd.
 */
function enterExecRoot(cfg: InitConfig): ExecHost {
  const env = process.env
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v))
  const host: ExecHost = { hostProc: sys.openat(C.AT_FDCWD, '/proc', C.O_PATH | C.O_DIRECTORY), setgroups: true }
  const userFd = num(env._RUNT_USER_FD)
  const timeFd = num(env._RUNT_TIME_FD)
  const pidFd = num(env._RUNT_PID_FD)
  if (userFd !== undefined) host.userFd = userFd
  if (timeFd !== undefined) host.timeFd = timeFd
  if (pidFd !== undefined) host.pidFd = pidFd
  // setgroups(2) is refused where the container's user namespace says "deny".
  try {
    host.setgroups = fs.readFileSync(`/proc/${cfg.state.pid}/setgroups`, 'utf8').trim() !== 'deny'
  } catch {
    /* no user namespace: allowed */
  }
  const plan = cfg.process.confine as { apparmorProfile?: string; selinuxLabel?: string } | undefined
  if (plan?.apparmorProfile) host.lsmAttrPath = attrPath('apparmor', 'exec')
  else if (plan?.selinuxLabel) host.lsmAttrPath = attrPath('selinux', 'exec')
  for (const entry of (env._RUNT_JOIN_FDS ?? '').split(',').filter(Boolean)) {
    const [type, fd] = entry.split(':')
    const flag = NS_INFO[type as NsType].flag
    sys.setns(Number(fd), flag, `container ${type} namespace`)
    sys.close(Number(fd))
  }
  const mntFd = Number(env._RUNT_MNT_FD)
  const rootFd = Number(env._RUNT_ROOT_FD)
  sys.unshare(C.CLONE_FS)
  sys.setns(mntFd, C.CLONE_NEWNS, 'container mount namespace')
  // /proc/<init>/root is the container's root whether it pivoted or chrooted (--no-pivot).
  sys.fchdir(rootFd, 'container root')
  sys.chroot('.')
  sys.close(mntFd)
  sys.close(rootFd)
  return host
}

/**
 * The rest of exec: resolve the program, chdir as root (runc's first attempt; the cwd is
 * inside the container, we are chrooted), and fork the process (process/exec-process.ts),
 * which has the parent move us into the container's cgroup right before the fork.
 */
function execTail(cfg: InitConfig, ch: Channel, confinement: ReturnType<typeof preload>, host: ExecHost): void {
  const p = cfg.process
  const exe = step('process.args', () => lookPath(p.args[0]!, p.env, isExecutableFile))
  step('process.cwd', () => {
    try {
      sys.chdir(p.cwd)
    } catch (e) {
      throw new RuntimeError(
        `chdir to cwd ("${p.cwd}") set in config.json failed: ${(e as Error).message.replace(/^chdir [^:]*: /, '')}`,
        'ECWD',
      )
    }
  })
  if (p.umask !== undefined) process.umask(p.umask)
  finalFds(cfg)
  sys.resetSignals()
  const plan = confinement.plan
  const label = plan.apparmorProfile ?? plan.selinuxLabel
  const input: Parameters<typeof spawnExecProcess>[0] = {
    cfg,
    plan,
    filter: confinement.compiledFilter,
    exe,
    setgroups: host.setgroups,
    hostProc: host.hostProc,
    handOver: (fd, pid) => confinement.handOver(fd, pid),
    warn: (msg) => ch.send({ type: 'log', level: 'warning', msg }),
    // The parent moves us into the container's cgroup: our own start-up and the chain's
    // preparation are not charged to the container, and the process is born there (the
    // container's pids limit applies to the fork, as it does to runc's).
    enterCgroup: () => ask(ch, { type: 'cgroup', pid: hostPid() }, 'joining the container cgroup'),
    // And out again once the process is born there: our status reads and exit (the teardown
    // of a Bun address space) are the runtime's, not the container's.
    leaveCgroup: () => ask(ch, { type: 'cgroup-leave', pid: hostPid() }, 'leaving the container cgroup'),
  }
  if (host.userFd !== undefined) input.userFd = host.userFd
  if (host.timeFd !== undefined) input.timeFd = host.timeFd
  if (host.pidFd !== undefined) input.pidFd = host.pidFd
  if (host.lsmAttrPath && label)
    input.lsmAttr = { path: host.lsmAttrPath, value: execAttrValue(plan.apparmorProfile ? 'apparmor' : 'selinux', label) }
  const pid = timed(`exec: fork and exec ${exe}`, () => spawnExecProcess(input))
  ch.send({ type: 'exec', pid: process.pid === hostPid() ? pid : pidInHostNs(pid, host.hostProc) })
  ch.close()
  process.exit(0)
}

/**
 * `pid` (of our own pid namespace: the container's, rootless) as the parent sees it: a
 * pidfd's fdinfo gives the pid in the namespace of the procfs it is read through, the host's.
 */
function pidInHostNs(pid: number, hostProc: number): number {
  const pidfd = sys.pidfdOpen(pid)
  try {
    const fd = sys.openat(hostProc, `thread-self/fdinfo/${pidfd}`, C.O_RDONLY)
    try {
      const m = /^Pid:\s*(-?\d+)/m.exec(fs.readFileSync(fd, 'utf8'))
      const n = m ? Number(m[1]) : 0
      if (n <= 0) throw new RuntimeError(`exec: no host pid for pid ${pid}`, 'EEXEC')
      return n
    } finally {
      sys.close(fd)
    }
  } finally {
    sys.close(pidfd)
  }
}

function names(es: readonly NsExpectation[]): string {
  return es.map((e) => e.type).join(',')
}

/** What `start` reports when the exec succeeded: the program and the calls just before it. */
export function execDetail(exe: string, lockdown: readonly string[]): string {
  const what = lockdown.map((s) => (s === 'seccomp' ? 'the seccomp filter load' : s === 'capset' ? 'the final capset' : s))
  return what.length ? `execve ${exe} (after ${what.join(' and ')})` : `execve ${exe}`
}

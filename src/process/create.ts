// The host side of `create` (and of `run`): validate the bundle, plan, take the container
// lock, spawn stage 1, finish its namespaces from outside (id maps, time offsets, cgroup),
// send the init its bootstrap, serve its requests (runtime hooks), and record the state.
// On any failure everything made so far is undone: process, cgroup, state directory.

import * as fs from 'node:fs'
import * as path from 'node:path'
import * as C from '../sys/constants.js'
import { linux as sys } from '../sys/linux.js'
import { listenUnix } from '../sys/scm.js'
import { RuntimeError, SpecError, SysError, TEXT, fsError, withContext } from '../errors.js'
import { loadSpec } from '../spec/load.js'
import { validateSpec } from '../spec/validate.js'
import { OCI_VERSION } from '../spec/defaults.js'
import { ID_RANGE_MESSAGE, idProblem, type Process, type Spec } from '../spec/schema.js'
import { NS_INFO, planNamespaces, type NamespacePlan, type NsType } from '../plan/namespaces.js'
import { planRootfs, type RootfsPlan } from '../plan/rootfs.js'
import { selinuxEnabled } from '../confine/lsm.js'
import { capSets } from '../confine/capabilities.js'
import { planConfinement } from '../confine/plan.js'
import { Store, validateId, writeFileAtomic, type ContainerRecord } from '../state/store.js'
import { createLocked, type Lock } from '../state/lock.js'
import { isAlive, readProcStat } from '../state/status.js'
import { Channel } from './sync.js'
import { expectation, initDied, killAndReap, openJoins, refuseOwnMountNs } from './host-ns.js'
import { detachSharedRootfs, shareMountNs } from './shared-mount.js'
import { openConsoleSocket, sendPidfd } from './console-host.js'
import { callerWinsize } from './wait.js'
import { attachIdmappedTree, findOnPath, prepareIdmappedMounts, writeUserNsMaps } from './idmap.js'
import { planIdMaps, rootlessIssues, type Caller, type MapPlan } from '../spec/rootless.js'
import { closeAll, openBindSources, sendBindSources, type OpenedBindSources } from './bind-sources.js'
import { bindSourcesToOpen } from '../plan/bind-sources.js'
import type { InitConfig, ProcessConfig } from './init-config.js'
import { checkTerminal, Launch, Undo, type LaunchSpec } from './launch.js'
import { runHooks } from '../hooks.js'
import { setupCgroups } from '../cgroups/setup.js'
import { warmAttachSoon } from '../cgroups/join.js'
import { rootlessCgroups } from '../cgroups/rootless.js'
import { moveNetDevices } from './net-devices.js'
import { applyIntelRdt, planIntelRdt, probeResctrl, type RdtPlan } from '../cgroups/intelrdt.js'
import { logger, timed } from '../log.js'

export type CreateOptions = {
  id: string
  bundle: string
  store: Store
  pidFile?: string
  consoleSocket?: string
  pidfdSocket?: string
  noPivot: boolean
  noNewKeyring: boolean
  preserveFds: number
  systemdCgroup: boolean
  /** --rootless: runc's rootless cgroup manager (true, false, auto: not root; cgroups/rootless.ts). */
  rootless?: string
  /** Whether runt runs outside the initial user namespace (cli/command.ts reads uid_map). */
  inUserNs?: () => boolean
  /** `run` in the foreground: keep the channel to learn whether the exec succeeded. */
  reportExec: boolean
  /** Detached from the caller's terminal (create, run -d). */
  detach: boolean
  debug: boolean
}

/** `master` is the pty master when runt itself receives it (`run -t` in the foreground). */
export type Created = { rec: ContainerRecord; pid: number; channel: Channel | null; master: number | null }

export function lastCap(): number {
  try {
    return Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim())
  } catch {
    return 40
  }
}

/** Everything decided before touching the host: a bad config fails here, leaving nothing. */
export type Prepared = {
  spec: Spec
  bundle: string
  ns: NamespacePlan
  rootfs: RootfsPlan
  proc: ProcessConfig
  extraEnv: string[]
  extraFds: number
  /** linux.intelRdt's group, decided against the host's resctrl (refused here if none). */
  intelRdt: RdtPlan | null
  /** How the parent writes the user namespace's maps (setgroups, newuidmap: spec/rootless.ts). */
  idMaps: MapPlan
  /** The rootless cgroup manager's rules apply (cgroups/rootless.ts). */
  rootlessCgroups: boolean
}

/** state.json's namespacePaths: the init's /proc/<pid>/ns file for each of the container's types. */
export function namespacePaths(pid: number, types: readonly NsType[]): Record<string, string> {
  return Object.fromEntries(types.map((t) => [t, `/proc/${pid}/ns/${NS_INFO[t].proc}`]))
}

/** Who runs runt, and (not root) where the mapping tools are. */
export function caller(): Caller {
  const euid = process.geteuid?.() ?? 0
  const c: Caller = { euid, egid: process.getegid?.() ?? 0 }
  if (euid !== 0) {
    c.newuidmap = findOnPath('newuidmap')
    c.newgidmap = findOnPath('newgidmap')
  }
  return c
}

export function prepare(opts: CreateOptions): Prepared {
  const log = logger()
  validateId(opts.id)
  const bundle = path.resolve(opts.bundle)
  // runc chdirs into the bundle first, and engines have seen its error text for a missing one.
  let bundleStat: fs.Stats
  try {
    bundleStat = fs.statSync(bundle)
  } catch (e) {
    throw fsError(e, 'chdir', opts.bundle || '.')
  }
  if (!bundleStat.isDirectory()) throw fsError({ code: 'ENOTDIR' }, 'chdir', opts.bundle || '.')
  const spec = timed('config: load config.json', () =>
    loadSpec(bundle, {
      onUnknownKeys: (keys) => log.debug(`config.json: ignoring unknown properties ${keys.join(', ')}`),
    }),
  )
  const { errors, warnings } = timed('config: validate', () => validateSpec(spec))
  for (const w of warnings) log.warn(w)
  if (errors.length) throw new SpecError(errors)
  if (!spec.process) throw new SpecError([{ path: 'process', message: 'required' }])
  const who = caller()
  const inUserNs = opts.inUserNs ?? (() => false)
  const rootlessCg = rootlessCgroups(opts.rootless ?? 'auto', { euid: who.euid, inUserNs })
  const rootless = rootlessIssues(spec, who)
  if (rootless.length) throw new SpecError(rootless)

  const ns = planNamespaces(spec.linux?.namespaces)
  if (ns.sharedMount && opts.noPivot) log.debug('--no-pivot: no mount namespace listed, the rootfs is entered with chroot')
  const rootfs: RootfsPlan = timed(`config: plan the rootfs (${spec.mounts?.length ?? 0} mounts in config.json)`, () =>
    planRootfs(
      spec as Parameters<typeof planRootfs>[0],
      // Reading mountinfo is only worth it when there is a mount label to apply. Device
      // nodes are bound, not made, in a new user namespace or when runt already runs in one
      // (rootless podman runs it in its own; runc: RunningInUserNS() || NEWUSER).
      { bundle, userns: ns.types.includes('user') || inUserNs(), selinux: !!spec.linux?.mountLabel && selinuxEnabled() },
      { noPivot: opts.noPivot, sharedMountNs: ns.sharedMount },
    ),
  )
  let st: fs.Stats
  try {
    // runc's validator: the rootfs must be the directory itself, not a link to one.
    if (fs.lstatSync(rootfs.rootfs).isSymbolicLink())
      throw new RuntimeError('invalid rootfs: not an absolute path, or a symlink', 'EROOTFS')
    st = fs.statSync(rootfs.rootfs)
  } catch (e) {
    if (e instanceof RuntimeError) throw e
    throw fsError(e, 'stat', rootfs.rootfs, 'invalid rootfs')
  }
  if (!st.isDirectory()) throw new RuntimeError(`invalid rootfs: ${rootfs.rootfs} is not a directory`, 'EROOTFS')

  const p = spec.process
  checkTerminal(p.terminal === true, opts.detach, opts.consoleSocket)

  const { sets, warnings: capWarnings } = capSets(p.capabilities, lastCap())
  for (const w of capWarnings) log.warn(w)

  // systemd socket activation: LISTEN_FDS fds come first, then --preserve-fds (runc's order).
  const extraEnv: string[] = []
  let listenFds = 0
  if (process.env.LISTEN_FDS && Number(process.env.LISTEN_PID) === process.pid) {
    listenFds = Number(process.env.LISTEN_FDS) || 0
    if (listenFds > 0) extraEnv.push(`LISTEN_FDS=${listenFds}`, 'LISTEN_PID=1')
  }
  const extraFds = listenFds + opts.preserveFds
  checkInheritedFds(extraFds)

  const proc = processConfig(p, spec, { caps: sets, extraEnv, consoleSocket: opts.consoleSocket })
  const rdt = spec.linux?.intelRdt
  const intelRdt = rdt ? planIntelRdt(rdt, opts.id, probeResctrl()) : null
  return {
    spec,
    bundle,
    ns,
    rootfs,
    proc,
    extraEnv,
    extraFds,
    intelRdt,
    idMaps: planIdMaps(spec, who),
    rootlessCgroups: rootlessCg,
  }
}

/**
 * What the init makes of a validated process (create's, or exec's in `spec`). Without a
 * console socket, a terminal gets the caller's size unless the process gives one.
 */
export function processConfig(
  p: Process,
  spec: Spec,
  o: { caps: ProcessConfig['caps']; extraEnv?: string[]; consoleSocket?: string | undefined },
): ProcessConfig {
  // The schema refuses these in config.json and --process files; exec's -u and -g flags reach
  // here unchecked. (uid_t)-1 is "no change" to setresuid(2): the process would stay root.
  if ([p.user.uid, p.user.gid, ...(p.user.additionalGids ?? [])].some((n) => idProblem(n) !== null))
    throw new RuntimeError(`${TEXT.setupUser}: ${ID_RANGE_MESSAGE}`, 'EUSER')
  checkMapped(p, spec)
  const proc: ProcessConfig = {
    args: p.args ?? [],
    env: [...(p.env ?? []), ...(o.extraEnv ?? [])],
    cwd: p.cwd,
    uid: p.user.uid,
    gid: p.user.gid,
    additionalGids: p.user.additionalGids ?? [],
    terminal: p.terminal === true,
    caps: o.caps,
    noNewPrivileges: p.noNewPrivileges === true,
    confine: planConfinement(spec),
  }
  if (p.user.umask !== undefined) proc.umask = p.user.umask
  if (p.consoleSize) proc.consoleSize = p.consoleSize
  else if (proc.terminal && !o.consoleSocket) proc.consoleSize = callerWinsize()
  return proc
}

/**
 * The process's ids must be mapped in a user namespace created with known maps (runc's
 * setupUser texts): else setresuid(2) fails with a bare EINVAL in the process's chain.
 */
function checkMapped(p: Process, spec: Spec): void {
  const user = spec.linux?.namespaces?.find((n) => n.type === 'user')
  if (!user || user.path) return
  const inMap = (m: { containerID: number; size: number }[], id: number) =>
    m.some((x) => id >= x.containerID && id < x.containerID + x.size)
  const uids = spec.linux?.uidMappings ?? []
  const gids = spec.linux?.gidMappings ?? []
  const fail = (what: string, field: string, id: number, map: string) =>
    new RuntimeError(`${TEXT.setupUser}: cannot set ${what} in user namespace (${field} ${id} is not in ${map})`, 'EUSER')
  if (uids.length && !inMap(uids, p.user.uid))
    throw fail('uid to unmapped user', 'process.user.uid', p.user.uid, 'linux.uidMappings')
  if (gids.length && !inMap(gids, p.user.gid))
    throw fail('gid to unmapped user', 'process.user.gid', p.user.gid, 'linux.gidMappings')
  for (const g of p.user.additionalGids ?? [])
    if (gids.length && !inMap(gids, g))
      throw fail('additional gid to unmapped group', 'process.user.additionalGids', g, 'linux.gidMappings')
}

/**
 * fds 3..3+n-1 must have come from our caller and be open. Node marks fds 0-15 close-on-exec
 * when it starts (libuv's uv_disable_stdio_inheritance), so below 16 the flag says nothing;
 * above, an fd we inherited cannot be close-on-exec (it survived our own execve) while every
 * fd Node opens for itself is. Node's own event loop fds (epoll, eventfd, signalfd) are
 * refused at any number: they must never reach the container.
 */
export function checkInheritedFds(n: number): void {
  for (let fd = 3; fd < 3 + n; fd++) {
    let flags: number
    try {
      flags = sys.fcntl(fd, C.F_GETFD, 0)
    } catch {
      throw new RuntimeError(`--preserve-fds: fd ${fd} is not open`, 'EBADF')
    }
    let target = ''
    try {
      target = fs.readlinkSync(`/proc/self/fd/${fd}`)
    } catch {
      /* no procfs: the flag check below is all we have */
    }
    if ((fd > 15 && flags & C.FD_CLOEXEC) || /^anon_inode:\[(eventpoll|eventfd|signalfd)\]$/.test(target))
      throw new RuntimeError(`--preserve-fds: fd ${fd} was not passed to runt`, 'EBADF')
  }
}

function writeTimeOffsets(pid: number, spec: Spec): void {
  const offs = spec.linux?.timeOffsets
  if (!offs) return
  const lines = Object.entries(offs).map(([clock, o]) => `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}\n`)
  try {
    for (const l of lines) fs.writeFileSync(`/proc/${pid}/timens_offsets`, l)
  } catch (e) {
    throw new RuntimeError(`linux.timeOffsets: write /proc/${pid}/timens_offsets: ${(e as Error).message}`, 'ETIMENS')
  }
}

export function createContainer(opts: CreateOptions): Created {
  const prep = prepare(opts)
  const { spec, ns } = prep
  const joins = openJoins(ns)
  const mountJoin = joins.find((j) => j.type === 'mount')
  let lock: Lock | null = null
  let launch: Launch | null = null
  const undo = new Undo()
  try {
    if (mountJoin) refuseOwnMountNs(mountJoin)
    lock = timed(`state: create the state directory and take the lock`, () => createLocked(opts.store, opts.id))
    undo.push(() => opts.store.remove(opts.id))
    // No mount namespace listed: the init joins ours and mounts in it, which outlives it; a
    // failed create detaches what it stacked at root.path (after the init is killed).
    const shared = ns.sharedMount ? shareMountNs(prep.rootfs.rootfs) : null
    if (shared) {
      undo.push(() => sys.close(shared.fd))
      undo.push(() => detachSharedRootfs(shared.record, (m) => logger().warn(m)))
    }
    const mountFd = mountJoin?.fd ?? shared?.fd
    // exec.fifo marks a created container (runc's status rule); init.sock is how `start`
    // releases the init and hears whether its process was exec'd.
    sys.mkfifo(opts.store.fifoPath(opts.id), 0o622)
    const startFd = listenUnix(opts.store.startSocketPath(opts.id), 0o600)
    undo.push(() => sys.close(startFd))
    // The cgroup lock's grace period, paid in the background from here (cgroups/join.ts).
    void warmAttachSoon()
    launch = new Launch()
    const l = launch
    undo.push(() => l.close())
    const console = prep.proc.terminal ? openConsoleSocket(opts.consoleSocket) : null
    if (console) undo.push(() => console.close())

    // What the init checks: it is in the joined namespaces and out of ours for the rest.
    const joined = joins.filter((j) => j.type !== 'mount').map((j) => expectation(j.type, j.fd))
    const created = ns.created.map((t) => expectation(t, `/proc/self/ns/${NS_INFO[t].proc}`))

    // Idmapped mounts are prepared here, with host privilege; the init moves them in place.
    const mountFds = prepareIdmappedMounts(prep.rootfs.mounts, ns.types.includes('user'), {
      uid: spec.linux?.uidMappings ?? [],
      gid: spec.linux?.gidMappings ?? [],
    })
    undo.push(() => Object.values(mountFds).forEach((fd) => sys.close(fd)))

    const timeJoin = joins.find((j) => j.type === 'time')
    const userJoin = joins.find((j) => j.type === 'user')
    // Joining a time namespace needs a single-threaded process: stage 1 does it, before it
    // creates a user namespace (so the late path), as the user namespace would not own it.
    const late = userJoin !== undefined || (timeJoin !== undefined && ns.created.includes('user'))
    let cloneFlags = ns.cloneFlags
    let lateUnshare: number | undefined
    if (late) {
      cloneFlags = C.CLONE_NEWNS
      lateUnshare = C.CLONE_NEWNS
      for (const t of ns.created) if (t !== 'cgroup' && t !== 'time') lateUnshare |= NS_INFO[t].flag
    }
    const inherit: number[] = []
    for (let fd = 3; fd < 3 + prep.extraFds; fd++) inherit.push(fd)
    inherit.push(startFd)
    if (console) inherit.push(console.initFd)
    // The init joins a mount namespace given by path (or ours) itself, once its code is loaded.
    if (mountFd !== undefined) inherit.push(mountFd)
    const s1: LaunchSpec = {
      cloneFlags,
      chainJoins: [],
      timeEarly: ns.timeEarly,
      becomeRoot: ns.created.includes('user'),
      inherit,
      env: {},
      close: [lock.descriptor],
      parentJoins: joins.filter((j) => j.type !== 'user' && j.type !== 'mount' && j.type !== 'time'),
    }
    if (timeJoin) s1.timeJoinFd = timeJoin.fd
    if (userJoin) s1.userJoinFd = userJoin.fd
    if (lateUnshare !== undefined) s1.lateUnshare = lateUnshare
    timed(
      () => `namespaces: clone stage 1 (${nsSummary(ns.created, joins)})`,
      () => launch!.spawn(s1),
    )
    undo.push(() => l.stage1Pid && killAndReap(l.stage1Pid))

    // 'S': stage 1 (or its pid-1 child) is in its namespaces. Its pid rides on the byte.
    const pid = timed(
      () => `namespaces: stage 1 in its namespaces (pid ${l.pid}${late ? ', late unshare' : ''})`,
      () => {
        const p = l.hello('container init')
        if (late) sys.waitpid(l.stage1Pid, 0) // the intermediate exits once its child is cloned
        return p
      },
    )
    undo.push(() => killAndReap(pid))
    if (ns.created.includes('user'))
      timed('namespaces: write uid_map and gid_map', () =>
        writeUserNsMaps(pid, { uid: spec.linux?.uidMappings ?? [], gid: spec.linux?.gidMappings ?? [] }, prep.idMaps),
      )
    if (ns.timeEarly) timed('namespaces: write timens_offsets', () => writeTimeOffsets(pid, spec))
    launch.go()
    // Bind sources are opened here, as host root, in the mount namespace the init mounts in:
    // its root is root of its user namespace only, and may not search the way to a source
    // (plan/bind-sources.ts).
    let sources: OpenedBindSources | null = null
    const toOpen = bindSourcesToOpen(prep.rootfs.mounts, {
      userns: ns.types.includes('user'),
      hostRoot: process.geteuid?.() === 0,
      rootfs: prep.rootfs.rootfs,
    })
    if (toOpen.length) {
      const nsFd = mountJoin ? mountJoin.fd : sys.openat(C.AT_FDCWD, `/proc/${pid}/ns/mnt`, C.O_RDONLY)
      try {
        sources = openBindSources(toOpen, nsFd)
      } finally {
        if (!mountJoin) sys.close(nsFd)
      }
      const opened = sources
      undo.push(() => closeAll(opened.fds))
      for (const s of opened.skipped) logger().debug(`${s.field}: left to the init: ${s.error}`)
    }
    // The init execs and boots (40-45 ms) while we make its cgroup and apply the limits; it
    // asks to be moved in ('cgroup') before its first cgroup mount, hook or credentials
    // switch, and then unshares its cgroup namespace (whose root is this cgroup): none of the
    // runtime's start-up or of the root's building is charged to it, and none of the
    // container's own code runs outside it (process/init.ts cgroupEntry, cgroups/setup.ts).
    const stat = readProcStat(pid)
    if (!stat) throw initDied(pid)
    const rec: ContainerRecord = {
      ociVersion: OCI_VERSION,
      id: opts.id,
      pid,
      pidStartTime: stat.startTime,
      bundle: prep.bundle,
      rootfs: prep.rootfs.rootfs,
      created: new Date().toISOString(),
      config: spec,
      namespacePaths: namespacePaths(pid, ns.types),
      cgroupPaths: {},
      // What this step makes is ours to remove (a directory it finds is removed too if left
      // empty, as runc's destroy does).
      cgroupOwned: true,
    }
    if (shared) rec.sharedRootfs = shared.record
    if (opts.systemdCgroup) rec.systemdCgroup = true
    if (opts.noNewKeyring) rec.noNewKeyring = true
    if (spec.annotations) rec.annotations = spec.annotations
    const cg = timed(
      () => `cgroup: create and apply limits (${Object.values(rec.cgroupPaths)[0] ?? 'no path'})`,
      () =>
        setupCgroups({
          id: opts.id,
          spec,
          systemd: opts.systemdCgroup,
          rootless: prep.rootlessCgroups,
          pid,
          // If this create is killed from here on (an engine's timeout, say), `delete --force`
          // finds in creating.json the init to kill and the cgroups to remove, recorded before
          // they are made. Before this point the init exits on its own: it waits for the
          // bootstrap, and reads EOF.
          beforeCreate: (paths) => {
            rec.cgroupPaths = paths
            opts.store.writeCreating(rec)
          },
        }),
    )
    undo.push(() => {
      killAndReap(pid)
      cg.undo()
    })
    // linux.netDevices go in now, in the init's network namespace, before it builds anything
    // and before the prestart/createRuntime hooks (runc 1.4: after the cgroup, before the
    // config goes to the init). On failure they come back before the init is killed.
    const netDevices = moveNetDevices(pid, spec.linux?.netDevices ?? {})
    undo.push(() => netDevices.undo())
    const rdtPlan = prep.intelRdt
    if (rdtPlan) {
      const rdt = timed(`intelRdt: join ${rdtPlan.group}`, () =>
        applyIntelRdt(rdtPlan, pid, { beforeCreate: (r) => ((rec.intelRdt = r), opts.store.writeCreating(rec)) }),
      )
      undo.push(() => rdt.undo())
    }

    const cfg: InitConfig = {
      mode: 'create',
      id: opts.id,
      bundle: prep.bundle,
      rootfs: prep.rootfs.rootfs,
      process: prep.proc,
      rootfsPlan: prep.rootfs,
      joined,
      created,
      cgroupns: ns.types.includes('cgroup') && ns.created.includes('cgroup'),
      sysctl: spec.linux?.sysctl ?? {},
      hooks: {
        createContainer: spec.hooks?.createContainer ?? [],
        startContainer: spec.hooks?.startContainer ?? [],
        runtime: (spec.hooks?.prestart?.length ?? 0) + (spec.hooks?.createRuntime?.length ?? 0) > 0,
      },
      state: stateBase(opts.id, prep.bundle, spec),
      startFd,
      extraFds: prep.extraFds,
      noNewKeyring: opts.noNewKeyring,
      lastCap: lastCap(),
      reportExec: opts.reportExec,
      shed: !(Number(spec.linux?.resources?.cpu?.quota ?? 0) > 0),
      debug: opts.debug,
    }
    if (console) cfg.consoleSocketFd = console.initFd
    if (Object.keys(mountFds).length) cfg.idmapFields = Object.keys(mountFds)
    if (sources?.fields.length) cfg.bindSourceFields = sources.fields
    if (mountFd !== undefined) cfg.mountNsPath = `/proc/self/fd/${mountFd}`
    if (spec.hostname !== undefined) cfg.hostname = spec.hostname
    if (spec.domainname !== undefined) cfg.domainname = spec.domainname
    // An init OOM-killed before it read its config leaves a closed socket: say why it died,
    // not "write: broken pipe".
    try {
      launch.bootstrap(cfg, pid)
      if (sources) sendBindSources(launch.channel, sources)
    } catch (e) {
      if (e instanceof SysError && (e.errnoName === 'EPIPE' || e.errnoName === 'ECONNRESET'))
        throw initDied(pid, spec.linux?.resources?.memory?.limit)
      throw e
    }
    console?.closeInitEnd()
    cg.warm((ms) => sys.poll([{ fd: l.channel.fd, events: C.POLLIN }], ms)[0] !== 0)

    const ready = timed(`init: build the container (pid ${pid})`, () =>
      l.serve({
        cgroup: () => l.answer(() => timed(`cgroup: add pid ${pid}`, () => cg.attach()), { type: 'cgroup-done' }),
        idmap: (msg) =>
          l.answer(
            () => {
              try {
                attachIdmappedTree(pid, mountFds[msg.field], msg.fd)
              } catch (e) {
                throw withContext(e as Error, msg.field)
              }
            },
            { type: 'idmap-done' },
          ),
        hooks: () =>
          l.answer(
            () => {
              const state = { ...cfg.state, pid, status: 'creating' }
              cg.limitCpu()
              runHooks('prestart', spec.hooks?.prestart, state, cfg.bundle)
              runHooks('createRuntime', spec.hooks?.createRuntime, state, cfg.bundle)
            },
            { type: 'hooks-done' },
          ),
        ready: () => 'stop',
      }),
    )
    if (!ready) throw initDied(pid, spec.linux?.resources?.memory?.limit)
    timed('cgroup: apply the cpu and pids limits', () => cg.finish())
    rec.cgroupOwned = cg.owned

    // The init sent the pty master before 'ready': take it if runt is its receiver.
    const master = console ? console.receiveMaster() : null
    console?.close()
    if (!isAlive(pid, rec.pidStartTime)) throw initDied(pid)
    rec.created = new Date().toISOString()
    timed('state: write state.json', () => {
      opts.store.write(rec)
      opts.store.removeCreating(opts.id)
    })
    if (opts.pidFile) writeFileAtomic(path.resolve(opts.pidFile), String(pid))
    if (opts.pidfdSocket) sendPidfd(opts.pidfdSocket, pid)
    sys.close(startFd)
    undo.clear()
    netDevices.release()
    let channel: Channel | null = launch.channel
    if (!opts.reportExec) {
      launch.close()
      channel = null
    }
    for (const j of joins) sys.close(j.fd)
    if (shared) sys.close(shared.fd)
    lock.release()
    return { rec, pid, channel, master }
  } catch (e) {
    undo.run(e)
    for (const j of joins) sys.close(j.fd)
    lock?.release()
    throw e
  }
}

export function stateBase(id: string, bundle: string, spec: Spec): InitConfig['state'] {
  const s: InitConfig['state'] = { ociVersion: OCI_VERSION, id, bundle }
  if (spec.annotations) s.annotations = spec.annotations
  return s
}

/** "new mount,pid,uts; join network" for the clone's record. */
function nsSummary(created: readonly string[], joins: readonly { type: string }[]): string {
  const parts: string[] = []
  if (created.length) parts.push(`new ${created.join(',')}`)
  if (joins.length) parts.push(`join ${joins.map((j) => j.type).join(',')}`)
  return parts.join('; ') || 'no namespaces'
}

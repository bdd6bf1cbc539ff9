// The host side of `restore`: the bundle validated as for `create`, the container's state
// directory and lock made, and CRIU asked to restore the image's process tree in place of an
// init (runc's Restore): the rootfs bound at <state dir>/criu-root, the bind sources put at
// their destinations for CRIU to find (then taken away again), criu placed in the container's
// cgroups before it restores, namespaces given by path handed over as fds or joined by path.
// With rst_sibling the restored init is our child. On post-restore state.json is written, so
// that state, kill and delete work as for any container. A failure undoes all of it.

import * as fs from 'node:fs'
import * as path from 'node:path'
import * as C from '../sys/constants.js'
import { linux as sys } from '../sys/linux.js'
import { connectUnix, sendFds } from '../sys/scm.js'
import { CriuError, fsError } from '../errors.js'
import { OCI_VERSION } from '../spec/defaults.js'
import type { Spec } from '../spec/schema.js'
import { writeFileAtomic, type ContainerRecord } from '../state/store.js'
import { createLocked, type Lock } from '../state/lock.js'
import { readProcStat } from '../state/status.js'
import { parseMountInfo, parseProcCgroup } from '../plan/mountinfo.js'
import { cgroupBindMounts, DESCRIPTORS_FILE, RESTORE_LOG, restoreRequest, type CriuFlags } from '../plan/criu.js'
import { InRoot, fdPath } from '../rootfs/in-root.js'
import { setupCgroups } from '../cgroups/setup.js'
import { runHooks } from '../hooks.js'
import { namespacePaths, prepare, stateBase, type CreateOptions } from './create.js'
import { criuSwrk, logPathOf, openCriuDir, openWorkDir, quoteCriuLog } from './criu.js'
import { CHECKPOINT_MARKER } from './checkpoint.js'
import { killAndReap } from './host-ns.js'
import { Undo } from './launch.js'
import { logger } from '../log.js'

export type RestoreOptions = CreateOptions & CriuFlags

/**
 * Bind mounts' sources at their destinations under the rootfs, in our mount namespace, for
 * CRIU to find its external mounts' places (runc's prepareCriuRestoreMounts): the mount points
 * made inside the rootfs (never through a symlink out of it), the binds undone afterwards.
 */
function prepareRestoreMounts(rootfs: string, spec: Spec, bundle: string, undo: Undo): void {
  const mounts = spec.mounts ?? []
  const tmpfs = mounts.filter((m) => m.type === 'tmpfs').map((m) => m.destination)
  const root = InRoot.open(sys, rootfs)
  try {
    for (const m of mounts) {
      if (m.type === 'cgroup' || tmpfs.some((t) => m.destination.startsWith(t + '/'))) continue
      const bind = m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind')
      const source = path.resolve(bundle, m.source ?? '')
      let isFile = false
      if (bind) {
        try {
          isFile = !fs.statSync(source).isDirectory()
        } catch (e) {
          throw fsError(e, 'stat', source)
        }
      }
      const fd = isFile ? root.ensureFile(m.destination) : root.mkdirAll(m.destination)
      try {
        if (!bind) continue
        sys.mount(source, fdPath(fd), 'bind', C.MS_BIND | C.MS_REC, null, m.destination)
        const target = path.join(rootfs, m.destination)
        undo.push(() => {
          try {
            sys.umount2(target, C.MNT_DETACH)
          } catch (e) {
            logger().warn(`restore: unmounting ${target}: ${(e as Error).message}`)
          }
        })
      } finally {
        sys.close(fd)
      }
    }
  } finally {
    root.close()
  }
}

/** Something is mounted at `dir` (or mountinfo cannot be read: then assume so). */
function mountedAt(dir: string): boolean {
  try {
    const real = fs.realpathSync(dir)
    return parseMountInfo(sys.readFile('/proc/self/mountinfo')).some((m) => m.mountPoint === real)
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ENOENT'
  }
}

/** Restore the container `opts.id` from the image; returns its record and the restored init's pid. */
export function restoreContainer(opts: RestoreOptions): { rec: ContainerRecord; pid: number } {
  const prep = prepare(opts)
  const { spec } = prep
  const imagePath = path.resolve(opts.imagePath || 'checkpoint')
  const workPath = opts.workPath ? path.resolve(opts.workPath) : ''
  const logPath = logPathOf(imagePath, workPath, RESTORE_LOG)
  let descriptors: string[]
  const descFile = path.join(imagePath, DESCRIPTORS_FILE)
  try {
    descriptors = JSON.parse(fs.readFileSync(descFile, 'utf8')) as string[]
  } catch (e) {
    if (e instanceof SyntaxError) throw new CriuError(`${descFile}: ${e.message}`)
    throw fsError(e, 'open', descFile)
  }
  if (!Array.isArray(descriptors)) throw new CriuError(`${descFile}: not a list of descriptors`)

  let lock: Lock | null = null
  const undo = new Undo() // on failure only
  const after = new Undo() // always: the criu-root bind, the mounts made for CRIU, our fds
  let restored = 0
  try {
    lock = createLocked(opts.store, opts.id)
    const stateDir = opts.store.dir(opts.id)
    const criuRoot = path.join(stateDir, 'criu-root')
    undo.push(() => {
      // Never a recursive removal through the rootfs bound at criu-root.
      if (mountedAt(criuRoot)) throw new CriuError(`restore: ${criuRoot} is still mounted; ${stateDir} is left`)
      opts.store.remove(opts.id)
    })

    const fds: number[] = []
    after.push(() => fds.forEach((fd) => sys.close(fd)))
    const imagesDirFd = openCriuDir(imagePath)
    fds.push(imagesDirFd)
    let workDirFd: number | undefined
    if (workPath) {
      workDirFd = openWorkDir(workPath)
      fds.push(workDirFd)
    }

    const { req, nsFiles } = restoreRequest(opts, spec, {
      bundle: prep.bundle,
      imagesDirFd,
      ...(workDirFd !== undefined ? { workDirFd } : {}),
      root: path.join(stateDir, 'criu-root'),
      descriptors,
      cgroupBinds: [],
      firstExtraFd: 4,
    })
    const nsFds = nsFiles.map((f) => {
      try {
        return sys.openat(C.AT_FDCWD, f, C.O_RDONLY | C.O_CLOEXEC)
      } catch (e) {
        throw new CriuError(`Requested network namespace ${f} does not exist: ${(e as Error).message}`)
      }
    })
    fds.push(...nsFds)

    fs.mkdirSync(criuRoot, { mode: 0o755 })
    after.push(() => fs.rmdirSync(criuRoot))
    sys.mount(prep.rootfs.rootfs, criuRoot, 'bind', C.MS_BIND | C.MS_REC, null)
    after.push(() => sys.umount2(criuRoot, C.MNT_DETACH))
    prepareRestoreMounts(prep.rootfs.rootfs, spec, prep.bundle, after)

    const rec: ContainerRecord = {
      ociVersion: OCI_VERSION,
      id: opts.id,
      pid: 0,
      pidStartTime: '',
      bundle: prep.bundle,
      rootfs: prep.rootfs.rootfs,
      created: new Date().toISOString(),
      config: spec,
      namespacePaths: {},
      cgroupPaths: {},
      cgroupOwned: true,
    }
    if (opts.systemdCgroup) rec.systemdCgroup = true
    if (opts.noNewKeyring) rec.noNewKeyring = true
    if (spec.annotations) rec.annotations = spec.annotations
    const hooksState = () => ({ ...stateBase(opts.id, prep.bundle, spec), status: 'creating' })

    const stdio: [number, number, number] = [0, 1, 2]
    criuSwrk(req, {
      stdio,
      extraFds: nsFds,
      logPath,
      // criu goes into the container's cgroups, and restores the tree there (runc's
      // criuApplyCgroups); cg_root tells it where each controller's cgroup is.
      started: (criuPid, r) => {
        const c = setupCgroups({
          id: opts.id,
          spec,
          systemd: opts.systemdCgroup,
          rootless: prep.rootlessCgroups,
          pid: criuPid,
          beforeCreate: (paths) => {
            rec.cgroupPaths = paths
            rec.pid = criuPid
            opts.store.writeCreating(rec)
          },
        })
        undo.push(() => c.undo())
        c.attach()
        c.finish()
        rec.cgroupPaths = c.paths
        rec.cgroupOwned = c.owned
        const own = parseProcCgroup(sys.readFile(`/proc/${criuPid}/cgroup`))
        r.opts!.cgRoot = own.flatMap((e) =>
          e.controllers.length ? e.controllers.map((ctrl) => ({ ctrl, path: e.path })) : [{ path: e.path }],
        )
        const binds = cgroupBindMounts(spec, parseMountInfo(sys.readFile('/proc/self/mountinfo')), rec.cgroupPaths)
        if (!(spec.linux?.namespaces ?? []).some((n) => n.type === 'cgroup'))
          r.opts!.extMnt = [...(r.opts!.extMnt ?? []), ...binds.map((b) => ({ key: b.destination, val: b.source }))]
      },
      notify: (n) => {
        switch (n.script) {
          case 'setup-namespaces': {
            const state = { ...hooksState(), pid: n.pid }
            runHooks('prestart', spec.hooks?.prestart, state, prep.bundle)
            runHooks('createRuntime', spec.hooks?.createRuntime, state, prep.bundle)
            break
          }
          case 'post-restore': {
            restored = n.pid
            const stat = readProcStat(n.pid)
            if (!stat) throw new CriuError(`criu failed: the restored process ${n.pid} is gone`, logPath)
            rec.pid = n.pid
            rec.pidStartTime = stat.startTime
            rec.namespacePaths = namespacePaths(
              n.pid,
              (spec.linux?.namespaces ?? []).map((ns) => ns.type),
            )
            rec.created = new Date().toISOString()
            opts.store.write(rec)
            opts.store.removeCreating(opts.id)
            fs.rmSync(path.join(stateDir, CHECKPOINT_MARKER), { force: true })
            break
          }
          case 'orphan-pts-master': {
            if (!opts.consoleSocket || n.fds.length === 0) break
            const sock = connectUnix(opts.consoleSocket)
            try {
              sendFds(sock, Buffer.from('/dev/ptmx'), [n.fds[0]!])
            } finally {
              sys.close(sock)
            }
            break
          }
        }
      },
    })
    if (!restored) throw new CriuError('criu failed: no post-restore notification', logPath)
    if (opts.pidFile) writeFileAtomic(path.resolve(opts.pidFile), String(restored))
    after.run(null)
    undo.clear()
    return { rec, pid: restored }
  } catch (e) {
    if (e instanceof CriuError) quoteCriuLog(logPath)
    if (restored) killAndReap(restored)
    // The binds under the state directory go before the directory does.
    after.run(e)
    undo.run(e)
    throw e
  } finally {
    lock?.release()
  }
}

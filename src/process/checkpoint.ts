// The host side of `checkpoint`: the image (and work) directory made and opened, the facts
// runc's Checkpoint reads from the running container (its stdio, masked files, namespaces by
// path, freezer cgroup), descriptors.json written, and the DUMP or PRE_DUMP request sent to
// criu (process/criu.ts). The caller holds the container's lock and decides what follows.

import * as fs from 'node:fs'
import * as path from 'node:path'
import { linux as sys } from '../sys/linux.js'
import { CriuError, fsError } from '../errors.js'
import type { Spec } from '../spec/schema.js'
import type { ContainerRecord } from '../state/store.js'
import { parseMountInfo } from '../plan/mountinfo.js'
import {
  cgroupBindMounts,
  criuCgMode,
  DESCRIPTORS_FILE,
  DUMP_LOG,
  dumpRequest,
  emptyNsMask,
  parentPathProblem,
  type CriuFlags,
} from '../plan/criu.js'
import { criuSwrk, logPathOf, openCriuDir, openWorkDir, quoteCriuLog } from './criu.js'
import type { CriuFeatures, CriuReq } from '../sys/criu-rpc.js'

/** The file a dump leaves in the state directory once CRIU says post-dump (runc's marker). */
export const CHECKPOINT_MARKER = 'checkpoint'

/** runc's getDefaultImagePath: ./checkpoint. */
export function imagePathOf(f: CriuFlags): string {
  return path.resolve(f.imagePath || 'checkpoint')
}

/**
 * The image directory (mode 0700 if made) and --parent-path, checked as runc's
 * prepareImagePaths checks them, then the flags CRIU's options come from.
 */
export function prepareImagePaths(f: CriuFlags): string {
  const imagePath = imagePathOf(f)
  try {
    fs.mkdirSync(imagePath, { recursive: true, mode: 0o700 })
  } catch (e) {
    throw fsError(e, 'mkdir', imagePath)
  }
  if (f.parentPath) {
    const problem = parentPathProblem(f.parentPath)
    if (problem) throw new CriuError(problem)
    const real = path.join(imagePath, f.parentPath)
    let st: fs.Stats
    try {
      st = fs.statSync(real)
    } catch (e) {
      throw new CriuError(`invalid --parent-path: ${fsError(e, 'stat', real).message}`)
    }
    if (!st.isDirectory()) throw new CriuError(`invalid --parent-path: stat ${real}: not a directory`)
  }
  emptyNsMask(f.emptyNs)
  criuCgMode(f.manageCgroupsMode)
  return imagePath
}

/** The init's fds 0-2 as /proc shows them ("pipe:[123]", "/dev/null"), as runc records them. */
function initDescriptors(pid: number): string[] {
  return [0, 1, 2].map((fd) => {
    try {
      return fs.readlinkSync(`/proc/${pid}/fd/${fd}`)
    } catch {
      return '/dev/null'
    }
  })
}

/** criu's features against what the request needs (runc's checkCriuFeatures). */
function checkFeatures(check: CriuReq, logPath: string): void {
  const got: CriuFeatures = criuSwrk(check, { logPath }).features ?? {}
  const want = check.features ?? {}
  const missing: string[] = []
  if (want.memTrack && got.memTrack === false) missing.push('MemTrack')
  if (want.lazyPages && got.lazyPages === false) missing.push('LazyPages')
  if (missing.length) throw new CriuError(`criu is missing features: [${missing.join(' ')}]`)
}

/** Dump the container with criu; throws a CriuError naming CRIU's log file if it fails. */
export function dumpContainer(rec: ContainerRecord, stateDir: string, f: CriuFlags): void {
  const spec = rec.config as Spec
  const imagePath = prepareImagePaths(f)
  const fds: number[] = []
  try {
    const imagesDirFd = openCriuDir(imagePath)
    fds.push(imagesDirFd)
    let workDirFd: number | undefined
    if (f.workPath) {
      workDirFd = openWorkDir(path.resolve(f.workPath))
      fds.push(workDirFd)
    }
    const logPath = logPathOf(imagePath, f.workPath && path.resolve(f.workPath), DUMP_LOG)
    const nsInodes: Partial<Record<'network' | 'pid', number>> = {}
    for (const ns of spec.linux?.namespaces ?? []) {
      if (!ns.path || (ns.type !== 'network' && ns.type !== 'pid')) continue
      try {
        nsInodes[ns.type] = fs.statSync(ns.path).ino
      } catch (e) {
        throw fsError(e, 'stat', ns.path)
      }
    }
    const maskedFiles = (spec.linux?.maskedPaths ?? []).filter((p) => {
      try {
        return !fs.statSync(`/proc/${rec.pid}/root/${p}`).isDirectory()
      } catch {
        return false
      }
    })
    const freeze = rec.cgroupPaths['freezer'] ?? rec.cgroupPaths['']
    const { req, features } = dumpRequest(f, spec, {
      pid: rec.pid,
      rootfs: rec.rootfs,
      bundle: rec.bundle,
      imagesDirFd,
      ...(workDirFd !== undefined ? { workDirFd } : {}),
      maskedFiles,
      nsInodes,
      ...(freeze ? { freezeCgroup: freeze } : {}),
      cgroupBinds: cgroupBindMounts(spec, parseMountInfo(sys.readFile('/proc/self/mountinfo')), rec.cgroupPaths),
    })
    if (features) checkFeatures(features, logPath)
    if (!f.preDump) {
      const file = path.join(imagePath, DESCRIPTORS_FILE)
      try {
        fs.writeFileSync(file, JSON.stringify(initDescriptors(rec.pid)), { mode: 0o600 })
      } catch (e) {
        throw fsError(e, 'open', file)
      }
    }
    try {
      criuSwrk(req, {
        logPath,
        notify: (n) => {
          // runc marks a dumped container; restore's post-restore removes the mark.
          if (n.script === 'post-dump') fs.writeFileSync(path.join(stateDir, CHECKPOINT_MARKER), '')
        },
      })
    } catch (e) {
      quoteCriuLog(logPath)
      throw e
    }
  } finally {
    for (const fd of fds) sys.close(fd)
  }
}

// A container that lists no mount namespace shares the runtime's (docs/design.md "No mount
// namespace"): its init builds the rootfs there, so what it mounts outlives it. Here create
// records, before the init mounts anything, what was on top at root.path and in which mount
// namespace; create's undo and delete detach what was stacked since, in that namespace only.

import * as fs from 'node:fs'
import * as C from '../sys/constants.js'
import { linux as sys } from '../sys/linux.js'
import { parseMountInfo, topMountAt } from '../plan/mountinfo.js'
import type { SharedRootfs } from '../state/store.js'
import { expectation, sameInode } from './host-ns.js'

/** The runtime's mount namespace, as an fd for the init to join, and the record for delete. */
export type SharedMountNs = { fd: number; record: SharedRootfs }

function mountNsId(): { ino: number; dev: number } {
  const { ino, dev } = expectation('mount', '/proc/self/ns/mnt')
  return { ino, dev }
}

/** Open our mount namespace for the init and note what lies at root.path now. */
export function shareMountNs(rootfs: string): SharedMountNs {
  const mountPoint = fs.realpathSync(rootfs)
  const below = topMountAt(parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')), mountPoint)
  const fd = sys.openat(C.AT_FDCWD, '/proc/self/ns/mnt', C.O_RDONLY)
  return { fd, record: { mountPoint, below: below?.id ?? null, mntns: mountNsId() } }
}

/**
 * Detach (MNT_DETACH, with everything below it) each mount stacked at the mount point since
 * the record was made: the init's bind of the rootfs onto itself, under which every other
 * mount of the container lies. Run from another mount namespace it detaches nothing and says
 * what it left (a mount id means nothing there).
 */
export function detachSharedRootfs(rec: SharedRootfs, warn: (msg: string) => void): void {
  if (!sameInode(mountNsId(), rec.mntns)) {
    warn(`the container's mounts at ${rec.mountPoint} were made in another mount namespace (mnt:[${rec.mntns.ino}]): left there`)
    return
  }
  // A bound on the loop: each pass detaches one mount stacked at the mount point.
  for (let i = 0; i < 16; i++) {
    const top = topMountAt(parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')), rec.mountPoint)
    if (!top || top.id === rec.below) return
    sys.umount2(rec.mountPoint, C.MNT_DETACH)
  }
}

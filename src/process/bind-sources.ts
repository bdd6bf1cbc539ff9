// Bind sources opened as host root (plan/bind-sources.ts says which): the parent opens each
// O_PATH inside the container's mount namespace, whose mounts a bind from the fd must come
// from (mount(2) refuses a source in another namespace), and sends the fds after the
// bootstrap as SCM_RIGHTS on one-byte 'F' messages; the init receives them before it builds
// the rootfs, binds from /proc/self/fd/N and closes them before anything runs in the
// container (rootfs/build.ts, process/init.ts). This is runc 1.1's _LIBCONTAINER_MOUNT_FDS.

import * as C from '../sys/constants.js'
import { linux as sys } from '../sys/linux.js'
import { recvWithAncillary } from '../sys/scm.js'
import { RuntimeError, SysError } from '../errors.js'
import { fdBatches, pairBindSources, type BindSource } from '../plan/bind-sources.js'
import { inMountNamespace } from './host-ns.js'
import type { Channel } from './sync.js'

const MARK = 0x46 // 'F'

export type OpenedBindSources = {
  /** Fields (mounts[i]) in the order of `fds`. */
  fields: string[]
  fds: number[]
  /** Sources the parent could not open: the init resolves them as before, and reports. */
  skipped: { field: string; source: string; error: string }[]
}

/**
 * Open `sources` in the mount namespace at `nsFd`. A source that cannot be opened is left to
 * the init, which stats it at its turn and fails with the error it always gave (a missing
 * source: "mounts[i] /dst: stat /src: no such file or directory"), after the mounts before it.
 */
export function openBindSources(sources: readonly BindSource[], nsFd: number): OpenedBindSources {
  const out: OpenedBindSources = { fields: [], fds: [], skipped: [] }
  if (sources.length === 0) return out
  try {
    inMountNamespace(nsFd, () => {
      for (const s of sources) {
        try {
          // Symlinks are followed, on the host, as runc resolves the source.
          out.fds.push(sys.openat(C.AT_FDCWD, s.source, C.O_PATH, 0, s.source))
          out.fields.push(s.field)
        } catch (e) {
          if (!(e instanceof SysError)) throw e
          out.skipped.push({ field: s.field, source: s.source, error: e.message })
        }
      }
    })
  } catch (e) {
    closeAll(out.fds)
    throw e
  }
  return out
}

/** Send the opened fds to the init, in batches the kernel accepts, and close ours. */
export function sendBindSources(ch: Channel, opened: OpenedBindSources): void {
  try {
    let at = 0
    for (const n of fdBatches(opened.fds.length)) {
      sys.sendFds(ch.fd, Buffer.from([MARK]), opened.fds.slice(at, at + n))
      at += n
    }
  } finally {
    closeAll(opened.fds)
    opened.fds = []
  }
}

/** The init's side: the fds for `fields`, by field. They arrive close-on-exec. */
export function receiveBindSources(ch: Channel, fields: readonly string[]): Map<string, number> {
  const fds: number[] = []
  try {
    for (const n of fdBatches(fields.length)) {
      const r = recvWithAncillary(ch.fd, 1, n)
      fds.push(...r.fds)
      if (r.data.length !== 1 || r.data[0] !== MARK || r.fds.length !== n)
        throw new RuntimeError(`bind sources: expected ${n} descriptors from the parent, got ${r.fds.length}`, 'EPROTO')
    }
    return pairBindSources(fields, fds)
  } catch (e) {
    closeAll(fds)
    throw e
  }
}

export function closeAll(fds: Iterable<number>): void {
  for (const fd of fds) {
    try {
      sys.close(fd)
    } catch {
      /* already closed */
    }
  }
}

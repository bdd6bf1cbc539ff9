// The parent <-> init protocol over a socketpair: synchronous, length-prefixed JSON frames.
// Both ends are plain blocking fds read with fs.readSync, so the init can use them after it
// has left the host's namespaces (no libuv threads involved).
//
//   stage 1 (libc chain)  -> parent   1 raw byte 'S'   "in my namespaces; write my maps"
//   parent -> stage 1                  1 raw byte 'G'   "maps, offsets, cgroup done; exec"
//   parent -> init        bootstrap   what to build (InitConfig), after init starts
//   parent -> init        1 byte 'F'  + SCM_RIGHTS: the bind sources the bootstrap names
//                                     (bindSourceFields), up to 253 a byte (bind-sources.ts)
//   init   -> parent      cgroup {pid} booted: put process pid into the container's cgroup
//                                     now (create: the init itself, before it unshares its
//                                     cgroup namespace or mounts; exec: the container process,
//                                     set up, before its execve); parent answers cgroup-done or
//                                     error
//   init   -> parent      cgroup-leave {pid}  exec: the container process is born (in the
//                                     container's cgroup); put me back in runt's own cgroup,
//                                     so that what I do until I exit is not charged to the
//                                     container; parent answers cgroup-left (or error)
//   init   -> parent      hooks       run prestart + createRuntime now (mounts done, before
//                                     pivot_root); parent answers hooks-done or error
//   init   -> parent      idmap       attach the parent's idmapped tree for mounts[i] on my
//                                     fd N (created in the rootfs); parent answers idmap-done
//   init   -> parent      log         a warning/debug line for the parent's --log
//   init   -> parent      ready       create: container built; init now waits on init.sock
//   init   -> parent      exec {pid}  exec: the container process, forked into the container's
//                                     pid namespace, has exec'd
//   init   -> parent      error       build failed (ErrorWire); init exits
//
// `start` talks to the init over a second connection, on <state>/init.sock (the init holds
// the listening socket, bound by the parent at create):
//   start  -> init        start       go (debug: send me the --debug records from here on)
//   init   -> start       log         a debug record (only if start asked)
//   init   -> start       exec        startContainer hooks done; execve next (EOF follows)
//   init   -> start       error       a hook or the execve failed; init exits
//
// EOF on either side means the peer died; the reader reports that as an error. BigInts (the
// capability masks) travel as {"$bigint": "..."}.

import * as fs from 'node:fs'
import { RuntimeError, type ErrorWire } from '../errors.js'

export type Message =
  | { type: 'bootstrap'; config: unknown; hostPid: number }
  | { type: 'cgroup'; pid: number }
  | { type: 'cgroup-done' }
  | { type: 'cgroup-leave'; pid: number }
  | { type: 'cgroup-left' }
  | { type: 'hooks'; state: unknown }
  | { type: 'hooks-done' }
  | { type: 'log'; level: 'debug' | 'info' | 'warning' | 'error'; msg: string }
  | { type: 'ready'; pid: number }
  | { type: 'error'; error: ErrorWire }
  | { type: 'idmap'; field: string; fd: number }
  | { type: 'idmap-done' }
  | { type: 'start'; debug?: boolean }
  | { type: 'exec'; pid?: number; detail?: string }

function readFull(fd: number, buf: Buffer): boolean {
  let off = 0
  while (off < buf.length) {
    let n: number
    try {
      n = fs.readSync(fd, buf, off, buf.length - off, null)
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code === 'EINTR' || code === 'EAGAIN') continue
      // The peer died with data unread (killed: by the OOM killer, say): that is its EOF.
      if (code === 'ECONNRESET' && off === 0) return false
      throw e
    }
    if (n === 0) {
      if (off === 0) return false
      throw new RuntimeError('sync socket closed mid-message', 'EPROTO')
    }
    off += n
  }
  return true
}

function writeFull(fd: number, buf: Buffer): void {
  let off = 0
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EINTR' || (e as NodeJS.ErrnoException).code === 'EAGAIN') continue
      throw e
    }
  }
}

export class Channel {
  private closed = false
  constructor(readonly fd: number) {}

  send(msg: Message): void {
    const body = Buffer.from(
      JSON.stringify(msg, (_k, v: unknown) => (typeof v === 'bigint' ? { $bigint: v.toString() } : v)),
      'utf8',
    )
    const head = Buffer.alloc(4)
    head.writeUInt32BE(body.length, 0)
    writeFull(this.fd, Buffer.concat([head, body]))
  }

  /** The next message, or null at EOF. */
  recv(): Message | null {
    const head = Buffer.alloc(4)
    if (!readFull(this.fd, head)) return null
    const len = head.readUInt32BE(0)
    if (len > 64 * 1024 * 1024) throw new RuntimeError(`sync message too large (${len} bytes)`, 'EPROTO')
    const body = Buffer.alloc(len)
    readFull(this.fd, body)
    return JSON.parse(body.toString('utf8'), (_k, v: unknown) =>
      v !== null && typeof v === 'object' && typeof (v as { $bigint?: unknown }).$bigint === 'string'
        ? BigInt((v as { $bigint: string }).$bigint)
        : v,
    ) as Message
  }

  /** A single raw byte (the stage-1 handshake); null at EOF. */
  recvByte(): number | null {
    const b = Buffer.alloc(1)
    return readFull(this.fd, b) ? b[0]! : null
  }

  sendByte(v: number): void {
    writeFull(this.fd, Buffer.from([v]))
  }

  /** Close the fd once: a second close() must not hit another file that reused the number. */
  close(): void {
    if (this.closed) return
    this.closed = true
    try {
      fs.closeSync(this.fd)
    } catch {
      /* already closed */
    }
  }
}

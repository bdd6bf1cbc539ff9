// Foreground waiting for a container process that is our child (`run`, `exec`): forward the
// signals runt receives, attach runt's terminal to the pty master when there is one (raw mode,
// resize on SIGWINCH, restored on exit), and return the exit status (128+signal if killed).

import * as os from 'node:os'
import * as tty from 'node:tty'
import * as C from '../sys/constants.js'
import { linux as sys } from '../sys/linux.js'
import { setWinsize } from '../rootfs/console.js'
import { fromWire, withContext } from '../errors.js'
import type { Channel } from './sync.js'

// Every signal runt can catch and forward. SIGCHLD is ours; SIGKILL/SIGSTOP cannot be caught;
// SIGBUS/SIGFPE/SIGILL/SIGSEGV are Node's own. SIGWINCH resizes the pty instead, with a tty.
const FORWARD = [
  'SIGHUP',
  'SIGINT',
  'SIGQUIT',
  'SIGTRAP',
  'SIGABRT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGPIPE',
  'SIGALRM',
  'SIGTERM',
  'SIGSTKFLT',
  'SIGCONT',
  'SIGTSTP',
  'SIGTTIN',
  'SIGTTOU',
  'SIGURG',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGVTALRM',
  'SIGPROF',
  'SIGWINCH',
  'SIGIO',
  'SIGPWR',
  'SIGSYS',
] as const

export function exitStatusCode(status: number): number {
  const sig = status & 0x7f
  return sig ? 128 + sig : (status >> 8) & 0xff
}

/**
 * The size of the caller's terminal, for a pty runt attaches itself: applied by the init when
 * it makes the pty, so the process never starts at 0x0 (a resize after start would race it).
 */
export function callerWinsize(): { height: number; width: number } | undefined {
  const out = process.stdout
  return out.isTTY && out.rows && out.columns ? { height: out.rows, width: out.columns } : undefined
}

const OPOST = 0x1

/** Clear OPOST on a terminal fd; returns what puts the old output flags back. */
function rawOutput(fd: number): () => void {
  if (!tty.isatty(fd)) return () => {}
  const t = Buffer.alloc(60) // struct termios (kernel): c_oflag at offset 4
  try {
    sys.ioctlBuf(fd, C.TCGETS, t, 'ioctl TCGETS')
    const oflag = t.readUInt32LE(4)
    if (!(oflag & OPOST)) return () => {}
    t.writeUInt32LE(oflag & ~OPOST, 4)
    sys.ioctlBuf(fd, C.TCSETS, t, 'ioctl TCSETS')
    return () => {
      try {
        t.writeUInt32LE(oflag, 4)
        sys.ioctlBuf(fd, C.TCSETS, t, 'ioctl TCSETS')
      } catch {
        /* the terminal went away */
      }
    }
  } catch {
    return () => {}
  }
}

/** Attach runt's stdio to a pty master; returns a function that detaches and restores. */
function attach(master: number): { done: Promise<void>; resize(): void; detach(): void } {
  const stream = new tty.ReadStream(master)
  const stdin = process.stdin
  const wasRaw = stdin.isTTY ? stdin.isRaw : false
  if (stdin.isTTY) stdin.setRawMode(true)
  // libuv's raw mode keeps ONLCR; the container's pty already turns \n into \r\n, so the
  // caller's terminal must pass output through untouched (cfmakeraw, as runc's console does).
  const restoreOutput = rawOutput(1)
  const resize = () => {
    const size = callerWinsize()
    if (!size) return
    try {
      setWinsize(sys, master, size)
    } catch {
      /* pty gone */
    }
  }
  resize()
  // Typed input goes to the master with write(2): a tty.ReadStream is read-only under Bun.
  stdin.on('data', (d: Buffer) => {
    for (let off = 0; off < d.length;) {
      try {
        off += sys.write(master, d.subarray(off))
      } catch {
        return // the pty went away
      }
    }
  })
  stdin.resume()
  stream.on('data', (d) => process.stdout.write(d))
  const done = new Promise<void>((resolve) => {
    // EIO on the master: the last holder of the slave has gone.
    stream.on('error', () => resolve())
    stream.on('end', () => resolve())
    stream.on('close', () => resolve())
  })
  return {
    done,
    resize,
    detach() {
      stdin.pause()
      stdin.removeAllListeners('data')
      if (stdin.isTTY) stdin.setRawMode(wasRaw)
      restoreOutput()
      stream.destroy()
    },
  }
}

export async function waitChild(pid: number, master: number | null): Promise<number> {
  const pidfd = sys.pidfdOpen(pid)
  const term = master !== null ? attach(master) : null
  const handlers: [string, () => void][] = []
  for (const name of FORWARD) {
    const n = os.constants.signals[name]
    const h =
      name === 'SIGWINCH' && term
        ? () => term.resize()
        : () => {
            try {
              sys.pidfdSendSignal(pidfd, n)
            } catch {
              /* exited */
            }
          }
    try {
      process.on(name, h)
      handlers.push([name, h])
    } catch {
      /* not catchable here */
    }
  }
  try {
    const status = await new Promise<number>((resolve) => {
      const w = sys.onReadable(pidfd, () => {
        w.close()
        const [, st] = sys.waitpid(pid, 0)
        resolve(st)
      })
    })
    if (term) {
      // Let the last output through, but not forever: a grandchild may hold the slave.
      await Promise.race([term.done, new Promise((r) => setTimeout(r, 200))])
    }
    return exitStatusCode(status)
  } finally {
    for (const [name, h] of handlers) process.off(name, h)
    term?.detach()
    sys.close(pidfd)
  }
}

export function reapOrphans(): void {
  try {
    for (;;) {
      const [r] = sys.waitpid(-1, C.WNOHANG)
      if (r <= 0) break
    }
  } catch {
    /* ECHILD */
  }
}

/** `run` in the foreground: what the container leaves behind is reparented to us (runc). */
export function becomeSubreaper(): void {
  sys.prctl(C.PR_SET_CHILD_SUBREAPER, 1)
}

/**
 * After `start`, in the foreground: the init's channel closes when it execs, or carries the
 * error that stopped it (the init is then reaped and the error rethrown as runc words it).
 */
export function awaitExec(channel: Channel, pid: number): void {
  const msg = channel.recv()
  channel.close()
  if (msg && msg.type === 'error') {
    sys.waitpid(pid, 0)
    throw withContext(fromWire(msg.error), 'unable to start container process')
  }
}

export function closeFd(fd: number): void {
  sys.close(fd)
}

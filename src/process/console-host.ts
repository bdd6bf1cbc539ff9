// The caller's end of a container terminal. With --console-socket the init sends the pty
// master straight to that socket (exactly one fd, SCM_RIGHTS, as go-runc requires) and runt
// never holds it; without one (`run -t`, `exec -t` in the foreground) runt keeps a socketpair,
// receives the master itself and attaches it to its own terminal (process/wait.ts).

import * as C from '../sys/constants.js'
import { linux as sys } from '../sys/linux.js'
import { connectUnix, recvWithAncillary, sendFds } from '../sys/scm.js'
import { RuntimeError } from '../errors.js'

export type ConsoleHandle = {
  /** The fd the init inherits and sends the master on. */
  initFd: number
  /** Close our copy of the init's end once the init has it. */
  closeInitEnd(): void
  /** The master, when runt itself is the receiver; null with --console-socket. */
  receiveMaster(): number | null
  close(): void
}

export function openConsoleSocket(socketPath: string | undefined): ConsoleHandle {
  if (socketPath) {
    const fd = connectUnix(socketPath)
    let open = true
    const close = () => {
      if (open) sys.close(fd)
      open = false
    }
    return { initFd: fd, closeInitEnd: close, receiveMaster: () => null, close }
  }
  const [ours, theirs] = sys.socketpair(C.SOCK_STREAM)
  let theirsOpen = true
  let oursOpen = true
  return {
    initFd: theirs,
    closeInitEnd() {
      if (theirsOpen) sys.close(theirs)
      theirsOpen = false
    },
    receiveMaster() {
      const r = recvWithAncillary(ours, 4096, 4)
      if (r.fds.length !== 1) {
        for (const fd of r.fds) sys.close(fd)
        throw new RuntimeError(`console: expected one fd from the container, got ${r.fds.length}`, 'ECONSOLE')
      }
      return r.fds[0]!
    },
    close() {
      if (theirsOpen) sys.close(theirs)
      if (oursOpen) sys.close(ours)
      theirsOpen = oursOpen = false
    },
  }
}

/** --pidfd-socket: send a pidfd of `pid` over the socket at `path`, as runc 1.2 does. */
export function sendPidfd(path: string, pid: number): void {
  const sock = connectUnix(path)
  const pidfd = sys.pidfdOpen(pid)
  try {
    sendFds(sock, Buffer.from('pidfd'), [pidfd])
  } finally {
    sys.close(pidfd)
    sys.close(sock)
  }
}

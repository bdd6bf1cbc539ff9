// The one launch path of create, run and exec: runc's terminal checks, stage 1's common part
// (the sealed binary re-executed as `init` with a clean environment), the clone with the
// namespaces the parent joins around it, the 'S'/'G' handshake, the bootstrap, the typed
// message loop, and an undo stack whose failures are attached to the error that caused them.
// process/create.ts and process/exec.ts are its callers; they differ in the namespaces and
// fds stage 1 takes and in what they do on each message (docs/design.md, "The sync protocol").

import * as C from '../sys/constants.js'
import { linux as sys } from '../sys/linux.js'
import { recvWithAncillary, setPassCred } from '../sys/scm.js'
import { RuntimeError, attachCleanup, fromWire, toWire, withContext } from '../errors.js'
import { lockedFlags } from '../rootfs/build.js'
import { logger } from '../log.js'
import { Channel, type Message } from './sync.js'
import { prepareStage1, type Stage1Spec } from './stage1.js'
import { initEnv, sealTargets, selfExec } from './self.js'
import { enterParentJoins, type OpenedJoin } from './host-ns.js'
import { ENV_SYNC_FD, type InitConfig } from './init-config.js'

/** runc's checkTerminal: a terminal needs a console socket when runt detaches, and back. */
export function checkTerminal(terminal: boolean, detach: boolean, consoleSocket: string | undefined): void {
  if (detach && terminal && !consoleSocket)
    throw new RuntimeError('cannot allocate tty if runt will detach without setting console socket', 'ETTY')
  if ((!detach || !terminal) && consoleSocket)
    throw new RuntimeError('cannot use console socket if runt will not detach or allocate tty', 'ETTY')
}

/** What a caller says about its stage 1; the rest (seal, exec, sync fd) is the same for all. */
export type LaunchSpec = Omit<Stage1Spec, 'seal' | 'syncFd' | 'closeFds' | 'inheritFds' | 'exec'> & {
  /** The caller's fds stage 1 must not hold (the container's lock), besides our sync end. */
  close?: number[]
  /** fds the init inherits besides stdio and its sync fd. */
  inherit: number[]
  /** The init's environment, besides its sync fd and what initEnv() adds. */
  env: Record<string, string>
  /** Namespaces this (main) thread joins for the clone alone. */
  parentJoins?: OpenedJoin[]
}

/** Handlers for the init's messages; return 'stop' to leave the loop. log and error are ours. */
export type Handlers = {
  [K in Exclude<Message['type'], 'log' | 'error'>]?: (msg: Extract<Message, { type: K }>) => 'stop' | void
}

/** Undo steps, last first; a failing one is attached to the error that made us undo. */
export class Undo {
  private steps: (() => void)[] = []

  push(fn: () => void): void {
    this.steps.push(fn)
  }

  /** Forget the steps: what they undo is now the container's. */
  clear(): void {
    this.steps = []
  }

  run(cause: unknown): void {
    for (const fn of this.steps.reverse()) {
      try {
        fn()
      } catch (e) {
        attachCleanup(cause, e)
      }
    }
    this.steps = []
  }
}

export class Launch {
  readonly channel: Channel
  private readonly childEnd: number
  /** The clone's pid: the init's on the direct path, an intermediate on the late one. */
  stage1Pid = 0
  /** The process that execs the init, once stage 1 said 'S'. */
  pid = 0

  constructor() {
    const [parentEnd, childEnd] = sys.socketpair(C.SOCK_STREAM)
    this.channel = new Channel(parentEnd)
    this.childEnd = childEnd
    // The kernel attaches the sender's pid (as we see it) to 'S': on the late path that is
    // the grandchild's, which clone(2) never told us.
    setPassCred(parentEnd)
  }

  /** Clone stage 1; it execs `runt init` once it has had 'G'. */
  spawn(spec: LaunchSpec): void {
    const self = selfExec()
    const { inherit, env, parentJoins, close, ...s1 } = spec
    const full: Stage1Spec = {
      ...s1,
      seal: sealTargets((f) => lockedFlags(sys.statfs(f).flags) & ~C.MS_RDONLY),
      syncFd: this.childEnd,
      closeFds: [this.channel.fd, ...(close ?? [])],
      inheritFds: [0, 1, 2, ...inherit, this.childEnd],
      exec: { path: self.path, argv: self.argv, env: initEnv({ ...env, [ENV_SYNC_FD]: String(this.childEnd) }) },
    }
    // Built first: the runtime may start threads whenever it runs code, and cannot while a
    // pid namespace for children is joined (see stage1.ts).
    const stage1 = prepareStage1(full)
    try {
      const restore = enterParentJoins(parentJoins ?? [])
      try {
        this.stage1Pid = stage1.launch()
      } finally {
        restore()
      }
    } finally {
      stage1.release()
      sys.close(this.childEnd)
    }
  }

  /** Wait for stage 1's 'S'; returns the pid that rode on it. */
  hello(what: string): number {
    const hello = recvWithAncillary(this.channel.fd, 1, 0)
    if (hello.data.length !== 1 || hello.data[0] !== 0x53 || !hello.pid) {
      const [, st] = sys.waitpid(this.stage1Pid, 0)
      this.stage1Pid = 0
      throw new RuntimeError(`${what} failed to start (stage 1 exited with status ${st >> 8}, signal ${st & 0x7f})`, 'ESTAGE1')
    }
    this.pid = hello.pid
    return this.pid
  }

  /** 'G': stage 1 may exec the init. */
  go(): void {
    this.channel.sendByte(0x47)
  }

  bootstrap(config: InitConfig, hostPid: number): void {
    this.channel.send({ type: 'bootstrap', config, hostPid })
  }

  /**
   * The init's messages until a handler says 'stop' (true) or EOF (false). Warnings go to our
   * log; an error becomes the error it was in the init, prefixed as runc prefixes it.
   */
  serve(handlers: Handlers): boolean {
    const log = logger()
    for (;;) {
      const msg = this.channel.recv()
      if (!msg) return false
      if (msg.type === 'log') {
        log.log(msg.level, msg.msg)
        continue
      }
      if (msg.type === 'error') throw withContext(fromWire(msg.error), 'unable to start container process')
      const handler = handlers[msg.type] as ((m: Message) => 'stop' | void) | undefined
      if (!handler) throw new RuntimeError(`unexpected '${msg.type}' from the init`, 'EPROTO')
      if (handler(msg) === 'stop') return true
    }
  }

  /** Do what the init asked and send it `reply`, or send it the error (thrown here too). */
  answer(what: () => void, reply: Message): void {
    try {
      what()
    } catch (e) {
      this.channel.send({ type: 'error', error: toWire(e) })
      throw e
    }
    this.channel.send(reply)
  }

  close(): void {
    this.channel.close()
  }
}

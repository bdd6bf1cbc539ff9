// startContainer hooks, as the init runs them: each hook is a libc-only clone chain that binds
// itself the way runc's init is bound when it runs them (the container's rlimits, umask,
// no_new_privs and seccomp filter; runc loads the filter before its start wait), keeps only
// stdio, and execs the hook. The runtime itself stays unfiltered. A chain cannot branch, so
// it reports errno after those steps and waits for go: a failed load never runs a hook
// unfiltered. The hook's stdin is the state JSON; stdout and stderr are captured for the error.
//
// A filter with SCMP_ACT_NOTIFY rules is loaded without a listener: no agent holds the hook's
// notifications, so the kernel answers ENOSYS to those calls (runc's hooks share the init's
// filter, whose listener the agent already has).

import * as os from 'node:os'
import * as C from '../sys/constants.js'
import { linux as sys, sysError } from '../sys/linux.js'
import { CloneChain } from '../sys/clone-chain.js'
import { errnoText } from '../errors.js'
import { FILTER_FLAG } from '../confine/seccomp.js'
import type { CompiledFilter } from '../confine/seccomp-filter.js'
import type { RlimitPlan } from '../confine/plan.js'
import { hookError, hookEnv, hookLabel, type Hook, type HookName } from '../hooks.js'
import { timed } from '../log.js'

export type HookBinds = {
  filter: CompiledFilter | null
  noNewPrivileges: boolean
  rlimits: RlimitPlan[]
  umask?: number
}

const SECCOMP_SET_MODE_FILTER = 1
const POLLIN = 1
const POLLOUT = 4
const MAX_OUTPUT = 4 * 1024 * 1024

/** Load flags for a hook's copy of the filter: no listener, and one thread to bind. */
function hookFilterFlags(flags: number): number {
  return flags & ~(FILTER_FLAG.NEW_LISTENER | FILTER_FLAG.TSYNC | FILTER_FLAG.TSYNC_ESRCH | FILTER_FLAG.WAIT_KILLABLE_RECV)
}

/** Run `hooks` in order, each bound as above; the first failure throws a HookError. */
export function runBoundHooks(name: HookName, hooks: Hook[], state: object, binds: HookBinds): void {
  if (!hooks.length) return // startContainer runs between `start` and execve: charged, throttled
  const input = Buffer.from(JSON.stringify(state))
  hooks.forEach((h, i) =>
    timed(
      () => `hook: ${hookLabel(name, i, h)}`,
      () => runOne(name, i, h, input, binds),
    ),
  )
}

function runOne(name: HookName, i: number, h: Hook, input: Buffer, binds: HookBinds): void {
  const args = h.args ?? [h.path]
  const fds: number[] = []
  const pipe = (): [number, number] => {
    const p = sys.pipe2(C.O_CLOEXEC)
    fds.push(...p)
    return p
  }
  const [inR, inW] = pipe()
  const [outR, outW] = pipe()
  const [errR, errW] = pipe()
  const [statusR, statusW] = pipe()
  const [goR, goW] = pipe()
  const chain = new CloneChain()
  let pid = 0
  try {
    const errnoPtr = CloneChain.errnoAddress()
    chain.call('memset', errnoPtr, 0, 4)
    chain.call('dup2', inR, 0)
    chain.call('dup2', outW, 1)
    chain.call('dup2', errW, 2)
    // Everything else closes at execve, the status pipe with it (EOF: exec'd).
    chain.call('syscall', C.SYS.close_range, 3, 0xffffffff, C.CLOSE_RANGE_CLOEXEC)
    for (const r of binds.rlimits) {
      const lim = Buffer.alloc(16)
      lim.writeBigUInt64LE(BigInt(r.soft), 0)
      lim.writeBigUInt64LE(BigInt(r.hard), 8)
      chain.call('prlimit', 0, r.resource, chain.bytes(lim), 0)
    }
    if (binds.umask !== undefined) chain.call('umask', binds.umask)
    if (binds.noNewPrivileges) chain.call('prctl', C.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if (binds.filter) {
      const f = binds.filter
      chain.call('syscall', C.SYS.seccomp, SECCOMP_SET_MODE_FILTER, hookFilterFlags(f.flags), chain.bytes(f.program.fprog))
    }
    const one = chain.buffer(8)
    chain.call('write', statusW, errnoPtr, 4)
    chain.call('read', goR, one, 1)
    chain.call('execve', h.path, chain.strArray(args), chain.strArray(hookEnv(h.env)))
    chain.call('write', statusW, errnoPtr, 4)
    pid = chain.spawn(0)
    for (const fd of [inR, outW, errW, statusW, goR]) close(fds, fd)

    const deadline = h.timeout ? Date.now() + h.timeout * 1000 : Infinity
    const st = Buffer.alloc(4)
    if (readFull(statusR, st) !== 4) throw hookError(name, i, h, { detail: 'the hook process died while being set up' })
    const setup = st.readInt32LE(0)
    if (setup !== 0)
      throw hookError(name, i, h, {
        detail: `setting up the hook process (rlimits, no_new_privs, seccomp): ${errnoText(sysError('setup', setup))}`,
      })
    sys.write(goW, Buffer.from('g'))
    const io = pump(statusR, inW, outR, errR, input, deadline, fds)
    if (io.timedOut) {
      kill(pid)
      reap(pid)
      pid = 0
      throw hookError(name, i, h, { timedOut: true, output: io.output })
    }
    if (io.execErrno !== undefined) {
      reap(pid)
      pid = 0
      // As a spawn error: fsErrorText words it "fork/exec PATH: no such file or directory".
      throw hookError(name, i, h, { execError: { code: sysError('execve', io.execErrno).errnoName }, output: io.output })
    }
    const status = reap(pid)
    pid = 0
    const signal = status & 0x7f
    if (signal) throw hookError(name, i, h, { signal: signalName(signal), output: io.output })
    const code = (status >> 8) & 0xff
    if (code !== 0) throw hookError(name, i, h, { status: code, output: io.output })
  } finally {
    if (pid) {
      kill(pid)
      reap(pid)
    }
    chain.release()
    for (const fd of [...fds]) close(fds, fd)
  }
}

type Pumped = { output: string; timedOut: boolean; execErrno?: number }

/**
 * Feed stdin and drain stdout, stderr and the status pipe until all three have closed or the
 * deadline passes. A hook that exits without reading its stdin is no error (EPIPE).
 */
function pump(statusR: number, inW: number, outR: number, errR: number, input: Buffer, deadline: number, fds: number[]): Pumped {
  sys.fcntl(inW, C.F_SETFL, sys.fcntl(inW, C.F_GETFL, 0) | C.O_NONBLOCK)
  let pending = input
  let writing = true
  if (pending.length === 0) {
    close(fds, inW)
    writing = false
  }
  const open = new Set([statusR, outR, errR])
  const chunks: Buffer[] = []
  let size = 0
  const status: Buffer[] = []
  const buf = Buffer.alloc(65536)
  while (open.size > 0) {
    const left = deadline === Infinity ? -1 : Math.max(0, deadline - Date.now())
    if (left === 0) return { output: text(chunks), timedOut: true }
    const watch = [...open].map((fd) => ({ fd, events: POLLIN }))
    if (writing) watch.push({ fd: inW, events: POLLOUT })
    const revents = sys.poll(watch, left === -1 ? -1 : Math.min(left, 2 ** 31 - 1))
    watch.forEach((w, k) => {
      const ev = revents[k]!
      if (!ev) return
      if (w.fd === inW) {
        try {
          const n = sys.write(inW, pending)
          pending = pending.subarray(n)
        } catch (e) {
          if ((e as { errnoName?: string }).errnoName === 'EAGAIN') return
          pending = Buffer.alloc(0) // EPIPE: the hook is done with its stdin
        }
        if (pending.length === 0) {
          close(fds, inW)
          writing = false
        }
        return
      }
      const n = sys.read(w.fd, buf)
      if (n === 0) {
        open.delete(w.fd)
        return
      }
      if (w.fd === statusR) status.push(Buffer.from(buf.subarray(0, n)))
      else if (size < MAX_OUTPUT) {
        chunks.push(Buffer.from(buf.subarray(0, n)))
        size += n
      }
    })
  }
  if (writing) close(fds, inW)
  const st = Buffer.concat(status)
  return { output: text(chunks), timedOut: false, ...(st.length >= 4 ? { execErrno: st.readInt32LE(0) } : {}) }
}

const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString()

function readFull(fd: number, b: Buffer): number {
  let off = 0
  while (off < b.length) {
    const n = sys.read(fd, b.subarray(off))
    if (n === 0) break
    off += n
  }
  return off
}

function close(fds: number[], fd: number): void {
  const k = fds.indexOf(fd)
  if (k < 0) return
  fds.splice(k, 1)
  sys.close(fd)
}

function kill(pid: number): void {
  try {
    sys.kill(pid, 9)
  } catch {
    /* already gone */
  }
}

/** Wait for the hook; its raw wait status. */
function reap(pid: number): number {
  return sys.waitpid(pid, 0)[1]
}

const signalName = (n: number) => Object.entries(os.constants.signals).find(([, v]) => v === n)?.[0] ?? `signal ${n}`

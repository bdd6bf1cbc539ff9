// One conversation with CRIU as runc has it: `criu swrk 3` (found on PATH, as runc's
// exec.Command("criu")) started by a libc-only clone chain with a SOCK_SEQPACKET socketpair's
// end on fd 3, a criu_req sent, and criu_resp messages read until the answer to the request;
// each NOTIFY on the way is handled by the caller and answered with notify_success.
// CRIU opens the images_dir_fd and work_dir_fd named in the request through
// /proc/<our pid>/fd, so they stay ours: only the socket and `extraFds` are handed over.

import * as fs from 'node:fs'
import * as C from '../sys/constants.js'
import { linux as sys } from '../sys/linux.js'
import { recvWithAncillary } from '../sys/scm.js'
import { CloneChain } from '../sys/clone-chain.js'
import { decodeResp, encodeReq, reqTypeName, type CriuReq, type CriuResp } from '../sys/criu-rpc.js'
import { CriuError, fsError } from '../errors.js'
import { findOnPath } from './idmap.js'
import { logger } from '../log.js'

const F_DUPFD_CLOEXEC = 1030
/** runc's receive buffer: a message that fills it is an error. */
const BUF = 10 * 4096

export type Notify = { script: string; pid: number; fds: number[] }

export type SwrkOptions = {
  /** fds 0-2 of criu (the restored tree's stdio); /dev/null for each when absent. */
  stdio?: [number, number, number]
  /** Handed to criu as fds 4, 5, ... (namespace files on restore). */
  extraFds?: number[]
  /** criu is started, the request not yet sent: runc puts a restoring criu in the cgroups here. */
  started?: (criuPid: number, req: CriuReq) => void
  /** A NOTIFY; throwing ends the conversation with that error. */
  notify?: (n: Notify) => void
  /** The log file to name when criu fails (runc's "log file: ..."). */
  logPath?: string
}

/** The criu binary runc would run: `criu` on PATH. */
export function criuPath(): string {
  const p = findOnPath('criu')
  if (!p) throw new CriuError('criu failed: exec: "criu": executable file not found in $PATH')
  return p
}

/** Send `req` to a new `criu swrk` and return its final answer; a failure is a CriuError. */
export function criuSwrk(req: CriuReq, o: SwrkOptions = {}): CriuResp {
  const bin = criuPath()
  const [client, server] = sys.socketpair(C.SOCK_SEQPACKET)
  const opened: number[] = [client, server]
  let pid = 0
  let done = false
  try {
    const nul = o.stdio ? null : sys.openat(C.AT_FDCWD, '/dev/null', C.O_RDWR | C.O_CLOEXEC)
    if (nul !== null) opened.push(nul)
    const stdio = o.stdio ?? [nul!, nul!, nul!]
    // Every source is first copied above the targets, so no dup2 overwrites one still to come.
    const targets = [...stdio, server, ...(o.extraFds ?? [])]
    const high = targets.map((fd) => sys.fcntl(fd, F_DUPFD_CLOEXEC, 100 + targets.length))
    opened.push(...high)
    const chain = new CloneChain()
    try {
      high.forEach((fd, i) => chain.call('dup2', fd, i))
      chain.call('syscall', C.SYS.close_range, targets.length, 0xffffffff, C.CLOSE_RANGE_CLOEXEC)
      const env = Object.entries(process.env).map(([k, v]) => `${k}=${v}`)
      chain.call('execve', bin, chain.strArray(['criu', 'swrk', '3']), chain.strArray(env))
      pid = chain.spawn(0)
    } finally {
      chain.release()
    }
    for (const fd of opened.splice(1)) sys.close(fd)
    logger().debug(`criu: swrk pid ${pid}, request ${reqTypeName(req.type)}`)
    o.started?.(pid, req)
    // As runc's debug log lists every CRIU option it sends.
    logger().debug(`criu: ${reqTypeName(req.type)} options ${JSON.stringify(req.opts ?? {})}`)
    sys.write(client, encodeReq(req))
    let resp: CriuResp
    for (;;) {
      const m = recvWithAncillary(client, BUF, 4)
      if (m.data.length === 0) throw new CriuError('criu failed: unexpected EOF', o.logPath)
      if (m.data.length === BUF) throw new CriuError('criu failed: buffer is too small', o.logPath)
      resp = decodeResp(m.data)
      if (!resp.success) {
        for (const fd of m.fds) sys.close(fd)
        throw new CriuError(`criu failed: type ${reqTypeName(resp.type)} errno ${resp.crErrno ?? 0}`, o.logPath)
      }
      if (resp.type !== C.CRIU_REQ.NOTIFY) break
      const n: Notify = { script: resp.notify?.script ?? '', pid: resp.notify?.pid ?? 0, fds: m.fds }
      logger().debug(`criu: notify ${n.script}${n.pid ? ` pid ${n.pid}` : ''}`)
      try {
        o.notify?.(n)
      } finally {
        for (const fd of n.fds) sys.close(fd)
      }
      sys.write(client, encodeReq({ type: C.CRIU_REQ.NOTIFY, notifySuccess: true }))
    }
    if (resp.type !== req.type && !(req.type === C.CRIU_REQ.FEATURE_CHECK && resp.type === C.CRIU_REQ.FEATURE_CHECK))
      throw new CriuError(`unable to parse the response ${reqTypeName(resp.type)}`, o.logPath)
    // Our end's write side closes: criu finishes and exits.
    sys.close(client)
    opened.splice(0)
    const status = sys.waitpid(pid, 0)[1]
    done = true
    if (status !== 0 && req.type !== C.CRIU_REQ.PRE_DUMP) throw new CriuError(`criu failed: ${waitText(status)}`, o.logPath)
    return resp
  } finally {
    for (const fd of opened) sys.close(fd)
    if (pid && !done) {
      // As runc: the socket closed, criu is waited for (it exits once it reads EOF).
      try {
        sys.waitpid(pid, 0)
      } catch {
        /* already reaped */
      }
    }
  }
}

/** "exit status 1", "signal: killed", as Go's ProcessState prints itself. */
export function waitText(status: number): string {
  const sig = status & 0x7f
  if (sig === 0) return `exit status ${(status >> 8) & 0xff}`
  return `signal: ${sig}`
}

/** CRIU's log file as the error names it: the work directory's, else the image directory's. */
export function logPathOf(imagePath: string, workPath: string, file: string): string {
  return `${workPath || imagePath}/${file}`
}

/**
 * The lines of CRIU's log that say Error, each with up to five lines before it (runc's
 * logCriuErrors), for the debug log; "" when the file cannot be read.
 */
export function criuLogErrors(file: string): string {
  let lines: string[]
  try {
    lines = fs.readFileSync(file, 'utf8').split('\n')
  } catch {
    return ''
  }
  const keep = new Set<number>()
  lines.forEach((l, i) => {
    if (!l.includes('Error')) return
    for (let k = Math.max(0, i - 5); k <= i; k++) keep.add(k)
  })
  return [...keep].map((i) => `${i + 1}:${lines[i]}`).join('\n')
}

/** A directory criu is handed by fd (images, work): O_DIRECTORY, close-on-exec, ours. */
export function openCriuDir(p: string): number {
  return sys.openat(C.AT_FDCWD, p, C.O_RDONLY | C.O_DIRECTORY | C.O_CLOEXEC)
}

/** --work-path: made 0700 where missing, as runc makes it, then opened as openCriuDir. */
export function openWorkDir(p: string): number {
  try {
    fs.mkdirSync(p, { mode: 0o700 })
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw fsError(e, 'mkdir', p)
  }
  return openCriuDir(p)
}

/** criuLogErrors of a failed conversation, as the warning runc's logCriuErrors prints. */
export function quoteCriuLog(logPath: string): void {
  const quoted = criuLogErrors(logPath)
  if (quoted) logger().warn(`--- Quoting "${logPath}"\n${quoted}\n---`)
}

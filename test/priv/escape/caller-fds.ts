// The caller's descriptors must not reach the container. An engine or a shell may start the
// runtime with descriptors that lack close-on-exec (here fd 37 and fd 19 on a host file): a
// created container's init holds whatever it inherited, inside the container's namespaces,
// until `start`, and a process in the container that can reach the init (ptrace, /proc/1/fd
// with CAP_SYS_PTRACE) could use them. Only stdio, the runtime's own channel and what
// LISTEN_FDS / --preserve-fds pass may cross. runc 1.1.5's created init holds 7 fds here:
// stdio, its sync and log pipes and the exec fifo, none of the caller's.

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { cleanEnv, makeBundle, priv, Runt, RUNT, tempDir } from '../../fixtures/runt.js'

/** Where each of a process's fds points. */
function fdTargets(pid: number): string[] {
  const dir = `/proc/${pid}/fd`
  return fs.readdirSync(dir).map((fd) => {
    try {
      return `${fd} -> ${fs.readlinkSync(path.join(dir, fd))}`
    } catch {
      return `${fd} -> (gone)`
    }
  })
}

/**
 * runt under bash (dash opens only fds 0-9) with `fds` open (no close-on-exec) on `leak`. Output goes to files: a created
 * container keeps runt's stdio, and a pipe would stay open until it exits.
 */
function withLeakedFds(t: Test, runt: Runt, leak: string, args: string[], fds = [19, 37]) {
  const io = tempDir(t)
  const quoted = ['--root', runt.root, ...args].map((a) => `'${a}'`).join(' ')
  const opens = fds.map((fd) => `${fd}<"$LEAK"`).join(' ')
  const r = spawnSync('/bin/bash', ['-c', `exec ${opens}; exec '${RUNT}' ${quoted} >"$IO/out" 2>"$IO/err"`], {
    env: { ...cleanEnv(), LEAK: leak, IO: io },
    stdio: 'ignore',
    timeout: 60_000,
  })
  const read = (f: string) => fs.readFileSync(path.join(io, f), 'utf8')
  return { status: r.status, stdout: read('out'), stderr: read('err') }
}

t.test("a created container's init holds none of the caller's fds", priv(), async (t) => {
  const runt = new Runt(t)
  const leak = path.join(tempDir(t), 'host-secret')
  fs.writeFileSync(leak, 'host secret\n')
  const b = makeBundle(t, ['sh', '-c', 'ls -l /proc/self/fd; sleep 300'])
  const id = runt.id('created')
  const r = withLeakedFds(t, runt, leak, ['create', '--bundle', b.dir, id])
  t.equal(r.status, 0, `create: ${r.stderr}`)
  const pid = runt.state(id).pid
  const fds = fdTargets(pid)
  t.comment(`created init (pid ${pid}) holds ${fds.length} fds: ${fds.join(', ')}`)
  t.notOk(
    fds.some((f) => f.endsWith(leak)),
    "the caller's fds 19 and 37 did not reach the init",
  )
  runt.ok(['start', id])
  // The user process replaced the init: what it holds now is what the container got.
  const after = fdTargets(pid)
  t.notOk(
    after.some((f) => f.endsWith(leak)),
    "the container's process does not hold them either",
  )
  t.ok(after.length <= 4, `the process holds stdio and at most its own fd: ${after.join(', ')}`)
})

t.test("exec: neither the exec's process nor its init holds the caller's fds", priv(), async (t) => {
  const runt = new Runt(t)
  const leak = path.join(tempDir(t), 'host-secret')
  fs.writeFileSync(leak, 'host secret\n')
  const b = makeBundle(t, ['sleep', '300'])
  const id = runt.id('exec')
  runt.ok(['run', '-d', '--bundle', b.dir, id])
  const r = withLeakedFds(t, runt, leak, ['exec', id, 'sh', '-c', 'for f in /proc/self/fd/*; do readlink $f || true; done'])
  t.equal(r.status, 0, `exec: ${r.stderr}`)
  t.notMatch(r.stdout, /host-secret/, "the exec'd process has no fd on the caller's file")
  // (The glob's own directory fd is closed by the time readlink runs: it prints nothing.)
  t.equal(r.stdout.trim().split('\n').length, 3, `stdio only: ${r.stdout.trim().replace(/\n/g, ', ')}`)
})

t.test('--preserve-fds still passes exactly what was asked', priv(), async (t) => {
  const runt = new Runt(t)
  const leak = path.join(tempDir(t), 'host-secret')
  fs.writeFileSync(leak, 'host secret\n')
  const b = makeBundle(t, ['sh', '-c', 'for f in /proc/self/fd/*; do echo "$f $(readlink $f)"; done'])
  const args = ['run', '--preserve-fds', '1', '--bundle', b.dir, runt.id('preserve')]
  const r = withLeakedFds(t, runt, leak, args, [3, 37])
  t.equal(r.status, 0, `run: ${r.stderr}`)
  t.match(r.stdout, /^\/proc\/self\/fd\/3 .*host-secret$/m, 'fd 3 was preserved')
  t.notMatch(r.stdout, /^\/proc\/self\/fd\/37 /m, 'fd 37 was not')
})

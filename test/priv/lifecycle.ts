// The lifecycle as engines drive it, on real containers: create -> created (pid in
// --pid-file) -> start -> running -> kill -> stopped -> delete -> does not exist.

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { spawn } from 'node:child_process'
import { cleanCommand, makeBundle, priv, Runt, socketPeer, waitFor } from '../fixtures/runt.js'

t.test('create, start, kill, delete', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['sleep', '1000'])
  const id = runt.id()
  const pidFile = path.join(b.dir, 'init.pid')
  runt.ok(['create', '--bundle', b.dir, '--pid-file', pidFile, id])
  const created = runt.state(id)
  t.equal(created.status, 'created')
  t.equal(fs.readFileSync(pidFile, 'utf8'), String(created.pid), 'pid file holds the init pid, no newline')
  t.equal(created.bundle, b.dir)
  t.equal(created.rootfs, b.rootfs)
  t.match(created.created as string, /^\d{4}-\d\d-\d\dT/)
  t.ok(fs.existsSync(`/proc/${created.pid}`), 'init is alive')

  runt.ok(['start', id])
  t.equal(runt.state(id).status, 'running')
  const again = runt.run(['start', id])
  t.equal(again.status, 1)
  t.match(again.stderr, 'cannot start an already running container')
  const del = runt.run(['delete', id])
  t.equal(del.status, 1)
  t.match(del.stderr, `cannot delete container ${id} that is not stopped: running`)

  runt.ok(['kill', id, '0']) // as runc: is it running? (signals nothing)
  t.equal(runt.state(id).status, 'running', 'signal 0 leaves it running')
  runt.ok(['kill', id, 'KILL'])
  t.ok(await waitFor(() => runt.state(id).status === 'stopped'), 'stopped after SIGKILL')
  t.match(runt.run(['kill', id, '0']).stderr, 'container not running', 'signal 0 of a stopped container')
  t.equal(runt.state(id).pid, 0, 'a stopped container reports pid 0')
  const k = runt.run(['kill', id])
  t.equal(k.status, 1)
  t.match(k.stderr, 'container not running')
  // As runc: --all is not an error once stopped (containerd's shim sends it after the init of a
  // container in the host's pid namespace exits).
  t.equal(runt.run(['kill', '--all', id, '9']).status, 0, 'kill --all of a stopped container succeeds')

  runt.ok(['delete', id])
  const st = runt.run(['state', id])
  t.equal(st.status, 1)
  t.match(st.stderr, 'container does not exist')
  t.notOk(fs.existsSync(path.join(runt.root, id)), 'state directory removed')

  // A deleted id can be used again.
  runt.ok(['create', '--bundle', b.dir, id])
  runt.ok(['delete', id])
})

t.test('delete of a created container kills its init', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['sleep', '1000'])
  const id = runt.id()
  runt.ok(['create', '--bundle', b.dir, id])
  const pid = runt.state(id).pid
  runt.ok(['delete', id])
  t.ok(
    await waitFor(() => !fs.existsSync(`/proc/${pid}`) || fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')),
    'init gone',
  )
})

t.test('run in the foreground exits with the container status', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['sh', '-c', 'echo out; echo err >&2; exit 7'])
  const id = runt.id()
  const r = runt.run(['run', '--bundle', b.dir, id])
  t.equal(r.status, 7)
  t.equal(r.stdout, 'out\n')
  t.equal(r.stderr, 'err\n')
  t.equal(runt.run(['state', id]).status, 1, 'run deletes the container when it exits')

  // Without a pid namespace of its own the process is not an init, so SIGTERM's default
  // action applies (an init ignores signals it has no handler for).
  b.config.process!.args = ['sleep', '30']
  b.config.linux!.namespaces = b.config.linux!.namespaces!.filter((n) => n.type !== 'pid')
  b.write()
  const child = runt.spawn(['run', '--bundle', b.dir, runt.id()])
  await new Promise((r) => setTimeout(r, 1500))
  child.kill('SIGTERM')
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)))
  t.equal(code, 128 + 15, 'SIGTERM is forwarded; 128+signal when the process is killed')
})

t.test('the container sees its own hostname, pid 1 and processes', priv(), async (t) => {
  const runt = new Runt(t)
  // No pipe: ps could read /proc before the shell has forked the pipe's other end. The final
  // `exit` keeps sh from exec'ing ps in its own place.
  const b = makeBundle(t, ['sh', '-c', 'hostname; echo $$; ps -o pid,comm; exit 0'], (c) => {
    c.hostname = 'probe-host'
  })
  const r = runt.run(['run', '--bundle', b.dir, runt.id()])
  t.equal(r.status, 0, r.stderr)
  const [host, pid, , ...procs] = r.stdout.trim().split('\n')
  t.equal(host, 'probe-host')
  t.equal(pid, '1')
  const rows = procs.map((l) => l.trim().split(/\s+/))
  t.same(
    rows.map(([, comm]) => comm),
    ['sh', 'ps'],
    'ps sees only sh and itself',
  )
  t.equal(rows[0]?.[0], '1', 'sh is pid 1')
})

/** A --pidfd-socket peer, listening: what it received arrives in `report`. */
async function pidfdPeer(t: Test) {
  const p = socketPeer<{ fds: number; pid: number | null }>(t, 'pidfd-peer.py', 'pidfd.sock')
  await p.listening
  return p
}

t.test('create and exec --pidfd-socket send one pidfd of the process', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['sleep', '100'])
  const id = runt.id('pidfd')
  const c = await pidfdPeer(t)
  runt.ok(['create', '--pidfd-socket', c.sock, '--bundle', b.dir, id])
  const created = await c.report
  t.equal(created.fds, 1, 'exactly one fd')
  t.equal(created.pid, runt.state(id).pid, "a pidfd of the container's init")
  runt.ok(['start', id])

  const e = await pidfdPeer(t)
  const pidFile = path.join(b.dir, 'exec.pid')
  runt.ok(['exec', '-d', '--pid-file', pidFile, '--pidfd-socket', e.sock, id, 'sleep', '50'])
  const execd = await e.report
  t.equal(execd.fds, 1, 'exactly one fd')
  t.equal(execd.pid, Number(fs.readFileSync(pidFile, 'utf8')), "a pidfd of the exec'd process")
})

/**
 * Run runt `n` times at once with the same arguments; resolves with each exit status and
 * stderr. stderr goes to a file: a created container keeps its stdio open, a pipe would not
 * close.
 */
function together(t: Test, runt: Runt, n: number, args: string[]): Promise<{ status: number | null; stderr: string }[]> {
  const dir = t.testdir({})
  return Promise.all(
    Array.from({ length: n }, (_, i) => {
      const file = path.join(dir, `stderr-${args[0]}-${i}`)
      const fd = fs.openSync(file, 'w')
      const [cmd, argv] = cleanCommand(['--root', runt.root, ...args])
      const p = spawn(cmd, argv, { stdio: ['ignore', 'ignore', fd] })
      fs.closeSync(fd)
      return new Promise<{ status: number | null; stderr: string }>((r) =>
        p.on('exit', (status) => r({ status, stderr: fs.readFileSync(file, 'utf8') })),
      )
    }),
  )
}

t.test('concurrent commands on one id are serialized', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['sleep', '100'])
  const id = runt.id('race')
  const creates = await together(t, runt, 4, ['create', '--bundle', b.dir, id])
  t.equal(creates.filter((r) => r.status === 0).length, 1, 'exactly one create wins')
  for (const r of creates.filter((r) => r.status !== 0))
    t.match(r.stderr, /already exists/, 'the others are told the id is taken')
  t.equal(runt.state(id).status, 'created')
  t.equal(fs.readdirSync(runt.root).length, 1, 'one state directory')

  const starts = await together(t, runt, 3, ['start', id])
  t.equal(starts.filter((r) => r.status === 0).length, 1, 'exactly one start wins')
  for (const r of starts.filter((r) => r.status !== 0))
    t.match(r.stderr, /cannot start an already running container/, 'the others see it running')
  t.equal(runt.state(id).status, 'running')

  const deletes = await together(t, runt, 3, ['delete', '--force', id])
  t.same(
    deletes.map((r) => r.status),
    [0, 0, 0],
    'delete --force of a container that is gone meanwhile is not an error',
  )
  t.match(runt.run(['state', id]).stderr, 'container does not exist')
  t.same(fs.readdirSync(runt.root), [], 'nothing left behind')
})

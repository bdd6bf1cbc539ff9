// Terminals as engines attach them: --console-socket receives exactly one fd, a tty, through
// which the container's output arrives; consoleSize is applied; runc's errors for a terminal
// without a socket and a socket without a terminal.

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { spawn } from 'node:child_process'
import { makeBundle, priv, Runt, REPO } from '../fixtures/runt.js'

/** A socket path short enough for sun_path (the test dir is deep). */
function sockPath(t: Test, name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-sock-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return path.join(dir, name)
}

function peer(sock: string) {
  const p = spawn('python3', [path.join(REPO, 'test/fixtures/console-peer.py'), sock], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  p.stdout.on('data', (d) => (out += d))
  const listening = new Promise<void>((r) => p.stdout.on('data', () => out.includes('listening') && r()))
  const report = new Promise<Record<string, unknown>>((resolve) =>
    p.on('exit', () => resolve(JSON.parse(out.split('\n').find((l) => l.startsWith('{')) ?? '{}'))),
  )
  return { listening, report, kill: () => p.kill() }
}

t.test('create --console-socket sends one tty fd carrying the output', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['sh', '-c', 'tty; stty size; test -t 0 && echo stdin-is-tty; ls -l /dev/console | cut -c1'], (c) => {
    c.process!.terminal = true
    c.process!.consoleSize = { height: 33, width: 101 }
  })
  const sock = sockPath(t, 'console.sock')
  const p = peer(sock)
  t.teardown(p.kill)
  await p.listening
  const id = runt.id()
  runt.ok(['create', '--bundle', b.dir, '--console-socket', sock, id])
  runt.ok(['start', id])
  const r = await p.report
  t.equal(r.fds, 1, 'exactly one fd')
  t.equal(r.cmsg_len_ok, true, 'one SCM_RIGHTS message of one fd (CMSG_SPACE(4))')
  t.equal(r.isatty, true, 'the fd is a tty')
  const out = String(r.output).replace(/\r/g, '')
  t.match(out, /^\/dev\/pts\/\d+\n/, 'the process has a pty as its terminal')
  t.match(out, /33 101\n/, 'consoleSize applied')
  t.match(out, /stdin-is-tty/)
  t.match(out, /\nc\n/, '/dev/console is the pty (a character device)')
})

t.test('terminal and console-socket mismatches fail as in runc', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['true'], (c) => (c.process!.terminal = true))
  const r = runt.run(['create', '--bundle', b.dir, runt.id()])
  t.equal(r.status, 1)
  t.match(r.stderr, 'cannot allocate tty if runt will detach without setting console socket')
  b.config.process!.terminal = false
  b.write()
  const r2 = runt.run(['create', '--bundle', b.dir, '--console-socket', path.join(b.dir, 'x.sock'), runt.id()])
  t.equal(r2.status, 1)
  t.match(r2.stderr, 'cannot use console socket if runt will not detach or allocate tty')
})

t.test('exec -t --console-socket into a running container', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['sleep', '1000'])
  const id = runt.id()
  runt.ok(['run', '-d', '--bundle', b.dir, id])
  const sock = sockPath(t, 'exec.sock')
  const p = peer(sock)
  t.teardown(p.kill)
  await p.listening
  runt.ok(['exec', '-t', '-d', '--console-socket', sock, id, 'sh', '-c', 'tty; echo done'])
  const r = await p.report
  t.equal(r.fds, 1)
  t.equal(r.isatty, true)
  t.match(String(r.output), /\/dev\/pts\/\d+\r?\ndone/)
})

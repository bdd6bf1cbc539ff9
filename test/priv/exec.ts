// exec as engines use it: in every namespace of the container (with and without a user
// namespace), exit status passed through, 128+signal, 255 and "exec failed" on failure,
// --detach --pid-file leaves a live process, --process FILE, paused and stopped containers.

import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { makeBundle, priv, Runt, waitFor } from '../fixtures/runt.js'

const nsOf = (pid: number | string) =>
  Object.fromEntries(
    ['mnt', 'uts', 'ipc', 'net', 'pid', 'cgroup', 'user'].map((n) => [n, fs.readlinkSync(`/proc/${pid}/ns/${n}`)]),
  )

for (const userns of [false, true]) {
  t.test(`exec joins the container's namespaces${userns ? ' (user namespace)' : ''}`, priv(), async (t) => {
    const runt = new Runt(t)
    const b = makeBundle(t, ['sleep', '1000'], (c) => {
      if (!userns) return
      c.linux!.namespaces!.push({ type: 'user' })
      c.linux!.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }]
      c.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }]
    })
    const id = runt.id()
    runt.ok(['run', '-d', '--bundle', b.dir, id])
    const init = runt.state(id).pid
    const pidFile = path.join(b.dir, 'exec.pid')
    runt.ok(['exec', '-d', '--pid-file', pidFile, id, 'sleep', '100'])
    const pid = Number(fs.readFileSync(pidFile, 'utf8'))
    t.ok(pid > 0 && fs.existsSync(`/proc/${pid}`), 'the detached process is alive and its pid is in the file')
    t.same(nsOf(pid), nsOf(init), 'same namespaces as the init')
    if (userns)
      t.match(fs.readFileSync(`/proc/${pid}/status`, 'utf8'), /Uid:\t200000\t/, 'root in the container is host uid 200000')
    t.equal(fs.readlinkSync(`/proc/${pid}/root`), '/', 'root is the container root')

    const r = runt.run(['exec', id, 'sh', '-c', 'echo $$; id -u; exit 5'])
    t.equal(r.status, 5, 'exit status passed through')
    const [inner, uid] = r.stdout.trim().split('\n')
    t.not(inner, String(pid))
    t.equal(uid, '0')
    const k = runt.run(['exec', id, 'sh', '-c', 'kill -KILL $$'])
    t.equal(k.status, 137, '128+signal when killed')
  })
}

t.test('exec failures exit 255 with exec failed', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['sleep', '1000'])
  const id = runt.id()
  runt.ok(['run', '-d', '--bundle', b.dir, id])
  const nf = runt.run(['exec', id, 'no-such-binary'])
  t.equal(nf.status, 255)
  t.match(nf.stderr, /exec failed: .*executable file not found in \$PATH/)
  const cwd = runt.run(['exec', '--cwd', '/nonexistent', id, 'true'])
  t.equal(cwd.status, 255)
  t.match(cwd.stderr, /exec failed: .*chdir to cwd .*\/nonexistent/)
  const gone = runt.run(['exec', 'no-such-container', 'true'])
  t.equal(gone.status, 255)
  t.match(gone.stderr, 'exec failed: container does not exist')
  runt.ok(['kill', id, 'KILL'])
  await waitFor(() => runt.state(id).status === 'stopped')
  const stopped = runt.run(['exec', id, 'true'])
  t.equal(stopped.status, 255)
  t.match(stopped.stderr, 'cannot exec in a stopped container')
})

t.test('exec --process FILE, -e, -u, --cwd, --cap', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['sleep', '1000'])
  const id = runt.id()
  runt.ok(['run', '-d', '--bundle', b.dir, id])
  const proc = path.join(b.dir, 'process.json')
  fs.writeFileSync(
    proc,
    JSON.stringify({
      args: ['sh', '-c', 'echo $A; id -u; id -g; pwd'],
      env: ['A=from-file', 'PATH=/bin'],
      cwd: '/tmp',
      user: { uid: 1000, gid: 1000 },
    }),
  )
  const r = runt.run(['exec', '--process', proc, id])
  t.equal(r.status, 0, r.stderr)
  t.equal(r.stdout, 'from-file\n1000\n1000\n/tmp\n')
  const f = runt.run([
    'exec',
    '-e',
    'X=1',
    '-e',
    'Y=2',
    '-u',
    '1000:1000',
    '--cwd',
    '/home',
    id,
    'sh',
    '-c',
    'echo $X$Y $(id -u) $PWD $HOME',
  ])
  t.equal(f.stdout, '12 1000 /home /home/user\n', 'flags, and HOME from the container /etc/passwd')
  const caps = runt.run(['exec', '--cap', 'CAP_SYS_ADMIN', id, 'grep', 'CapEff', '/proc/self/status'])
  const eff = BigInt('0x' + caps.stdout.trim().split('\t')[1])
  t.ok(eff & (1n << 21n), '--cap adds CAP_SYS_ADMIN to the effective set')
  const ls = runt.run(['exec', id, 'ls', '-la', '/'])
  t.equal(ls.status, 0, 'options after the command belong to the command')

  // A process file is validated while the exec init boots: a bad one must take the init down.
  fs.writeFileSync(proc, JSON.stringify({ args: ['true'], cwd: '/', user: { uid: 'root', gid: 0 } }))
  const bad = runt.run(['exec', '--process', proc, id])
  t.equal(bad.status, 255)
  t.match(bad.stderr, /exec failed: invalid process file: user\.uid: /)
  t.notMatch(bad.stderr, /\n\s+at /, 'no stack trace')
  await new Promise((r) => setTimeout(r, 300))
  t.same(orphanExecInits(), [], 'no exec init left behind')
})

/** Exec inits whose `runt exec` is gone (reparented to pid 1): what a failed exec must not leave. */
function orphanExecInits(): number[] {
  const out: number[] = []
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === 1 && fs.readFileSync(`/proc/${name}/environ`, 'utf8').includes('_RUNT_MNT_FD=')) out.push(Number(name))
    } catch {
      /* gone */
    }
  }
  return out
}

t.test('exec into a paused container is refused unless --ignore-paused', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['sleep', '1000'])
  const id = runt.id()
  runt.ok(['run', '-d', '--bundle', b.dir, id])
  const pause = runt.run(['pause', id])
  if (pause.status !== 0) return t.skip(`pause is not available: ${pause.stderr.trim()}`, () => {})
  const r = runt.run(['exec', id, 'true'])
  t.equal(r.status, 255)
  t.match(r.stderr, 'exec failed: cannot exec in a paused container (use --ignore-paused to override)')
  runt.ok(['resume', id])
})

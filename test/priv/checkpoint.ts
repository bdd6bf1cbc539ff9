// checkpoint and restore. This machine's criu (Debian's 3.17.1) cannot dump or restore on its
// kernel (6.18 puts [vvar_vclock] between [vvar] and [vdso]: "vdso: Unexpected rt vDSO area
// bounds"), and neither can runc: the failure is tested side by side with runc, with what it
// must leave (a running container after a failed checkpoint, nothing after a failed restore).
// runt's side of the conversation after a successful dump or restore is tested against
// test/fixtures/fake-criu.ts, put first on PATH as `criu`. The tests that need a criu that
// works (a counter surviving checkpoint and restore) run where `criu check` passes and are
// skipped, with criu's own reason, where it does not.

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { spawn, spawnSync } from 'node:child_process'
import {
  cleanCommand,
  cleanEnv,
  makeBundle,
  priv,
  RUNC,
  Runt,
  socketPeer,
  tempDir,
  waitFor,
  type Bundle,
} from '../fixtures/runt.js'
import { cgroupDirs, mountsUnder } from '../fixtures/engine-daemon.js'
import { fakeCriu } from '../fixtures/criu.js'

const CRIU = ['/usr/sbin/criu', '/usr/bin/criu', '/sbin/criu'].find((p) => fs.existsSync(p)) ?? null
const COUNTER = 'i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.1; done'

/** `criu check` here: null when criu works, else why not (its last error line). */
function criuProblem(): string | null {
  if (!CRIU) return 'criu is not installed (apt-get install criu)'
  const r = spawnSync(CRIU, ['check'], { encoding: 'utf8', timeout: 30_000 })
  if (r.status === 0) return null
  const err = `${r.stdout}${r.stderr}`.split('\n').filter((l) => /Error/.test(l))
  return `criu check fails here: ${err[0] ?? r.stderr.trim()}`
}
const CRIU_PROBLEM = criuProblem()
const VDSO = /Unexpected rt vDSO area bounds/
const workingCriu = () => (CRIU_PROBLEM ? { skip: CRIU_PROBLEM } : priv())
const failingCriu = () => (!CRIU ? { skip: 'criu is not installed' } : !CRIU_PROBLEM ? { skip: 'criu works here' } : priv())

function counterBundle(t: Test, edit?: (b: Bundle) => void): Bundle {
  const b = makeBundle(t, ['sh', '-c', COUNTER])
  edit?.(b)
  b.write()
  return b
}

function count(runt: Runt, id: string): number {
  return Number(runt.run(['exec', id, 'cat', '/tmp/count']).stdout.trim())
}

async function started(t: Test, runt: Runt, id: string, b: Bundle): Promise<void> {
  runt.ok(['run', '-d', '--bundle', b.dir, id])
  t.ok(await waitFor(() => count(runt, id) > 1, 10_000), 'the counter runs')
}

const alive = (pid: number) => {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return !/\) [ZX] /.test(st)
  } catch {
    return false
  }
}

t.test('checkpoint where criu cannot dump: the log path, the container left running, as runc', failingCriu(), async (t) => {
  const b = counterBundle(t)
  const runt = new Runt(t)
  const id = runt.id('ck')
  await started(t, runt, id, b)
  const images = path.join(tempDir(t, 'runt-img-'), 'images')
  const r = runt.run(['checkpoint', '--image-path', images, id])
  t.equal(r.status, 1, 'checkpoint fails')
  t.match(r.stderr, `criu failed: type DUMP errno 0\\nlog file: ${images}/dump.log`, "runc's words, with the full log path")
  t.match(fs.readFileSync(path.join(images, 'dump.log'), 'utf8'), VDSO, "CRIU's reason is in that log")
  t.equal(fs.statSync(images).mode & 0o777, 0o700, 'the image directory was made 0700')
  t.equal(runt.state(id).status, 'running', 'the container is still running')
  const before = count(runt, id)
  t.ok(await waitFor(() => count(runt, id) > before, 5000), 'and its process still counts')
  t.equal(runt.run(['exec', id, 'true']).status, 0, 'exec works afterwards')

  const work = path.join(tempDir(t, 'runt-work-'), 'work')
  const w = runt.run(['checkpoint', '--image-path', images, '--work-path', work, '--leave-running', id])
  t.match(w.stderr, `log file: ${work}/dump.log`, 'with --work-path the log is there')
  t.match(fs.readFileSync(path.join(work, 'dump.log'), 'utf8'), VDSO)

  t.test('runc fails the same way here', RUNC ? {} : { skip: 'runc is not installed' }, async (t) => {
    const runc = new Runt(t, RUNC!)
    const rid = runc.id('ck-runc')
    runc.ok(['run', '-d', '--bundle', b.dir, rid])
    const rimages = path.join(tempDir(t, 'runc-img-'), 'images')
    const rr = runc.run(['checkpoint', '--image-path', rimages, rid])
    t.equal(rr.status, 1, 'runc checkpoint fails')
    t.match(rr.stderr, 'criu failed: type DUMP errno 0')
    t.match(fs.readFileSync(path.join(rimages, 'dump.log'), 'utf8'), VDSO, 'for the same reason')
    t.equal(runc.state(rid).status, 'running', "runc's container is left running too")
  })
})

t.test('restore where criu cannot restore: the log path, and nothing left behind, as runc', failingCriu(), async (t) => {
  const b = counterBundle(t)
  const runt = new Runt(t)
  const id = runt.id('src')
  await started(t, runt, id, b)
  const images = path.join(tempDir(t, 'runt-img-'), 'images')
  runt.run(['checkpoint', '--image-path', images, '--leave-running', id])
  t.ok(fs.existsSync(path.join(images, 'descriptors.json')), 'the failed dump left descriptors.json, as runc')
  const nid = runt.id('restored')
  const pidFile = path.join(b.dir, 'restored.pid')
  const r = runt.run(['restore', '-d', '--image-path', images, '--bundle', b.dir, '--pid-file', pidFile, nid])
  t.equal(r.status, 1, 'restore fails')
  t.match(r.stderr, `criu failed: type RESTORE errno 0\\nlog file: ${images}/restore.log`)
  t.match(fs.readFileSync(path.join(images, 'restore.log'), 'utf8'), VDSO)
  t.notOk(fs.existsSync(path.join(runt.root, nid)), 'no state directory')
  t.match(runt.run(['state', nid]).stderr, 'container does not exist')
  t.same(cgroupDirs(`runt/${nid}`), [], 'no cgroup')
  t.same(mountsUnder(runt.root), [], 'no criu-root bind or any mount under --root')
  t.same(mountsUnder(b.rootfs), [], 'nothing mounted in the rootfs')
  t.notOk(fs.existsSync(pidFile), 'no pid file')
  t.equal(runt.state(id).status, 'running', 'the source container runs on')

  t.test('runc fails the same way here', RUNC ? {} : { skip: 'runc is not installed' }, async (t) => {
    const runc = new Runt(t, RUNC!)
    const rid = runc.id('restored-runc')
    const rr = runc.run(['restore', '-d', '--image-path', images, '--bundle', b.dir, rid])
    t.equal(rr.status, 1)
    t.match(rr.stderr, 'criu failed: type RESTORE errno 0')
    t.match(fs.readFileSync(path.join(images, 'restore.log'), 'utf8'), VDSO)
    t.notOk(fs.existsSync(path.join(runc.root, rid)), 'runc leaves no state either')
  })
})

t.test("flags and states checkpoint refuses, in runc 1.4's words", priv(), async (t) => {
  const b = makeBundle(t, ['sleep', '1000'])
  const runt = new Runt(t)
  const id = runt.id('flags')
  runt.ok(['create', '--bundle', b.dir, id])
  const images = path.join(tempDir(t, 'runt-img-'), 'images')
  const created = runt.run(['checkpoint', '--image-path', images, id])
  t.equal(created.status, 1)
  t.match(created.stderr, 'Container cannot be checkpointed in created state')
  runt.ok(['start', id])
  const cases: [string[], RegExp][] = [
    [['--manage-cgroups-mode', 'bogus'], /invalid manage-cgroups-mode value/],
    [['--empty-ns', 'pid'], /namespace \\"pid\\" is not supported/],
    [['--parent-path', '/abs'], /--parent-path must be relative/],
    [['--parent-path', 'nope'], /invalid --parent-path: stat .*nope: no such file or directory/],
  ]
  for (const [flags, msg] of cases) {
    const r = runt.run(['checkpoint', '--image-path', images, ...flags, id])
    t.equal(r.status, 1, flags.join(' '))
    t.match(r.stderr, msg, flags.join(' '))
  }
  t.match(runt.run(['checkpoint', 'no-such-container']).stderr, 'container does not exist')
  t.match(runt.run(['checkpoint', id, 'extra']).stderr, 'requires exactly 1 argument(s)')
  t.equal(runt.state(id).status, 'running', 'none of them touched the container')
  t.equal(runt.run(['restore', '--manage-cgroups-mode', 'x', '--image-path', images, '-b', b.dir, runt.id('r')]).status, 1)
})

t.test('checkpoint --leave-running against a fake criu: the request, the notifications', priv(), async (t) => {
  const runt = new Runt(t)
  const fake = fakeCriu(t)
  const shared = tempDir(t, 'runt-bind-')
  // A network namespace given by path: a host process's own.
  const holder = spawnSync('sh', ['-c', 'unshare -n sleep 1000 >/dev/null 2>&1 & echo $!'], { encoding: 'utf8' })
  const holderPid = Number(holder.stdout.trim())
  t.teardown(() => process.kill(holderPid, 'SIGKILL'))
  t.ok(await waitFor(() => fs.readlinkSync(`/proc/${holderPid}/ns/net`) !== fs.readlinkSync('/proc/self/ns/net')))
  const netns = `/proc/${holderPid}/ns/net`
  const b = counterBundle(t, (b) => {
    b.config.mounts!.push({ destination: '/shared', type: 'bind', source: shared, options: ['rbind'] })
    b.config.linux!.namespaces = b.config.linux!.namespaces!.map((n) =>
      n.type === 'network' ? { type: 'network', path: netns } : n,
    )
  })
  const id = runt.id('fake')
  await started(t, runt, id, b)
  const pid = runt.state(id).pid
  const images = path.join(tempDir(t, 'runt-img-'), 'images')
  const work = path.join(tempDir(t, 'runt-work-'), 'work')
  const r = runt.run(
    [
      'checkpoint',
      '--image-path',
      images,
      '--work-path',
      work,
      '--leave-running',
      '--tcp-established',
      '--ext-unix-sk',
      '--shell-job',
      '--file-locks',
      '--auto-dedup',
      '--manage-cgroups-mode',
      'full',
      id,
    ],
    { env: fake.env },
  )
  t.equal(r.status, 0, `checkpoint: ${r.stderr}`)
  const [first, ...acks] = fake.records()
  const o = first!.req.opts
  t.equal(first!.req.type, 1, 'a DUMP request')
  t.equal(first!.imagesDir, images, 'images_dir_fd names the image directory')
  t.equal(first!.workDir, work, 'work_dir_fd names the work directory')
  t.match(o, {
    pid,
    logFile: 'dump.log',
    logLevel: 4,
    leaveRunning: true,
    tcpEstablished: true,
    extUnixSk: true,
    shellJob: true,
    fileLocks: true,
    autoDedup: true,
    manageCgroups: true,
    manageCgroupsMode: 4,
    notifyScripts: true,
    orphanPtsMaster: true,
    emptyNs: 0x40000000,
    root: b.rootfs,
    configFile: '/etc/criu/runc.conf',
  })
  t.match(o.freezeCgroup, new RegExp(`runt/${id}$`), 'the freezer cgroup of the container')
  t.same(o.external, [`net[${fs.statSync(netns).ino}]:extRootNetNS`], 'the network namespace by path is external')
  const ext = Object.fromEntries((o.extMnt as { key: string; val: string }[]).map((m) => [m.key, m.val]))
  t.equal(ext['/shared'], '/shared', 'the bind mount is an external mount')
  t.equal(ext['/proc/kcore'] ?? ext['/proc/keys'], '/dev/null', 'masked files become /dev/null')
  t.equal(ext['/dev/null'], '/dev/null', 'device nodes are external')
  t.same(
    acks.map((a) => [a.ack, a.notifySuccess]),
    [
      ['network-lock', true],
      ['post-dump', true],
      ['network-unlock', true],
    ],
    'each notification answered with notify_success',
  )
  t.same(JSON.parse(fs.readFileSync(path.join(images, 'descriptors.json'), 'utf8')).length, 3, 'descriptors.json: the init stdio')
  t.equal(runt.state(id).status, 'running', '--leave-running: still running')
  t.ok(alive(pid), 'the same process')
  t.ok(fs.existsSync(path.join(runt.root, id, 'checkpoint')), 'post-dump marked the container, as runc')
})

t.test('checkpoint against a fake criu: without --leave-running the container is gone', priv(), async (t) => {
  const fake = fakeCriu(t)
  const b = counterBundle(t)
  const runt = new Runt(t)
  const id = runt.id('gone')
  await started(t, runt, id, b)
  const pid = runt.state(id).pid
  const images = path.join(tempDir(t, 'runt-img-'), 'images')
  runt.ok(['checkpoint', '--image-path', images, id], { env: fake.env })
  t.equal(fake.records()[0]!.req.opts.leaveRunning, false)
  t.notOk(alive(pid), 'its process is gone (criu killed it)')
  t.match(runt.run(['state', id]).stderr, 'container does not exist', 'and the container is destroyed, as runc does')
  t.same(cgroupDirs(`runt/${id}`), [], 'its cgroup removed')
})

t.test('pre-dump against a fake criu: the feature check, the parent image', priv(), async (t) => {
  const fake = fakeCriu(t)
  const b = counterBundle(t)
  const runt = new Runt(t)
  const id = runt.id('pre')
  await started(t, runt, id, b)
  const images = path.join(tempDir(t, 'runt-img-'), 'images')
  fs.mkdirSync(path.join(images, 'parent'), { recursive: true })
  runt.ok(['checkpoint', '--pre-dump', '--image-path', images, '--parent-path', 'parent', id], { env: fake.env })
  const [check, dump] = fake.records()
  t.match(check!.req, { type: 9, features: { memTrack: true } }, 'FEATURE_CHECK for memory tracking first')
  t.match(dump!.req, { type: 4, opts: { parentImg: 'parent', trackMem: true } }, 'then PRE_DUMP with the parent')
  t.notOk(dump!.req.opts.extMnt, 'a pre-dump names no mounts')
  t.notOk(fs.existsSync(path.join(images, 'descriptors.json')), 'nor writes descriptors.json')
  t.equal(runt.state(id).status, 'running', 'the container runs on')
})

t.test('a criu failure through the fake: the log path, the container running', priv(), async (t) => {
  const fake = fakeCriu(t, 'fail')
  const b = counterBundle(t)
  const runt = new Runt(t)
  const id = runt.id('fail')
  await started(t, runt, id, b)
  const images = path.join(tempDir(t, 'runt-img-'), 'images')
  const r = runt.run(['checkpoint', '--image-path', images, id], { env: fake.env })
  t.equal(r.status, 1)
  t.match(r.stderr, `criu failed: type DUMP errno 0\\nlog file: ${images}/dump.log`)
  t.match(r.stderr, 'fake: told to fail', "the log's error lines are quoted")
  t.equal(runt.state(id).status, 'running')
})

t.test('restore -d under a new id against a fake criu: state, pid file, kill, delete', priv(), async (t) => {
  const fake = fakeCriu(t)
  const shared = tempDir(t, 'runt-bind-')
  const b = counterBundle(t, (b) => {
    b.config.mounts!.push({ destination: '/shared', type: 'bind', source: shared, options: ['rbind'] })
  })
  const runt = new Runt(t)
  const images = tempDir(t, 'runt-img-')
  fs.writeFileSync(path.join(images, 'descriptors.json'), JSON.stringify(['/dev/null', 'pipe:[123]', '/dev/null']))
  const id = runt.id('new')
  const pidFile = path.join(b.dir, 'pid')
  const r = runt.run(['restore', '-d', '--image-path', images, '-b', b.dir, '--pid-file', pidFile, id], { env: fake.env })
  t.equal(r.status, 0, `restore: ${r.stderr}`)
  const restored = Number(fs.readFileSync(path.join(fake.dir, 'restored.pid'), 'utf8'))
  t.teardown(() => alive(restored) && process.kill(restored, 'SIGKILL'))
  const [first, ...acks] = fake.records()
  const o = first!.req.opts
  t.equal(first!.req.type, 2, 'a RESTORE request')
  t.match(o, {
    logFile: 'restore.log',
    rstSibling: true,
    evasiveDevices: true,
    manageCgroupsMode: 6,
    root: path.join(runt.root, id, 'criu-root'),
    inheritFd: [{ key: 'pipe:[123]', fd: 1 }],
  })
  const ext = Object.fromEntries((o.extMnt as { key: string; val: string }[]).map((m) => [m.key, m.val]))
  t.equal(ext['/shared'], shared, 'the bind mount restored from its source')
  t.ok(o.cgRoot.length > 0, 'cg_root names the cgroups')
  t.match(first!.cgroup, new RegExp(`runt/${id}`), 'criu ran in the container cgroup')
  t.same(
    acks.map((a) => a.ack),
    ['setup-namespaces', 'post-restore'],
  )
  const st = runt.state(id)
  t.equal(st.status, 'running')
  t.equal(st.pid, restored, 'the restored init is the container init')
  t.equal(fs.readFileSync(pidFile, 'utf8'), String(restored), 'its pid in --pid-file')
  t.same(mountsUnder(path.join(runt.root, id)), [], 'criu-root unbound')
  t.notOk(fs.existsSync(path.join(runt.root, id, 'criu-root')), 'and removed')
  t.same(mountsUnder(b.rootfs), [], 'the binds made for criu are gone')
  runt.ok(['kill', id, 'KILL'])
  t.ok(await waitFor(() => runt.state(id).status === 'stopped'), 'kill works')
  runt.ok(['delete', id])
  t.same(cgroupDirs(`runt/${id}`), [], 'delete removed its cgroup')
})

t.test("restore --console-socket against a fake criu: criu's orphan pty master reaches the socket", priv(), async (t) => {
  const fake = fakeCriu(t)
  // As for create, a console socket goes with process.terminal (the same refusal otherwise).
  const b = counterBundle(t, (b) => (b.config.process!.terminal = true))
  const runt = new Runt(t)
  const images = tempDir(t, 'runt-img-')
  fs.writeFileSync(path.join(images, 'descriptors.json'), JSON.stringify(['/dev/null', '/dev/null', '/dev/null']))
  const peer = socketPeer<{ fds: number; isatty: boolean; output: string }>(t, 'console-peer.py', 'console.sock')
  await peer.listening
  const id = runt.id('tty')
  const r = runt.run(['restore', '-d', '--console-socket', peer.sock, '--image-path', images, '-b', b.dir, id], {
    env: { ...fake.env, FAKE_CRIU_PTS: '1' },
  })
  t.equal(r.status, 0, `restore: ${r.stderr}`)
  const restored = Number(fs.readFileSync(path.join(fake.dir, 'restored.pid'), 'utf8'))
  t.teardown(() => alive(restored) && process.kill(restored, 'SIGKILL'))
  const got = await peer.report
  t.match(got, { fds: 1, isatty: true }, 'one fd, a tty master')
  t.match(got.output, 'from the restored tty', 'the pty criu handed over, whose slave wrote a line')
  t.ok(
    fake.records().some((a) => a.ack === 'orphan-pts-master' && a.notifySuccess),
    'answered with notify_success',
  )
})

t.test('restore in the foreground against a fake criu: waits for the init, deletes after', priv(), async (t) => {
  const fake = fakeCriu(t)
  const b = counterBundle(t)
  const runt = new Runt(t)
  const images = tempDir(t, 'runt-img-')
  fs.writeFileSync(path.join(images, 'descriptors.json'), JSON.stringify(['/dev/null', '/dev/null', '/dev/null']))
  const id = runt.id('fg')
  const [cmd, argv] = cleanCommand(['--root', runt.root, 'restore', '--image-path', images, '-b', b.dir, id], cleanEnv(fake.env))
  const p = spawn(cmd, argv, { stdio: 'ignore' })
  const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)))
  const pidFile = path.join(fake.dir, 'restored.pid')
  t.ok(await waitFor(() => fs.existsSync(pidFile) && runt.run(['state', id]).status === 0, 10_000), 'restored')
  const restored = Number(fs.readFileSync(pidFile, 'utf8'))
  t.equal(runt.state(id).pid, restored)
  t.equal(readPpid(restored), p.pid, 'the restored init is reaped by runt (its subreaper)')
  process.kill(restored, 'SIGKILL')
  t.equal(await exited, 137, "runt exits with the init's status")
  t.match(runt.run(['state', id]).stderr, 'container does not exist', 'and deletes the container, as runc')
})

function readPpid(pid: number): number {
  const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1])
}

t.test('a counter survives checkpoint and restore (stopped, then --leave-running)', workingCriu(), async (t) => {
  const b = counterBundle(t)
  const runt = new Runt(t)
  const id = runt.id('live')
  await started(t, runt, id, b)
  const images = path.join(tempDir(t, 'runt-img-'), 'images')
  runt.ok(['checkpoint', '--image-path', images, id])
  t.match(runt.run(['state', id]).stderr, 'container does not exist', 'checkpointed: gone')
  const at = Number(fs.readFileSync(path.join(b.rootfs, 'tmp/count'), 'utf8'))
  runt.ok(['restore', '-d', '--image-path', images, '--bundle', b.dir, id])
  t.equal(runt.state(id).status, 'running')
  t.ok(await waitFor(() => count(runt, id) > at, 10_000), 'the counter goes on from where it was')

  const images2 = path.join(tempDir(t, 'runt-img-'), 'images')
  runt.ok(['checkpoint', '--leave-running', '--image-path', images2, id])
  t.equal(runt.state(id).status, 'running', '--leave-running')
  const nid = runt.id('copy')
  runt.ok(['restore', '-d', '--image-path', images2, '--bundle', b.dir, nid])
  t.equal(runt.state(nid).status, 'running', 'restored under a new id')
})

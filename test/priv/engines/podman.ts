// podman (with conmon) driving runt, end to end: run, run -d, exec (also on a terminal), stop,
// kill, rm, logs, pause/unpause, and the run options that reach config.json (--read-only,
// --user, --env, --workdir, --memory, --pids-limit, --tty, a slirp4netns network namespace).
// The image is imported from a busybox-static rootfs; no registry is used. Every assertion
// carries podman's own output, so a runt failure shows up with podman's error message.
// Private state (storage, run root, tmp dir, locks, runt's --root): test/fixtures/podman-engine.ts.

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import { spawnSync } from 'node:child_process'
import { engineSkipReason, onPath, PodmanEnv, type EngineResult } from '../../fixtures/podman-engine.js'

t.setTimeout(300_000)
const IMAGE = 'localhost/runt-busybox:latest'
const skip = engineSkipReason('podman', 'conmon')

/** Assert the engine command exited 0; its output is the message. */
const ok = (t: Test, r: EngineResult, what: string): boolean => t.equal(r.status, 0, `${what}: ${r.out}`)

/** The file `file` of the cgroup `pid` is in, for a v1 `controller` or (v2 only) the unified tree. */
function cgroupFile(pid: number, controller: string, v1: string, v2: string): string {
  const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n')
  for (const l of lines) {
    const [, ctrls, p] = l.split(':')
    if (ctrls?.split(',').includes(controller)) return `/sys/fs/cgroup/${controller}${p}/${v1}`
  }
  const unified = lines.find((l) => l.startsWith('0::'))!.slice(3)
  return `/sys/fs/cgroup${unified}/${v2}`
}

t.test('podman with runt as its OCI runtime', skip ? { skip } : {}, async (t) => {
  t.setTimeout(280_000)
  const e = new PodmanEnv(t)
  const imp = e.importBusybox(IMAGE)
  if (!t.equal(imp.status, 0, `podman import of a busybox rootfs: ${imp.out}`)) return
  const pm = (args: string[], o?: { input?: string; timeout?: number }) => e.podman(args, o)

  t.test('run: output, stderr and exit code; runt called with --log-format json', async (t) => {
    const r = pm(['run', '--rm', IMAGE, 'sh', '-c', 'echo out; echo err >&2; exit 7'])
    t.equal(r.status, 7, `exit code of the container: ${r.out}`)
    t.equal(r.stdout, 'out\n')
    t.match(r.stderr, 'err\n')
    const create = e.runtCalls().find((l) => / create /.test(l))
    t.match(create, /^--log-format=json --log \S+\/oci-log create --bundle /, 'runt listed in runtime_supports_json')
    const root = pm(['run', '--rm', IMAGE, 'sh', '-c', 'id -u; echo $$; hostname'])
    ok(t, root, 'podman run')
    t.match(root.stdout, /^0\n1\n[0-9a-f]{12}\n$/, 'root, pid 1, the container id as hostname')
  })

  t.test("runt's error reaches podman: a missing command", async (t) => {
    const r = pm(['run', '--rm', IMAGE, '/no/such/command'])
    t.equal(r.status, 127, `podman maps "no such file" to 127: ${r.out}`)
    t.match(r.stderr, /runt create failed: .*\/no\/such\/command.*no such file or directory/)
  })

  t.test('run -d, logs, exec, stop, start, kill, rm', async (t) => {
    const d = pm([
      'run',
      '-d',
      '--name',
      'daemon',
      IMAGE,
      'sh',
      '-c',
      'echo started; trap "echo got-term; exit 0" TERM; while true; do sleep 0.1; done',
    ])
    if (!ok(t, d, 'podman run -d')) return
    t.match(d.stdout, /^[0-9a-f]{64}\n$/, 'prints the container id')
    const ps = pm(['ps', '--format', '{{.Names}} {{.Status}}'])
    t.match(ps.stdout, /^daemon Up /m, `podman ps: ${ps.out}`)
    let logs = pm(['logs', 'daemon'])
    for (let i = 0; i < 50 && !logs.stdout.includes('started'); i++) {
      await new Promise((r) => setTimeout(r, 100))
      logs = pm(['logs', 'daemon'])
    }
    t.equal(logs.stdout, 'started\n', `podman logs: ${logs.out}`)

    const x = pm(['exec', 'daemon', 'sh', '-c', 'echo in-exec; cat /proc/1/cmdline | tr "\\0" " "; exit 5'])
    t.equal(x.status, 5, `exec exit code: ${x.out}`)
    t.match(x.stdout, /^in-exec\nsh -c echo started/, 'exec runs beside the container process')
    const xo = pm(['exec', '--user', '1000', '--env', 'A=b', '--workdir', '/tmp', 'daemon', 'sh', '-c', 'id -u; echo $A; pwd'])
    ok(t, xo, 'exec --user --env --workdir')
    t.equal(xo.stdout, '1000\nb\n/tmp\n')
    const xd = pm(['exec', '--detach', 'daemon', 'sh', '-c', 'echo detached > /tmp/bg'])
    ok(t, xd, 'exec --detach')
    let bg = ''
    for (let i = 0; i < 50 && !bg; i++) {
      await new Promise((r) => setTimeout(r, 100))
      bg = pm(['exec', 'daemon', 'cat', '/tmp/bg']).stdout
    }
    t.equal(bg, 'detached\n', 'the detached exec ran')

    const st = pm(['stop', '--time', '10', 'daemon'])
    ok(t, st, 'podman stop')
    t.equal(
      pm(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'daemon']).stdout,
      'exited 0\n',
      'stopped by SIGTERM',
    )
    t.equal(pm(['logs', 'daemon']).stdout, 'started\ngot-term\n', 'the process saw SIGTERM')

    ok(t, pm(['start', 'daemon']), 'podman start of a stopped container')
    t.match(pm(['inspect', '--format', '{{.State.Status}}', 'daemon']).stdout, 'running')
    ok(t, pm(['kill', '--signal', 'KILL', 'daemon']), 'podman kill')
    const w = pm(['wait', 'daemon'])
    t.equal(w.stdout, '137\n', `killed by SIGKILL: ${w.out}`)
    const k = pm(['kill', 'daemon'])
    t.equal(k.status, 125, 'kill of an exited container fails')
    t.match(k.stderr, 'can only kill running containers')
    ok(t, pm(['rm', 'daemon']), 'podman rm')
    t.equal(pm(['ps', '--all', '--quiet']).stdout, '', 'no container left')
    t.same(fs.readdirSync(`${e.dir}/runt-state`), [], "nothing left under runt's --root")
  })

  t.test('stop escalates to SIGKILL when SIGTERM is ignored', async (t) => {
    ok(t, pm(['run', '-d', '--name', 'stubborn', IMAGE, 'sleep', '1000']), 'podman run -d')
    const start = Date.now()
    const st = pm(['stop', '--time', '1', 'stubborn'])
    ok(t, st, 'podman stop')
    t.ok(Date.now() - start < 20_000, 'stopped promptly')
    t.equal(pm(['inspect', '--format', '{{.State.ExitCode}}', 'stubborn']).stdout, '137\n')
    ok(t, pm(['rm', 'stubborn']), 'podman rm')
  })

  t.test('pause and unpause freeze the cgroup', async (t) => {
    ok(t, pm(['run', '-d', '--name', 'frozen', IMAGE, 'sleep', '1000']), 'podman run -d')
    const pid = Number(pm(['inspect', '--format', '{{.State.Pid}}', 'frozen']).stdout)
    t.ok(pid > 0, 'podman knows the pid')
    const freezer = cgroupFile(pid, 'freezer', 'freezer.state', 'cgroup.freeze')
    ok(t, pm(['pause', 'frozen']), 'podman pause')
    t.equal(pm(['inspect', '--format', '{{.State.Status}}', 'frozen']).stdout, 'paused\n')
    t.match(fs.readFileSync(freezer, 'utf8').trim(), /^(FROZEN|1)$/, `${freezer} frozen`)
    ok(t, pm(['unpause', 'frozen']), 'podman unpause')
    t.equal(pm(['inspect', '--format', '{{.State.Status}}', 'frozen']).stdout, 'running\n')
    t.match(fs.readFileSync(freezer, 'utf8').trim(), /^(THAWED|0)$/, `${freezer} thawed`)
    ok(t, pm(['rm', '--force', '--time', '0', 'frozen']), 'podman rm --force')
  })

  t.test('exec -it and run -it on a terminal', async (t) => {
    ok(t, pm(['run', '-d', '--name', 'term', IMAGE, 'sleep', '1000']), 'podman run -d')
    const x = await e.onTerminal(e.podmanArgv(['exec', '-it', 'term', 'sh']), 'echo typed-$((6*7)); tty; exit 3\n')
    t.equal(x.status, 3, `exit status through the pty: ${x.out}`)
    t.match(x.out, /typed-42\r\n\/dev\/pts\/\d+\r\n/, 'commands typed at the terminal ran on a pty')
    ok(t, pm(['rm', '--force', '--time', '0', 'term']), 'podman rm --force')

    const r = await e.onTerminal(e.podmanArgv(['run', '--rm', '-it', IMAGE, 'sh']), 'test -t 0 && echo stdin-is-a-tty; exit 4\n')
    t.equal(r.status, 4, `run -it exit status: ${r.out}`)
    t.match(r.out, 'stdin-is-a-tty')
  })

  t.test('--tty without a terminal', async (t) => {
    const r = pm(['run', '--rm', '--tty', IMAGE, 'sh', '-c', 'test -t 1 && echo stdout-is-a-tty; tty; exit 2'])
    t.equal(r.status, 2, r.out)
    t.match(r.stdout, /^stdout-is-a-tty\r\n\/dev\/pts\/0\r\n$/, 'a pty, with its \\r\\n line ends')
  })

  t.test('--read-only root', async (t) => {
    const r = pm(['run', '--rm', '--read-only', IMAGE, 'sh', '-c', 'touch /x; echo root=$?; touch /tmp/y && echo tmp=$?'])
    ok(t, r, 'podman run --read-only')
    t.equal(r.stdout, 'root=1\ntmp=0\n', 'the root is read-only, /tmp is a tmpfs')
    t.match(r.stderr, 'Read-only file system')
  })

  t.test('--user, --env, --workdir', async (t) => {
    const r = pm([
      'run',
      '--rm',
      '--user',
      '1000:1000',
      '--env',
      'FOO=bar baz',
      '--workdir',
      '/home/user',
      IMAGE,
      'sh',
      '-c',
      'id; echo "$FOO"; pwd',
    ])
    ok(t, r, 'podman run --user --env --workdir')
    t.equal(r.stdout, 'uid=1000(user) gid=1000(user) groups=1000(user)\nbar baz\n/home/user\n')
    const n = pm(['run', '--rm', '--user', 'nobody', IMAGE, 'id', '-u'])
    t.equal(n.stdout, '65534\n', `--user by name: ${n.out}`)
  })

  t.test('--memory and --pids-limit reach the cgroup', async (t) => {
    ok(
      t,
      pm(['run', '-d', '--name', 'limited', '--memory', '64m', '--pids-limit', '20', IMAGE, 'sleep', '1000']),
      'podman run -d',
    )
    const pid = Number(pm(['inspect', '--format', '{{.State.Pid}}', 'limited']).stdout)
    const mem = cgroupFile(pid, 'memory', 'memory.limit_in_bytes', 'memory.max')
    const pids = cgroupFile(pid, 'pids', 'pids.max', 'pids.max')
    t.equal(fs.readFileSync(mem, 'utf8').trim(), String(64 * 1024 * 1024), `host side: ${mem}`)
    t.equal(fs.readFileSync(pids, 'utf8').trim(), '20', `host side: ${pids}`)
    // The limit applies: 30 background sleeps cannot all be forked.
    const fork = pm(['exec', 'limited', 'sh', '-c', 'n=0; for i in $(seq 30); do sleep 30 & n=$((n+1)); done; echo forked $n'])
    t.not(fork.status, 0, `fork beyond pids.max fails: ${fork.out}`)
    t.match(fork.stderr, /can't fork|Resource temporarily unavailable/)
    ok(t, pm(['rm', '--force', '--time', '0', 'limited']), 'podman rm --force')
  })

  const slirp = onPath('slirp4netns') ? {} : { skip: 'needs slirp4netns (apt-get install slirp4netns)' }
  t.test('--network slirp4netns: a namespace joined by its /run/netns path', slirp, async (t) => {
    // podman makes /run/netns a bind mount of itself (as `ip netns` does) and leaves it: undo
    // that if this test made it and nothing else has a namespace there.
    const mounted = () =>
      fs
        .readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .some((l) => l.split(' ')[4] === '/run/netns')
    const hadDir = fs.existsSync('/run/netns')
    const hadMount = mounted()
    t.teardown(() => {
      if (!hadMount && mounted() && fs.readdirSync('/run/netns').length === 0) spawnSync('umount', ['/run/netns'])
      if (!hadDir && !mounted() && fs.readdirSync('/run/netns').length === 0) fs.rmdirSync('/run/netns')
    })
    const r = pm(['run', '--rm', '--network', 'slirp4netns', IMAGE, 'ip', '-4', '-o', 'addr'])
    ok(t, r, 'podman run --network slirp4netns')
    t.match(r.stdout, /tap0\s+inet 10\.0\.2\.100\//, 'the slirp4netns tap device is in the container')
  })
})

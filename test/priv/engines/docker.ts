// docker 20.10 (dockerd with its own managed containerd, io.containerd.runc.v2 shim) driving
// runt, end to end: a private dockerd in a temp dir (data root, exec root, socket, pid file,
// daemon.json, cgroup parent), storage driver vfs, no bridge and no iptables, every
// container with --network none; the image is loaded from an archive the test builds. runt
// is registered twice, as daemon.json's "runtimes" entry and with --add-runtime, and every
// container runs with --runtime. Assertions are on what docker prints and its exit status,
// so a runt failure fails here with docker's (containerd's) own message. dockerd gives every
// custom runtime the root <exec-root>/runtime-runc/moby, so runt's state stays in our dir.

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { cleanEnv, priv, RUNT } from '../../fixtures/runt.js'
import { dockerTag, makeImageArchive } from '../../fixtures/image-archive.js'
import { cmd, cgroupDirs, Daemon, leftovers, onTty, teardownEngine, which } from '../../fixtures/engine-daemon.js'

t.setTimeout(300_000)

const DOCKERD = which('dockerd')
// Debian's client (/usr/bin/docker, docker.io) first: it matches the daemon's API.
const DOCKER = which('/usr/bin/docker', 'docker')
const missing = !DOCKERD || !DOCKER ? 'needs dockerd and docker (apt-get install docker.io)' : null
const opts = priv().skip ? priv() : missing ? { skip: missing } : {}

t.test('dockerd --add-runtime runt, docker run --runtime runt', opts, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-dkr-'))
  fs.chmodSync(dir, 0o755)
  const cgroupParent = `runt-e2e-docker-${process.pid}`
  const daemon = new Daemon('dockerd', dir)
  teardownEngine(
    t,
    dir,
    () => [daemon],
    [cgroupParent],
    ['/run/containerd', '/run/containerd/s', '/run/docker', '/run/docker/plugins', '/etc/docker/key.json'],
  )

  const sock = path.join(dir, 'docker.sock')
  const execRoot = path.join(dir, 'exec')
  fs.writeFileSync(path.join(dir, 'daemon.json'), JSON.stringify({ runtimes: { runt: { path: RUNT } } }))
  await daemon.start(
    [
      DOCKERD!,
      '--config-file',
      path.join(dir, 'daemon.json'),
      '--add-runtime',
      `runt-flag=${RUNT}`,
      '--iptables=false',
      '--ip6tables=false',
      '--bridge=none',
      '--storage-driver=vfs',
      '--data-root',
      path.join(dir, 'data'),
      '--exec-root',
      execRoot,
      '--pidfile',
      path.join(dir, 'docker.pid'),
      '-H',
      `unix://${sock}`,
      '--cgroup-parent',
      `/${cgroupParent}`,
    ],
    () => fs.existsSync(sock) && cmd([DOCKER!, '-H', `unix://${sock}`, 'version'], { env: clientEnv() }).status === 0,
  )

  function clientEnv(): Record<string, string> {
    return cleanEnv({ DOCKER_CONFIG: path.join(dir, 'client'), HOME: dir })
  }
  const docker = (args: string[], o: { timeout?: number; input?: string } = {}) =>
    cmd([DOCKER!, '-H', `unix://${sock}`, ...args], { env: clientEnv(), ...o })
  const dockerArgv = (args: string[]) => [DOCKER!, '-H', `unix://${sock}`, ...args]
  /** A failing docker call fails the test with docker's message and the daemon's log. */
  const ok = (t: Test, what: string, r: ReturnType<typeof docker>, status = 0) =>
    t.equal(r.status, status, `${what}: exit ${status}`, { output: r.out, daemonLog: daemon.tail(15) })
  const RUN = ['run', '--runtime', 'runt', '--network', 'none']

  const archive = makeImageArchive(path.join(dir, 'image'))
  const image = dockerTag(archive.name)
  const load = docker(['load', '--input', archive.file], { timeout: 120_000 })
  ok(t, 'docker load', load)
  t.match(load.stdout, `Loaded image: ${image}`)

  t.test('run: output and exit code, both runtime registrations', async (t) => {
    const r = docker([...RUN, '--rm', image, 'sh', '-c', 'echo hello; echo err >&2; exit 3'])
    t.equal(r.status, 3, 'docker run exits with the container status', { output: r.out })
    t.equal(r.stdout, 'hello\n')
    t.equal(r.stderr, 'err\n')
    const flag = docker(['run', '--runtime', 'runt-flag', '--network', 'none', '--rm', image, 'echo', 'via --add-runtime'])
    ok(t, 'docker run --runtime runt-flag', flag)
    t.equal(flag.stdout, 'via --add-runtime\n')
    const info = docker(['info', '--format', '{{json .Runtimes}}'])
    t.match(info.stdout, /"runt":\{"path":"[^"]*runt"/, 'docker info lists runt')

    const piped = docker([...RUN, '--rm', '-i', image, 'sh', '-c', 'tr a-z A-Z'], { input: 'stdin\n' })
    ok(t, 'docker run -i', piped)
    t.equal(piped.stdout, 'STDIN\n', 'stdin reaches the container')

    const opts = docker([
      ...RUN,
      '--rm',
      '--user',
      '1000:1000',
      '--workdir',
      '/tmp',
      '--env',
      'FOO=bar',
      '--hostname',
      'box',
      '--read-only',
      image,
      'sh',
      '-c',
      'id -u; pwd; echo $FOO; hostname; touch /x 2>&1; true',
    ])
    ok(t, 'docker run with user, workdir, env, hostname, read-only', opts)
    t.match(opts.stdout, /^1000\n\/tmp\nbar\nbox\n.*Read-only file system/)

    // docker turns the runtime's "no such file or directory" into exit 127.
    const bad = docker([...RUN, '--rm', image, '/nonexistent'])
    t.equal(bad.status, 127, 'a missing executable: 127', { output: bad.out })
    t.match(bad.stderr, /OCI runtime create failed: runt create failed: .*\/nonexistent.*no such file or directory/)
  })

  t.test('run -d, exec, top, pause, stats, stop, rm', async (t) => {
    const run = docker([...RUN, '-d', '--name', 'd1', image, 'sleep', '1000'])
    ok(t, 'docker run -d', run)
    const id = run.stdout.trim()
    t.ok(fs.existsSync(path.join(execRoot, 'runtime-runc/moby', id, 'state.json')), 'runt state in the exec root')

    const ex = docker(['exec', 'd1', 'sh', '-c', 'echo in $$; cat /proc/1/cmdline; exit 4'])
    t.equal(ex.status, 4, 'docker exec exits with the process status', { output: ex.out })
    t.match(ex.stdout, /^in \d+\nsleep\x001000\x00$/)
    const ex2 = docker(['exec', '--user', '1000', '--workdir', '/tmp', '--env', 'X=1', 'd1', 'sh', '-c', 'id -u; pwd; echo $X'])
    ok(t, 'docker exec --user --workdir --env', ex2)
    t.equal(ex2.stdout, '1000\n/tmp\n1\n')

    const top = docker(['top', 'd1'])
    ok(t, 'docker top', top)
    t.match(top.stdout, /sleep 1000/)
    ok(t, 'docker pause', docker(['pause', 'd1']))
    t.match(docker(['inspect', '--format', '{{.State.Status}}', 'd1']).stdout, 'paused')
    ok(t, 'docker unpause', docker(['unpause', 'd1']))
    const stats = docker(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'd1'])
    ok(t, 'docker stats', stats)
    t.equal(stats.stdout, 'd1 1\n')

    // sleep as pid 1 has no SIGTERM handler: stop ends with SIGKILL after the timeout.
    ok(t, 'docker stop', docker(['stop', '--time', '1', 'd1']))
    t.equal(docker(['inspect', '--format', '{{.State.ExitCode}}', 'd1']).stdout, '137\n', 'killed: 137')
    ok(t, 'docker start', docker(['start', 'd1']))
    t.match(docker(['inspect', '--format', '{{.State.Status}}', 'd1']).stdout, 'running', 'restarted')
    ok(t, 'docker rm -f', docker(['rm', '--force', 'd1']))
    t.notOk(fs.existsSync(path.join(execRoot, 'runtime-runc/moby', id)), 'runt state removed')
    t.same(cgroupDirs(`${cgroupParent}/${id}`), [], 'container cgroups removed')

    // A SIGTERM handler: stop delivers SIGTERM and the container exits on its own.
    ok(
      t,
      'run -d (trap)',
      docker([...RUN, '-d', '--name', 'd2', image, 'sh', '-c', 'trap "exit 42" TERM; while :; do sleep 0.1; done']),
    )
    const start = Date.now()
    ok(t, 'docker stop (trap)', docker(['stop', '--time', '30', 'd2']))
    t.ok(Date.now() - start < 20_000, 'stopped by SIGTERM, not by the timeout')
    t.equal(docker(['inspect', '--format', '{{.State.ExitCode}}', 'd2']).stdout, '42\n', 'the handler ran')
    ok(t, 'docker rm', docker(['rm', 'd2']))
    t.equal(docker(['ps', '--all', '--quiet']).stdout, '', 'no container left')
  })

  t.test('update: memory and pids limits reach the cgroup', async (t) => {
    const run = docker([...RUN, '-d', '--name', 'u1', '--memory', '32m', image, 'sleep', '1000'])
    ok(t, 'docker run -d --memory', run)
    const id = run.stdout.trim()
    const inside = (file: string) => docker(['exec', 'u1', 'cat', file]).stdout.trim()
    const v1 = !fs.existsSync('/sys/fs/cgroup/cgroup.controllers')
    const mem = v1 ? '/sys/fs/cgroup/memory/memory.limit_in_bytes' : '/sys/fs/cgroup/memory.max'
    const pids = v1 ? '/sys/fs/cgroup/pids/pids.max' : '/sys/fs/cgroup/pids.max'
    t.equal(inside(mem), String(32 << 20), 'memory limit at create')
    // docker update -> containerd UpdateTask -> `runt update --resources - ID`, JSON on stdin.
    const up = docker(['update', '--memory', '64m', '--memory-swap', '128m', '--pids-limit', '50', '--cpu-shares', '512', 'u1'])
    ok(t, 'docker update', up)
    t.equal(inside(mem), String(64 << 20), 'memory limit updated (seen in the container)')
    t.equal(inside(pids), '50', 'pids limit updated (seen in the container)')
    if (v1) {
      const host = (c: string, f: string) => fs.readFileSync(`/sys/fs/cgroup/${c}/${cgroupParent}/${id}/${f}`, 'utf8').trim()
      t.equal(host('memory', 'memory.limit_in_bytes'), String(64 << 20), 'on the host: memory')
      t.equal(host('memory', 'memory.memsw.limit_in_bytes').length > 0, true)
      t.equal(host('pids', 'pids.max'), '50', 'on the host: pids')
      t.equal(host('cpu', 'cpu.shares'), '512', 'on the host: cpu shares')
    }
    // A fork bomb stops at the limit: the limit is enforced, not only written.
    const fork = docker(['exec', 'u1', 'sh', '-c', 'for i in $(seq 60); do sleep 5 & done 2>/dev/null; ps | wc -l'])
    t.ok(Number(fork.stdout.trim()) <= 52, `at most 50 processes (${fork.stdout.trim()} ps lines)`, { output: fork.out })
    ok(t, 'docker rm -f', docker(['rm', '--force', 'u1']))
  })

  t.test(
    '--init: docker-init is pid 1 and passes the status on',
    { skip: !which('docker-init') && 'needs docker-init (apt-get install tini)' },
    async (t) => {
      const r = docker([...RUN, '--rm', '--init', image, 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "; echo; exit 7'])
      t.equal(r.status, 7, 'exit status through docker-init', { output: r.out })
      t.match(r.stdout, /^\/sbin\/docker-init -- sh -c/, 'pid 1 is docker-init')
      // docker-init forwards SIGTERM to its child, which has the default action: stop is quick.
      ok(t, 'run -d --init', docker([...RUN, '-d', '--init', '--name', 'i1', image, 'sleep', '1000']))
      const start = Date.now()
      ok(t, 'docker stop', docker(['stop', '--time', '30', 'i1']))
      t.ok(Date.now() - start < 20_000, 'sleep got SIGTERM through docker-init')
      t.equal(docker(['inspect', '--format', '{{.State.ExitCode}}', 'i1']).stdout, '143\n', 'SIGTERM: 143')
      ok(t, 'docker rm', docker(['rm', 'i1']))
    },
  )

  t.test('tty: run -t and exec -t', async (t) => {
    const r = onTty(dockerArgv([...RUN, '--rm', '-t', image, 'sh', '-c', 'tty; stty size; exit 5']), { env: clientEnv() })
    t.equal(r.status, 5, 'docker run -t exits with the container status', { output: r.out })
    t.match(r.stdout, /\/dev\/pts\/0/, 'the container has a terminal')
    ok(t, 'run -d', docker([...RUN, '-d', '--name', 't1', image, 'sleep', '1000']))
    const e = onTty(dockerArgv(['exec', '-t', 't1', 'sh', '-c', 'tty; exit 6']), { env: clientEnv() })
    t.equal(e.status, 6, 'docker exec -t exits with the process status', { output: e.out })
    t.match(e.stdout, /\/dev\/pts\/\d+/)
    ok(t, 'docker rm -f', docker(['rm', '--force', 't1']))
  })

  t.test('--pid host: the shim kills the cgroup after the init exits', async (t) => {
    // containerd's shim sends `kill --all ID 9` once the init has exited; runc accepts it on a
    // stopped container, and so must runt or dockerd logs "OCI runtime killall failed".
    const r = docker([...RUN, '--rm', '--pid', 'host', image, 'sh', '-c', 'echo $$'])
    ok(t, 'docker run --pid host', r)
    t.not(r.stdout.trim(), '1', 'not pid 1: the host pid namespace')
    // The shim's kill --all comes after the exit event that ends `docker run`.
    await new Promise((r) => setTimeout(r, 1000))
    t.notMatch(fs.readFileSync(daemon.log, 'utf8'), 'killall failed', 'no killall failure in the daemon log')
  })

  t.test('stopping dockerd leaves nothing behind', async (t) => {
    t.equal(docker(['ps', '--all', '--quiet']).stdout, '', 'no container left')
    await daemon.stop()
    t.same(leftovers(dir, [cgroupParent]), [], 'no process, mount or populated cgroup left')
  })
})

// Docker Compose (Debian's docker-compose 1.29, through the API of a private dockerd 20.10)
// running a two-service project on runt: in the spirit of the classic web + redis example, a
// web service (busybox httpd with a CGI script) that asks a counter service (a busybox nc
// server that counts the connections it gets, its count on a named volume) for the next
// number, by service name, through the project's user-defined bridge network and dockerd's
// embedded DNS. Both services say `runtime: runt`. The images are built by compose (the
// legacy builder: COPY steps only, no RUN) on a busybox image loaded from an archive built
// here: no registry.
//
// dockerd runs as in PROBES.md: no iptables, no IP forwarding or masquerading, no default
// bridge (--bridge=none) and no userland proxy. A user-defined bridge network still works
// without them: its bridge device and the containers' veths are made by dockerd itself, and
// the host reaches a container's address on it directly (the host holds the gateway address).
// No port is published (that needs iptables or the userland proxy).

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as os from 'node:os'
import * as path from 'node:path'
import { cleanEnv, priv, RUNT } from '../../fixtures/runt.js'
import { dockerTag, makeImageArchive } from '../../fixtures/image-archive.js'
import { cmd, cgroupDirs, Daemon, leftovers, mountsUnder, teardownEngine, which } from '../../fixtures/engine-daemon.js'

t.setTimeout(600_000)

const DOCKERD = which('dockerd')
const DOCKER = which('/usr/bin/docker', 'docker')
const COMPOSE = which('docker-compose')
const missing =
  !DOCKERD || !DOCKER
    ? 'needs dockerd and docker (apt-get install docker.io)'
    : !COMPOSE
      ? 'needs docker-compose (apt-get install docker-compose)'
      : null
const opts = priv().skip ? priv() : missing ? { skip: missing } : {}

/** GET http://host:port/path; resolves with the status and body, or the error. */
function get(host: string, port: number, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: p, timeout: 20_000 }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', (e) => resolve({ status: 0, body: `error: ${e.message}` }))
  })
}

t.test('docker-compose up/ps/logs/restart/down with runtime: runt', opts, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-compose-'))
  fs.chmodSync(dir, 0o755)
  const cgroupParent = `runt-e2e-compose-${process.pid}`
  const project = `runte2e${process.pid}`
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
  const runtState = path.join(execRoot, 'runtime-runc/moby')
  fs.writeFileSync(path.join(dir, 'daemon.json'), JSON.stringify({ runtimes: { runt: { path: RUNT } } }))
  const env = cleanEnv({
    DOCKER_HOST: `unix://${sock}`,
    DOCKER_CONFIG: path.join(dir, 'client'),
    HOME: dir,
    DOCKER_BUILDKIT: '0',
    COMPOSE_DOCKER_CLI_BUILD: '0',
  })
  await daemon.start(
    [
      DOCKERD!,
      '--config-file',
      path.join(dir, 'daemon.json'),
      '--iptables=false',
      '--ip6tables=false',
      '--ip-forward=false',
      '--ip-masq=false',
      '--bridge=none',
      '--userland-proxy=false',
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
    () => fs.existsSync(sock) && cmd([DOCKER!, 'version'], { env }).status === 0,
  )
  const docker = (args: string[], o: { timeout?: number } = {}) => cmd([DOCKER!, ...args], { env, ...o })
  const projectDir = path.join(dir, 'project')
  const compose = (args: string[], o: { timeout?: number } = {}) =>
    cmd([COMPOSE!, '--no-ansi', '--project-name', project, '--project-directory', projectDir, ...args], {
      env,
      cwd: projectDir,
      timeout: 180_000,
      ...o,
    })
  /** A failing command fails the test with its output and the daemon's log. */
  const ok = (t: Test, what: string, r: ReturnType<typeof docker>) =>
    t.equal(r.status, 0, `${what}: exit 0`, { output: r.out, daemonLog: daemon.tail(15) })

  const archive = makeImageArchive(path.join(dir, 'image'))
  const base = dockerTag(archive.name)
  ok(t, 'docker load', docker(['load', '--input', archive.file], { timeout: 120_000 }))

  // The project: two services built FROM the busybox image, scripts copied in.
  const file = (rel: string, text: string, mode = 0o644) => {
    fs.mkdirSync(path.dirname(path.join(projectDir, rel)), { recursive: true })
    fs.writeFileSync(path.join(projectDir, rel), text, { mode })
  }
  file(
    'counter/count.sh',
    [
      '#!/bin/sh',
      '# One connection, one hit: the next number, kept on the volume.',
      'n=$(cat /data/count 2>/dev/null || echo 0)',
      'n=$((n + 1))',
      'echo "$n" > /data/count',
      'echo "$n"',
      'echo "counter: hit $n" >&2',
      '',
    ].join('\n'),
    0o755,
  )
  file('counter/Dockerfile', `FROM ${base}\nCOPY count.sh /count.sh\nCMD ["nc", "-ll", "-p", "6379", "-e", "/count.sh"]\n`)
  file(
    'web/www/cgi-bin/hit',
    [
      '#!/bin/sh',
      '# Ask the counter service, by its service name, for the next number.',
      'n=$(nc counter 6379 </dev/null)',
      "printf 'Content-Type: text/plain\\r\\n\\r\\n'",
      'echo "Hello from $(hostname)! I have been seen ${n:-no} times."',
      '',
    ].join('\n'),
    0o755,
  )
  file('web/Dockerfile', `FROM ${base}\nCOPY www /www\nCMD ["httpd", "-f", "-vv", "-p", "8000", "-h", "/www"]\n`)
  file(
    'docker-compose.yml',
    [
      'version: "2.4"',
      'services:',
      '  web:',
      '    build: ./web',
      `    image: runt-e2e/web:${process.pid}`,
      '    runtime: runt',
      '    depends_on: [counter]',
      '  counter:',
      '    build: ./counter',
      `    image: runt-e2e/counter:${process.pid}`,
      '    runtime: runt',
      '    volumes: ["counter-data:/data"]',
      'volumes:',
      '  counter-data: {}',
      '',
    ].join('\n'),
  )

  const build = compose(['build'])
  ok(t, 'docker-compose build', build)
  const up = compose(['up', '--detach'])
  ok(t, 'docker-compose up -d', up)

  const ids = () =>
    Object.fromEntries(['web', 'counter'].map((s) => [s, compose(['ps', '--quiet', s]).stdout.trim()])) as Record<
      'web' | 'counter',
      string
    >
  const inspect = (id: string, format: string) => docker(['inspect', '--format', format, id]).stdout.trim()
  const webAddress = (id: string) => inspect(id, `{{(index .NetworkSettings.Networks "${project}_default").IPAddress}}`)
  const hit = async (): Promise<{ status: number; body: string }> => get(webAddress(ids().web), 8000, '/cgi-bin/hit')

  t.test('up: both services run on runt, on the project network', async (t) => {
    const c = ids()
    for (const [svc, id] of Object.entries(c)) {
      t.match(id, /^[0-9a-f]{64}$/, `${svc} has a container`)
      t.equal(inspect(id, '{{.HostConfig.Runtime}}'), 'runt', `${svc}: HostConfig.Runtime is runt`)
      t.equal(inspect(id, '{{.State.Status}}'), 'running', `${svc} running`)
      t.ok(fs.existsSync(path.join(runtState, id, 'state.json')), `${svc}: runt's state for it in the exec root`)
      t.match(webAddress(id), /^\d+\.\d+\.\d+\.\d+$/, `${svc} has an address on ${project}_default`)
    }
    const list = cmd([RUNT, '--root', runtState, 'list', '--quiet'])
    t.same(list.stdout.trim().split('\n').sort(), Object.values(c).sort(), 'runt list shows the two containers')
    const ps = compose(['ps'])
    ok(t, 'docker-compose ps', ps)
    t.match(ps.stdout, new RegExp(`^${project}_web_1 .* Up `, 'm'), 'ps: web Up')
    t.match(ps.stdout, new RegExp(`^${project}_counter_1 .* Up `, 'm'), 'ps: counter Up')
  })

  t.test('a request crosses both services by service name', async (t) => {
    // From the host to web's address; web's CGI asks `counter` (embedded DNS) for a number.
    let r = { status: 0, body: '' }
    // httpd may take a moment to listen after the container starts.
    for (let i = 0; i < 50; i++) {
      r = await hit()
      if (r.status === 200) break
      await new Promise((res) => setTimeout(res, 200))
    }
    t.equal(r.status, 200, 'HTTP 200 from web', { body: r.body })
    t.match(r.body, /^Hello from [0-9a-f]{12}! I have been seen 1 times\.\n$/, 'the first hit, counted by the counter service')
    const r2 = await hit()
    t.match(r2.body, /I have been seen 2 times\./, 'the second hit: the counter keeps state')
    // And from a one-off container of the project (compose run), to web by its service name.
    const run = compose([
      'run',
      '--rm',
      '--no-deps',
      'web',
      'sh',
      '-c',
      'printf "GET /cgi-bin/hit HTTP/1.0\\r\\n\\r\\n" | nc web 8000',
    ])
    ok(t, 'docker-compose run --rm web (client)', run)
    t.match(run.stdout, /^HTTP\/1\.[01] 200 OK/, 'the one-off container reaches web by name')
    t.match(run.stdout, /I have been seen 3 times\./, 'and web reaches counter')
  })

  t.test('logs: each service its own', async (t) => {
    let logs = compose(['logs', '--no-color', 'counter'])
    ok(t, 'docker-compose logs counter', logs)
    t.match(logs.stdout, /counter_1 .*\| counter: hit 1\n[^]*counter: hit 3/, "counter's stderr lines, in order")
    logs = compose(['logs', '--no-color', 'web'])
    ok(t, 'docker-compose logs web', logs)
    t.match(logs.stdout, /web_1 .*\| .*url:\/cgi-bin\/hit/, "httpd's request log")
    t.notMatch(logs.stdout, 'counter: hit', "not the other service's lines")
  })

  t.test('restart of one service', async (t) => {
    const before = ids()
    const started = inspect(before.counter, '{{.State.StartedAt}}')
    const webStarted = inspect(before.web, '{{.State.StartedAt}}')
    const pid = Number(inspect(before.counter, '{{.State.Pid}}'))
    ok(t, 'docker-compose restart counter', compose(['restart', '--timeout', '2', 'counter']))
    const after = ids()
    t.equal(after.counter, before.counter, 'the same container')
    t.not(inspect(after.counter, '{{.State.StartedAt}}'), started, 'started again')
    t.not(Number(inspect(after.counter, '{{.State.Pid}}')), pid, 'a new process')
    t.equal(inspect(after.web, '{{.State.StartedAt}}'), webStarted, 'web was not restarted')
    t.equal(inspect(after.counter, '{{.State.Status}}'), 'running')
    // nc as pid 1 ignores SIGTERM: the restart killed it after the timeout.
    let r = { status: 0, body: '' }
    for (let i = 0; i < 50; i++) {
      r = await hit()
      if (/seen \d+ times/.test(r.body)) break
      await new Promise((res) => setTimeout(res, 200))
    }
    t.match(r.body, /I have been seen 4 times\./, 'web still finds counter, whose count survived on the volume')
  })

  t.test('down leaves nothing behind', async (t) => {
    const c = ids()
    const net = docker(['network', 'inspect', '--format', '{{.Id}}', `${project}_default`]).stdout.trim()
    const bridge = `br-${net.slice(0, 12)}`
    t.equal(cmd(['ip', 'link', 'show', bridge]).status, 0, `the project network's bridge ${bridge} exists while up`)
    ok(t, 'docker-compose down --volumes', compose(['down', '--volumes', '--timeout', '2']))
    t.equal(docker(['ps', '--all', '--quiet']).stdout, '', 'no container')
    t.equal(docker(['network', 'ls', '--quiet', '--filter', `name=${project}`]).stdout, '', 'no project network')
    t.equal(docker(['volume', 'ls', '--quiet', '--filter', `name=${project}`]).stdout, '', 'no project volume')
    t.same(fs.existsSync(runtState) ? fs.readdirSync(runtState) : [], [], 'no runt state')
    t.equal(cmd([RUNT, '--root', runtState, 'list', '--quiet']).stdout, '', 'runt list: empty')
    for (const id of Object.values(c)) {
      t.same(cgroupDirs(`${cgroupParent}/${id}`), [], `no cgroup of ${id.slice(0, 12)} on any hierarchy`)
      t.same(mountsUnder(path.join(dir, 'data/containers', id)), [], `nothing of ${id.slice(0, 12)} mounted`)
    }
    t.not(cmd(['ip', 'link', 'show', bridge]).status, 0, `${bridge} removed from the host`)
    await daemon.stop()
    t.same(leftovers(dir, [cgroupParent]), [], 'no process, mount or populated cgroup left')
    const sub = cgroupDirs(cgroupParent).flatMap((d) =>
      fs
        .readdirSync(d, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => path.join(d, e.name)),
    )
    t.same(sub, [], `no cgroup left under /${cgroupParent} on any hierarchy`)
  })
})

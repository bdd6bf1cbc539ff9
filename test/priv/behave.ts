// Behaviours runc users rely on (issue 16), each run under runt and, where it is installed,
// runc: an exec process file without a user, exec --cgroup's checks, the hooks' working
// directories, a global -v after --root, and runc spec's default config running silently.

import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { makeBundle, priv, Runt, RUNC, RUNT } from '../fixtures/runt.js'

const BINS = RUNC ? [RUNT, RUNC] : [RUNT]
if (!RUNC) t.comment('runc is not installed: runt alone (apt-get install runc for the comparison)')

for (const bin of BINS) {
  const name = path.basename(bin)

  t.test(`exec --process without a user runs as root (${name})`, priv(), async (t) => {
    const runt = new Runt(t, bin)
    const b = makeBundle(t, ['sleep', '1000'])
    const id = runt.id()
    runt.ok(['run', '-d', '--bundle', b.dir, id])
    const proc = path.join(b.dir, 'p.json')
    fs.writeFileSync(proc, JSON.stringify({ args: ['sh', '-c', 'id -u; id -g'], cwd: '/', env: ['PATH=/bin'] }))
    const r = runt.run(['exec', '--process', proc, id])
    t.equal(r.status, 0, r.stderr)
    t.equal(r.stdout, '0\n0\n')
  })

  t.test(`exec --cgroup is checked against the container's cgroups (${name})`, priv(), async (t) => {
    const runt = new Runt(t, bin)
    const b = makeBundle(t, ['sleep', '1000'])
    const id = runt.id()
    runt.ok(['run', '-d', '--bundle', b.dir, id])
    const unknown = runt.run(['exec', '--cgroup', 'nosuch:/x', id, 'true'])
    t.equal(unknown.status, 255)
    t.match(unknown.stderr, 'unknown controller nosuch')
    const up = runt.run(['exec', '--cgroup', 'memory:../../x', id, 'true'])
    t.equal(up.status, 255)
    t.match(up.stderr, '../../x is not a sub cgroup path')
    const missing = runt.run(['exec', '--cgroup', 'memory:/no-such-sub', id, 'true'])
    t.equal(missing.status, 255)
    t.match(missing.stderr, /error adding pid \d+ to cgroups: .*no-such-sub\/cgroup.procs: no such file or directory/)
    const two = runt.run(['exec', '--cgroup', 'a', '--cgroup', 'b', id, 'true'])
    t.match(two.stderr, 'invalid --cgroup argument: a (missing <controller>: prefix)')
    const ok = runt.run(['exec', '--cgroup', 'memory:/', id, 'true'])
    t.equal(ok.status, 0, ok.stderr)
  })

  t.test(`hooks run in the bundle; createContainer in the rootfs (${name})`, priv(), async (t) => {
    const runt = new Runt(t, bin)
    const out = fs.mkdtempSync('/tmp/hookcwd-')
    t.teardown(() => fs.rmSync(out, { recursive: true, force: true }))
    const b = makeBundle(t, ['true'], (c) => {
      const h = (n: string) => [{ path: '/bin/sh', args: ['sh', '-c', `pwd > ${out}/${n}`] }]
      c.hooks = { prestart: h('prestart'), createRuntime: h('createRuntime'), createContainer: h('createContainer') }
    })
    // From another directory: runc works in the bundle, whatever the caller's cwd.
    runt.ok(['create', '--bundle', b.dir, runt.id()], { cwd: '/usr' })
    const cwd = (n: string) => fs.readFileSync(path.join(out, n), 'utf8').trim()
    t.equal(cwd('prestart'), b.dir)
    t.equal(cwd('createRuntime'), b.dir)
    t.equal(cwd('createContainer'), path.join(b.dir, 'rootfs'))
  })

  t.test(`-v after a global flag prints the version (${name})`, priv(), async (t) => {
    const r = new Runt(t, bin).run(['--root', '/tmp/no-such-root', '-v'])
    t.equal(r.status, 0)
    t.match(r.stdout, new RegExp(`^${name} version `))
  })

  t.test(`runc spec's default config runs with nothing on stderr (${name})`, priv(), async (t) => {
    const runt = new Runt(t, bin)
    const b = makeBundle(t, ['true'], (c) => {
      // What `runc spec` 1.1 writes: ambient capabilities that are not inheritable.
      const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']
      c.process!.capabilities = { bounding: caps, effective: caps, permitted: caps, ambient: caps }
    })
    const r = runt.run(['run', '--bundle', b.dir, runt.id()])
    t.equal(r.status, 0, r.stderr)
    t.equal(r.stderr, '')
  })

  // runc's checkProcMount: a bind may cover /proc when its source is a procfs (the host's
  // /proc, for a container in the host's pid namespace); any other source is refused.
  t.test(`/proc as an rbind of the host's /proc in the host pid namespace (${name})`, priv(), async (t) => {
    const runt = new Runt(t, bin)
    const b = makeBundle(t, ['sh', '-c', `test -d /proc/${process.pid} && echo host-pids`], (c) => {
      c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'pid')
      c.mounts![0] = { destination: '/proc', type: 'none', source: '/proc', options: ['rbind', 'nosuid', 'noexec', 'nodev'] }
    })
    const r = runt.run(['run', '--bundle', b.dir, runt.id()])
    t.equal(r.status, 0, r.stderr)
    t.equal(r.stdout, 'host-pids\n', "the host's processes are in the container's /proc")

    b.config.mounts![0]!.source = b.dir
    b.write()
    const id = runt.id()
    const bad = runt.run(['run', '--bundle', b.dir, id])
    t.equal(bad.status, 1)
    t.match(bad.stderr, /not (a procfs|of type proc)/)
    t.notOk(fs.existsSync(path.join(runt.root, id, 'state.json')), 'no state left')
  })
}

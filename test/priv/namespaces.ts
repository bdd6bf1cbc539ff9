// Namespaces, created and joined: user namespace ids, joining by path (and refusing a path of
// the wrong type), joining a user namespace while creating a pid namespace (the Kubernetes
// user-namespace pod case), time namespace offsets, uts names, cgroup namespace.

import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { spawn, spawnSync } from 'node:child_process'
import { makeBundle, priv, Runt, tempDir, waitFor } from '../fixtures/runt.js'

const userns = (c: import('../../src/spec/schema.js').Spec, host = 300000) => {
  c.linux!.namespaces!.push({ type: 'user' })
  c.linux!.uidMappings = [{ containerID: 0, hostID: host, size: 65536 }]
  c.linux!.gidMappings = [{ containerID: 0, hostID: host, size: 65536 }]
}

t.test('a user namespace with mappings: the container sees the mapped ids', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['sh', '-c', 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; stat -c %u /; echo $$'], (c) =>
    userns(c),
  )
  const r = runt.run(['run', '--bundle', b.dir, runt.id()])
  t.equal(r.status, 0, r.stderr)
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => l.trim().replace(/\s+/g, ' '))
  t.same(lines, ['0', '0', '0 300000 65536', '0 300000 65536', '65534', '1'], 'root inside; host root is unmapped (65534)')
})

t.test('namespaces joined by path, and a path of the wrong type', priv(), async (t) => {
  const holder = spawn('unshare', ['--net', '--uts', 'sleep', '60'], { stdio: 'ignore' })
  t.teardown(() => holder.kill('SIGKILL'))
  let nsPid = 0
  await waitFor(() => {
    try {
      const kids = fs.readFileSync(`/proc/${holder.pid}/task/${holder.pid}/children`, 'utf8').trim()
      nsPid = kids ? Number(kids.split(' ')[0]) : holder.pid!
      return fs.readlinkSync(`/proc/${nsPid}/ns/net`) !== fs.readlinkSync('/proc/self/ns/net')
    } catch {
      return false
    }
  })
  const runt = new Runt(t)
  const b = makeBundle(t, ['sh', '-c', 'readlink /proc/self/ns/net; hostname'], (c) => {
    c.linux!.namespaces = c.linux!.namespaces!.map((n) =>
      n.type === 'network' ? { type: 'network', path: `/proc/${nsPid}/ns/net` } : n,
    )
  })
  const r = runt.run(['run', '--bundle', b.dir, runt.id()])
  t.equal(r.status, 0, r.stderr)
  t.equal(r.stdout.split('\n')[0], fs.readlinkSync(`/proc/${nsPid}/ns/net`), 'in the joined network namespace')

  b.config.linux!.namespaces = b.config.linux!.namespaces!.map((n) =>
    n.type === 'network' ? { type: 'network', path: `/proc/${nsPid}/ns/uts` } : n,
  )
  b.write()
  const id = runt.id()
  const bad = runt.run(['run', '--bundle', b.dir, id])
  t.equal(bad.status, 1)
  t.match(bad.stderr, /linux\.namespaces\[\d\]\.path: .* is not a network namespace \(it is uts\)/)
  t.notOk(fs.existsSync(`${runt.root}/${id}`), 'nothing left under --root')
})

t.test('join a user namespace and create a pid namespace (pid 1 via CLONE_PARENT)', priv(), async (t) => {
  const runt = new Runt(t)
  const sandbox = makeBundle(t, ['sleep', '1000'], (c) => userns(c, 400000))
  const sid = runt.id('sandbox')
  runt.ok(['run', '-d', '--bundle', sandbox.dir, sid])
  const spid = runt.state(sid).pid
  const app = makeBundle(t, ['sh', '-c', 'echo $$; id -u; cat /proc/self/uid_map'], (c) => {
    c.linux!.namespaces!.push({ type: 'user', path: `/proc/${spid}/ns/user` })
  })
  const id = runt.id('app')
  runt.ok(['create', '--bundle', app.dir, id])
  const pid = runt.state(id).pid
  t.equal(fs.readlinkSync(`/proc/${pid}/ns/user`), fs.readlinkSync(`/proc/${spid}/ns/user`), 'same user namespace as the sandbox')
  t.not(fs.readlinkSync(`/proc/${pid}/ns/pid`), fs.readlinkSync(`/proc/${spid}/ns/pid`), 'its own pid namespace')
  t.equal(fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^NSpid:\s+\d+\s+(\d+)/m)?.[1], '1', 'pid 1 inside')
  runt.ok(['delete', '-f', id])
})

t.test('time namespace offsets', priv(), async (t) => {
  if (!fs.existsSync('/proc/self/ns/time')) return t.skip('no time namespaces in this kernel', () => {})
  const runt = new Runt(t)
  const b = makeBundle(t, ['sh', '-c', 'cat /proc/self/timens_offsets; cut -d. -f1 /proc/uptime'], (c) => {
    c.linux!.namespaces!.push({ type: 'time' })
    c.linux!.timeOffsets = { boottime: { secs: 86400 * 365, nanosecs: 0 }, monotonic: { secs: 7, nanosecs: 0 } }
  })
  const r = runt.run(['run', '--bundle', b.dir, runt.id()])
  t.equal(r.status, 0, r.stderr)
  const [mono, boot, up] = r.stdout.trim().split('\n')
  t.match(mono, /^monotonic\s+7\s+0$/)
  t.match(boot, /^boottime\s+31536000\s+0$/)
  t.ok(Number(up) >= 31536000, 'uptime shows the boottime offset')
})

// runc 1.1.5 does not know time namespaces ("namespace {time ...} does not exist"); crun and
// runc 1.2+ join them. Joining one is stage 1's job, and with a new user namespace it takes the
// late path (the time namespace must be joined before the user namespace is made).
t.test('a time namespace joined by path, alone and with a new user namespace', priv(), async (t) => {
  if (!fs.existsSync('/proc/self/ns/time')) return t.skip('no time namespaces in this kernel', () => {})
  const holder = spawn('unshare', ['--time', '--fork', '--monotonic', '1000', 'sleep', '60'], { stdio: 'ignore' })
  t.teardown(() => holder.kill('SIGKILL'))
  let nsPid = 0
  await waitFor(() => {
    try {
      const kids = fs.readFileSync(`/proc/${holder.pid}/task/${holder.pid}/children`, 'utf8').trim()
      nsPid = Number(kids.split(' ')[0])
      return nsPid > 0 && fs.readlinkSync(`/proc/${nsPid}/ns/time`) !== fs.readlinkSync('/proc/self/ns/time')
    } catch {
      return false
    }
  })
  const want = fs.readlinkSync(`/proc/${nsPid}/ns/time`)
  for (const withUser of [false, true]) {
    const runt = new Runt(t)
    const b = makeBundle(t, ['sh', '-c', 'readlink /proc/self/ns/time; cat /proc/self/timens_offsets'], (c) => {
      c.linux!.namespaces!.push({ type: 'time', path: `/proc/${nsPid}/ns/time` })
      if (withUser) userns(c)
    })
    const r = runt.run(['run', '--bundle', b.dir, runt.id()])
    t.equal(r.status, 0, r.stderr)
    const [ns, mono] = r.stdout.trim().split('\n')
    t.equal(ns, want, `in the joined time namespace${withUser ? ' (and a new user namespace)' : ''}`)
    t.match(mono, /^monotonic\s+1000\s+0$/, "the holder's offsets")
  }
})

t.test('hostname, domainname and the cgroup namespace', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(
    t,
    ['sh', '-c', 'hostname; cat /proc/sys/kernel/domainname; grep -c "::/$\\|:/$" /proc/self/cgroup'],
    (c) => {
      c.hostname = 'h1'
      c.domainname = 'example.test'
      if (!c.linux!.namespaces!.some((n) => n.type === 'cgroup')) c.linux!.namespaces!.push({ type: 'cgroup' })
    },
  )
  const r = runt.run(['run', '--bundle', b.dir, runt.id()])
  t.equal(r.status, 0, r.stderr)
  const [host, domain, roots] = r.stdout.trim().split('\n')
  t.equal(host, 'h1')
  t.equal(domain, 'example.test')
  t.equal(
    Number(roots),
    fs.readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n').length,
    'every hierarchy is rooted at the container',
  )
})

// podman, CNI and `ip netns add` hand the runtime a namespace bind-mounted on a file (e.g.
// /run/netns/<name>): the fd's /proc link is then that path, not "net:[...]".
t.test('a network namespace bind-mounted on a file is joined by that path', priv(), async (t) => {
  const dir = tempDir(t, 'runt-netns-')
  const nsFile = path.join(dir, 'netns')
  fs.writeFileSync(nsFile, '')
  const made = spawnSync('unshare', [`--net=${nsFile}`, 'true'], { encoding: 'utf8' })
  t.equal(made.status, 0, `unshare --net=FILE: ${made.stderr}`)
  // Registered after tempDir's removal, so it runs first (teardowns are last-in-first-out).
  t.teardown(() => void spawnSync('umount', [nsFile]))
  const runt = new Runt(t)
  const b = makeBundle(t, ['readlink', '/proc/self/ns/net'], (c) => {
    c.linux!.namespaces = c.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: nsFile } : n))
  })
  const r = runt.run(['run', '--bundle', b.dir, runt.id()])
  t.equal(r.status, 0, r.stderr)
  t.equal(r.stdout.trim(), `net:[${fs.statSync(nsFile).ino}]`, 'in the bind-mounted namespace')

  // A bind-mounted namespace of another type is still refused, and named.
  b.config.linux!.namespaces = b.config.linux!.namespaces!.map((n) =>
    n.type === 'network' ? { type: 'network', path: nsFile } : n.type === 'uts' ? { type: 'uts', path: nsFile } : n,
  )
  b.write()
  const bad = runt.run(['run', '--bundle', b.dir, runt.id()])
  t.equal(bad.status, 1)
  t.match(bad.stderr, /linux\.namespaces\[\d\]\.path: .* is not a uts namespace \(it is net\)/)
})

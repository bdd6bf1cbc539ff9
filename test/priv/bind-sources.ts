// Bind sources the container's root cannot reach (issue 16, item 12): a user-namespaced
// container (0 -> 100000) binds a directory below a mode-0700 directory of host root's, as
// Kubernetes user-namespaced pods do. The parent opens the source as host root and the init
// binds from the fd (plan/bind-sources.ts); runc 1.1 does the same. Also: a source reached
// through a symlink, a joined user namespace (a pod's containers join the sandbox's), a
// missing source's error, and no source fd left in the init or the container.

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { Spec } from '../../src/spec/schema.js'
import { makeBundle, priv, RUNC, Runt, tempDir } from '../fixtures/runt.js'

const userns = (c: Spec) => {
  c.linux!.namespaces!.push({ type: 'user' })
  c.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }]
  c.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }]
}

/** <tmp>/secret (0700, host root) / data / file, and a symlink <tmp>/link -> secret/data. */
function secretTree(t: Test): { data: string; link: string; secret: string } {
  const base = tempDir(t, 'runt-bindsrc-')
  const secret = path.join(base, 'secret')
  const data = path.join(secret, 'data')
  fs.mkdirSync(data, { recursive: true })
  fs.writeFileSync(path.join(data, 'file'), 'hello from below 0700\n')
  fs.chmodSync(secret, 0o700)
  const link = path.join(base, 'link')
  fs.symlinkSync(data, link)
  return { data, link, secret }
}

const runtimes = (t: Test) => [new Runt(t), ...(RUNC ? [new Runt(t, RUNC)] : [])]

t.test('a bind source below a 0700 directory of host root mounts in a user namespace', priv(), async (t) => {
  const { data, link } = secretTree(t)
  for (const [what, source] of [
    ['the directory', data],
    ['a symlink to it, resolved on the host', link],
  ] as const) {
    for (const rt of runtimes(t)) {
      const name = `${path.basename(rt.binary)}, ${what}`
      const b = makeBundle(t, ['sh', '-c', 'cat /data/file; ls /proc/self/fd'], (c) => {
        userns(c)
        c.mounts!.push({ destination: '/data', type: 'bind', source, options: ['rbind'] })
      })
      // The rootfs is host root's: the container's root may not make the mount point.
      fs.mkdirSync(path.join(b.rootfs, 'data'))
      const r = rt.run(['run', '--bundle', b.dir, rt.id('bindsrc')])
      t.equal(r.status, 0, `${name}: runs (${r.stderr.trim()})`)
      t.equal(r.stdout, 'hello from below 0700\n0\n1\n2\n3\n', `${name}: the container reads the file, and holds no other fd`)
    }
  }
})

t.test('joining a user namespace by path, as a Kubernetes pod container does', priv(), async (t) => {
  const { data } = secretTree(t)
  for (const rt of runtimes(t)) {
    const name = path.basename(rt.binary)
    const sandbox = makeBundle(t, ['sleep', '1000'], userns)
    const sid = rt.id('bindsandbox')
    rt.ok(['run', '-d', '--bundle', sandbox.dir, sid])
    const spid = rt.state(sid).pid
    const app = makeBundle(t, ['cat', '/data/file'], (c) => {
      c.linux!.namespaces!.push({ type: 'user', path: `/proc/${spid}/ns/user` })
      // runc 1.1 wants the mappings of a user namespace it joins, too.
      c.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }]
      c.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }]
      c.mounts!.push({ destination: '/data', type: 'bind', source: data, options: ['rbind'] })
    })
    fs.mkdirSync(path.join(app.rootfs, 'data'))
    const r = rt.run(['run', '--bundle', app.dir, rt.id('bindapp')])
    t.equal(r.status, 0, `${name}: runs (${r.stderr.trim()})`)
    t.equal(r.stdout, 'hello from below 0700\n', `${name}: the file is read in the joined user namespace`)
    rt.run(['delete', '-f', sid])
  }
})

t.test('the source fds are gone before the container runs', priv(), async (t) => {
  const { data, secret } = secretTree(t)
  const runt = new Runt(t)
  const b = makeBundle(t, ['sleep', '30'], (c) => {
    userns(c)
    c.mounts!.push({ destination: '/data', type: 'bind', source: data, options: ['rbind'] })
    c.mounts!.push({ destination: '/data2', type: 'bind', source: path.join(data, 'file'), options: ['bind', 'ro'] })
  })
  fs.mkdirSync(path.join(b.rootfs, 'data'))
  fs.writeFileSync(path.join(b.rootfs, 'data2'), '')
  const id = runt.id('bindfds')
  const fdsOf = (pid: number) =>
    fs.readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try {
        return `${fd} ${fs.readlinkSync(`/proc/${pid}/fd/${fd}`)}`
      } catch {
        return fd
      }
    })
  runt.ok(['create', '--bundle', b.dir, id])
  const pid = runt.state(id).pid
  const waiting = fdsOf(pid)
  t.same(
    waiting.filter((l) => l.includes(secret)),
    [],
    `the init waiting for start holds no bind source (${waiting.join(', ')})`,
  )
  runt.ok(['start', id])
  const running = fdsOf(pid)
  t.same(
    running.map((l) => l.split(' ')[0]),
    ['0', '1', '2'],
    `the container process holds stdio only (${running.join(', ')})`,
  )
  runt.ok(['kill', id, 'KILL'])
})

t.test('a missing source gives the same error with and without a user namespace', priv(), async (t) => {
  const runt = new Runt(t)
  const missing = path.join(tempDir(t), 'no', 'such')
  const msgs: string[] = []
  for (const withUserns of [false, true]) {
    const b = makeBundle(t, ['true'], (c) => {
      if (withUserns) userns(c)
      c.mounts!.push({ destination: '/data', type: 'bind', source: missing, options: ['rbind'] })
    })
    const r = runt.run(['run', '--bundle', b.dir, runt.id('bindmissing')])
    t.equal(r.status, 1)
    const m = /mounts\[\d+\] \/data: stat \S+: no such file or directory/.exec(r.stderr)
    t.ok(m, `user namespace ${withUserns}: ${r.stderr.trim()}`)
    msgs.push(m?.[0] ?? '')
  }
  t.equal(msgs[0], msgs[1], 'same text')
  t.match(msgs[0], `stat ${missing}:`)
})

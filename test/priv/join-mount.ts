// Joining a mount namespace by path (`{"type": "mount", "path": "/proc/PID/ns/mnt"}`), alone
// with new namespaces of the other types and together with a joined user namespace. The
// container's rootfs is built in the joined namespace, as runc does: its root.path is resolved
// there and pivot_root moves that namespace's root (so each case gets a fresh holder).
// Before the fix the init was told `/proc/self/fd/N` for a descriptor stage 1 never passed on:
// "open /proc/self/fd/5: no such file or directory". runc 1.1.5 runs both cases (below, where
// it is installed).

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { spawn, spawnSync } from 'node:child_process'
import { cleanEnv, DROP_NSFS_COPIES, makeBundle, priv, Runt, RUNC, RUNT, waitFor } from '../fixtures/runt.js'

const BINS = RUNC ? [RUNT, RUNC] : [RUNT]
if (!RUNC) t.comment('runc is not installed: runt alone (apt-get install runc for the comparison)')

/** A process in a mount namespace of its own (and a user namespace of its own, mapped 0-65535 to the host's). */
async function holder(t: Test, userns: boolean): Promise<number> {
  // A private mount namespace without the host's nsfs mounts first (an engine test alongside
  // could not remove its netns), then, for the user namespace case, one of its own below it.
  const inner = userns ? 'exec unshare -U -m sleep 60' : 'exec sleep 60'
  const p = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `${DROP_NSFS_COPIES}\n${inner}`], { stdio: 'ignore' })
  t.teardown(() => p.kill('SIGKILL'))
  const pid = p.pid!
  const own = fs.readlinkSync('/proc/self/ns/mnt')
  const ready = await waitFor(() => {
    try {
      return fs.readlinkSync(`/proc/${pid}/ns/mnt`) !== own && fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep'
    } catch {
      return false
    }
  })
  t.ok(ready, 'the holder is in its own mount namespace')
  if (userns) {
    fs.writeFileSync(`/proc/${pid}/uid_map`, '0 0 65536')
    fs.writeFileSync(`/proc/${pid}/gid_map`, '0 0 65536')
  }
  return pid
}

for (const bin of BINS) {
  const name = path.basename(bin)

  t.test(`join a mount namespace by path, the others new (${name})`, priv(), async (t) => {
    const pid = await holder(t, false)
    const runt = new Runt(t, bin)
    const b = makeBundle(t, ['sh', '-c', 'readlink /proc/self/ns/mnt; readlink /proc/self/ns/pid; cat /marker'], (c) => {
      c.linux!.namespaces = c.linux!.namespaces!.map((n) =>
        n.type === 'mount' ? { type: 'mount', path: `/proc/${pid}/ns/mnt` } : n,
      )
    })
    fs.writeFileSync(path.join(b.dir, 'rootfs/marker'), 'bundle rootfs\n')
    const r = runt.run(['run', '--bundle', b.dir, runt.id()])
    t.equal(r.status, 0, r.stderr)
    const [mnt, pidns, marker] = r.stdout.trim().split('\n')
    t.equal(mnt, fs.readlinkSync(`/proc/${pid}/ns/mnt`), 'in the joined mount namespace')
    t.not(pidns, fs.readlinkSync('/proc/self/ns/pid'), 'a pid namespace of its own')
    t.equal(marker, 'bundle rootfs', 'its root is the bundle rootfs')
  })

  t.test(`join a user and a mount namespace by path (${name})`, priv(), async (t) => {
    const pid = await holder(t, true)
    const runt = new Runt(t, bin)
    const b = makeBundle(
      t,
      ['sh', '-c', 'readlink /proc/self/ns/mnt; readlink /proc/self/ns/user; id -u; cat /proc/self/uid_map'],
      (c) => {
        c.linux!.namespaces = c.linux!.namespaces!.map((n) =>
          n.type === 'mount' ? { type: 'mount', path: `/proc/${pid}/ns/mnt` } : n,
        )
        c.linux!.namespaces.push({ type: 'user', path: `/proc/${pid}/ns/user` })
        // runc 1.1.5 wants the mappings even when the user namespace is joined.
        c.linux!.uidMappings = [{ containerID: 0, hostID: 0, size: 65536 }]
        c.linux!.gidMappings = [{ containerID: 0, hostID: 0, size: 65536 }]
      },
    )
    const r = runt.run(['run', '--bundle', b.dir, runt.id()])
    t.equal(r.status, 0, r.stderr)
    const lines = r.stdout.trim().split('\n')
    t.equal(lines[0], fs.readlinkSync(`/proc/${pid}/ns/mnt`), 'in the joined mount namespace')
    t.equal(lines[1], fs.readlinkSync(`/proc/${pid}/ns/user`), 'in the joined user namespace')
    t.equal(lines[2], '0')
    t.equal(lines[3]?.trim().replace(/\s+/g, ' '), '0 0 65536', "the holder's mapping")
  })
}

// runt only: runc would build the rootfs in its own mount namespace and pivot every process
// of it (run here inside a throwaway `unshare -m`, so a regression re-roots only that).
t.test("the runtime's own mount namespace is refused, by any path", priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['true'], (c) => {
    c.linux!.namespaces = c.linux!.namespaces!.map((n) => (n.type === 'mount' ? { type: 'mount', path: '/proc/self/ns/mnt' } : n))
  })
  for (const nsPath of ['/proc/self/ns/mnt', '/proc/thread-self/ns/mnt']) {
    b.config.linux!.namespaces = b.config.linux!.namespaces!.map((n) =>
      n.type === 'mount' ? { type: 'mount', path: nsPath } : n,
    )
    b.write()
    const id = runt.id()
    const run = `${DROP_NSFS_COPIES}\nexec ${RUNT} --root ${runt.root} run --bundle ${b.dir} ${id}`
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', run], {
      encoding: 'utf8',
      env: cleanEnv(),
    })
    t.equal(r.status, 1, nsPath)
    t.match(r.stderr, /linux\.namespaces\[\d\]\.path: .* is the runtime's own mount namespace/)
    t.notOk(fs.existsSync(path.join(runt.root, id)), 'nothing left under --root')
  }
})

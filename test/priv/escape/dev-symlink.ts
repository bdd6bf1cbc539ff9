// A rootfs whose /dev is a symlink out of it (CVE-2026-41579 in runc is of this class): the
// runtime creates device nodes, the /dev/pts and /dev/shm mount points, the standard links and
// /dev/console under /dev, and must do all of it inside the rootfs. runt resolves every
// container path with openat2(RESOLVE_IN_ROOT), so an absolute or ".."-laden /dev link is
// followed as if the rootfs were /, never into the host.

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { makeBundle, priv, Runt } from '../../fixtures/runt.js'

/** A Runt whose containers are force-deleted while its --root still exists. */
function newRunt(t: Test): Runt {
  const runt = new Runt(t)
  t.teardown(() => runt.cleanup())
  return runt
}

/** What a host directory holds, recursively (names only). */
function contents(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true }).map(String).sort() : []
}

for (const [how, link] of [
  ['absolute', (host: string) => host],
  ['full of ..', (host: string) => `../../../../../../../../..${host}`],
] as const) {
  t.test(`/dev is a symlink out of the rootfs (${how})`, priv(), async (t) => {
    const host = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-devlink-'))
    t.teardown(() => fs.rmSync(host, { recursive: true, force: true }))
    const runt = newRunt(t)
    const b = makeBundle(t, ['sh', '-c', 'ls /dev; test -c /dev/null && echo "null ok"'], (c) => {
      // No tmpfs on /dev: the runtime fills the rootfs's /dev itself.
      c.mounts = c.mounts!.filter((m) => m.destination !== '/dev' && !m.destination.startsWith('/dev/'))
    })
    fs.rmSync(path.join(b.rootfs, 'dev'), { recursive: true, force: true })
    fs.symlinkSync(link(host), path.join(b.rootfs, 'dev'))
    const r = runt.run(['run', '--bundle', b.dir, runt.id('devlink')])
    t.comment(`status ${r.status}: ${r.stdout.trim().replace(/\n/g, ' ')} ${r.stderr.trim()}`)
    if (r.status === 0) t.match(r.stdout, /^null ok$/m, 'the container has its devices')
    else t.notMatch(r.stderr, /\n\s+at /, 'refused cleanly, no stack trace')
    t.same(contents(host), [], 'nothing was created in the host directory the link names')
    t.same(fs.readdirSync(runt.root), [], 'no state left')
  })
}

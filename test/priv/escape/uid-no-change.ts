// (uid_t)-1 and (gid_t)-1 mean "leave this id unchanged" to setresuid(2) and setresgid(2): a
// process configured to run as uid 4294967295 would keep the runtime's root. runc 1.1.5 refuses
// every id outside 0..2147483647 ("uids and gids must be in range 0-2147483647"), for
// config.json, `exec -u`, `exec -g` and `exec --process` alike; so must runt, and nothing may
// run as root where a user was asked for.

import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { makeBundle, priv, Runt, tempDir } from '../../fixtures/runt.js'

const BAD = [4294967295, 2147483648, -1]

for (const [field, edit] of [
  ['uid', (u: { uid: number; gid: number }, n: number) => (u.uid = n)],
  ['gid', (u: { uid: number; gid: number }, n: number) => (u.gid = n)],
  ['additionalGids', (u: { additionalGids?: number[] }, n: number) => (u.additionalGids = [10, n])],
] as const) {
  t.test(`process.user.${field} out of range is refused at create`, priv(), async (t) => {
    const runt = new Runt(t)
    for (const n of BAD) {
      const b = makeBundle(t, ['id'], (c) => {
        c.process!.user = { uid: 1000, gid: 1000 }
        edit(c.process!.user as never, n)
      })
      const r = runt.run(['run', '--bundle', b.dir, runt.id(field)])
      t.not(r.status, 0, `${n}: refused`)
      t.notMatch(r.stdout, /uid=0|gid=0/, `${n}: nothing ran as root`)
      t.match(
        r.stderr,
        new RegExp(`process\\.user\\.${field}.*uids and gids must be in range 0-2147483647`),
        `${n}: names the field`,
      )
      t.same(runt.leftovers(), [], `${n}: no state left`)
    }
  })
}

t.test('exec -u, -g and --process with an id out of range are refused', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['sleep', '300'], (c) => (c.process!.user = { uid: 1000, gid: 1000 }))
  const id = runt.id('exec')
  runt.ok(['run', '-d', '--bundle', b.dir, id])
  const proc = (user: Record<string, unknown>) => {
    const f = path.join(tempDir(t), 'process.json')
    fs.writeFileSync(f, JSON.stringify({ args: ['id'], cwd: '/', user }))
    return f
  }
  const cases: [string, string[]][] = [
    ['-u 4294967295', ['-u', '4294967295']],
    ['-u 4294967295:4294967295', ['-u', '4294967295:4294967295']],
    ['-u 1000:4294967295', ['-u', '1000:4294967295']],
    ['-u 2147483648', ['-u', '2147483648']],
    ['-u 99999999999999999999', ['-u', '99999999999999999999']],
    ['-g 4294967295', ['-g', '4294967295']],
    ['--process uid 4294967295', ['--process', proc({ uid: 4294967295, gid: 4294967295 })]],
    ['--process additionalGids', ['--process', proc({ uid: 1000, gid: 1000, additionalGids: [4294967295] })]],
  ]
  for (const [what, flags] of cases) {
    const argv = flags[0] === '--process' ? ['exec', ...flags, id] : ['exec', ...flags, id, 'id']
    const r = runt.run(argv)
    t.equal(r.status, 255, `${what}: exec fails as runc's does (255)`)
    t.equal(r.stdout, '', `${what}: nothing ran`)
    t.match(r.stderr, /uids and gids must be in range 0-2147483647/, `${what}: runc's message`)
    t.notMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`)
  }
  const ok = runt.run(['exec', '-u', '2147483647:2147483647', id, 'id', '-u'])
  t.equal(ok.stdout.trim(), '2147483647', 'the largest id is allowed')
  const still = runt.run(['exec', id, 'id', '-u'])
  t.equal(still.stdout.trim(), '1000', "exec without -u runs as the container's user")
})

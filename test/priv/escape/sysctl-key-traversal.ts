// A linux.sysctl key is a name below /proc/sys. The init writes sysctls before pivot_root,
// through the host's procfs, so a key that walks out with ".." (or is absolute) would write any
// host file as root. Kubernetes passes pod-level sysctls from users: the key is hostile input.
// runc 1.1.5 on the first key: "open /proc/sys/net/ipv4/tmp/...: no such file or directory"
// (it clamps the walk to /proc/sys); runt refuses the key itself, naming the field, and the
// init opens every key from a procfs /proc/sys fd with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS.

import t from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { makeBundle, priv, Runt } from '../../fixtures/runt.js'

const KEYS = [
  (victim: string) => `net/ipv4/../../../..${victim}`,
  (victim: string) => `net/../../..${victim}`,
  (victim: string) => `net/ipv4/conf/all/../../../../../../../../..${victim}`,
  (victim: string) => `net${victim}/..`,
  (victim: string) => victim,
  (victim: string) => `/proc/sys/net/../../..${victim}`,
]

for (const [i, key] of KEYS.entries()) {
  t.test(`sysctl key ${key('/tmp/VICTIM')} writes no host file`, priv(), async (t) => {
    const host = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-sysctl-'))
    t.teardown(() => fs.rmSync(host, { recursive: true, force: true }))
    const victim = path.join(host, 'victim')
    fs.writeFileSync(victim, 'original\n')
    const absent = path.join(host, 'absent')
    const runt = new Runt(t)
    const b = makeBundle(t, ['true'], (c) => {
      // The default config has a network namespace of its own, so net.* keys pass the
      // namespace rule and only the key's shape can stop them.
      c.linux!.sysctl = { [key(victim)]: 'x', [key(absent)]: 'x' }
    })
    const r = runt.run(['run', '--bundle', b.dir, runt.id(`sysctl${i}`)])
    t.not(r.status, 0, 'refused')
    t.match(r.stderr, /linux\.sysctl\[/, 'the error names the field')
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace')
    t.equal(fs.readFileSync(victim, 'utf8'), 'original\n', 'the host file is unchanged')
    t.notOk(fs.existsSync(absent), 'no host file was created')
    t.same(runt.leftovers(), [], 'no state left')
  })
}

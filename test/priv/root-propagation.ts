// linux.rootfsPropagation reaches the root the container sees (issue 11, item 3): "shared" makes
// it a shared mount, so a mount made below it inside the container propagates to its peers
// (here a bind of /tmp made inside); "private" makes it private; "unbindable" unbindable;
// "slave" (and no value) leave it a slave of the runtime's mount. The bundle sits on a shared
// mount in a throwaway mount namespace (`unshare -m --propagation private`), as in a
// conformance run, so nothing reaches this test's namespace.
//
// Before the fix the root stayed a slave ("master:N") whatever the config said: the value was
// applied to "/" of the runtime's tree copy only, before the bind of root.path, which inherited
// stage 1's rslave. runc 1.1.5 leaves it private ("-") for every value given (the same mistake,
// with a parent it made private; no value: a slave, as here); runc 1.4 applies it after
// pivot_root, as runt now does. runc's result is
// printed beside runt's, not asserted.

import t from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { cleanEnv, DROP_NSFS_COPIES, makeBundle, priv, RUNC, RUNT } from '../fixtures/runt.js'

// Inside the container: the root's optional fields, then whether a tmpfs mounted at /tmp/a
// shows up at /tmp/b/a, /tmp/b being a bind of /tmp (a peer of the root if the root is shared).
const SCRIPT = [
  `awk '$5 == "/" { o = ""; for (i = 7; $i != "-"; i++) o = o $i " "; print "@root=" o }' /proc/self/mountinfo`,
  'mkdir -p /tmp/a /tmp/b',
  'mount --bind /tmp /tmp/b 2>/dev/null && echo @bind=ok || echo @bind=refused',
  'mount -t tmpfs none /tmp/a',
  `echo "@peer=$(awk '$5 == "/tmp/b/a"' /proc/self/mountinfo | wc -l)"`,
].join('\n')

const ADMIN = 'CAP_SYS_ADMIN'

function inThrowaway(bin: string, bundleDir: string): Record<string, string> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-prop-'))
  try {
    const at = path.join(work, 'b')
    fs.mkdirSync(at)
    const root = path.join(work, 'state')
    const rt = ['/usr/bin/env', '-i', ...Object.entries(cleanEnv()).map(([k, v]) => `${k}=${v}`), bin, '--root', root].join(' ')
    const id = `prop-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
    const script = `${DROP_NSFS_COPIES}\n mount --bind ${bundleDir} ${at} && mount --make-shared ${at} && ${rt} run --bundle ${at} ${id} </dev/null`
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', '--', 'sh', '-c', script], {
      encoding: 'utf8',
      timeout: 60_000,
      env: cleanEnv(),
    })
    const vars: Record<string, string> = { status: String(r.status), stderr: r.stderr.trim() }
    for (const line of r.stdout.split('\n')) {
      const m = /^@(\w+)=(.*)$/.exec(line)
      if (m) vars[m[1]!] = m[2]!.trim()
    }
    return vars
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
}

type Propagation = NonNullable<NonNullable<import('../../src/spec/schema.js').Spec['linux']>['rootfsPropagation']>

const cases: [Propagation | undefined, RegExp, string][] = [
  ['shared', /^shared:\d+/, '1'],
  ['rshared', /^shared:\d+/, '1'],
  ['private', /^$/, '0'],
  ['slave', /^master:\d+$/, '0'],
  [undefined, /^master:\d+$/, '0'],
]

for (const [prop, root, peer] of cases) {
  t.test(`rootfsPropagation ${prop ?? '(none: rslave)'}`, priv(), async (t) => {
    const b = makeBundle(t, ['sh', '-c', SCRIPT], (c) => {
      if (prop) c.linux!.rootfsPropagation = prop
      const caps = c.process!.capabilities!
      for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...(caps[set] ?? []), ADMIN]
    })
    const v = inThrowaway(RUNT, b.dir)
    t.equal(v.status, '0', v.stderr ?? '')
    t.match(v.root ?? '', root, "the container's root has the propagation asked for")
    t.equal(v.peer, peer, peer === '1' ? 'a mount below a shared root reaches its peer' : 'and reaches no peer')
    if (RUNC) {
      const rc = inThrowaway(RUNC, b.dir)
      t.comment(`runc 1.1.5: root "${rc.root ?? ''}", peer ${rc.peer ?? '-'}, exit ${rc.status}`)
    }
  })
}

t.test('rootfsPropagation unbindable: the root cannot be bound', priv(), async (t) => {
  const b = makeBundle(t, ['sh', '-c', SCRIPT], (c) => {
    c.linux!.rootfsPropagation = 'unbindable'
    const caps = c.process!.capabilities!
    for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...(caps[set] ?? []), ADMIN]
  })
  const v = inThrowaway(RUNT, b.dir)
  t.equal(v.status, '0', v.stderr ?? '')
  t.match(v.root ?? '', /unbindable/)
  t.equal(v.bind, 'refused', 'a bind of a path on an unbindable mount is EINVAL')
  if (RUNC) t.comment(`runc 1.1.5: exit ${inThrowaway(RUNC, b.dir).status}`)
})

// Hostile input gets a clear, bounded refusal and leaves nothing behind; broken state breaks
// only its own container. Each case was found by the hostile-input campaign (issue 18) and
// checked against runc 1.1.5, which refuses or survives it as asserted here.

import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { makeBundle, priv, Runt } from '../fixtures/runt.js'

/** The message of runt's last log line. */
function lastError(stderr: string): string {
  const line = stderr.trim().split('\n').pop() ?? ''
  const m = /msg=("(?:[^"\\]|\\.)*")/.exec(line)
  return m ? (JSON.parse(m[1]!) as string) : line
}

t.test('a refused config: clear, bounded, no stack trace, nothing left', priv(), async (t) => {
  const runt = new Runt(t)
  const cases: [string, (config: string) => string, RegExp][] = [
    [
      "nesting deeper than runc's 10000 levels",
      (c) => c.replace(/}\s*$/, `, "x-deep": ${'['.repeat(10001)}${']'.repeat(10001)}}`),
      /invalid JSON: nested deeper than 10000 levels/,
    ],
    ['a UTF-8 byte-order mark', (c) => '\ufeff' + c, /a byte-order mark \(U\+FEFF\) is not JSON/],
    [
      'a 10 MB hostname',
      (c) => {
        const j = JSON.parse(c)
        j.hostname = 'h'.repeat(10_000_000)
        return JSON.stringify(j)
      },
      /hostname/,
    ],
    [
      '10000 duplicated namespaces',
      (c) => {
        const j = JSON.parse(c)
        j.linux.namespaces = [...j.linux.namespaces, ...Array.from({ length: 10000 }, () => ({ type: 'pid' }))]
        return JSON.stringify(j)
      },
      /duplicated ns "pid" \(and 9999 more like it\)/,
    ],
    [
      'an environment entry without =',
      (c) => {
        const j = JSON.parse(c)
        j.process.env.push('JUSTANAME')
        return JSON.stringify(j)
      },
      /process\.env\[\d+\]: invalid environment variable: missing '='/,
    ],
    [
      'a prestart hook that does not exist',
      (c) => {
        const j = JSON.parse(c)
        j.hooks = { prestart: [{ path: '/nonexistent/hook' }] }
        return JSON.stringify(j)
      },
      /error running prestart hook #0 \(\/nonexistent\/hook\): fork\/exec \/nonexistent\/hook: no such file or directory/,
    ],
  ]
  for (const [what, edit, expected] of cases) {
    const b = makeBundle(t, ['true'])
    const file = path.join(b.dir, 'config.json')
    fs.writeFileSync(file, edit(fs.readFileSync(file, 'utf8')))
    const r = runt.run(['run', '--bundle', b.dir, runt.id('hostile')])
    const msg = lastError(r.stderr)
    t.not(r.status, 0, `${what}: refused`)
    t.match(msg, expected, `${what}: says why`)
    t.ok(r.stderr.length < 5000, `${what}: ${r.stderr.length} bytes of error`)
    t.notMatch(r.stderr, /\n\s+at |internal error|Maximum call stack/, `${what}: no crash`)
    t.same(runt.leftovers(), [], `${what}: nothing left`)
  }
})

t.test('a rootfs that is a symlink is refused, as runc refuses it', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['true'])
  fs.renameSync(b.rootfs, b.rootfs + '.real')
  fs.symlinkSync(b.rootfs + '.real', b.rootfs)
  const r = runt.run(['run', '--bundle', b.dir, runt.id('rootlink')])
  t.not(r.status, 0)
  t.match(lastError(r.stderr), /invalid rootfs: not an absolute path, or a symlink/)
  t.same(runt.leftovers(), [])
})

t.test('a memory limit too small for the init says so', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['true'], (c) => (c.linux!.resources = { memory: { limit: 4096 } }))
  const r = runt.run(['run', '--bundle', b.dir, runt.id('tiny')])
  t.not(r.status, 0)
  const msg = lastError(r.stderr)
  t.notMatch(msg, /connection reset by peer/, "not the socket's words")
  t.match(msg, /memory/, `names the memory limit: ${msg}`)
  t.same(runt.leftovers(), [])
})

t.test('a broken state.json breaks only its own container', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['sleep', '300'])
  const good = runt.id('good')
  const bad = runt.id('bad')
  runt.ok(['run', '-d', '--bundle', b.dir, good])
  runt.ok(['run', '-d', '--bundle', b.dir, bad])
  const badPid = runt.state(bad).pid
  for (const garbage of ['[]', 'null', '{"id": 5}', '{"ociVersion": "1.3.0", "pid": "x"}', '{']) {
    fs.writeFileSync(path.join(runt.root, bad, 'state.json'), garbage)
    const list = runt.run(['list'])
    t.equal(list.status, 0, `${garbage}: list still works`)
    t.match(list.stdout, new RegExp(`^${good}\\s+\\d+\\s+running`, 'm'), `${garbage}: the healthy container is listed`)
    t.match(list.stderr, /corrupt state file .*bad-.*state\.json/, `${garbage}: and the broken one is named`)
    for (const cmd of [
      ['state', bad],
      ['kill', bad, 'KILL'],
    ]) {
      const r = runt.run(cmd)
      t.not(r.status, 0, `${garbage}: ${cmd[0]} refuses`)
      t.match(lastError(r.stderr), /^corrupt state file \S+\/state\.json: /, `${garbage}: ${cmd[0]} names the file`)
    }
  }
  const del = runt.run(['delete', '--force', bad])
  t.equal(del.status, 0, `delete --force removes it: ${del.stderr}`)
  t.notOk(
    fs.existsSync(`/proc/${badPid}`) && !/^\S+ \(sleep\) Z/.test(fs.readFileSync(`/proc/${badPid}/stat`, 'utf8')),
    'its process is gone (found through its cgroup)',
  )
  t.notOk(fs.existsSync(path.join(runt.root, bad)), 'its state is gone')
  runt.ok(['run', '-d', '--bundle', b.dir, bad])
  t.equal(runt.state(bad).status, 'running', 'and the id can be used again')
  t.equal(runt.state(good).status, 'running', 'the healthy one was never touched')
})

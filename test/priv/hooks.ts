// OCI hooks: each gets the state JSON on stdin with the right id, pid and status, only its own
// args and env; createContainer runs in the container's mount namespace, startContainer
// resolves its path in the container, poststop runs on delete; failures and timeouts.

import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { makeBundle, priv, Runt, waitFor } from '../fixtures/runt.js'

/** A host script that saves its stdin, argv, env and mount namespace under `out`. */
function recorder(dir: string, name: string): string {
  const script = path.join(dir, `${name}.sh`)
  fs.writeFileSync(
    script,
    `#!/bin/sh\nout=${dir}/${name}\ncat > "$out.json"\necho "$@" > "$out.args"\nenv > "$out.env"\nreadlink /proc/self/ns/mnt > "$out.mnt"\n`,
    { mode: 0o755 },
  )
  return script
}

const read = (p: string) => fs.readFileSync(p, 'utf8').trim()

t.test('every hook runs at its point with the state on stdin', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['sleep', '1000'])
  const h = (name: string) => ({ path: recorder(b.dir, name), args: [`${name}-argv0`, 'a1', 'a2'], env: [`HOOK=${name}`] })
  // startContainer runs after pivot_root: its path and output are the container's.
  fs.writeFileSync(
    path.join(b.rootfs, 'start.sh'),
    '#!/bin/sh\ncat > /tmp/start.json\nreadlink /proc/self/ns/mnt > /tmp/start.mnt\n',
    {
      mode: 0o755,
    },
  )
  b.config.hooks = {
    prestart: [h('prestart')],
    createRuntime: [h('createRuntime')],
    createContainer: [h('createContainer')],
    startContainer: [{ path: '/start.sh' }],
    poststart: [h('poststart')],
    poststop: [h('poststop')],
  }
  b.config.annotations = { 'org.example/hook-test': 'yes' }
  b.write()
  const id = runt.id()
  runt.ok(['create', '--bundle', b.dir, id])
  const pid = runt.state(id).pid
  const hostMnt = fs.readlinkSync('/proc/self/ns/mnt')
  const ctrMnt = fs.readlinkSync(`/proc/${pid}/ns/mnt`)
  for (const name of ['prestart', 'createRuntime', 'createContainer']) {
    const st = JSON.parse(read(path.join(b.dir, `${name}.json`)))
    t.equal(st.id, id, `${name}: id`)
    t.equal(st.status, 'creating', `${name}: status`)
    t.equal(st.pid, pid, `${name}: host pid of the init`)
    t.equal(st.bundle, b.dir, `${name}: bundle`)
    t.same(st.annotations, { 'org.example/hook-test': 'yes' }, `${name}: annotations`)
    t.equal(read(path.join(b.dir, `${name}.args`)), 'a1 a2', `${name}: only its own args`)
    const env = read(path.join(b.dir, `${name}.env`))
    t.match(env, `HOOK=${name}`, `${name}: its env`)
    t.notMatch(env, /NODE_|^PATH=/m, `${name}: nothing inherited`)
  }
  t.equal(read(path.join(b.dir, 'prestart.mnt')), hostMnt, 'prestart runs in the runtime namespace')
  t.equal(read(path.join(b.dir, 'createRuntime.mnt')), hostMnt, 'createRuntime runs in the runtime namespace')
  t.equal(read(path.join(b.dir, 'createContainer.mnt')), ctrMnt, "createContainer runs in the container's mount namespace")
  t.notOk(fs.existsSync(path.join(b.dir, 'poststart.json')), 'poststart not yet')

  runt.ok(['start', id])
  const start = JSON.parse(read(path.join(b.rootfs, 'tmp/start.json')))
  t.equal(start.status, 'created', 'startContainer sees status created')
  t.equal(start.pid, pid)
  t.equal(read(path.join(b.rootfs, 'tmp/start.mnt')), ctrMnt, 'startContainer resolved and ran in the container')
  const post = JSON.parse(read(path.join(b.dir, 'poststart.json')))
  t.equal(post.status, 'running', 'poststart sees running')

  runt.ok(['kill', id, 'KILL'])
  await waitFor(() => runt.state(id).status === 'stopped')
  runt.ok(['delete', id])
  const stop = JSON.parse(read(path.join(b.dir, 'poststop.json')))
  t.equal(stop.status, 'stopped', 'poststop runs on delete')
  t.equal(stop.id, id)
})

t.test('a failing createRuntime hook fails create and leaves nothing', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['sleep', '1000'])
  const bad = path.join(b.dir, 'bad.sh')
  fs.writeFileSync(bad, '#!/bin/sh\necho hook-says-no >&2\nexit 3\n', { mode: 0o755 })
  b.config.hooks = { createRuntime: [{ path: bad }] }
  b.write()
  const id = runt.id()
  const r = runt.run(['create', '--bundle', b.dir, id])
  t.equal(r.status, 1)
  t.match(r.stderr, 'exit status 3')
  t.match(r.stderr, 'hook-says-no', "the hook's output is in the error")
  t.notOk(fs.existsSync(path.join(runt.root, id)), 'no state left')
})

t.test('a hook is killed at its timeout', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['sleep', '1000'])
  const slow = path.join(b.dir, 'slow.sh')
  fs.writeFileSync(slow, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 })
  b.config.hooks = { createContainer: [{ path: slow, timeout: 1 }] }
  b.write()
  const t0 = Date.now()
  const r = runt.run(['create', '--bundle', b.dir, runt.id()])
  t.equal(r.status, 1)
  t.match(r.stderr, 'timeout')
  t.ok(Date.now() - t0 < 20_000, 'did not wait for the hook to finish')
})

t.test('a failing startContainer or poststart hook fails start', priv(), async (t) => {
  const runt = new Runt(t)
  for (const which of ['startContainer', 'poststart'] as const) {
    const b = makeBundle(t, ['sleep', '1000'])
    const bad = which === 'startContainer' ? '/bad.sh' : path.join(b.dir, 'bad.sh')
    fs.writeFileSync(which === 'startContainer' ? path.join(b.rootfs, 'bad.sh') : bad, '#!/bin/sh\nexit 4\n', { mode: 0o755 })
    b.config.hooks = { [which]: [{ path: bad }] }
    b.write()
    const id = runt.id()
    runt.ok(['create', '--bundle', b.dir, id])
    const r = runt.run(['start', id])
    t.equal(r.status, 1, `${which}: start fails`)
    t.match(r.stderr, 'exit status 4')
    t.ok(await waitFor(() => runt.state(id).status === 'stopped'), `${which}: the container is stopped`)
  }
})

t.test('a failing poststop hook only warns', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['true'])
  const bad = path.join(b.dir, 'bad.sh')
  fs.writeFileSync(bad, '#!/bin/sh\nexit 5\n', { mode: 0o755 })
  b.config.hooks = { poststop: [{ path: bad }] }
  b.write()
  const id = runt.id()
  runt.ok(['run', '-d', '--bundle', b.dir, id])
  await waitFor(() => runt.state(id).status === 'stopped')
  const r = runt.run(['delete', id])
  t.equal(r.status, 0)
  t.match(r.stderr, /level=warning.*exit status 5/)
  t.notOk(fs.existsSync(path.join(runt.root, id)))
})

t.test('startContainer hooks: timeout, a missing program, output in the error', priv(), async (t) => {
  const runt = new Runt(t)
  const cases: [string, { path: string; args?: string[]; timeout?: number }, RegExp][] = [
    [
      'timeout',
      { path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 },
      /startContainer hook #0 \(\/bin\/sleep\): timeout after 1s/,
    ],
    [
      'missing',
      { path: '/no/such/hook' },
      /startContainer hook #0 \(\/no\/such\/hook\): fork\/exec \/no\/such\/hook: no such file or directory/,
    ],
    [
      'output',
      { path: '/bin/sh', args: ['sh', '-c', 'echo said-so; echo and-this >&2; exit 3'] },
      /exit status 3, stdout\/stderr: said-so\nand-this/,
    ],
    ['signal', { path: '/bin/sh', args: ['sh', '-c', 'kill -TERM $$'] }, /killed by signal SIGTERM/],
  ]
  for (const [name, hook, want] of cases) {
    const b = makeBundle(t, ['true'])
    b.config.hooks = { startContainer: [hook] }
    b.write()
    const t0 = Date.now()
    const r = runt.run(['run', '--bundle', b.dir, runt.id()])
    t.equal(r.status, 1, `${name}: run fails`)
    t.match(r.stderr.replace(/\\n/g, '\n'), want, name)
    if (name === 'timeout') t.ok(Date.now() - t0 < 20_000, 'did not wait for the hook to finish')
  }
})

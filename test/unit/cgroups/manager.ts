import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { mkdirs, removeTree, treePids } from '../../../src/cgroups/manager.js'
import { realFs } from '../../../src/cgroups/fs.js'
import { FakeKernel } from '../../fixtures/fake-kernel.js'

t.test('pids of a cgroup and its sub-cgroups', async (t) => {
  const dir = t.testdir({
    'cgroup.procs': '10\n11\n',
    b: { 'cgroup.procs': '30\n' },
    a: { 'cgroup.procs': '20\n10\n', deep: { 'cgroup.procs': '' } },
  })
  t.same(treePids(realFs, dir), [10, 11, 20, 30], 'walk order, deduplicated')
  t.same(treePids(realFs, path.join(dir, 'missing')), [])
})

t.test('mkdirs creates the missing levels only, and undoes them on failure', async (t) => {
  const root = t.testdir({ a: {} })
  t.same(mkdirs(realFs, root, path.join(root, 'a/b/c')), [path.join(root, 'a/b'), path.join(root, 'a/b/c')])
  t.same(mkdirs(realFs, root, path.join(root, 'a/b/c')), [], 'all there')
  t.throws(() => mkdirs(realFs, root, '/elsewhere'), {
    message: /linux.cgroupsPath: \/elsewhere is outside the cgroup hierarchy/,
  })
  t.throws(
    () =>
      mkdirs(realFs, root, path.join(root, 'x/y'), (d) => {
        if (d.endsWith('y')) throw new Error('boom')
      }),
    { message: 'boom' },
  )
  t.notOk(fs.existsSync(path.join(root, 'x')), 'undone')
})

t.test('removeTree: sub-cgroups first; busy cgroups are retried, then reported', async (t) => {
  const k = new FakeKernel(t.testdir({ c: { 'cgroup.procs': '', s1: { 'cgroup.procs': '' }, s2: { 'cgroup.procs': '' } } }))
  removeTree(k, path.join(k.root, 'c'))
  t.notOk(fs.existsSync(path.join(k.root, 'c')))
  removeTree(k, path.join(k.root, 'gone'))
  fs.mkdirSync(path.join(k.root, 'busy'))
  fs.writeFileSync(path.join(k.root, 'busy/cgroup.procs'), '5\n')
  const start = Date.now()
  t.throws(() => removeTree(k, path.join(k.root, 'busy')), { message: /remove cgroup .*busy: device or resource busy/ })
  t.ok(Date.now() - start >= 500, 'retried for a while')
})

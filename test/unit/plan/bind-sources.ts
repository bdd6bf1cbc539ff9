import t from 'tap'
import { planRootfs, type RootfsInput } from '../../../src/plan/rootfs.js'
import { bindSourcesToOpen, fdBatches, pairBindSources, SCM_MAX_FD } from '../../../src/plan/bind-sources.js'
import { RuntimeError } from '../../../src/errors.js'

const mounts = (m: NonNullable<RootfsInput['mounts']>) =>
  planRootfs({ root: { path: 'rootfs' }, mounts: m }, { bundle: '/bundle', userns: true }, { noPivot: false }).mounts

const FACTS = { userns: true, hostRoot: true, rootfs: '/bundle/rootfs' }

t.test('bindSourcesToOpen: bind mounts only, in order, with the source resolved from the bundle', async (t) => {
  const m = mounts([
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/a', type: 'bind', source: '/srv/secret/a', options: ['rbind'] },
    { destination: '/tmp', type: 'tmpfs', source: 'tmpfs' },
    { destination: '/b', source: 'relative/b', options: ['bind', 'ro'] },
    { destination: '/c', type: 'none', source: '/srv/c', options: ['rbind'] },
  ])
  t.same(bindSourcesToOpen(m, FACTS), [
    { field: 'mounts[1]', source: '/srv/secret/a' },
    { field: 'mounts[3]', source: '/bundle/relative/b' },
    { field: 'mounts[4]', source: '/srv/c' },
  ])
})

t.test('bindSourcesToOpen: nothing without a user namespace or without root (runc 1.1 likewise)', async (t) => {
  const m = mounts([{ destination: '/a', type: 'bind', source: '/srv/a', options: ['rbind'] }])
  t.same(bindSourcesToOpen(m, { ...FACTS, userns: false }), [])
  t.same(bindSourcesToOpen(m, { ...FACTS, hostRoot: false }), [])
  t.equal(bindSourcesToOpen(m, FACTS).length, 1)
})

t.test('bindSourcesToOpen: what stays with the init', async (t) => {
  const m = mounts([
    { destination: '/i', type: 'bind', source: '/srv/i', options: ['rbind', 'idmap'] },
    { destination: '/r', type: 'bind', source: '/srv/r', options: ['rbind', 'ridmap'] },
    { destination: '/in', type: 'bind', source: '/bundle/rootfs/x', options: ['rbind'] },
    { destination: '/root', type: 'bind', source: '/bundle/rootfs', options: ['rbind'] },
    { destination: '/ns', type: 'bind', source: '/proc/self/ns/net', options: ['bind'] },
    { destination: '/procfs', type: 'bind', source: '/proc', options: ['rbind'] },
    { destination: '/near', type: 'bind', source: '/bundle/rootfs2', options: ['rbind'] },
    { destination: '/procx', type: 'bind', source: '/procx', options: ['rbind'] },
  ])
  t.same(
    bindSourcesToOpen(m, FACTS).map((s) => s.source),
    ['/bundle/rootfs2', '/procx'],
    'idmapped mounts, sources inside the rootfs and under /proc are left; look-alike prefixes are not',
  )
})

t.test('fdBatches: at most SCM_MAX_FD per message', async (t) => {
  t.equal(SCM_MAX_FD, 253)
  t.same(fdBatches(0), [])
  t.same(fdBatches(1), [1])
  t.same(fdBatches(253), [253])
  t.same(fdBatches(254), [253, 1])
  t.same(fdBatches(600), [253, 253, 94])
  t.same(fdBatches(5, 2), [2, 2, 1])
})

t.test('pairBindSources: fields to fds, in order; a mismatch is a protocol error', async (t) => {
  t.same(
    [...pairBindSources(['mounts[1]', 'mounts[4]'], [7, 9])],
    [
      ['mounts[1]', 7],
      ['mounts[4]', 9],
    ],
  )
  t.same([...pairBindSources([], [])], [])
  t.throws(
    () => pairBindSources(['mounts[1]'], []),
    new RuntimeError('bind sources: expected 1 descriptors from the parent, got 0', 'EPROTO'),
  )
  t.throws(() => pairBindSources(['mounts[1]', 'mounts[1]'], [3, 4]), { code: 'EPROTO', message: /named twice/ })
})

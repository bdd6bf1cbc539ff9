import t from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  execCgroupTargets,
  homeCgroups,
  joinCgroups,
  ownProcsFile,
  parseSubCgroups,
  warmAttach,
  warmAttachSoon,
} from '../../../src/cgroups/join.js'
import { parseHost, type HostCgroups } from '../../../src/cgroups/host.js'
import type { CgroupFs } from '../../../src/cgroups/fs.js'
import { v2Host } from '../../fixtures/fake-kernel.js'

const V1 = {
  cpu: '/cg/cpu/c',
  cpuacct: '/cg/cpuacct/c',
  memory: '/cg/memory/c',
  'name=systemd': '/cg/systemd/c',
  '': '/cg/unified/c',
}
const V2 = { '': '/cg/c' }

t.test('parseSubCgroups: runc texts for what it refuses', async (t) => {
  t.same([...parseSubCgroups([])], [])
  t.same([...parseSubCgroups(['/a'])], [['', '/a']])
  t.same(
    [...parseSubCgroups(['cpu,cpuacct:sub', 'memory:m'])],
    [
      ['cpu', 'sub'],
      ['cpuacct', 'sub'],
      ['memory', 'm'],
    ],
  )
  t.throws(() => parseSubCgroups(['a', 'b']), { message: 'invalid --cgroup argument: a (missing <controller>: prefix)' })
  t.throws(() => parseSubCgroups(['/', 'memory:/']), { message: /^invalid --cgroup argument: \/ \(missing/ })
  t.throws(() => parseSubCgroups([':/a']), { message: 'invalid --cgroup argument: :/a (empty <controller> prefix)' })
  t.throws(() => parseSubCgroups(['memory,memory:/']), {
    message: 'invalid --cgroup argument(s): controller memory specified multiple times',
  })
})

t.test('execCgroupTargets on cgroup v1', async (t) => {
  t.same(execCgroupTargets(V1, []).targets, Object.values(V1), 'no --cgroup: the container cgroups')
  t.same(execCgroupTargets(V1, ['memory:/sub']).targets, [
    '/cg/cpu/c',
    '/cg/cpuacct/c',
    '/cg/memory/c/sub',
    '/cg/systemd/c',
    '/cg/unified/c',
  ])
  t.same(
    execCgroupTargets(V1, ['s']).targets,
    Object.values(V1).map((p) => p + '/s'),
    'a bare path for every controller',
  )
  t.same(execCgroupTargets(V1, ['/']).targets, Object.values(V1))
  t.throws(() => execCgroupTargets(V1, ['nosuch:/x']), { message: 'unknown controller nosuch in SubCgroupPaths' })
  t.throws(() => execCgroupTargets(V1, ['..']), { message: '.. is not a sub cgroup path' })
  t.throws(() => execCgroupTargets(V1, ['memory:../../x']), { message: '../../x is not a sub cgroup path' })
  t.throws(() => execCgroupTargets(V1, ['memory:../cx']), { message: /not a sub cgroup path/, code: 'ECGROUPARG' })
})

t.test('execCgroupTargets on cgroup v2: one path, controller prefixes ignored as by runc', async (t) => {
  t.same(execCgroupTargets(V2, []), { targets: ['/cg/c'], ignored: [] })
  t.same(execCgroupTargets(V2, ['sub/x']), { targets: ['/cg/c/sub/x'], ignored: [] })
  t.same(execCgroupTargets(V2, ['memory:sub']), { targets: ['/cg/c'], ignored: ['memory'] })
  t.throws(() => execCgroupTargets(V2, ['../x']), { message: '../x is not a sub cgroup path' })
})

t.test('joinCgroups writes the pid, and says which file failed as runc does', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'join-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  fs.mkdirSync(path.join(dir, 'a'))
  joinCgroups([path.join(dir, 'a')], 42)
  t.equal(fs.readFileSync(path.join(dir, 'a/cgroup.procs'), 'utf8'), '42')
  const missing = path.join(dir, 'nope')
  t.throws(() => joinCgroups([missing], 7), {
    message: `error adding pid 7 to cgroups: failed to write 7: open ${missing}/cgroup.procs: no such file or directory`,
  })
})

t.test('homeCgroups: the exec init goes back to our own cgroup in each hierarchy it joined', async (t) => {
  const mounts = `31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
36 31 0:33 /outer /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
`
  const self = '4:memory:/user/abc\n3:cpu,cpuacct:/\n2:pids:/outer/me\n0::/u.slice\n'
  const host = parseHost(mounts, self)
  t.same(
    homeCgroups(host, ['/sys/fs/cgroup/cpu,cpuacct/runt/c1', '/sys/fs/cgroup/memory/runt/c1', '/sys/fs/cgroup/pids/runt/c1']),
    ['/sys/fs/cgroup/cpu,cpuacct', '/sys/fs/cgroup/memory/user/abc', '/sys/fs/cgroup/pids/me'],
    'v1: own path below each mount root',
  )
  t.same(homeCgroups(host, ['/sys/fs/cgroup/unified/c1']), ['/sys/fs/cgroup/unified/u.slice'], 'v2')
  t.equal(homeCgroups(host, ['/elsewhere/c1']), null, 'a target in no hierarchy: stay')
  const outside = parseHost(mounts, '2:pids:/other\n')
  t.equal(homeCgroups(outside, ['/sys/fs/cgroup/pids/runt/c1']), null, 'own cgroup outside the mount root: stay')
  t.same(homeCgroups(host, []), [])
})

t.test("ownProcsFile: runt's own cgroup.procs, v2 on a v2 host, else the first v1 hierarchy", async (t) => {
  const host = (over: Partial<HostCgroups>): HostCgroups => ({ mode: 'v1', v1: [], own: [], ...over })
  t.equal(
    ownProcsFile(
      host({ mode: 'v2', unified: { mountPoint: '/sys/fs/cgroup', root: '/' }, own: [{ id: 0, controllers: [], path: '/a/b' }] }),
    ),
    '/sys/fs/cgroup/a/b/cgroup.procs',
  )
  const v1 = [
    { controllers: ['cpu', 'cpuacct'], mountPoint: '/sys/fs/cgroup/cpu,cpuacct', root: '/' },
    { controllers: ['pids'], mountPoint: '/sys/fs/cgroup/pids', root: '/' },
  ]
  const own = [
    { id: 3, controllers: ['cpu', 'cpuacct'], path: '/user/1' },
    { id: 4, controllers: ['pids'], path: '/user/2' },
    { id: 0, controllers: [], path: '/u' },
  ]
  t.equal(ownProcsFile(host({ v1, own })), '/sys/fs/cgroup/cpu,cpuacct/user/1/cgroup.procs')
  t.equal(
    ownProcsFile(host({ mode: 'hybrid', v1, own, unified: { mountPoint: '/sys/fs/cgroup/unified', root: '/' } })),
    '/sys/fs/cgroup/cpu,cpuacct/user/1/cgroup.procs',
    'hybrid: the v1 hierarchies carry the processes',
  )
  t.equal(
    ownProcsFile(host({ v1: [{ ...v1[0]!, root: '/docker/x' }], own })),
    null,
    'our cgroup is not below the mount (a host that is itself a container)',
  )
  t.equal(ownProcsFile(host({})), null, 'no cgroups at all')
})

t.test('warmAttach: our own pid into our own cgroup until the init asks, stopping at a failure', async (t) => {
  const { k, host, mp } = v2Host(t.testdir())
  fs.mkdirSync(path.join(mp, 'user.slice/session.scope'), { recursive: true })
  fs.writeFileSync(path.join(mp, 'user.slice/session.scope/cgroup.procs'), '')
  let polls = 0
  const waits: number[] = []
  t.equal(
    warmAttach((ms) => (waits.push(ms), ++polls === 3), { host, io: k, pid: 4242 }),
    3,
  )
  t.same(
    k.writesTo(path.relative(k.root, path.join(mp, 'user.slice/session.scope/cgroup.procs'))),
    ['4242', '4242', '4242'],
    'a migration to where we are',
  )
  t.same(waits, [4, 4, 4], 'a few ms between writes: well within a grace period')
  const failing = {
    ...k,
    write: () => {
      throw Object.assign(new Error('EACCES'), { code: 'EACCES' })
    },
  } as unknown as CgroupFs
  t.equal(
    warmAttach(() => false, { host, io: failing }),
    0,
    'not writable (rootless): no warming, no error',
  )
  t.equal(
    warmAttach(() => false, { host: { mode: 'none', v1: [], own: [] }, io: k }),
    0,
    'no cgroups',
  )
  let n = 0
  t.equal(
    warmAttach(() => (n++, false), { host, io: k, pid: 1 }),
    250,
    'bounded if the init never asks',
  )
})

t.test('warmAttachSoon: the same write, in the background; nothing to write to or a failure is no error', async (t) => {
  const { host, mp } = v2Host(t.testdir())
  const dir = path.join(mp, 'user.slice/session.scope')
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'cgroup.procs'), '')
  const p = warmAttachSoon({ host, pid: 4242 })
  t.ok(p instanceof Promise, 'returns before the write is done')
  t.equal(await p, path.join(dir, 'cgroup.procs'))
  t.equal(fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8'), '4242')
  t.equal(await warmAttachSoon({ host: { mode: 'none', v1: [], own: [] } }), null, 'no cgroups')
  fs.rmSync(dir, { recursive: true })
  t.equal(await warmAttachSoon({ host, pid: 1 }), null, 'a failed write (ENOENT here) is ignored')
})

import t from 'tap'
import * as P from '../../../src/plan/criu.js'
import { UsageError } from '../../../src/errors.js'
import type { Spec } from '../../../src/spec/schema.js'
import type { MountInfo } from '../../../src/plan/mountinfo.js'
import { criuFlags } from '../../fixtures/criu.js'

const FLAGS: P.CriuFlags = criuFlags('/img')

const SPEC = {
  ociVersion: '1.0.2',
  root: { path: 'rootfs' },
  mounts: [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/data/', type: 'bind', source: 'vol', options: ['rbind'] },
    { destination: '/etc/hosts', source: '/srv/hosts', options: ['bind', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup' },
  ],
  linux: {
    namespaces: [
      { type: 'pid' },
      { type: 'network', path: '/run/netns/n1' },
      { type: 'uts', path: '/proc/9/ns/uts' },
      { type: 'mount' },
    ],
    maskedPaths: ['/proc/kcore'],
    devices: [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }],
  },
} as unknown as Spec

const DUMP: P.DumpFacts = {
  pid: 42,
  rootfs: '/b/rootfs',
  bundle: '/b',
  imagesDirFd: 7,
  maskedFiles: ['/proc/kcore'],
  nsInodes: { network: 4026532000 },
  freezeCgroup: '/sys/fs/cgroup/freezer/runt/c',
  cgroupBinds: [{ destination: '/sys/fs/cgroup/memory', source: '/sys/fs/cgroup/memory/runt/c' }],
}

const DEVICES = ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty', '/dev/fuse']

t.test('--manage-cgroups-mode and --empty-ns as runc reads them', async (t) => {
  t.equal(P.criuCgMode(''), 6, 'DEFAULT')
  t.equal(P.criuCgMode('soft'), 3)
  t.equal(P.criuCgMode('full'), 4)
  t.equal(P.criuCgMode('strict'), 5)
  t.equal(P.criuCgMode('ignore'), 0)
  t.throws(() => P.criuCgMode('props'), new UsageError('invalid manage-cgroups-mode value'))
  t.equal(P.emptyNsMask([]), 0x40000000, 'the network namespace is always left empty')
  t.equal(P.emptyNsMask(['network']), 0x40000000)
  t.throws(() => P.emptyNsMask(['network', 'pid']), new UsageError('namespace "pid" is not supported'))
  t.equal(P.parentPathProblem('../parent'), null)
  t.equal(P.parentPathProblem('/abs'), '--parent-path must be relative')
})

t.test('dump: the request runc sends', async (t) => {
  const { req, features } = P.dumpRequest(
    { ...FLAGS, leaveRunning: true, tcpEstablished: true, manageCgroupsMode: 'soft' },
    SPEC,
    DUMP,
  )
  t.equal(features, undefined, 'no feature check for a plain dump')
  t.same(req, {
    type: 1,
    opts: {
      imagesDirFd: 7,
      logLevel: 4,
      logFile: 'dump.log',
      manageCgroups: true,
      manageCgroupsMode: 3,
      notifyScripts: true,
      shellJob: false,
      tcpEstablished: true,
      extUnixSk: false,
      fileLocks: false,
      emptyNs: 0x40000000,
      orphanPtsMaster: true,
      autoDedup: false,
      lazyPages: false,
      configFile: '/etc/criu/runc.conf',
      root: '/b/rootfs',
      pid: 42,
      leaveRunning: true,
      tcpSkipInFlight: false,
      linkRemap: false,
      external: ['net[4026532000]:extRootNetNS'],
      freezeCgroup: '/sys/fs/cgroup/freezer/runt/c',
      extMnt: [
        { key: '/data', val: '/data' },
        { key: '/etc/hosts', val: '/etc/hosts' },
        { key: '/sys/fs/cgroup/memory', val: '/sys/fs/cgroup/memory' },
        { key: '/proc/kcore', val: '/dev/null' },
        ...DEVICES.map((d) => ({ key: d, val: d })),
      ],
    },
  })
})

t.test('dump: work dir, parent image, pre-dump and lazy pages', async (t) => {
  const pre = P.dumpRequest({ ...FLAGS, preDump: true, parentPath: 'p0' }, SPEC, { ...DUMP, workDirFd: 8 })
  t.equal(pre.req.type, 4, 'PRE_DUMP')
  t.equal(pre.req.opts!.workDirFd, 8)
  t.equal(pre.req.opts!.parentImg, 'p0')
  t.equal(pre.req.opts!.trackMem, true)
  t.notOk(pre.req.opts!.extMnt, 'a pre-dump names no mounts')
  t.same(pre.features, { type: 9, features: { memTrack: true } })
  const lazy = P.dumpRequest({ ...FLAGS, lazyPages: true }, SPEC, DUMP)
  t.same(lazy.features, { type: 9, features: { lazyPages: true } })
  t.equal(lazy.req.opts!.lazyPages, true)
})

t.test('the org.criu.config annotation', async (t) => {
  t.equal(P.criuConfigFile({ ...SPEC, annotations: { 'org.criu.config': '/etc/x.conf' } }), '/etc/x.conf')
  t.equal(P.criuConfigFile({ ...SPEC, annotations: { 'org.criu.config': '' } }), undefined, 'empty: no file')
  t.notOk('configFile' in P.dumpRequest(FLAGS, { ...SPEC, annotations: { 'org.criu.config': '' } }, DUMP).req.opts!)
})

t.test('a cgroup namespace: the v1 cgroup binds are not external', async (t) => {
  const spec = { ...SPEC, linux: { ...SPEC.linux, namespaces: [...SPEC.linux!.namespaces!, { type: 'cgroup' }] } } as Spec
  const keys = P.dumpRequest(FLAGS, spec, DUMP).req.opts!.extMnt!.map((m) => m.key)
  t.notOk(keys.includes('/sys/fs/cgroup/memory'))
})

t.test('restore: the request, namespace files in order, pipes inherited', async (t) => {
  const { req, nsFiles } = P.restoreRequest({ ...FLAGS, lsmProfile: 'apparmor:x' }, SPEC, {
    bundle: '/b',
    imagesDirFd: 7,
    workDirFd: 9,
    root: '/run/runt/c/criu-root',
    descriptors: ['/dev/null', 'pipe:[77]', 'pipe:[78]'],
    cgroupBinds: [{ destination: '/sys/fs/cgroup/memory', source: '/sys/fs/cgroup/memory/runt/c' }],
    firstExtraFd: 4,
  })
  t.same(nsFiles, ['/run/netns/n1'])
  t.same(req, {
    type: 2,
    opts: {
      imagesDirFd: 7,
      logLevel: 4,
      logFile: 'restore.log',
      manageCgroups: true,
      manageCgroupsMode: 6,
      notifyScripts: true,
      shellJob: false,
      tcpEstablished: false,
      extUnixSk: false,
      fileLocks: false,
      emptyNs: 0x40000000,
      orphanPtsMaster: true,
      autoDedup: false,
      lazyPages: false,
      workDirFd: 9,
      configFile: '/etc/criu/runc.conf',
      evasiveDevices: true,
      rstSibling: true,
      root: '/run/runt/c/criu-root',
      lsmProfile: 'apparmor:x',
      joinNs: [{ ns: 'uts', nsFile: '/proc/9/ns/uts' }],
      extMnt: [
        { key: '/data', val: '/b/vol' },
        { key: '/etc/hosts', val: '/srv/hosts' },
        { key: '/sys/fs/cgroup/memory', val: '/sys/fs/cgroup/memory/runt/c' },
        { key: '/dev/null', val: '/dev/null' },
        ...DEVICES.map((d) => ({ key: d, val: d })),
      ],
      inheritFd: [
        { key: 'extRootNetNS', fd: 4 },
        { key: 'pipe:[77]', fd: 1 },
        { key: 'pipe:[78]', fd: 2 },
      ],
    },
  })
})

t.test('restore: a cgroup namespace by path is refused, as runc', async (t) => {
  const spec = { ...SPEC, linux: { namespaces: [{ type: 'cgroup', path: '/proc/1/ns/cgroup' }] } } as Spec
  const facts = { bundle: '/b', imagesDirFd: 3, root: '/r', descriptors: [], cgroupBinds: [], firstExtraFd: 4 }
  t.throws(() => P.restoreRequest(FLAGS, spec, facts), { message: 'Do not know how to handle namespace cgroup' })
})

t.test('cgroupBindMounts: one per v1 hierarchy, the container cgroup as the source', async (t) => {
  const mi = (mountPoint: string, fsType: string) => ({ mountPoint, fsType }) as MountInfo
  const info = [mi('/', 'ext4'), mi('/sys/fs/cgroup/memory', 'cgroup'), mi('/sys/fs/cgroup/cpu,cpuacct', 'cgroup')]
  t.same(P.cgroupBindMounts(SPEC, info, { memory: '/sys/fs/cgroup/memory/runt/c' }), [
    { destination: '/sys/fs/cgroup/memory', source: '/sys/fs/cgroup/memory/runt/c' },
    { destination: '/sys/fs/cgroup/cpu,cpuacct', source: '/sys/fs/cgroup/cpu,cpuacct' },
  ])
  t.same(P.cgroupBindMounts(SPEC, [mi('/sys/fs/cgroup', 'cgroup2')], {}), [], 'v2: none')
})

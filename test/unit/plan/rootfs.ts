import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as C from '../../../src/sys/constants.js'
import { defaultSpec } from '../../../src/spec/defaults.js'
import { parseMountOptions } from '../../../src/plan/mount-options.js'
import {
  DEFAULT_DEVICES,
  DEV_SYMLINKS,
  cleanDestination,
  deviceModeBits,
  makedev,
  planRootfs,
  type DevicePlan,
  type HostFacts,
  type MountPlan,
  type RootfsInput,
} from '../../../src/plan/rootfs.js'
import { specError } from '../../fixtures/thrown.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const fixture = (name: string): RootfsInput =>
  JSON.parse(fs.readFileSync(path.resolve(here, '../../../spec-fixtures/valid', name), 'utf8')) as RootfsInput

const HOST: HostFacts = { bundle: '/run/b', userns: false }
const plan = (spec: RootfsInput, host: Partial<HostFacts> = {}, noPivot = false) =>
  planRootfs(spec, { ...HOST, ...host }, { noPivot })

/** A mount plan as expected: options re-parsed from the literal list, so flags are checked apart. */
function mount(
  field: string,
  destination: string,
  type: string,
  source: string,
  options: string[] | undefined,
  kind: MountPlan['kind'],
  flags: number,
  data = '',
  remountFlags = 0,
): MountPlan {
  return { field, destination, source, type, kind, options: parseMountOptions(options), flags, data, remountFlags }
}

const defaultDevices: DevicePlan[] = [
  { field: 'default device /dev/null', path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { field: 'default device /dev/zero', path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { field: 'default device /dev/full', path: '/dev/full', type: 'c', major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { field: 'default device /dev/random', path: '/dev/random', type: 'c', major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { field: 'default device /dev/urandom', path: '/dev/urandom', type: 'c', major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
  { field: 'default device /dev/tty', path: '/dev/tty', type: 'c', major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
]

const base = (extra: Partial<RootfsInput> = {}): RootfsInput => ({ root: { path: 'rootfs' }, ...extra })

t.test("DEFAULT_DEVICES and DEV_SYMLINKS are runc's", async (t) => {
  t.same(
    DEFAULT_DEVICES,
    defaultDevices.map(({ field: _f, ...d }) => d),
  )
  t.same(DEV_SYMLINKS, [
    ['/dev/fd', '/proc/self/fd'],
    ['/dev/stdin', '/proc/self/fd/0'],
    ['/dev/stdout', '/proc/self/fd/1'],
    ['/dev/stderr', '/proc/self/fd/2'],
  ])
})

t.test("runc's default spec", async (t) => {
  const p = plan(defaultSpec() as RootfsInput)
  t.same(p, {
    rootfs: '/run/b/rootfs',
    rootPropagation: C.MS_SLAVE | C.MS_REC,
    mounts: [
      mount('mounts[0]', '/proc', 'proc', 'proc', undefined, 'proc', 0),
      mount(
        'mounts[1]',
        '/dev',
        'tmpfs',
        'tmpfs',
        ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
        'tmpfs',
        0x1000002,
        'mode=755,size=65536k',
      ),
      mount(
        'mounts[2]',
        '/dev/pts',
        'devpts',
        'devpts',
        ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
        'devpts',
        0xa,
        'newinstance,ptmxmode=0666,mode=0620,gid=5',
      ),
      mount(
        'mounts[3]',
        '/dev/shm',
        'tmpfs',
        'shm',
        ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
        'tmpfs',
        0xe,
        'mode=1777,size=65536k',
      ),
      mount('mounts[4]', '/dev/mqueue', 'mqueue', 'mqueue', ['nosuid', 'noexec', 'nodev'], 'mqueue', 0xe),
      mount('mounts[5]', '/sys', 'sysfs', 'sysfs', ['nosuid', 'noexec', 'nodev', 'ro'], 'sysfs', 0xf),
      mount(
        'mounts[6]',
        '/sys/fs/cgroup',
        'cgroup',
        'cgroup',
        ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
        'cgroup',
        0x20000f,
      ),
    ],
    setupDev: true,
    devices: defaultDevices,
    bindDevices: false,
    devReadonly: false,
    maskedPaths: [
      '/proc/acpi',
      '/proc/asound',
      '/proc/kcore',
      '/proc/keys',
      '/proc/latency_stats',
      '/proc/timer_list',
      '/proc/timer_stats',
      '/proc/sched_debug',
      '/sys/firmware',
      '/proc/scsi',
      '/sys/devices/virtual/tpm',
    ],
    readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    readonlyRoot: true,
    noPivot: false,
    hostname: 'runt',
  })
  t.equal(plan(defaultSpec() as RootfsInput, {}, true).noPivot, true)
})

t.test('runc spec --rootless: /sys is an rbind with a read-only remount; devices are bound', async (t) => {
  const spec = defaultSpec({ rootless: true, euid: 1000, egid: 1000 }) as RootfsInput
  const p = plan(spec, { userns: true })
  t.same(
    p.mounts[5],
    mount(
      'mounts[5]',
      '/sys',
      'none',
      '/sys',
      ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
      'bind',
      C.MS_BIND | C.MS_REC,
      '',
      C.MS_NOSUID | C.MS_NOEXEC | C.MS_NODEV | C.MS_RDONLY | C.MS_BIND | C.MS_REMOUNT,
    ),
  )
  t.equal(p.mounts[2]!.data, 'newinstance,ptmxmode=0666,mode=0620', 'gid=5 went with ToRootless')
  t.equal(p.bindDevices, true)
  t.equal(p.setupDev, true)
})

t.test('the runc-spec fixtures plan like defaultSpec', async (t) => {
  const p = plan(fixture('runc-spec.json'))
  t.equal(p.mounts.length, 7)
  t.same(
    p.mounts.map((m) => [m.destination, m.kind, m.flags, m.data]),
    [
      ['/proc', 'proc', 0, ''],
      ['/dev', 'tmpfs', 0x1000002, 'mode=755,size=65536k'],
      ['/dev/pts', 'devpts', 0xa, 'newinstance,ptmxmode=0666,mode=0620,gid=5'],
      ['/dev/shm', 'tmpfs', 0xe, 'mode=1777,size=65536k'],
      ['/dev/mqueue', 'mqueue', 0xe, ''],
      ['/sys', 'sysfs', 0xf, ''],
      ['/sys/fs/cgroup', 'cgroup', 0x20000f, ''],
    ],
  )
  t.equal(p.hostname, 'runc')
  const r = plan(fixture('runc-spec-rootless.json'), { userns: true })
  t.same(
    r.mounts.map((m) => [m.destination, m.kind, m.flags, m.remountFlags]),
    [
      ['/proc', 'proc', 0, 0],
      ['/dev', 'tmpfs', 0x1000002, 0],
      ['/dev/pts', 'devpts', 0xa, 0],
      ['/dev/shm', 'tmpfs', 0xe, 0],
      ['/dev/mqueue', 'mqueue', 0xe, 0],
      ['/sys', 'bind', 0x5000, 0x102f],
      ['/sys/fs/cgroup', 'cgroup', 0x20000f, 0],
    ],
  )
})

t.test("containerd's CRI spec: binds with rprivate and rw", async (t) => {
  const p = plan(fixture('containerd.json'), { bundle: '/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc' })
  t.equal(p.rootfs, '/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc/rootfs')
  t.equal(p.readonlyRoot, false)
  t.notOk('hostname' in p)
  const hosts = p.mounts[6]!
  t.same(hosts, {
    field: 'mounts[6]',
    destination: '/etc/hosts',
    source: '/var/lib/kubelet/pods/6f1d2c3b-4a5e-4f60-8172-93a4b5c6d7e8/etc-hosts',
    type: 'bind',
    kind: 'bind',
    options: {
      flags: C.MS_BIND | C.MS_REC,
      cleared: C.MS_RDONLY,
      propagation: [C.MS_PRIVATE | C.MS_REC],
      attrSet: 0,
      attrClr: 0,
      extensions: [],
      data: [],
    },
    flags: C.MS_BIND | C.MS_REC,
    data: '',
    remountFlags: 0,
  })
  const sa = p.mounts[11]!
  t.equal(sa.destination, '/var/run/secrets/kubernetes.io/serviceaccount')
  t.equal(sa.flags, C.MS_BIND | C.MS_REC)
  t.equal(sa.remountFlags, C.MS_RDONLY | C.MS_BIND | C.MS_REMOUNT)
  t.equal(p.mounts[0]!.flags, 0xe, 'proc nosuid,noexec,nodev')
  t.equal(p.setupDev, true, '/dev/shm bound, /dev itself a tmpfs')
})

t.test("podman's spec: absolute root.path, hostname, bind with extra flags", async (t) => {
  const p = plan(fixture('podman.json'))
  t.equal(p.rootfs, '/var/lib/containers/storage/overlay/8d1c0b2e6f3a4d5c9b7e0a1f2d3c4b5a6e7f8091a2b3c4d5e6f708192a3b4c5d/merged')
  t.equal(p.hostname, '3f2a9c1b7d4e')
  const shm = p.mounts[7]!
  t.equal(shm.destination, '/dev/shm')
  t.equal(shm.flags, C.MS_BIND)
  t.equal(shm.remountFlags, C.MS_NOSUID | C.MS_NOEXEC | C.MS_NODEV | C.MS_BIND | C.MS_REMOUNT)
  t.same(shm.options.propagation, [C.MS_PRIVATE | C.MS_REC])
  const cg = p.mounts[10]!
  t.equal(cg.flags, C.MS_NOSUID | C.MS_NOEXEC | C.MS_NODEV | C.MS_RELATIME | C.MS_RDONLY, 'propagation is not a mount flag')
})

t.test('full.json: a FIFO outside /dev is refused', async (t) => {
  const e = specError(t, () => plan(fixture('full.json')))
  t.same(e.issues, [{ path: 'linux.devices[3].path', message: 'device path /run/fifo is not under /dev' }])
  t.equal(e.message, 'invalid config.json: linux.devices[3].path: device path /run/fifo is not under /dev')
})

t.test('full.json without the FIFO', async (t) => {
  const spec = fixture('full.json')
  spec.linux!.devices!.pop()
  const p = plan(spec, { bundle: '/b' })
  t.equal(p.rootfs, '/var/lib/runt/bundles/full/rootfs')
  t.equal(p.rootPropagation, C.MS_SLAVE)
  t.equal(p.hostname, 'full')
  t.equal(p.domainname, 'example.org')
  t.equal(p.readonlyRoot, true)
  const data = p.mounts[1]!
  t.same(data.options.extensions, ['idmap'])
  t.equal(data.options.attrSet, C.MOUNT_ATTR_RDONLY)
  t.equal(data.flags, C.MS_BIND | C.MS_REC)
  t.equal(data.remountFlags, C.MS_NOSUID | C.MS_BIND | C.MS_REMOUNT)
  t.same(data.uidMappings, [{ containerID: 0, hostID: 100000, size: 65536 }])
  t.same(data.gidMappings, [{ containerID: 0, hostID: 100000, size: 65536 }])
  t.notOk('uidMappings' in p.mounts[0]!)
  const tmp = p.mounts[2]!
  t.same(tmp.options.extensions, ['tmpcopyup'])
  t.equal(tmp.data, 'size=64m', 'tmpcopyup is not filesystem data')
  t.same(p.devices.slice(6), [
    { field: 'linux.devices[0]', path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 },
    { field: 'linux.devices[1]', path: '/dev/sda', type: 'b', major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 0 },
    { field: 'linux.devices[2]', path: '/dev/ttyX', type: 'u', major: 4, minor: 64, fileMode: 0o666, uid: 0, gid: 0 },
  ])
})

t.test('bind mounts: the first mount takes only MS_BIND|MS_REC, the rest goes to a remount', async (t) => {
  const p = plan(
    base({
      mounts: [
        { destination: '/a', type: 'bind', source: '/x', options: ['bind'] },
        { destination: '/b', type: 'bind', source: '/x', options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec', 'rshared'] },
        { destination: '/c', source: '/x', options: ['bind', 'remount', 'ro'] },
        { destination: '/d', type: 'none', source: '/x', options: ['rbind', 'ro', 'rw'] },
        { destination: '/e', type: 'bind', source: '/x', options: ['size=1m'] },
      ],
    }),
  )
  t.same(
    p.mounts.map((m) => [m.kind, m.type, m.flags, m.remountFlags, m.data]),
    [
      ['bind', 'bind', C.MS_BIND, 0, ''],
      ['bind', 'bind', C.MS_BIND | C.MS_REC, C.MS_RDONLY | C.MS_NOSUID | C.MS_NODEV | C.MS_NOEXEC | C.MS_BIND | C.MS_REMOUNT, ''],
      ['bind', 'bind', C.MS_BIND, C.MS_RDONLY | C.MS_BIND | C.MS_REMOUNT, ''],
      ['bind', 'none', C.MS_BIND | C.MS_REC, 0, ''],
      ['bind', 'bind', 0, 0, 'size=1m'],
    ],
  )
  t.same(p.mounts[1]!.options.propagation, [C.MS_SHARED | C.MS_REC])
})

t.test('other mounts keep their flags, and a remount option stays in them', async (t) => {
  const p = plan(
    base({
      mounts: [
        { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['remount', 'ro', 'rprivate'] },
        { destination: '/mnt', type: 'overlay', source: 'overlay', options: ['lowerdir=/l', 'upperdir=/u', 'workdir=/w', 'ro'] },
        { destination: '/x', source: 'thing' },
      ],
    }),
  )
  t.same(
    p.mounts.map((m) => [m.kind, m.type, m.source, m.flags, m.remountFlags, m.data]),
    [
      ['tmpfs', 'tmpfs', 'tmpfs', C.MS_REMOUNT | C.MS_RDONLY, 0, ''],
      ['other', 'overlay', 'overlay', C.MS_RDONLY, 0, 'lowerdir=/l,upperdir=/u,workdir=/w'],
      ['other', '', 'thing', 0, 0, ''],
    ],
  )
})

t.test('mount kinds', async (t) => {
  const types = ['proc', 'sysfs', 'tmpfs', 'mqueue', 'cgroup', 'cgroup2', 'devpts', 'bind', 'overlay', 'none']
  const p = plan(
    base({ mounts: types.map((type, i) => ({ destination: `/m${i}`, type, source: type === 'proc' ? 'proc' : '/s' })) }),
  )
  t.same(
    p.mounts.map((m) => m.kind),
    ['proc', 'sysfs', 'tmpfs', 'mqueue', 'cgroup', 'cgroup2', 'devpts', 'bind', 'other', 'other'],
  )
})

t.test('a bind source is relative to the bundle; other sources are left alone', async (t) => {
  const p = plan(
    base({
      mounts: [
        { destination: '/a', type: 'bind', source: 'data/a' },
        { destination: '/b', type: 'bind', source: './../shared//b/' },
        { destination: '/c', type: 'bind', source: '/abs/c' },
        { destination: '/d', type: 'tmpfs', source: 'relative-tmpfs' },
      ],
    }),
    { bundle: '/srv/bundle' },
  )
  t.same(
    p.mounts.map((m) => m.source),
    ['/srv/bundle/data/a', '/srv/shared/b', '/abs/c', 'relative-tmpfs'],
  )
})

t.test('root.path relative to the bundle, or absolute', async (t) => {
  t.equal(plan(base(), { bundle: '/srv/bundle' }).rootfs, '/srv/bundle/rootfs')
  t.equal(plan({ root: { path: '../other/rootfs/' } }, { bundle: '/srv/bundle' }).rootfs, '/srv/other/rootfs')
  t.equal(plan({ root: { path: '/abs/rootfs' } }, { bundle: '/srv/bundle' }).rootfs, '/abs/rootfs')
  t.equal(plan({ root: { path: 'r', readonly: false } }).readonlyRoot, false)
  t.equal(plan({ root: { path: 'r' } }).readonlyRoot, false)
})

t.test('destinations are cleaned lexically; relative ones are taken from /', async (t) => {
  const p = plan(
    base({
      mounts: [
        { destination: 'data', type: 'tmpfs', source: 'tmpfs' },
        { destination: '/a//b/./c/', type: 'tmpfs', source: 'tmpfs' },
        { destination: '../../../etc/x', type: 'tmpfs', source: 'tmpfs' },
        { destination: '/a/b/../../c', type: 'tmpfs', source: 'tmpfs' },
      ],
      linux: { maskedPaths: ['proc/kcore', '/sys/firmware/'], readonlyPaths: ['//proc/sys/../bus'] },
    }),
  )
  t.same(
    p.mounts.map((m) => m.destination),
    ['/data', '/a/b/c', '/etc/x', '/c'],
  )
  t.same(p.maskedPaths, ['/proc/kcore', '/sys/firmware'])
  t.same(p.readonlyPaths, ['/proc/bus'])
})

t.test('cleanDestination', async (t) => {
  const cases: [string, string][] = [
    ['/', '/'],
    ['', '/'],
    ['.', '/'],
    ['..', '/'],
    ['/..', '/'],
    ['dev', '/dev'],
    ['/dev/', '/dev'],
    ['//dev//pts//', '/dev/pts'],
    ['///x', '/x'],
    ['/a/./b/../c', '/a/c'],
    ['a/../../b', '/b'],
    ['/proc/../sys', '/sys'],
  ]
  for (const [i, o] of cases) t.equal(cleanDestination(i), o, JSON.stringify(i))
})

t.test('/dev bind-mounted from the host: no device setup', async (t) => {
  for (const dest of ['/dev', '/dev/', 'dev', '/dev/../dev']) {
    const p = plan(base({ mounts: [{ destination: dest, type: 'bind', source: '/dev', options: ['rbind', 'ro'] }] }))
    t.equal(p.setupDev, false, dest)
    t.equal(p.devReadonly, false, dest)
    t.equal(p.mounts[0]!.remountFlags, C.MS_RDONLY | C.MS_BIND | C.MS_REMOUNT, 'a read-only bind is remounted as usual')
  }
  t.equal(plan(base({ mounts: [{ destination: '/dev/shm', type: 'bind', source: '/dev/shm' }] })).setupDev, true)
  t.equal(plan(base({ mounts: [{ destination: '/dev', source: '/dev', options: ['bind'] }] })).setupDev, false, 'bind by option')
})

t.test('/dev ro: mounted rw, filled, remounted ro later', async (t) => {
  const p = plan(
    base({ mounts: [{ destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'ro', 'mode=755'] }] }),
  )
  t.equal(p.devReadonly, true)
  t.equal(p.setupDev, true)
  t.equal(p.mounts[0]!.flags, C.MS_NOSUID)
  t.equal(p.mounts[0]!.options.flags, C.MS_NOSUID | C.MS_RDONLY, 'the parsed options still say ro')
  const rw = plan(base({ mounts: [{ destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'rw'] }] }))
  t.equal(rw.devReadonly, false)
  const sub = plan(base({ mounts: [{ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['ro'] }] }))
  t.equal(sub.devReadonly, false)
  t.equal(sub.mounts[0]!.flags, C.MS_RDONLY)
})

t.test('default devices are overridden by linux.devices with the same (clean) path', async (t) => {
  const p = plan(
    base({
      linux: {
        devices: [
          { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o600, uid: 1000, gid: 1001 },
          { path: 'dev/tty/', type: 'c', major: 5, minor: 0 },
          { path: '/dev/fuse', type: 'c', major: 10, minor: 229 },
          { path: '/dev/xpipe', type: 'p' },
          { path: '/dev/fuse', type: 'c', major: 10, minor: 230, fileMode: 0o644 },
        ],
      },
    }),
  )
  t.same(p.devices, [
    { field: 'linux.devices[0]', path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o600, uid: 1000, gid: 1001 },
    defaultDevices[1],
    defaultDevices[2],
    defaultDevices[3],
    defaultDevices[4],
    { field: 'linux.devices[1]', path: '/dev/tty', type: 'c', major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
    { field: 'linux.devices[4]', path: '/dev/fuse', type: 'c', major: 10, minor: 230, fileMode: 0o644, uid: 0, gid: 0 },
    { field: 'linux.devices[3]', path: '/dev/xpipe', type: 'p', major: 0, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
  ])
})

t.test('device errors', async (t) => {
  const e = specError(t, () =>
    plan(
      base({
        linux: {
          devices: [
            { path: '/etc/null', type: 'c', major: 1, minor: 3 },
            { path: '/dev/../etc/x', type: 'c', major: 1, minor: 3 },
            { path: '/dev', type: 'c', major: 1, minor: 3 },
            { path: '/dev/nomajor', type: 'c', minor: 3 },
            { path: '/dev/nominor', type: 'b', major: 8 },
            { path: 'null', type: 'p' },
          ],
        },
      }),
    ),
  )
  t.same(e.issues, [
    { path: 'linux.devices[0].path', message: 'device path /etc/null is not under /dev' },
    { path: 'linux.devices[1].path', message: 'device path /dev/../etc/x is not under /dev' },
    { path: 'linux.devices[2].path', message: 'device path /dev is not under /dev' },
    { path: 'linux.devices[3]', message: 'device /dev/nomajor of type c needs major and minor' },
    { path: 'linux.devices[4]', message: 'device /dev/nominor of type b needs major and minor' },
    { path: 'linux.devices[5].path', message: 'device path null is not under /dev' },
  ])
  t.equal(e.code, 'ESPEC')
})

t.test('rootfsPropagation', async (t) => {
  const cases: [string, number][] = [
    ['private', C.MS_PRIVATE],
    ['rprivate', C.MS_PRIVATE | C.MS_REC],
    ['shared', C.MS_SHARED],
    ['rshared', C.MS_SHARED | C.MS_REC],
    ['slave', C.MS_SLAVE],
    ['rslave', C.MS_SLAVE | C.MS_REC],
    ['unbindable', C.MS_UNBINDABLE],
    ['runbindable', C.MS_UNBINDABLE | C.MS_REC],
  ]
  for (const [name, flags] of cases) t.equal(plan(base({ linux: { rootfsPropagation: name } })).rootPropagation, flags, name)
  t.equal(plan(base({ linux: { rootfsPropagation: '' } })).rootPropagation, C.MS_SLAVE | C.MS_REC, 'empty: the default')
  const e = specError(t, () => plan(base({ linux: { rootfsPropagation: 'bogus' } })))
  t.same(e.issues, [{ path: 'linux.rootfsPropagation', message: 'unknown propagation "bogus"' }])
  const proto = specError(t, () => plan(base({ linux: { rootfsPropagation: 'toString' } })))
  t.same(proto.issues, [{ path: 'linux.rootfsPropagation', message: 'unknown propagation "toString"' }])
})

t.test('/proc: only procfs on /proc itself; below it, lxcfs files or procfs', async (t) => {
  const ok = plan(
    base({
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/proc/cpuinfo', type: 'bind', source: '/var/lib/lxcfs/proc/cpuinfo' },
        { destination: '/proc/meminfo', type: 'bind', source: '/var/lib/lxcfs/proc/meminfo' },
        { destination: '/proc/diskstats', type: 'bind', source: '/x' },
        { destination: '/proc/stat', type: 'bind', source: '/x' },
        { destination: '/proc/swaps', type: 'bind', source: '/x' },
        { destination: '/proc/uptime', type: 'bind', source: '/x' },
        { destination: '/proc/loadavg', type: 'bind', source: '/x' },
        { destination: '/proc/slabinfo', type: 'bind', source: '/x' },
        { destination: '/proc/pressure/cpu', type: 'bind', source: '/x' },
        { destination: '/proc/pressure/io', type: 'bind', source: '/x' },
        { destination: '/proc/pressure/memory', type: 'bind', source: '/x' },
        { destination: '/proc/net/dev', type: 'bind', source: '/x' },
        { destination: '/proc/sys/kernel/ns_last_pid', type: 'bind', source: '/x' },
        { destination: '/proc/./uptime/', type: 'tmpfs', source: 'tmpfs' },
        { destination: '/proc/nested', type: 'proc', source: 'proc' },
        { destination: '/procfoo', type: 'tmpfs', source: 'tmpfs' },
      ],
    }),
  )
  t.equal(ok.mounts.length, 17)

  const e = specError(t, () =>
    plan(
      base({
        mounts: [
          { destination: '/proc', type: 'tmpfs', source: 'tmpfs' },
          { destination: '/proc', type: 'bind', source: '/proc' },
          { destination: '/proc', source: '/x', options: ['rbind'] },
          { destination: 'proc/', source: 'x' },
          { destination: '/proc/sys', type: 'bind', source: '/proc/sys' },
          { destination: '/proc/self/../kcore', type: 'tmpfs', source: 'tmpfs' },
          { destination: '/proc/cpuinfo/x', type: 'bind', source: '/x' },
          { destination: '/sys/../proc/sysrq-trigger', type: 'bind', source: '/dev/null' },
        ],
      }),
    ),
  )
  t.same(e.issues, [
    { path: 'mounts[0]', message: '/proc cannot be mounted from a tmpfs mount' },
    { path: 'mounts[3]', message: '/proc cannot be mounted from a other mount' },
    { path: 'mounts[4].destination', message: '/proc/sys cannot be mounted because it is inside /proc' },
    { path: 'mounts[5].destination', message: '/proc/kcore cannot be mounted because it is inside /proc' },
    { path: 'mounts[6].destination', message: '/proc/cpuinfo/x cannot be mounted because it is inside /proc' },
    { path: 'mounts[7].destination', message: '/proc/sysrq-trigger cannot be mounted because it is inside /proc' },
  ])
})

t.test('bind mount errors and idmap on a non-bind mount', async (t) => {
  const e = specError(t, () =>
    plan(
      base({
        mounts: [
          { destination: '/a', type: 'bind' },
          { destination: '/b', type: 'bind', source: '' },
          { destination: '/c', type: 'tmpfs', source: 'tmpfs', options: ['idmap'] },
          { destination: '/d', type: 'tmpfs', source: 'tmpfs', options: ['ridmap'] },
          { destination: '/e', type: 'bind', source: '/e', options: ['ridmap'] },
        ],
      }),
    ),
  )
  t.same(e.issues, [
    { path: 'mounts[0].source', message: 'bind mount needs a source' },
    { path: 'mounts[1].source', message: 'bind mount needs a source' },
    { path: 'mounts[2].options', message: 'idmap is only supported on bind mounts' },
    { path: 'mounts[3].options', message: 'idmap is only supported on bind mounts' },
  ])
  t.equal(
    e.message,
    'invalid config.json: mounts[0].source: bind mount needs a source; mounts[1].source: bind mount needs a source; ' +
      'mounts[2].options: idmap is only supported on bind mounts; mounts[3].options: idmap is only supported on bind mounts',
  )
})

t.test('mappings of its own make a bind mount idmapped, as runc does; other mounts refuse them', async (t) => {
  const maps = [{ containerID: 0, hostID: 100000, size: 65536 }]
  const p = plan(
    base({
      mounts: [
        { destination: '/a', type: 'bind', source: '/a', uidMappings: maps, gidMappings: maps },
        { destination: '/b', type: 'bind', source: '/b', options: ['rbind', 'ridmap'], gidMappings: maps },
        { destination: '/c', type: 'bind', source: '/c' },
        { destination: '/d', type: 'bind', source: '/d', uidMappings: [], gidMappings: [] },
      ],
    }),
  )
  t.same(
    p.mounts.map((m) => m.options.extensions),
    [['idmap'], ['ridmap'], [], []],
  )
  const e = specError(t, () =>
    plan(
      base({
        mounts: [
          { destination: '/t', type: 'tmpfs', source: 'tmpfs', uidMappings: maps },
          { destination: '/u', type: 'tmpfs', source: 'tmpfs', gidMappings: maps },
        ],
      }),
    ),
  )
  t.same(e.issues, [
    { path: 'mounts[0].uidMappings', message: 'idmapped mounts are only supported on bind mounts' },
    { path: 'mounts[1].gidMappings', message: 'idmapped mounts are only supported on bind mounts' },
  ])
})

t.test('issues from several fields are reported together', async (t) => {
  const e = specError(t, () =>
    plan(
      base({
        mounts: [{ destination: '/proc/sys', type: 'bind', source: '/x' }],
        linux: { rootfsPropagation: 'nope', devices: [{ path: '/tmp/x', type: 'c', major: 1, minor: 1 }] },
      }),
    ),
  )
  t.same(
    e.issues.map((i) => i.path),
    ['linux.rootfsPropagation', 'mounts[0].destination', 'linux.devices[0].path'],
  )
})

t.test('hostname and domainname are copied when given', async (t) => {
  const p = plan(base({ hostname: '', domainname: 'd' }))
  t.equal(p.hostname, '')
  t.equal(p.domainname, 'd')
  const q = plan(base())
  t.notOk('hostname' in q)
  t.notOk('domainname' in q)
  t.same(q.mounts, [])
  t.same(q.maskedPaths, [])
  t.same(q.readonlyPaths, [])
})

t.test('mountLabel: only with SELinux, as context= on tmpfs, devpts and other filesystems', async (t) => {
  const label = 'system_u:object_r:container_file_t:s0:c1,c2'
  const spec = base({
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['mode=755'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts' },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue' },
      { destination: '/sys', type: 'sysfs', source: 'sysfs' },
      { destination: '/sys/fs/cgroup', type: 'cgroup2', source: 'cgroup' },
      { destination: '/mnt', type: 'overlay', source: 'overlay', options: ['lowerdir=/l'] },
      { destination: '/b', type: 'bind', source: '/b' },
    ],
    linux: { mountLabel: label },
  })
  const on = plan(spec, { selinux: true })
  t.equal(on.mountLabel, label)
  t.same(
    on.mounts.map((m) => m.data),
    ['', `mode=755,context="${label}"`, `context="${label}"`, '', '', '', `lowerdir=/l,context="${label}"`, ''],
  )
  const off = plan(spec)
  t.notOk('mountLabel' in off, 'runc ignores the label without SELinux')
  t.same(
    off.mounts.map((m) => m.data),
    ['', 'mode=755', '', '', '', '', 'lowerdir=/l', ''],
  )
  t.notOk('mountLabel' in plan(base({ linux: { mountLabel: '' } }), { selinux: true }), 'an empty label is none')
})

t.test('makedev: the glibc encoding', async (t) => {
  t.equal(makedev(0, 0), 0n)
  t.equal(makedev(1, 3), 0x103n)
  t.equal(makedev(5, 0), 0x500n)
  t.equal(makedev(136, 2), 0x8802n)
  t.equal(makedev(10, 229), 0xae5n)
  t.equal(makedev(259, 65536), 0x10010300n, 'minor above 255: bits 20 and up')
  t.equal(makedev(0x1000, 0), 0x100000000000n, 'major above 4095: bits 44 and up')
  t.equal(makedev(0xfffff, 0xfffff), 0xff000ffffffffn, 'the kernel maxima')
  t.equal(makedev(0xffffffff, 0xffffffff), 0xffffffffffffffffn, '32-bit values fill all 64 bits')
  t.equal(BigInt(fs.statSync('/dev/null').rdev), makedev(1, 3), 'as the kernel reports /dev/null')
})

t.test('deviceModeBits', async (t) => {
  t.equal(deviceModeBits('c'), 0o020000)
  t.equal(deviceModeBits('u'), 0o020000)
  t.equal(deviceModeBits('b'), 0o060000)
  t.equal(deviceModeBits('p'), 0o010000)
})

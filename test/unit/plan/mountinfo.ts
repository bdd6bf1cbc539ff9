import t from 'tap'
import * as fs from 'node:fs'
import {
  fullPseudoMounts,
  mountOf,
  parseMountInfo,
  parseProcCgroup,
  topMountAt,
  type MountInfo,
} from '../../../src/plan/mountinfo.js'

// From a systemd host (shared:N / master:N optional fields) and a container, with escapes.
const MOUNTINFO = [
  '22 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw,errors=remount-ro',
  '23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw',
  '24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw',
  '25 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot',
  '26 22 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs udev rw,size=8131160k,nr_inodes=2032790,mode=755',
  '30 22 8:3 /home/me/My\\040Docs /mnt/my\\040docs rw,relatime shared:30 master:1 propagate_from:1 - ext4 /dev/sda3 rw',
  '31 22 0:40 / /mnt/tab\\011and\\012nl\\134bs rw - tmpfs weird\\040src rw',
  '32 22 0:41 / /run/user/1000 rw,nosuid,nodev,relatime - tmpfs tmpfs rw,size=1626232k,mode=700,uid=1000,gid=1000',
  '33 22 0:42 / /proc ro - tmpfs tmpfs ro',
  '',
].join('\n')

const m = (o: Partial<MountInfo> & Pick<MountInfo, 'id' | 'mountPoint'>): MountInfo => ({
  parent: 22,
  major: 0,
  minor: 0,
  root: '/',
  options: 'rw',
  optional: [],
  fsType: 'tmpfs',
  source: 'tmpfs',
  superOptions: 'rw',
  ...o,
})

t.test('parseMountInfo: fields, optional fields, octal escapes', async (t) => {
  const all = parseMountInfo(MOUNTINFO)
  t.equal(all.length, 9)
  t.same(all[0], {
    id: 22,
    parent: 1,
    major: 8,
    minor: 2,
    root: '/',
    mountPoint: '/',
    options: 'rw,relatime',
    optional: ['shared:1'],
    fsType: 'ext4',
    source: '/dev/sda2',
    superOptions: 'rw,errors=remount-ro',
  })
  t.same(all[3], {
    id: 25,
    parent: 24,
    major: 0,
    minor: 26,
    root: '/',
    mountPoint: '/sys/fs/cgroup',
    options: 'rw,nosuid,nodev,noexec,relatime',
    optional: ['shared:9'],
    fsType: 'cgroup2',
    source: 'cgroup2',
    superOptions: 'rw,nsdelegate,memory_recursiveprot',
  })
  t.same(all[5], {
    id: 30,
    parent: 22,
    major: 8,
    minor: 3,
    root: '/home/me/My Docs',
    mountPoint: '/mnt/my docs',
    options: 'rw,relatime',
    optional: ['shared:30', 'master:1', 'propagate_from:1'],
    fsType: 'ext4',
    source: '/dev/sda3',
    superOptions: 'rw',
  })
  t.same(all[6], {
    id: 31,
    parent: 22,
    major: 0,
    minor: 40,
    root: '/',
    mountPoint: '/mnt/tab\tand\nnl\\bs',
    options: 'rw',
    optional: [],
    fsType: 'tmpfs',
    source: 'weird src',
    superOptions: 'rw',
  })
  t.same(all[7]!.optional, [], 'no optional fields')
  t.equal(all[7]!.superOptions, 'rw,size=1626232k,mode=700,uid=1000,gid=1000')
})

t.test('parseMountInfo skips blank and malformed lines', async (t) => {
  t.same(parseMountInfo(''), [])
  t.same(parseMountInfo('\n\n'), [])
  t.same(parseMountInfo('garbage'), [])
  t.same(parseMountInfo('1 2 0:1 / /x rw shared:1 ext4 src rw'), [], 'no separator')
  t.same(parseMountInfo('1 2 0:1 / /x rw - ext4'), [], 'separator but no source')
  t.same(
    parseMountInfo('1 2 0:1 - /x rw - tmpfs src rw').map((e) => e.mountPoint),
    ['/x'],
    'a root named "-" is not the separator',
  )
  t.same(
    parseMountInfo('1 2 0:1 / /x rw - tmpfs src').map((e) => e.superOptions),
    [''],
    'missing super options',
  )
})

t.test("parseMountInfo reads this process's real mountinfo", async (t) => {
  const text = fs.readFileSync('/proc/self/mountinfo', 'utf8')
  const all = parseMountInfo(text)
  t.equal(all.length, text.split('\n').filter(Boolean).length)
  t.ok(all.every((e) => Number.isInteger(e.id) && e.mountPoint.startsWith('/') && e.fsType !== ''))
  t.ok(mountOf(all, '/proc/self'), 'something is mounted over /proc/self')
})

t.test('mountOf: the longest mount-point prefix, the last mounted on ties', async (t) => {
  const all = parseMountInfo(MOUNTINFO)
  const id = (p: string) => mountOf(all, p)?.id
  t.equal(id('/'), 22)
  t.equal(id('/etc/passwd'), 22)
  t.equal(id('/sys'), 24)
  t.equal(id('/sys/fs'), 24)
  t.equal(id('/sys/fs/cgroup'), 25)
  t.equal(id('/sys/fs/cgroup/user.slice/cgroup.procs'), 25)
  t.equal(id('/sys/fs/cgroupx'), 24, 'a prefix must end at a path component')
  t.equal(id('/mnt/my docs/a'), 30)
  t.equal(id('/mnt/my'), 22)
  t.equal(id('/proc/1/status'), 33, 'the later of two mounts on /proc')
  t.equal(id('/procfs'), 22)
  t.equal(mountOf([], '/'), undefined)
  t.equal(mountOf([m({ id: 5, mountPoint: '/a' })], '/b'), undefined, 'no root mount, no match')
  const stack = [m({ id: 1, mountPoint: '/' }), m({ id: 2, mountPoint: '/a/b' }), m({ id: 3, mountPoint: '/a' })]
  t.equal(mountOf(stack, '/a/b/c')?.id, 2, 'longer beats later')
})

t.test('topMountAt: the mount stacked last at exactly that point', async (t) => {
  const r = '/run/c/rootfs'
  t.equal(topMountAt([m({ id: 1, mountPoint: '/' })], r), undefined, 'nothing mounted there')
  t.equal(topMountAt([m({ id: 1, mountPoint: '/' }), m({ id: 7, parent: 1, mountPoint: r })], r)?.id, 7)
  const stack = [
    m({ id: 1, mountPoint: '/' }),
    m({ id: 9, parent: 8, mountPoint: r }),
    m({ id: 8, parent: 1, mountPoint: r }),
    m({ id: 10, parent: 9, mountPoint: r + '/proc' }),
  ]
  t.equal(topMountAt(stack, r)?.id, 9, 'by parentage, not by order in mountinfo')
})

t.test('parseProcCgroup: v1 and v2 lines', async (t) => {
  t.same(
    parseProcCgroup(
      [
        '12:pids:/user.slice/user-1000.slice/session-2.scope',
        '4:cpu,cpuacct:/docker/abc',
        '1:name=systemd:/user.slice',
        '3:net_cls,net_prio:/',
        '0::/user.slice/user-1000.slice/session-2.scope',
        '',
      ].join('\n'),
    ),
    [
      { id: 12, controllers: ['pids'], path: '/user.slice/user-1000.slice/session-2.scope' },
      { id: 4, controllers: ['cpu', 'cpuacct'], path: '/docker/abc' },
      { id: 1, controllers: ['name=systemd'], path: '/user.slice' },
      { id: 3, controllers: ['net_cls', 'net_prio'], path: '/' },
      { id: 0, controllers: [], path: '/user.slice/user-1000.slice/session-2.scope' },
    ],
  )
  t.same(parseProcCgroup('0::/'), [{ id: 0, controllers: [], path: '/' }], 'no trailing newline')
  t.same(parseProcCgroup('0::/a:b/c'), [{ id: 0, controllers: [], path: '/a:b/c' }], 'a colon in the path')
  t.same(parseProcCgroup('0::/x (deleted)'), [{ id: 0, controllers: [], path: '/x (deleted)' }])
  t.same(parseProcCgroup('nonsense\n5:memory\n\n'), [], 'lines without two colons are skipped')
  t.same(parseProcCgroup(''), [])
})

t.test("parseProcCgroup reads this process's real cgroup file", async (t) => {
  const entries = parseProcCgroup(fs.readFileSync('/proc/self/cgroup', 'utf8'))
  t.ok(entries.length >= 1)
  t.ok(entries.every((e) => Number.isInteger(e.id) && e.path.startsWith('/')))
})

t.test('fullPseudoMounts: the host full proc and sysfs mounts outside the rootfs, in order', async (t) => {
  const all = [
    m({ id: 2, mountPoint: '/proc', fsType: 'proc' }),
    m({ id: 3, mountPoint: '/sys', fsType: 'sysfs' }),
    m({ id: 4, mountPoint: '/sys/fs/cgroup', fsType: 'cgroup2' }),
    m({ id: 5, mountPoint: '/var/lib/c1/rootfs/proc', fsType: 'proc' }),
    m({ id: 6, mountPoint: '/var/lib/c1/rootfs', fsType: 'proc' }),
    m({ id: 7, mountPoint: '/var/lib/c1/rootfs2/proc', fsType: 'proc' }),
    m({ id: 8, mountPoint: '/mnt/sys-part', fsType: 'sysfs', root: '/kernel' }),
    m({ id: 9, mountPoint: '/proc/sys/fs/binfmt_misc', fsType: 'binfmt_misc' }),
    m({ id: 10, mountPoint: '/run/p2', fsType: 'proc' }),
  ]
  t.same(fullPseudoMounts(all, '/var/lib/c1/rootfs'), ['/proc', '/sys', '/var/lib/c1/rootfs2/proc', '/run/p2'])
  t.same(fullPseudoMounts(all, '/var/lib/c1/rootfs/'), ['/proc', '/sys', '/var/lib/c1/rootfs2/proc', '/run/p2'])
  t.same(fullPseudoMounts([], '/r'), [])
})

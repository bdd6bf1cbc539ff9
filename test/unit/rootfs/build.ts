// The rootfs executor against FakeSys (test/fixtures/fake-sys.ts): no root, no mounts. Real
// plans (plan/rootfs.ts) are carried out over a fake host; the calls are checked, and an errno
// injected at each important step must come back as a StepError naming the spec field, with
// the syscall and errno text, and with nothing left open or mounted behind it.

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as C from '../../../src/sys/constants.js'
import { linux } from '../../../src/sys/linux.js'
import { RuntimeError, StepError, SysError, fromWire, toWire } from '../../../src/errors.js'
import { defaultSpec } from '../../../src/spec/defaults.js'
import { planRootfs, type RootfsInput } from '../../../src/plan/rootfs.js'
import {
  enterRoot,
  finalizeRoot,
  maskPaths,
  mountAll,
  openDevNull,
  prepareRoot,
  setupDev,
  type RootfsContext,
} from '../../../src/rootfs/build.js'
import { InRoot } from '../../../src/rootfs/in-root.js'
import { consoleTarget, setupConsole, useConsole } from '../../../src/rootfs/console.js'
import { FakeSys, chr, file, fifo, link, type HostMount, type Tree } from '../../fixtures/fake-sys.js'
import { thrown } from '../../fixtures/thrown.js'

const ROOTFS = '/bundle/rootfs'
const R = (p: string) => ROOTFS + p

/** What a new procfs and sysfs hold (enough for runc's masked and read-only paths). */
const PROC: Tree = { acpi: {}, kcore: '', keys: '', cpuinfo: '', sys: {}, fs: {}, 'sysrq-trigger': '' }
const SYSFS: Tree = { firmware: {}, fs: { cgroup: {} } }

const HOST_MOUNTS: HostMount[] = [
  { target: '/', fstype: 'ext4', source: '/dev/vda1', shared: true },
  { target: '/proc', fstype: 'proc', source: 'proc' },
  { target: '/sys/fs/cgroup', fstype: 'cgroup2', source: 'cgroup2' },
]

type Host = { rootfs?: Tree; host?: Tree; mounts?: HostMount[] }

/** A host with a bundle at /bundle, its own /dev/null and /proc, a cgroup v2 hierarchy. */
function fakeHost(o: Host = {}): FakeSys {
  return new FakeSys({
    tree: {
      bundle: { rootfs: o.rootfs ?? { proc: {}, dev: {}, sys: {}, etc: { hosts: '127.0.0.1 localhost\n' }, tmp: {} } },
      dev: {
        null: chr(1, 3),
        zero: chr(1, 5),
        full: chr(1, 7),
        random: chr(1, 8),
        urandom: chr(1, 9),
        tty: chr(5, 0),
        mqueue: {},
      },
      proc: { kcore: '', self: { cgroup: '0::/c1\n' } },
      sys: { fs: { cgroup: { c1: {} } } },
      tmp: {},
      src: { dir: { 'a.txt': 'a' }, 'file.txt': 'f' },
      ...o.host,
    },
    mounts: o.mounts ?? HOST_MOUNTS,
    fill: { proc: PROC, sysfs: SYSFS },
  })
}

const spec = (mounts: RootfsInput['mounts'], linux: RootfsInput['linux'] = {}, root = { path: 'rootfs' }): RootfsInput => ({
  root,
  mounts,
  linux,
})

type Ctx = RootfsContext & { sys: FakeSys; warnings: string[] }

function context(
  sys: FakeSys,
  s: RootfsInput,
  o: { noPivot?: boolean; cgroupns?: boolean; userns?: boolean; sharedMountNs?: boolean } = {},
): Ctx {
  const warnings: string[] = []
  const plan = planRootfs(
    s,
    { bundle: '/bundle', userns: o.userns ?? false },
    { noPivot: o.noPivot ?? false, sharedMountNs: o.sharedMountNs ?? false },
  )
  return { sys, plan, cgroupns: o.cgroupns ?? true, warn: (m) => warnings.push(m), warnings }
}

/** The rootfs opened as init.ts opens it, closed at the end of the test. */
function openRoot(t: Test, c: Ctx): InRoot {
  const root = InRoot.open(c.sys, c.plan.rootfs)
  t.teardown(() => root.close())
  return root
}

/** What init.ts's buildContainer does with the rootfs, without hooks and console. */
function build(c: Ctx): void {
  prepareRoot(c)
  const root = InRoot.open(c.sys, c.plan.rootfs)
  try {
    mountAll(c, root)
    setupDev(c, root)
    const devNull = openDevNull(c.sys)
    try {
      maskPaths(c, root, devNull)
    } finally {
      c.sys.close(devNull)
    }
  } finally {
    root.close()
  }
  enterRoot(c)
  finalizeRoot(c)
}

/** The StepError `fn` throws (a failed assertion otherwise). */
function stepError(t: Test, fn: () => unknown): StepError {
  const e = thrown(fn)
  t.type(e, StepError, 'a StepError')
  return e instanceof StepError ? e : new StepError('none', new Error(String(e)))
}

/** A StepError's field, its whole message, and the SysError under it. */
function checkStep(t: Test, e: StepError, step: string, message: string | RegExp, cause: { syscall: string; errnoName: string }) {
  t.equal(e.step, step, 'names the spec field')
  if (typeof message === 'string') t.equal(e.message, message)
  else t.match(e.message, message)
  t.type(e.cause, SysError)
  t.match(e.cause, cause, 'the syscall and errno')
  t.equal(e.code, cause.errnoName, 'code is the errno name')
}

const pick = (e: unknown) => {
  const s = e as SysError
  return {
    name: s.name,
    message: s.message,
    code: s.code,
    syscall: s.syscall,
    errno: s.errno,
    errnoName: s.errnoName,
    path: s.path,
    path2: s.path2,
    detail: s.detail,
  }
}

// ---- the fake itself ------------------------------------------------------------------------

/** `tree` placed at the absolute host path `at`. */
function treeAt(at: string, tree: Tree): Tree {
  return at
    .split('/')
    .filter(Boolean)
    .reduceRight<Tree>((acc, name) => ({ [name]: acc }), tree)
}

t.test("the fake's errors are the real wrappers' (same class, syscall, errno, path, text)", async (t) => {
  const d = fs.realpathSync(t.testdir({ file: 'x', dir: {}, full: { a: 'a' } }))
  const fake = new FakeSys({ tree: treeAt(d, { file: 'x', dir: {}, full: { a: 'a' } }) })
  const j = (p: string) => path.join(d, p)
  const cases: [string, (s: typeof linux | FakeSys) => unknown][] = [
    ['openat ENOENT', (s) => s.openat(C.AT_FDCWD, j('none'), C.O_PATH, 0, '/none')],
    ['openat EISDIR', (s) => s.openat(C.AT_FDCWD, j('dir'), C.O_WRONLY)],
    ['openat2 ENOTDIR', (s) => s.openat2(C.AT_FDCWD, j('file/x'), C.O_PATH, 0, 0)],
    ['openat2 EEXIST', (s) => s.openat2(C.AT_FDCWD, j('file'), C.O_CREAT | C.O_EXCL | C.O_WRONLY, 0o644, 0, '/file')],
    ['mkdirat EEXIST', (s) => s.mkdirat(C.AT_FDCWD, j('dir'), 0o755, '/dir')],
    ['mkdirat ENOENT', (s) => s.mkdirat(C.AT_FDCWD, j('none/x'), 0o755)],
    ['mknodat EEXIST', (s) => s.mknodat(C.AT_FDCWD, j('file'), C.S_IFIFO | 0o644, 0n, '/file')],
    ['readlinkat EINVAL', (s) => s.readlinkat(C.AT_FDCWD, j('file'), '/file')],
    ['symlinkat EEXIST', (s) => s.symlinkat('x', C.AT_FDCWD, j('file'))],
    ['unlinkat EISDIR', (s) => s.unlinkat(C.AT_FDCWD, j('dir'), 0, '/dir')],
    ['unlinkat ENOTEMPTY', (s) => s.unlinkat(C.AT_FDCWD, j('full'), C.AT_REMOVEDIR)],
    ['unlinkat ENOTDIR', (s) => s.unlinkat(C.AT_FDCWD, j('file'), C.AT_REMOVEDIR)],
    ['fchmodat ENOENT', (s) => s.fchmodat(C.AT_FDCWD, j('none'), 0o644, '/none')],
    ['fchownat ENOENT', (s) => s.fchownat(C.AT_FDCWD, j('none'), 0, 0, C.AT_SYMLINK_NOFOLLOW)],
    ['chdir ENOTDIR', (s) => s.chdir(j('file'))],
    ['statfs ENOENT', (s) => s.statfs(j('none'))],
    ['mount ENOENT', (s) => s.mount(null, j('none'), null, C.MS_REMOUNT | C.MS_BIND | C.MS_RDONLY, null, '/none')],
    ['readFile ENOENT', (s) => s.readFile(j('none'))],
    ['readFile EISDIR', (s) => s.readFile(j('dir'))],
    ['stat ENOENT', (s) => s.stat(j('none'))],
    ['lstat ENOTDIR', (s) => s.lstat(j('file/x'))],
    ['readdir ENOTDIR', (s) => s.readdir(j('file'))],
    ['mkdtemp ENOENT', (s) => s.mkdtemp(j('none/t-'))],
    ['copyFile ENOENT', (s) => s.copyFile(j('none'), j('copy'))],
    ['utimes ENOENT', (s) => s.utimes(j('none'), new Date(0), new Date(0))],
  ]
  for (const [name, call] of cases) {
    const real = thrown(() => call(linux))
    t.type(real, SysError, `${name}: the real call fails`)
    t.same(pick(thrown(() => call(fake))), pick(real), name)
  }
  t.same(fake.openFds(), [], 'no fd left open by failed calls')

  // What succeeds leaves the same thing behind: the type, the mode after the umask.
  const made = new FakeSys({ tree: treeAt(d, {}), umask: process.umask() })
  for (const s of [linux, made]) {
    s.mkdirat(C.AT_FDCWD, j('newdir'), 0o777)
    s.close(s.openat(C.AT_FDCWD, j('newfile'), C.O_CREAT | C.O_EXCL | C.O_WRONLY, 0o666))
    s.mknodat(C.AT_FDCWD, j('newfifo'), C.S_IFIFO | 0o666, 0n)
    s.symlinkat('newfile', C.AT_FDCWD, j('newlink'))
  }
  for (const name of ['newdir', 'newfile', 'newfifo', 'newlink'])
    t.equal(made.peek(j(name))?.mode.toString(8), fs.lstatSync(j(name)).mode.toString(8), `${name}: same mode`)
  t.equal(made.peek(j('newlink'))?.target, fs.readlinkSync(j('newlink')))

  // An injected errno is reported exactly as the real one would be.
  const inj = new FakeSys({ tree: treeAt(d, { file: 'x' }) })
  inj.failOn('openat', { path: j('file') }, 'ENOENT')
  t.same(
    pick(thrown(() => inj.openat(C.AT_FDCWD, j('file'), C.O_PATH, 0, '/none'))),
    pick(thrown(() => linux.openat(C.AT_FDCWD, j('none'), C.O_PATH, 0, '/none'))),
  )
  t.equal(inj.openat(C.AT_FDCWD, j('file'), C.O_PATH), 3, 'only the next matching call fails')
  t.same(inj.pendingFailures(), [])
  t.throws(() => inj.failOn('close', {}, 'EBADF'), /nothing to inject/)
})

t.test('the fake resolves in the root as openat2(RESOLVE_IN_ROOT) does', async (t) => {
  const fake = fakeHost({ rootfs: { etc: link('/etc'), up: link('../../../src'), dangling: link('/nowhere/x'), src: {} } })
  const root = InRoot.open(fake, ROOTFS)
  const where = (fd: number) => {
    try {
      return root.containerPathOf(fd)
    } finally {
      fake.close(fd)
    }
  }
  t.equal(where(root.open('/up')), '/src', '".." stops at the root')
  t.match(
    thrown(() => root.open('/etc/passwd')),
    { syscall: 'openat2', errnoName: 'ELOOP', path: '/etc/passwd' },
  )
  t.equal(where(root.mkdirAll('/dangling/y')), '/nowhere/x/y', 'a dangling link gets its target made inside')
  t.equal(fake.peek('/nowhere'), undefined, 'nothing made on the host')
  root.close()
  t.same(fake.openFds(), [])
})

// ---- prepareRoot ----------------------------------------------------------------------------

t.test('prepareRoot: "/" rslave, a shared parent of the rootfs made private, the rootfs bound on itself', async (t) => {
  const c = context(fakeHost(), spec([]))
  prepareRoot(c)
  t.same(
    c.sys.mountLog(),
    ['none / - MS_REC|MS_SLAVE', '/bundle/rootfs /bundle/rootfs bind MS_BIND|MS_REC'],
    'rslave leaves no shared parent',
  )
  t.equal(c.sys.callsOf('readFile')[0]?.path, '/proc/self/mountinfo')

  const shared = context(
    fakeHost({ mounts: [HOST_MOUNTS[0]!, { target: '/bundle', fstype: 'ext4', source: '/dev/vdb', shared: true }] }),
    spec([], { rootfsPropagation: 'slave' }),
  )
  prepareRoot(shared)
  t.same(
    shared.sys.mountLog(),
    ['none / - MS_SLAVE', 'none /bundle - MS_PRIVATE', '/bundle/rootfs /bundle/rootfs bind MS_BIND|MS_REC'],
    'linux.rootfsPropagation is used; the shared parent is made private for pivot_root',
  )
})

t.test("prepareRoot in the runtime's mount namespace: only the rootfs bind is made and given the propagation", async (t) => {
  const host = () =>
    fakeHost({ mounts: [HOST_MOUNTS[0]!, { target: '/bundle', fstype: 'ext4', source: '/dev/vdb', shared: true }] })
  const c = context(host(), spec([]), { sharedMountNs: true })
  prepareRoot(c)
  t.same(
    c.sys.mountLog(),
    ['/bundle/rootfs /bundle/rootfs bind MS_BIND|MS_REC', 'none /bundle/rootfs - MS_REC|MS_SLAVE'],
    'neither "/" nor the shared parent is touched',
  )
  t.same(c.sys.callsOf('readFile'), [], 'no mountinfo needed: there is no pivot_root')
  const shared = context(host(), spec([], { rootfsPropagation: 'rshared' }), { sharedMountNs: true })
  prepareRoot(shared)
  t.same(shared.sys.mountLog().at(-1), 'none /bundle/rootfs - MS_REC|MS_SHARED', 'linux.rootfsPropagation goes on the bind')
})

t.test('prepareRoot errors name linux.rootfsPropagation and root.path', async (t) => {
  let c = context(fakeHost(), spec([]))
  c.sys.failOn('mount', { target: '/', flags: C.MS_SLAVE | C.MS_REC }, 'EINVAL')
  checkStep(
    t,
    stepError(t, () => prepareRoot(c)),
    'linux.rootfsPropagation',
    'linux.rootfsPropagation: mount none to / (flags=MS_REC|MS_SLAVE): invalid argument',
    { syscall: 'mount', errnoName: 'EINVAL' },
  )
  c = context(fakeHost(), spec([], { rootfsPropagation: 'rshared' }))
  c.sys.failOn('mount', { flags: C.MS_PRIVATE }, 'EPERM')
  checkStep(
    t,
    stepError(t, () => prepareRoot(c)),
    'root.path',
    'root.path: mount none to / (flags=MS_PRIVATE): operation not permitted',
    {
      syscall: 'mount',
      errnoName: 'EPERM',
    },
  )
  c = context(fakeHost(), spec([]))
  c.sys.failOn('mount', { fstype: 'bind' }, 'ENOENT')
  checkStep(
    t,
    stepError(t, () => prepareRoot(c)),
    'root.path',
    'root.path: mount /bundle/rootfs to /bundle/rootfs (flags=MS_BIND|MS_REC, type=bind): no such file or directory',
    { syscall: 'mount', errnoName: 'ENOENT' },
  )
})

// ---- mountAll -------------------------------------------------------------------------------

t.test("mountAll: runc's default mounts, in order, with their flags and data", async (t) => {
  const c = context(fakeHost(), defaultSpec() as RootfsInput)
  const root = openRoot(t, c)
  mountAll(c, root)
  t.same(c.sys.mountLog(), [
    'proc /proc proc 0',
    'tmpfs /dev tmpfs MS_NOSUID|MS_STRICTATIME mode=755,size=65536k',
    'devpts /dev/pts devpts MS_NOSUID|MS_NOEXEC newinstance,ptmxmode=0666,mode=0620,gid=5',
    'shm /dev/shm tmpfs MS_NOSUID|MS_NODEV|MS_NOEXEC mode=1777,size=65536k',
    'mqueue /dev/mqueue mqueue MS_NOSUID|MS_NODEV|MS_NOEXEC',
    'sysfs /sys sysfs MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC',
    'cgroup2 /sys/fs/cgroup cgroup2 MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_RELATIME',
  ])
  t.same(
    c.sys.callsOf('mount').map((m) => m.at),
    ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup'].map(R),
    'each through /proc/self/fd of its target inside the rootfs',
  )
  t.ok(
    c.sys.callsOf('mount').every((m) => /^\/proc\/self\/fd\/\d+$/.test(m.target as string)),
    'no mount targets a path string',
  )
  t.equal(c.sys.peek(R('/dev/pts'))?.kind, 'dir', '/dev/pts made on the new /dev')
  t.same(c.sys.openFds(), [root.rootfd], 'every fd closed')
})

t.test('mountAll errors name mounts[i] and the destination', async (t) => {
  const cases: [string, Parameters<FakeSys['failOn']>, string, string][] = [
    [
      'the mount itself',
      ['mount', { display: '/proc' }, 'EPERM'],
      'mounts[0]',
      'mounts[0] /proc: mount proc to /proc (flags=0, type=proc): operation not permitted',
    ],
    [
      'creating the mount point',
      ['mkdirat', { display: '/dev/shm' }, 'EACCES'],
      'mounts[3]',
      'mounts[3] /dev/shm: mkdir /dev/shm: permission denied',
    ],
    [
      'resolving the mount point',
      ['openat2', { display: '/dev/pts' }, 'ELOOP'],
      'mounts[2]',
      'mounts[2] /dev/pts: openat2 /dev/pts: too many levels of symbolic links',
    ],
    [
      'checking what the target is on',
      ['fstatfs', { display: '/sys' }, 'EIO'],
      'mounts[5]',
      'mounts[5] /sys: fstatfs /sys: input/output error',
    ],
    [
      'mqueue: anything but EPERM is an error',
      ['mount', { fstype: 'mqueue' }, 'EBUSY'],
      'mounts[4]',
      'mounts[4] /dev/mqueue: mount mqueue to /dev/mqueue (flags=MS_NOSUID|MS_NODEV|MS_NOEXEC, type=mqueue): device or resource busy',
    ],
  ]
  for (const [name, fail, field, message] of cases) {
    t.test(name, async (t) => {
      const c = context(fakeHost(), defaultSpec() as RootfsInput)
      const root = openRoot(t, c)
      c.sys.failOn(...fail)
      checkStep(
        t,
        stepError(t, () => mountAll(c, root)),
        field,
        message,
        { syscall: message.split(': ')[1]!.split(' ')[0]!, errnoName: fail[2] },
      )
      t.same(c.sys.openFds(), [root.rootfd], 'every fd closed')
      t.notOk(
        c.sys.mountLog().some((l) => /^(shm|mqueue|sysfs|cgroup2) /.test(l) && field === 'mounts[0]'),
        'nothing mounted after the failure',
      )
    })
  }
})

t.test('mqueue refused with EPERM (user namespace): the host /dev/mqueue is bound instead', async (t) => {
  const c = context(fakeHost(), spec([{ destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid'] }]))
  const root = openRoot(t, c)
  c.sys.failOn('mount', { fstype: 'mqueue' }, 'EPERM')
  mountAll(c, root)
  t.same(c.sys.mountLog(), ['mqueue /dev/mqueue mqueue MS_NOSUID -> EPERM', '/dev/mqueue /dev/mqueue bind MS_BIND'])
  t.same(c.sys.openFds(), [root.rootfd])
})

t.test('bind mounts: a directory and a file, ro by remount, propagation and attributes', async (t) => {
  const c = context(
    fakeHost(),
    spec([
      { destination: '/mnt/d', type: 'bind', source: '/src/dir', options: ['rbind', 'ro', 'rslave'] },
      { destination: '/etc/injected', type: 'bind', source: '/src/file.txt', options: ['bind'] },
      { destination: '/mnt/r', type: 'bind', source: '/src/dir', options: ['rbind', 'rro'] },
    ]),
  )
  const root = openRoot(t, c)
  mountAll(c, root)
  t.same(c.sys.mountLog(), [
    '/src/dir /mnt/d bind MS_BIND|MS_REC',
    'none /mnt/d - MS_RDONLY|MS_REMOUNT|MS_BIND',
    'none /mnt/d - MS_REC|MS_SLAVE',
    '/src/file.txt /etc/injected bind MS_BIND',
    '/src/dir /mnt/r bind MS_BIND|MS_REC',
  ])
  t.match(c.sys.callsOf('mountSetattr'), [
    { display: '/mnt/r', path: '', flags: C.AT_EMPTY_PATH | C.AT_RECURSIVE, set: 1 /* MOUNT_ATTR_RDONLY */, clr: 0 },
  ])
  t.same(
    c.sys.callsOf('stat').map((s) => s.path),
    ['/src/dir', '/src/file.txt', '/src/dir'],
    'each source is stat-ed on the host',
  )
  t.equal(c.sys.peek(R('/mnt/d'))?.kind, 'dir', 'a directory source gets a directory')
  t.equal(c.sys.peek(R('/etc/injected'))?.kind, 'file', 'a file source gets a file')
  t.same(c.sys.openFds(), [root.rootfd])
})

t.test('bind mounts from a source the parent opened: fstat and /proc/self/fd/N, not the path', async (t) => {
  const c = context(
    fakeHost(),
    spec([
      { destination: '/mnt/d', type: 'bind', source: '/src/dir', options: ['rbind', 'ro'] },
      { destination: '/etc/injected', type: 'bind', source: '/src/file.txt', options: ['bind'] },
    ]),
    { userns: true },
  )
  const dir = c.sys.openat(C.AT_FDCWD, '/src/dir', C.O_PATH)
  const file = c.sys.openat(C.AT_FDCWD, '/src/file.txt', C.O_PATH)
  t.teardown(() => [dir, file].forEach((fd) => c.sys.close(fd)))
  c.bindSources = new Map([
    ['mounts[0]', dir],
    ['mounts[1]', file],
  ])
  const root = openRoot(t, c)
  mountAll(c, root)
  t.same(c.sys.mountLog(), [
    `/proc/self/fd/${dir} /mnt/d bind MS_BIND|MS_REC`,
    'none /mnt/d - MS_RDONLY|MS_REMOUNT|MS_BIND',
    `/proc/self/fd/${file} /etc/injected bind MS_BIND`,
  ])
  t.same(c.sys.callsOf('stat'), [], 'no source is looked up by path')
  t.same(
    c.sys.callsOf('fstat').map((s) => s.display),
    ['/src/dir', '/src/file.txt'],
  )
  t.equal(c.sys.peek(R('/etc/injected'))?.kind, 'file', 'a file source still gets a file')

  const again = context(fakeHost(), spec([{ destination: '/mnt/d', type: 'bind', source: '/src/dir', options: ['bind'] }]), {
    userns: true,
  })
  const fd = again.sys.openat(C.AT_FDCWD, '/src/dir', C.O_PATH)
  t.teardown(() => again.sys.close(fd))
  again.bindSources = new Map([['mounts[0]', fd]])
  again.sys.failOn('mount', { fstype: 'bind' }, 'EACCES')
  checkStep(
    t,
    stepError(t, () => mountAll(again, openRoot(t, again))),
    'mounts[0]',
    'mounts[0] /mnt/d: mount /src/dir to /mnt/d (flags=MS_BIND, type=bind): permission denied',
    { syscall: 'mount', errnoName: 'EACCES' },
  )
})

t.test('bind mount errors', async (t) => {
  const binds = spec([{ destination: '/mnt/d', type: 'bind', source: '/src/dir', options: ['rbind', 'ro'] }])
  t.test('a missing source, before anything is made in the rootfs', async (t) => {
    const c = context(fakeHost(), spec([{ destination: '/mnt/d', type: 'bind', source: '/src/missing' }]))
    const root = openRoot(t, c)
    checkStep(
      t,
      stepError(t, () => mountAll(c, root)),
      'mounts[0]',
      'mounts[0] /mnt/d: stat /src/missing: no such file or directory',
      {
        syscall: 'stat',
        errnoName: 'ENOENT',
      },
    )
    t.equal(c.sys.peek(R('/mnt')), undefined, 'no mount point made')
  })
  t.test('the bind itself', async (t) => {
    const c = context(fakeHost(), binds)
    const root = openRoot(t, c)
    c.sys.failOn('mount', { fstype: 'bind' }, 'EACCES')
    checkStep(
      t,
      stepError(t, () => mountAll(c, root)),
      'mounts[0]',
      'mounts[0] /mnt/d: mount /src/dir to /mnt/d (flags=MS_BIND|MS_REC, type=bind): permission denied',
      { syscall: 'mount', errnoName: 'EACCES' },
    )
    t.same(c.sys.openFds(), [root.rootfd])
  })
  t.test('a remount refused with EPERM is retried with the locked flags kept', async (t) => {
    const c = context(fakeHost({ mounts: [{ ...HOST_MOUNTS[0]!, flags: C.MS_NOSUID | C.MS_NODEV }] }), binds)
    const root = openRoot(t, c)
    c.sys.failOn('mount', { flags: C.MS_RDONLY | C.MS_REMOUNT | C.MS_BIND }, 'EPERM')
    mountAll(c, root)
    t.same(c.sys.mountLog().slice(1), [
      'none /mnt/d - MS_RDONLY|MS_REMOUNT|MS_BIND -> EPERM',
      'none /mnt/d - MS_RDONLY|MS_NOSUID|MS_NODEV|MS_REMOUNT|MS_BIND',
    ])
    // (the fake names what is reached through a bind by its source's path)
    t.match(c.sys.callsOf('statfs'), [{ path: /^\/proc\/self\/fd\/\d+$/, at: '/src/dir' }], 'the flags are read from the mount')
  })
  t.test('a remount refused twice', async (t) => {
    const c = context(fakeHost(), binds)
    const root = openRoot(t, c)
    c.sys.failOn('mount', { flags: C.MS_RDONLY | C.MS_REMOUNT | C.MS_BIND }, 'EPERM')
    c.sys.failOn('mount', { flags: C.MS_RDONLY | C.MS_REMOUNT | C.MS_BIND }, 'EPERM')
    checkStep(
      t,
      stepError(t, () => mountAll(c, root)),
      'mounts[0]',
      'mounts[0] /mnt/d: mount none to /mnt/d (flags=MS_RDONLY|MS_REMOUNT|MS_BIND): operation not permitted',
      { syscall: 'mount', errnoName: 'EPERM' },
    )
    t.same(c.sys.openFds(), [root.rootfd])
  })
  t.test('mount_setattr', async (t) => {
    const c = context(fakeHost(), spec([{ destination: '/mnt/r', type: 'bind', source: '/src/dir', options: ['rbind', 'rro'] }]))
    const root = openRoot(t, c)
    c.sys.failOn('mountSetattr', {}, 'ENOSYS')
    checkStep(
      t,
      stepError(t, () => mountAll(c, root)),
      'mounts[0]',
      'mounts[0] /mnt/r: mount_setattr /mnt/r (set=0x1, clear=0x0): function not implemented',
      { syscall: 'mount_setattr', errnoName: 'ENOSYS' },
    )
    t.same(c.sys.openFds(), [root.rootfd])
  })
})

t.test('idmapped binds are attached by the parent, on the target fd', async (t) => {
  const s = spec([{ destination: '/mnt/d', type: 'bind', source: '/src/dir', options: ['rbind', 'idmap'] }])
  const c = context(fakeHost(), s)
  const root = openRoot(t, c)
  const got: [string, string][] = []
  c.attachIdmapped = (field, fd) => got.push([field, c.sys.readlinkat(C.AT_FDCWD, `/proc/self/fd/${fd}`)])
  mountAll(c, root)
  t.same(got, [['mounts[0]', R('/mnt/d')]])
  t.same(c.sys.mountLog(), [], 'no mount(2) of its own')

  const alone = context(fakeHost(), s)
  const root2 = openRoot(t, alone)
  const e = stepError(t, () => mountAll(alone, root2))
  t.equal(e.message, 'mounts[0] /mnt/d: idmapped mount without a tree from the parent')
  t.same(alone.sys.openFds(), [root2.rootfd])
})

t.test('a target that a symlink leads into /proc is refused (CVE-2019-16884)', async (t) => {
  const c = context(
    fakeHost({ rootfs: { proc: {}, myproc: link('/proc') } }),
    spec([
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/myproc/cpuinfo', type: 'bind', source: '/src/file.txt', options: ['bind'] },
      { destination: '/myproc/kcore', type: 'bind', source: '/src/file.txt', options: ['bind'] },
    ]),
  )
  const root = openRoot(t, c)
  const e = stepError(t, () => mountAll(c, root))
  t.equal(e.step, 'mounts[2]')
  t.equal(e.message, 'mounts[2] /myproc/kcore: resolves to /proc/kcore, inside /proc, where nothing but procfs may be mounted')
  t.type(e.cause, RuntimeError)
  t.equal(e.code, 'EPROCMOUNT')
  t.same(
    c.sys.mountLog(),
    ['proc /proc proc 0', '/src/file.txt /myproc/cpuinfo bind MS_BIND'],
    "runc's allow-list may be covered (lxcfs); nothing else is mounted",
  )
  t.same(c.sys.openFds(), [root.rootfd])
})

t.test('tmpcopyup: a tmpfs aside, a copy of what it covers, moved into place', async (t) => {
  const when = new Date(1_000_000)
  const c = context(
    fakeHost({
      rootfs: {
        etc: {
          hosts: file('127.0.0.1\n', { mode: 0o600, uid: 7, gid: 8, mtime: when }),
          sub: { x: 'x' },
          link: link('hosts'),
          fifo: fifo(),
        },
        tmp: {},
      },
    }),
    spec([{ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'mode=755', 'ro'] }]),
  )
  const root = openRoot(t, c)
  mountAll(c, root)
  t.same(c.sys.mountLog(), [
    'tmpfs /etc tmpfs 0 mode=755',
    'none /etc - MS_RDONLY|MS_REMOUNT|MS_BIND',
    '/tmp/runt-tmpcopyup-000001 /etc - MS_MOVE',
  ])
  t.match(c.sys.callsOf('mount')[0], { target: '/tmp/runt-tmpcopyup-000001' }, 'mounted aside first')
  t.same(c.sys.ls(R('/etc')), ['hosts', 'link', 'sub'], 'the new /etc holds the copy; a fifo is not copied')
  t.match(c.sys.peek(R('/etc/hosts')), { kind: 'file', content: '127.0.0.1\n', mode: C.S_IFREG | 0o600, uid: 7, gid: 8 })
  t.same(c.sys.callsOf('utimes')[0]?.mtime, when, 'times kept')
  t.match(c.sys.peek(R('/etc/link')), { kind: 'link', target: 'hosts' })
  t.same(c.sys.ls(R('/etc/sub')), ['x'])
  t.ok(
    c.sys.mountTable().some((m) => m.startsWith(R('/etc') + ' tmpfs')),
    'the tmpfs is on /etc',
  )
  t.same(c.sys.ls('/tmp'), [], 'the temporary directory is gone')
  t.same(c.sys.openFds(), [root.rootfd])
})

t.test('tmpcopyup errors leave no temporary directory or mount behind', async (t) => {
  const s = spec([{ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] }])
  const clean = (t: Test, c: Ctx, root: InRoot) => {
    t.same(c.sys.ls('/tmp'), [], 'temporary directory removed')
    t.notOk(
      c.sys.mountTable().some((m) => m.startsWith('/tmp/')),
      'nothing left mounted on it',
    )
    t.same(c.sys.openFds(), [root.rootfd], 'every fd closed')
  }
  t.test('mkdtemp', async (t) => {
    const c = context(fakeHost(), s)
    const root = openRoot(t, c)
    c.sys.failOn('mkdtemp', {}, 'ENOSPC')
    checkStep(
      t,
      stepError(t, () => mountAll(c, root)),
      'mounts[0]',
      'mounts[0] /etc: mkdtemp /tmp/runt-tmpcopyup-: no space left on device',
      {
        syscall: 'mkdtemp',
        errnoName: 'ENOSPC',
      },
    )
    clean(t, c, root)
  })
  t.test('the tmpfs', async (t) => {
    const c = context(fakeHost(), s)
    const root = openRoot(t, c)
    c.sys.failOn('mount', { fstype: 'tmpfs' }, 'ENOMEM')
    checkStep(
      t,
      stepError(t, () => mountAll(c, root)),
      'mounts[0]',
      'mounts[0] /etc: mount tmpfs to /etc (flags=0, type=tmpfs): cannot allocate memory',
      { syscall: 'mount', errnoName: 'ENOMEM' },
    )
    clean(t, c, root)
  })
  t.test('the copy', async (t) => {
    const c = context(fakeHost(), s)
    const root = openRoot(t, c)
    c.sys.failOn('copyFile', { src: /\/hosts$/ }, 'ENOSPC')
    checkStep(
      t,
      stepError(t, () => mountAll(c, root)),
      'mounts[0]',
      /^mounts\[0\] \/etc: copyfile \/proc\/self\/fd\/\d+\/hosts to \/tmp\/runt-tmpcopyup-000001\/hosts: no space left on device$/,
      { syscall: 'copyfile', errnoName: 'ENOSPC' },
    )
    t.equal(c.sys.callsOf('umount2')[0]?.target, '/tmp/runt-tmpcopyup-000001', 'the tmpfs is unmounted')
    clean(t, c, root)
  })
  t.test('the move into place', async (t) => {
    const c = context(fakeHost(), s)
    const root = openRoot(t, c)
    c.sys.failOn('mount', { flags: C.MS_MOVE }, 'EINVAL')
    checkStep(
      t,
      stepError(t, () => mountAll(c, root)),
      'mounts[0]',
      'mounts[0] /etc: mount /tmp/runt-tmpcopyup-000001 to /etc (flags=MS_MOVE): invalid argument',
      { syscall: 'mount', errnoName: 'EINVAL' },
    )
    clean(t, c, root)
    t.same(c.sys.ls(R('/etc')), ['hosts'], '/etc untouched')
  })
})

t.test('cgroup v2: its own namespace mounts cgroup2; without, the host cgroup is bound', async (t) => {
  const cg = [{ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'ro'] }]
  const own = context(fakeHost(), spec(cg), { cgroupns: true })
  mountAll(own, openRoot(t, own))
  t.same(own.sys.mountLog(), ['cgroup2 /sys/fs/cgroup cgroup2 MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC'])

  const host = context(fakeHost(), spec(cg), { cgroupns: false })
  const root = openRoot(t, host)
  mountAll(host, root)
  t.same(host.sys.mountLog(), [
    '/sys/fs/cgroup/c1 /sys/fs/cgroup bind MS_BIND|MS_REC',
    'none /sys/fs/cgroup - MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND',
  ])
  t.same(host.sys.openFds(), [root.rootfd])

  const none = context(fakeHost({ mounts: HOST_MOUNTS.slice(0, 2) }), spec(cg), { cgroupns: false })
  const root2 = openRoot(t, none)
  const e = stepError(t, () => mountAll(none, root2))
  t.equal(e.message, 'mounts[0] /sys/fs/cgroup: no cgroup2 hierarchy on the host')
  t.same(none.sys.openFds(), [root2.rootfd])
})

/** A cgroup v1 host: cpu,cpuacct co-mounted (with a link per controller) and memory. */
function v1Host(o: { links?: Tree } = {}): FakeSys {
  return fakeHost({
    host: {
      proc: { kcore: '', self: { cgroup: '4:cpu,cpuacct:/c1\n3:memory:/c1\n0::/c1\n' } },
      sys: {
        fs: {
          cgroup: {
            'cpu,cpuacct': { c1: {} },
            memory: { c1: {} },
            ...(o.links ?? { cpu: link('cpu,cpuacct'), cpuacct: link('cpu,cpuacct') }),
          },
        },
      },
    },
    mounts: [
      HOST_MOUNTS[0]!,
      { target: '/sys/fs/cgroup', fstype: 'tmpfs', source: 'tmpfs' },
      { target: '/sys/fs/cgroup/cpu,cpuacct', fstype: 'cgroup', source: 'cgroup', superOptions: 'rw,cpu,cpuacct' },
      { target: '/sys/fs/cgroup/memory', fstype: 'cgroup', source: 'cgroup', superOptions: 'rw,memory' },
    ],
  })
}
const cgroupV1 = spec([
  { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
])

t.test('cgroup v1: a tmpfs, one bind per hierarchy, a link per co-mounted controller', async (t) => {
  const c = context(v1Host(), cgroupV1, { cgroupns: false })
  const root = openRoot(t, c)
  mountAll(c, root)
  t.same(c.sys.mountLog(), [
    'tmpfs /sys/fs/cgroup tmpfs MS_NOSUID|MS_NODEV|MS_NOEXEC mode=755',
    '/sys/fs/cgroup/cpu,cpuacct/c1 /sys/fs/cgroup/cpu,cpuacct bind MS_BIND|MS_REC',
    'none /sys/fs/cgroup/cpu,cpuacct - MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND',
    '/sys/fs/cgroup/memory/c1 /sys/fs/cgroup/memory bind MS_BIND|MS_REC',
    'none /sys/fs/cgroup/memory - MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND',
    'none /sys/fs/cgroup - MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND',
  ])
  t.match(c.sys.peek(R('/sys/fs/cgroup/cpu')), { kind: 'link', target: 'cpu,cpuacct' })
  t.match(c.sys.peek(R('/sys/fs/cgroup/cpuacct')), { kind: 'link', target: 'cpu,cpuacct' })
  t.same(c.sys.openFds(), [root.rootfd])

  const own = context(v1Host(), cgroupV1, { cgroupns: true })
  mountAll(own, openRoot(t, own))
  t.same(own.sys.mountLog().slice(1, 3), [
    'cgroup /sys/fs/cgroup/cpu,cpuacct cgroup MS_NOSUID|MS_NODEV|MS_NOEXEC cpu,cpuacct',
    'cgroup /sys/fs/cgroup/memory cgroup MS_NOSUID|MS_NODEV|MS_NOEXEC memory',
  ])
})

t.test('cgroup v1: a controller with no link on the host, or one already made, is no error', async (t) => {
  const c = context(v1Host({ links: { cpu: link('cpu,cpuacct') } }), cgroupV1, { cgroupns: false })
  const root = openRoot(t, c)
  c.sys.failOn('symlinkat', { path: 'cpu' }, 'EEXIST')
  mountAll(c, root)
  t.match(c.sys.callsOf('lstat'), [{ path: '/sys/fs/cgroup/cpu' }, { path: '/sys/fs/cgroup/cpuacct', error: 'ENOENT' }])
  t.equal(c.sys.peek(R('/sys/fs/cgroup/cpuacct')), undefined)
  t.same(c.sys.openFds(), [root.rootfd])
})

// ---- setupDev -------------------------------------------------------------------------------

t.test('setupDev: device nodes with their modes and owners, the /dev links', async (t) => {
  const c = context(
    fakeHost(),
    spec([], { devices: [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600, uid: 3, gid: 4 }] }),
  )
  const root = openRoot(t, c)
  setupDev(c, root)
  t.match(
    c.sys.peek(R('/dev/null')),
    { kind: 'chr', rdev: '1:3', mode: C.S_IFCHR | 0o666, uid: 0 },
    'the mode is set past the umask',
  )
  t.match(c.sys.peek(R('/dev/tty')), { kind: 'chr', rdev: '5:0' })
  t.match(c.sys.peek(R('/dev/fuse')), { kind: 'chr', rdev: '10:229', mode: C.S_IFCHR | 0o600, uid: 3, gid: 4 })
  t.match(
    c.sys.callsOf('fchownat'),
    Array(7).fill({ flags: C.AT_SYMLINK_NOFOLLOW }),
    'owners set on the node, not through a link',
  )
  const links = Object.fromEntries(
    ['fd', 'stdin', 'stdout', 'stderr', 'core', 'ptmx'].map((l) => [l, c.sys.peek(R('/dev/' + l))?.target]),
  )
  t.same(links, {
    fd: '/proc/self/fd',
    stdin: '/proc/self/fd/0',
    stdout: '/proc/self/fd/1',
    stderr: '/proc/self/fd/2',
    core: '/proc/kcore',
    ptmx: 'pts/ptmx',
  })
  t.same(c.sys.openFds(), [root.rootfd])

  const noKcore = context(fakeHost({ host: { proc: { self: { cgroup: '0::/\n' } } } }), spec([]))
  setupDev(noKcore, openRoot(t, noKcore))
  t.equal(noKcore.sys.peek(R('/dev/core')), undefined, 'no /dev/core without /proc/kcore on the host')
})

t.test('setupDev replaces what the rootfs has at a device path and keeps existing links', async (t) => {
  const c = context(fakeHost({ rootfs: { dev: { null: 'a file', fd: link('/proc/self/fd'), ptmx: chr(5, 2) } } }), spec([]))
  const root = openRoot(t, c)
  setupDev(c, root)
  t.match(c.sys.peek(R('/dev/null')), { kind: 'chr', rdev: '1:3' })
  t.match(c.sys.peek(R('/dev/ptmx')), { kind: 'link', target: 'pts/ptmx' })
})

t.test('in a user namespace devices are bound from the host', async (t) => {
  const c = context(fakeHost(), spec([]), { userns: true })
  const root = openRoot(t, c)
  setupDev(c, root)
  t.same(c.sys.mountLog().slice(0, 2), ['/dev/null /dev/null bind MS_BIND', '/dev/zero /dev/zero bind MS_BIND'])
  t.equal(c.sys.callsOf('mknodat').length, 0, 'no mknod')
  t.match(
    c.sys
      .callsOf('openat')
      .filter((o) => (o.flags as number) & C.O_CREAT)
      .map((o) => [o.path, o.flags]),
    ['null', 'zero', 'full', 'random', 'urandom', 'tty'].map((d) => [d, C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW | C.O_WRONLY]),
    'onto an empty file made for it',
  )
  t.match(c.sys.peek(R('/dev/tty')), { kind: 'chr', rdev: '5:0' }, "the host's node shows through")
  t.same(c.sys.openFds(), [root.rootfd])
  t.same(c.warnings, [], 'the default devices are what the host has')

  const other = context(fakeHost(), spec([], { devices: [{ path: '/dev/tty', type: 'c', major: 4, minor: 1 }] }), {
    userns: true,
  })
  setupDev(other, openRoot(t, other))
  t.same(other.warnings, [
    "linux.devices[0]: in a user namespace the host's /dev/tty is bind-mounted: it is c 5:0, not the c 4:1 asked for",
  ])

  const off = context(fakeHost(), spec([{ destination: '/dev', type: 'bind', source: '/dev', options: ['rbind'] }]))
  setupDev(off, openRoot(t, off))
  t.same(off.sys.calls.length, 1, "nothing done when /dev is the host's (the root fd's open only)")
})

t.test('setupDev errors name the device field or /dev', async (t) => {
  const cases: [string, Parameters<FakeSys['failOn']>, string, string][] = [
    [
      'mknod of a default device',
      ['mknodat', { display: '/dev/zero' }, 'EPERM'],
      'default device /dev/zero',
      'default device /dev/zero /dev/zero: mknod /dev/zero: operation not permitted',
    ],
    [
      'removing what is there',
      ['unlinkat', { display: '/dev/full' }, 'EBUSY'],
      'default device /dev/full',
      'default device /dev/full /dev/full: unlink /dev/full: device or resource busy',
    ],
    [
      'chmod',
      ['fchmodat', { display: '/dev/fuse' }, 'EROFS'],
      'linux.devices[0]',
      'linux.devices[0] /dev/fuse: chmod /dev/fuse: read-only file system',
    ],
    [
      'chown',
      ['fchownat', { display: '/dev/tty' }, 'EINVAL'],
      'default device /dev/tty',
      'default device /dev/tty /dev/tty: chown /dev/tty: invalid argument',
    ],
    [
      'a link',
      ['symlinkat', { display: '/dev/stdout' }, 'EACCES'],
      '/dev',
      '/dev /dev/stdout: symlink /dev/stdout: permission denied',
    ],
    [
      '/dev/ptmx',
      ['symlinkat', { display: '/dev/ptmx' }, 'EIO'],
      '/dev',
      '/dev /dev/ptmx: symlink /dev/ptmx: input/output error',
    ],
  ]
  for (const [name, fail, field, message] of cases) {
    t.test(name, async (t) => {
      const c = context(fakeHost(), spec([], { devices: [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }] }))
      const root = openRoot(t, c)
      c.sys.failOn(...fail)
      checkStep(
        t,
        stepError(t, () => setupDev(c, root)),
        field,
        message,
        {
          syscall: message.split(': ')[1]!.split(' ')[0]!,
          errnoName: fail[2],
        },
      )
      t.same(c.sys.openFds(), [root.rootfd], 'every fd closed')
    })
  }
  t.test('bound devices', async (t) => {
    const c = context(fakeHost(), spec([]), { userns: true })
    const root = openRoot(t, c)
    c.sys.failOn('mount', { display: '/dev/random' }, 'ENOENT')
    checkStep(
      t,
      stepError(t, () => setupDev(c, root)),
      'default device /dev/random',
      'default device /dev/random /dev/random: mount /dev/random to /dev/random (flags=MS_BIND, type=bind): no such file or directory',
      { syscall: 'mount', errnoName: 'ENOENT' },
    )
    t.same(c.sys.openFds(), [root.rootfd])
  })
})

// ---- maskPaths ------------------------------------------------------------------------------

const procRootfs = (): Tree => ({ proc: { ...PROC, timer_list: '', bus: {} }, sys: { ...SYSFS }, dev: {} })

t.test("maskPaths: runc's read-only and masked paths; what is not there is skipped", async (t) => {
  const c = context(fakeHost({ rootfs: procRootfs() }), defaultSpec() as RootfsInput)
  const root = openRoot(t, c)
  const devNull = openDevNull(c.sys)
  maskPaths(c, root, devNull)
  const log = c.sys
    .mountLog()
    .map((l) => l.replace(/\/proc\/self\/fd\/(\d+)/, (_, fd) => (Number(fd) === devNull ? 'DEVNULL' : 'SELF')))
  const ro = (p: string) => [
    `SELF ${p} bind MS_BIND|MS_REC`,
    `none ${p} - MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND`,
  ]
  t.same(log, [
    ...ro('/proc/bus'),
    ...ro('/proc/fs'),
    ...ro('/proc/sys'),
    ...ro('/proc/sysrq-trigger'),
    'tmpfs /proc/acpi tmpfs MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC size=0',
    'DEVNULL /proc/kcore bind MS_BIND',
    'DEVNULL /proc/keys bind MS_BIND',
    'DEVNULL /proc/timer_list bind MS_BIND',
    'tmpfs /sys/firmware tmpfs MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC size=0',
  ])
  const self = c.sys.callsOf('mount')[0]!
  t.equal(self.source, self.target, 'a read-only path is bound on itself first')
  t.same(c.sys.openFds(), [root.rootfd, devNull], 'only the root and /dev/null stay open')
})

t.test('maskPaths: a mount label goes into the tmpfs data; a file in the way of a dir is skipped', async (t) => {
  const c = context(
    fakeHost({ rootfs: { proc: { acpi: {}, kcore: 'x' } } }),
    spec([], { maskedPaths: ['/proc/acpi', '/proc/kcore/x'] }),
  )
  c.plan.mountLabel = 'system_u:object_r:container_file_t:s0'
  const root = openRoot(t, c)
  const devNull = openDevNull(c.sys)
  maskPaths(c, root, devNull)
  t.same(c.sys.mountLog(), [
    'tmpfs /proc/acpi tmpfs MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC size=0,context="system_u:object_r:container_file_t:s0"',
  ])
})

t.test('maskPaths errors name linux.maskedPaths[i] and linux.readonlyPaths[i]', async (t) => {
  const cases: [string, Parameters<FakeSys['failOn']>, string, string | RegExp, string][] = [
    [
      'masking a file',
      ['mount', { display: '/proc/keys' }, 'EPERM'],
      'linux.maskedPaths[3]',
      /^linux\.maskedPaths\[3\] \/proc\/keys: mount \/proc\/self\/fd\/\d+ to \/proc\/keys \(flags=MS_BIND, type=bind\): operation not permitted$/,
      'mount',
    ],
    [
      'masking a directory',
      ['mount', { display: '/sys/firmware' }, 'ENOMEM'],
      'linux.maskedPaths[8]',
      'linux.maskedPaths[8] /sys/firmware: mount tmpfs to /sys/firmware (flags=MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC, type=tmpfs, data=size=0): cannot allocate memory',
      'mount',
    ],
    [
      'opening a masked path (not ENOENT or ENOTDIR)',
      ['openat2', { display: '/proc/kcore' }, 'ELOOP'],
      'linux.maskedPaths[2]',
      'linux.maskedPaths[2] /proc/kcore: openat2 /proc/kcore: too many levels of symbolic links',
      'openat2',
    ],
    [
      'stat of a masked path',
      ['fstat', { display: '/proc/acpi' }, 'EIO'],
      'linux.maskedPaths[0]',
      'linux.maskedPaths[0] /proc/acpi: statx /proc/acpi: input/output error',
      'statx',
    ],
    [
      'binding a read-only path',
      ['mount', { display: '/proc/sys', fstype: 'bind' }, 'EACCES'],
      'linux.readonlyPaths[3]',
      /^linux\.readonlyPaths\[3\] \/proc\/sys: mount \/proc\/self\/fd\/\d+ to \/proc\/sys \(flags=MS_BIND\|MS_REC, type=bind\): permission denied$/,
      'mount',
    ],
    [
      'opening a read-only path',
      ['openat2', { display: '/proc/fs' }, 'EACCES'],
      'linux.readonlyPaths[1]',
      'linux.readonlyPaths[1] /proc/fs: openat2 /proc/fs: permission denied',
      'openat2',
    ],
  ]
  for (const [name, fail, field, message, syscall] of cases) {
    t.test(name, async (t) => {
      const c = context(fakeHost({ rootfs: procRootfs() }), defaultSpec() as RootfsInput)
      const root = openRoot(t, c)
      const devNull = openDevNull(c.sys)
      c.sys.failOn(...fail)
      checkStep(
        t,
        stepError(t, () => maskPaths(c, root, devNull)),
        field,
        message,
        { syscall, errnoName: fail[2] },
      )
      t.same(c.sys.openFds(), [root.rootfd, devNull], 'every fd of its own closed')
    })
  }
  t.test('the read-only remount, refused twice', async (t) => {
    const c = context(fakeHost({ rootfs: procRootfs() }), spec([], { readonlyPaths: ['/proc/sys'] }))
    const root = openRoot(t, c)
    const devNull = openDevNull(c.sys)
    c.sys.failOn('mount', { flags: C.MS_RDONLY | C.MS_NOSUID | C.MS_NODEV | C.MS_NOEXEC | C.MS_REMOUNT | C.MS_BIND }, 'EPERM')
    c.sys.failOn('mount', { flags: C.MS_RDONLY | C.MS_NOSUID | C.MS_NODEV | C.MS_NOEXEC | C.MS_REMOUNT | C.MS_BIND }, 'EPERM')
    checkStep(
      t,
      stepError(t, () => maskPaths(c, root, devNull)),
      'linux.readonlyPaths[0]',
      'linux.readonlyPaths[0] /proc/sys: mount none to /proc/sys (flags=MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND): operation not permitted',
      { syscall: 'mount', errnoName: 'EPERM' },
    )
    t.same(c.sys.openFds(), [root.rootfd, devNull])
  })
})

t.test("openDevNull: the host's /dev/null must be the 1:3 character device", async (t) => {
  const ok = fakeHost()
  const fd = openDevNull(ok)
  t.match(ok.calls, [
    { op: 'openat', path: '/dev/null', flags: C.O_PATH | C.O_NOFOLLOW },
    { op: 'fstat', fd },
  ])
  for (const [name, dev] of [
    ['a regular file', 'not a device'],
    ['another device', chr(1, 5)],
    ['a symlink to it', link('/dev/zero')],
  ] as const) {
    const s = fakeHost({ host: { dev: { null: dev, zero: chr(1, 5) } } })
    const e = thrown(() => openDevNull(s))
    t.type(e, SysError, name)
    t.match(e, {
      syscall: 'open',
      errnoName: 'ENODEV',
      path: '/dev/null',
      message: 'open /dev/null: not the null device (char 1:3) on the host',
    })
    t.same(s.openFds(), [], `${name}: the fd is closed`)
  }
  const failing = fakeHost()
  failing.failOn('fstat', {}, 'EIO')
  t.match(
    thrown(() => openDevNull(failing)),
    { syscall: 'statx', errnoName: 'EIO', path: '/dev/null' },
  )
  t.same(failing.openFds(), [], 'a failed fstat closes the fd too')
})

// ---- enterRoot, finalizeRoot ----------------------------------------------------------------

t.test('enterRoot: pivot_root(".", ".") and the old root detached', async (t) => {
  const c = context(fakeHost(), spec([]))
  enterRoot(c)
  t.match(
    c.sys.calls.map((x) => [x.op, x.path ?? x.display ?? x.target ?? x.newRoot ?? x.fd]),
    [
      ['openat', '/'],
      ['openat', ROOTFS],
      ['fchdir', ROOTFS],
      ['pivotRoot', '.'],
      ['fchdir', 'old root'],
      ['mount', 'old root'],
      ['umount2', '.'],
      ['chdir', '/'],
      ['close'],
      ['close'],
    ],
  )
  t.equal(c.sys.callsOf('mount')[0]?.flags, C.MS_SLAVE | C.MS_REC, 'the old root is made a slave first')
  t.equal(c.sys.callsOf('umount2')[0]?.flags, C.MNT_DETACH)
  t.same(c.sys.where(), { root: ROOTFS, cwd: ROOTFS })
  t.same(c.sys.openFds(), [])
})

t.test('enterRoot with --no-pivot: MS_MOVE and chroot', async (t) => {
  const c = context(fakeHost(), spec([]), { noPivot: true })
  prepareRoot(c)
  enterRoot(c)
  t.same(
    c.sys.calls.slice(-4).map((x) => [x.op, x.path ?? x.target]),
    [
      ['chdir', ROOTFS],
      ['mount', '/'],
      ['chroot', '.'],
      ['chdir', '/'],
    ],
  )
  t.equal(c.sys.callsOf('mount').at(-1)?.flagNames, 'MS_MOVE')
  t.same(c.sys.where(), { root: ROOTFS, cwd: ROOTFS })
})

t.test("enterRoot in the runtime's mount namespace: chroot, never pivot_root nor MS_MOVE, --no-pivot or not", async (t) => {
  for (const noPivot of [false, true]) {
    const c = context(fakeHost(), spec([]), { noPivot, sharedMountNs: true })
    t.equal(c.plan.noPivot, false, `--no-pivot ${noPivot}: no MS_MOVE onto "/"`)
    prepareRoot(c)
    const mounts = c.sys.callsOf('mount').length
    enterRoot(c)
    t.same(
      c.sys.calls.slice(-3).map((x) => [x.op, x.path]),
      [
        ['chdir', ROOTFS],
        ['chroot', '.'],
        ['chdir', '/'],
      ],
    )
    t.equal(c.sys.callsOf('mount').length, mounts, 'no mount, no umount')
    t.same(c.sys.callsOf('pivotRoot'), [])
    t.same(c.sys.callsOf('umount2'), [])
    t.same(c.sys.where(), { root: ROOTFS, cwd: ROOTFS })
    t.same(c.sys.openFds(), [])
  }
  const c = context(fakeHost(), spec([]), { sharedMountNs: true })
  c.sys.failOn('chroot', {}, 'EPERM')
  checkStep(
    t,
    stepError(t, () => enterRoot(c)),
    'root.path',
    'root.path chroot: chroot .: operation not permitted',
    {
      syscall: 'chroot',
      errnoName: 'EPERM',
    },
  )
})

t.test('enterRoot errors name root.path', async (t) => {
  const cases: [string, Parameters<FakeSys['failOn']>, string, boolean?][] = [
    ['pivot_root', ['pivotRoot', {}, 'EINVAL'], 'root.path pivot_root: pivot_root . to .: invalid argument'],
    ['opening the old root', ['openat', { path: '/' }, 'EMFILE'], 'root.path pivot_root: open /: too many open files'],
    [
      'opening the new root',
      ['openat', { path: ROOTFS }, 'ENOENT'],
      `root.path pivot_root: open ${ROOTFS}: no such file or directory`,
    ],
    ['fchdir', ['fchdir', { display: ROOTFS }, 'EACCES'], `root.path pivot_root: fchdir ${ROOTFS}: permission denied`],
    ['detaching the old root', ['umount2', {}, 'EBUSY'], 'root.path pivot_root: umount2 .: device or resource busy'],
    [
      'no-pivot: the move',
      ['mount', { flags: C.MS_MOVE }, 'EINVAL'],
      `root.path no-pivot: mount ${ROOTFS} to / (flags=MS_MOVE): invalid argument`,
      true,
    ],
    ['no-pivot: chroot', ['chroot', {}, 'EPERM'], 'root.path no-pivot: chroot .: operation not permitted', true],
  ]
  for (const [name, fail, message, noPivot] of cases) {
    t.test(name, async (t) => {
      const c = context(fakeHost(), spec([]), { noPivot: noPivot ?? false })
      prepareRoot(c)
      c.sys.failOn(...fail)
      checkStep(
        t,
        stepError(t, () => enterRoot(c)),
        'root.path',
        message,
        {
          syscall: message.split(': ')[1]!.split(' ')[0]!,
          errnoName: fail[2],
        },
      )
      t.same(c.sys.openFds(), [], 'every fd closed')
    })
  }
})

t.test('finalizeRoot: /dev and the root remounted read-only, locked flags kept', async (t) => {
  const s = spec([{ destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'ro'] }], {}, {
    path: 'rootfs',
    readonly: true,
  } as RootfsInput['root'])
  const c = context(fakeHost({ mounts: [{ ...HOST_MOUNTS[0]!, flags: C.MS_NOSUID | C.MS_NODEV }] }), s)
  build(c)
  t.same(c.sys.mountLog().slice(-2), ['none /dev - MS_RDONLY|MS_REMOUNT|MS_BIND', 'none / - MS_RDONLY|MS_REMOUNT|MS_BIND'])
  t.ok(c.sys.mountTable().includes(`${ROOTFS} ext4 /dev/vda1 MS_RDONLY`), 'the root mount is read-only')

  const locked = context(fakeHost({ mounts: [{ ...HOST_MOUNTS[0]!, flags: C.MS_NOSUID | C.MS_NODEV }] }), s)
  locked.sys.failOn('mount', { target: '/', flags: C.MS_RDONLY | C.MS_REMOUNT | C.MS_BIND }, 'EPERM')
  build(locked)
  t.same(locked.sys.mountLog().slice(-2), [
    'none / - MS_RDONLY|MS_REMOUNT|MS_BIND -> EPERM',
    'none / - MS_RDONLY|MS_NOSUID|MS_NODEV|MS_REMOUNT|MS_BIND',
  ])
})

t.test('finalizeRoot errors name /dev and root.readonly', async (t) => {
  const s = spec([{ destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['ro'] }], {}, {
    path: 'rootfs',
    readonly: true,
  } as RootfsInput['root'])
  const ro = C.MS_RDONLY | C.MS_REMOUNT | C.MS_BIND
  for (const [target, field, message] of [
    ['/dev', '/dev', '/dev remount ro: mount none to /dev (flags=MS_RDONLY|MS_REMOUNT|MS_BIND): operation not permitted'],
    ['/', 'root.readonly', 'root.readonly: mount none to / (flags=MS_RDONLY|MS_REMOUNT|MS_BIND): operation not permitted'],
  ]) {
    const c = context(fakeHost(), s)
    c.sys.failOn('mount', { target, flags: ro }, 'EPERM').failOn('mount', { target, flags: ro }, 'EPERM')
    checkStep(
      t,
      stepError(t, () => build(c)),
      field!,
      message!,
      { syscall: 'mount', errnoName: 'EPERM' },
    )
  }
})

t.test("runc's default spec, built end to end over the fake", async (t) => {
  const c = context(fakeHost(), defaultSpec() as RootfsInput)
  build(c)
  t.same(c.sys.where(), { root: ROOTFS, cwd: ROOTFS })
  t.same(c.sys.openFds(), [], 'no fd left open')
  t.same(c.warnings, [])
  t.equal(c.sys.calls.filter((x) => x.error && x.error !== 'ENOENT').length, 0, 'no failure but the expected ENOENTs')
  t.equal(c.sys.mountLog().at(-1), 'none / - MS_RDONLY|MS_REMOUNT|MS_BIND', 'the root is made read-only last')
})

// ---- console --------------------------------------------------------------------------------

t.test('consoleTarget: a symlink at /dev/console is replaced by an empty file', async (t) => {
  const fake = fakeHost({ rootfs: { dev: { console: link('/etc/shadow') }, etc: { shadow: 'secret' } } })
  const root = InRoot.open(fake, ROOTFS)
  const fd = consoleTarget(fake, root)
  t.match(fake.peek(R('/dev/console')), { kind: 'file', mode: C.S_IFREG | (0o600 & ~0o022) })
  t.equal(fake.peek(R('/etc/shadow'))?.content, 'secret')
  t.same(fake.openFds(), [root.rootfd, fd])
})

t.test('consoleTarget refuses /dev on procfs, and what is neither a file nor a device', async (t) => {
  const fake = fakeHost({ rootfs: { proc: {}, dev: link('/proc') } })
  fake.mount('proc', R('/proc'), 'proc', 0, null)
  const root = InRoot.open(fake, ROOTFS)
  t.match(
    thrown(() => consoleTarget(fake, root)),
    { syscall: 'open', errnoName: 'EPERM', path: '/dev/console' },
  )
  t.same(fake.openFds(), [root.rootfd])
  const dirs = fakeHost({ rootfs: { dev: { console: {} } } })
  const root2 = InRoot.open(dirs, ROOTFS)
  t.match(
    thrown(() => consoleTarget(dirs, root2)),
    { errnoName: 'EINVAL', message: 'open /dev/console: not a file or a device' },
  )
  t.same(dirs.openFds(), [root2.rootfd])
})

t.test('setupConsole: the master is sent, the slave bound on /dev/console and returned', async (t) => {
  const fake = fakeHost({ rootfs: { dev: { pts: { ptmx: chr(5, 2) } } } })
  const root = InRoot.open(fake, ROOTFS)
  const sock = fake.fdFor('/run/console.sock')
  const slave = setupConsole(fake, root, { socketFd: sock, size: { height: 24, width: 80 }, bindConsole: true })
  const [send] = fake.callsOf('sendFds')
  t.match(send, { sock, data: '/dev/ptmx' })
  t.match(fake.callsOf('ioctl'), [{ request: 0x5441, what: 'ioctl TIOCGPTPEER' }])
  t.match(fake.mountLog(), [`/proc/self/fd/${slave} /dev/console bind MS_BIND`])
  t.same(fake.openFds(), [root.rootfd, slave], 'master and socket closed, the slave kept')
  useConsole(fake, slave, { newSession: true, controlling: true })
  t.same(
    fake.calls.slice(-6).map((x) => x.op),
    ['setsid', 'dup2', 'dup2', 'dup2', 'close', 'ioctl'],
  )
})

t.test('setupConsole errors close the master, the socket and the slave', async (t) => {
  for (const [name, fail, errnoName] of [
    ['binding /dev/console', ['mount', { display: '/dev/console' }, 'EPERM'], 'EPERM'],
    ['sending the master', ['sendFds', {}, 'EPIPE'], 'EPIPE'],
    ['the window size', ['ioctlBuf', { what: 'ioctl TIOCSWINSZ' }, 'EINVAL'], 'EINVAL'],
  ] as const) {
    const fake = fakeHost({ rootfs: { dev: { pts: { ptmx: chr(5, 2) } } } })
    const root = InRoot.open(fake, ROOTFS)
    const sock = fake.fdFor('/run/console.sock')
    fake.failOn(...(fail as unknown as Parameters<FakeSys['failOn']>))
    t.match(
      thrown(() => setupConsole(fake, root, { socketFd: sock, size: { height: 1, width: 1 }, bindConsole: true })),
      { errnoName },
      name,
    )
    t.same(fake.openFds(), [root.rootfd], `${name}: nothing left open`)
  }
  const notPty = fakeHost({ rootfs: { dev: { pts: { ptmx: 'a file' } } } })
  const root = InRoot.open(notPty, ROOTFS)
  const sock = notPty.fdFor('/run/console.sock')
  t.match(
    thrown(() => setupConsole(notPty, root, { socketFd: sock, bindConsole: false })),
    {
      message: 'open /dev/pts/ptmx: not the pty multiplexor (char 5:2)',
    },
  )
  t.same(notPty.callsOf('sendFds'), [], 'nothing sent')
  t.same(notPty.openFds(), [root.rootfd])
})

// ---- failures once swallowed, leaked or thrown in place of the first --------------------------

t.test('prepareRoot: an unreadable mountinfo is a root.path error', async (t) => {
  const c = context(fakeHost(), spec([]))
  c.sys.failOn('readFile', { path: '/proc/self/mountinfo' }, 'EACCES')
  checkStep(
    t,
    stepError(t, () => prepareRoot(c)),
    'root.path',
    'root.path: open /proc/self/mountinfo: permission denied',
    {
      syscall: 'open',
      errnoName: 'EACCES',
    },
  )
})

t.test('cgroup v1: failing to read a host link or to make one is an error, not "no such controller"', async (t) => {
  const cases: [string, Parameters<FakeSys['failOn']>, string][] = [
    [
      'lstat of the host link',
      ['lstat', { path: '/sys/fs/cgroup/cpu' }, 'EACCES'],
      'lstat /sys/fs/cgroup/cpu: permission denied',
    ],
    ['the link', ['symlinkat', { path: 'cpuacct' }, 'EROFS'], 'symlink /sys/fs/cgroup/cpuacct: read-only file system'],
    [
      'opening the directory',
      ['openat2', { display: '/sys/fs/cgroup', flags: C.O_PATH }, 'EMFILE'],
      'openat2 /sys/fs/cgroup: too many open files',
    ],
  ]
  for (const [name, fail, cause] of cases) {
    t.test(name, async (t) => {
      const c = context(v1Host(), cgroupV1, { cgroupns: false })
      const root = openRoot(t, c)
      c.sys.failOn(...fail)
      checkStep(
        t,
        stepError(t, () => mountAll(c, root)),
        'mounts[0]',
        `mounts[0] /sys/fs/cgroup: ${cause}`,
        {
          syscall: cause.split(' ')[0]!,
          errnoName: fail[2],
        },
      )
      t.same(c.sys.pendingFailures(), [], 'the failure was reached')
      t.same(c.sys.openFds(), [root.rootfd], 'every fd closed')
    })
  }
})

t.test('tmpcopyup: a cleanup that fails is attached to the first error, never thrown instead', async (t) => {
  const s = spec([{ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] }])
  const TMP = '/tmp/runt-tmpcopyup-000001'
  const copyFailure =
    /^mounts\[0\] \/etc: copyfile \/proc\/self\/fd\/\d+\/hosts to \/tmp\/runt-tmpcopyup-000001\/hosts: no space left on device$/

  t.test('rmdir of the temporary directory', async (t) => {
    const c = context(fakeHost(), s)
    const root = openRoot(t, c)
    c.sys.failOn('copyFile', {}, 'ENOSPC').failOn('unlinkat', { path: TMP }, 'EBUSY')
    const e = stepError(t, () => mountAll(c, root))
    checkStep(t, e, 'mounts[0]', copyFailure, { syscall: 'copyfile', errnoName: 'ENOSPC' })
    t.match((e.cause as SysError).cleanup, [{ syscall: 'unlink', errnoName: 'EBUSY', path: TMP }])
    t.same(c.sys.pendingFailures(), [])
    t.same(c.sys.openFds(), [root.rootfd])

    const back = fromWire(JSON.parse(JSON.stringify(toWire(e)))) as StepError
    t.equal(back.message, e.message, 'across the sync socket')
    t.match((back.cause as SysError).cleanup, [{ name: 'SysError', message: `unlink ${TMP}: device or resource busy` }])
  })
  t.test('umount2 of the tmpfs, then the rmdir it makes fail', async (t) => {
    const c = context(fakeHost(), s)
    const root = openRoot(t, c)
    c.sys.failOn('copyFile', {}, 'ENOSPC').failOn('umount2', {}, 'ENOMEM')
    const e = stepError(t, () => mountAll(c, root))
    checkStep(t, e, 'mounts[0]', copyFailure, { syscall: 'copyfile', errnoName: 'ENOSPC' })
    const cleanup = (e.cause as SysError).cleanup
    t.match(cleanup?.[0], { syscall: 'umount2', errnoName: 'ENOMEM', path: TMP })
    t.match(cleanup?.[1], { syscall: 'unlink', errnoName: 'EBUSY' }, 'rmdir is still tried, its failure kept too')
    t.equal(cleanup?.length, 2)
    t.same(c.sys.openFds(), [root.rootfd])
  })
  t.test('rmdir failing after a success is the error', async (t) => {
    const c = context(fakeHost(), s)
    const root = openRoot(t, c)
    c.sys.failOn('unlinkat', { path: TMP }, 'EBUSY')
    checkStep(
      t,
      stepError(t, () => mountAll(c, root)),
      'mounts[0]',
      `mounts[0] /etc: unlink ${TMP}: device or resource busy`,
      {
        syscall: 'unlink',
        errnoName: 'EBUSY',
      },
    )
  })
  t.test('umount2 failing after a success, other than EINVAL, is the error', async (t) => {
    const c = context(fakeHost(), s)
    const root = openRoot(t, c)
    c.sys.failOn('umount2', {}, 'EPERM')
    const e = stepError(t, () => mountAll(c, root))
    checkStep(t, e, 'mounts[0]', `mounts[0] /etc: umount2 ${TMP}: operation not permitted`, {
      syscall: 'umount2',
      errnoName: 'EPERM',
    })
    t.equal((e.cause as SysError).cleanup, undefined, 'the rmdir after it succeeds')
    t.same(c.sys.ls('/tmp'), [])
  })
})

t.test('internal failures are RuntimeErrors with a code', async (t) => {
  const idmap = context(
    fakeHost(),
    spec([{ destination: '/mnt/d', type: 'bind', source: '/src/dir', options: ['rbind', 'idmap'] }]),
  )
  t.match(
    thrown(() => mountAll(idmap, openRoot(t, idmap))),
    { code: 'EIDMAP', cause: { name: 'RuntimeError' } },
  )
  const cg = context(fakeHost({ mounts: HOST_MOUNTS.slice(0, 2) }), cgroupV1, { cgroupns: false })
  t.match(
    thrown(() => mountAll(cg, openRoot(t, cg))),
    { code: 'ECGROUP', cause: { name: 'RuntimeError' } },
  )
  const fake = fakeHost()
  const root = InRoot.open(fake, ROOTFS)
  const outside = fake.openat(C.AT_FDCWD, '/src', C.O_PATH)
  t.match(
    thrown(() => root.containerPathOf(outside)),
    {
      name: 'RuntimeError',
      code: 'EOUTSIDEROOT',
      message: `path /src resolved outside the rootfs ${ROOTFS}`,
    },
  )
})

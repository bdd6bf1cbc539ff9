import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { SysError } from '../../../src/errors.js'
import { InRoot, fdPath, joinPath, splitPath } from '../../../src/rootfs/in-root.js'
import { linux } from '../../../src/sys/linux.js'
import * as C from '../../../src/sys/constants.js'

/**
 * A hostile rootfs next to an `outside` directory. Each symlink, followed on the host, leads out
 * of the rootfs; followed inside it (RESOLVE_IN_ROOT), it stays in.
 */
function hostile(t: Test) {
  const dir = t.testdir({
    outside: { sentinel: 'do not touch' },
    rootfs: {
      srv: {},
      'file.txt': 'a regular file',
      adir: { inner: 'x' },
      etc: t.fixture('symlink', '/etc'), // absolute: on the host, the host's /etc
      data: t.fixture('symlink', '/srv/data'), // absolute, dangling inside, absent on the host
      up: t.fixture('symlink', '../outside'), // the host's <testdir>/outside
      deep: t.fixture('symlink', 'adir/../../../../../../../../../../outside'), // the host's /outside
      dangling: t.fixture('symlink', '/../../outside/x'), // the host's /outside/x
      dfile: t.fixture('symlink', '../outside/newfile'),
      loop1: t.fixture('symlink', 'loop2'),
      loop2: t.fixture('symlink', '/loop1'),
    },
  })
  const real = fs.realpathSync(dir)
  const rootfs = path.join(real, 'rootfs')
  const outside = path.join(real, 'outside')
  const ir = InRoot.open(linux, rootfs)
  t.teardown(() => ir.close())
  // Host paths a resolver that escaped would have touched.
  const unique = `runt-in-root-test-${process.pid}`
  t.equal(fs.existsSync('/outside'), false, 'precondition: no /outside on the host')
  t.equal(fs.existsSync('/srv/data'), false, 'precondition: no /srv/data on the host')
  const untouched = () => {
    t.same(fs.readdirSync(outside), ['sentinel'], `${outside} untouched`)
    t.equal(fs.existsSync('/outside'), false, '/outside not created')
    t.equal(fs.existsSync('/srv/data'), false, '/srv/data not created')
    t.equal(fs.existsSync(`/etc/${unique}`), false, `/etc/${unique} not created`)
  }
  t.teardown(() => {
    // If a resolver did escape, do not leave the mess on the host.
    fs.rmSync(`/etc/${unique}`, { recursive: true, force: true })
  })
  return { ir, rootfs, outside, unique, untouched }
}

/** Run, close the fd it returns, and give the container path it pointed at. */
function where(ir: InRoot, fd: number): string {
  try {
    return ir.containerPathOf(fd)
  } finally {
    linux.close(fd)
  }
}

function sysErr(fn: () => unknown): SysError {
  try {
    fn()
  } catch (e) {
    if (e instanceof SysError) return e
    throw e
  }
  throw new Error('no error thrown')
}

t.test('splitPath', async (t) => {
  t.same(splitPath('/a//b/./c'), ['a', 'b', 'c'])
  t.same(splitPath('/'), [])
  t.same(splitPath(''), [])
  t.same(splitPath('.'), [])
  t.same(splitPath('a/b/'), ['a', 'b'])
  t.same(splitPath('/../a/../b'), ['..', 'a', '..', 'b'], '".." is kept for the kernel to clamp')
  t.same(splitPath('/.../..a'), ['...', '..a'])
})

t.test('joinPath', async (t) => {
  t.equal(joinPath('/a', 'b'), '/a/b')
  t.equal(joinPath('/a/', 'b'), '/a/b')
  t.equal(joinPath('/', 'b/c'), '/b/c')
  t.equal(joinPath('/a', ''), '/a')
  t.equal(joinPath('/a', '../../x'), '/a/../../x', 'lexical, no cleaning')
  t.equal(joinPath('', 'x'), '/x')
})

t.test('fdPath', async (t) => {
  t.equal(fdPath(7), '/proc/self/fd/7')
})

t.test('open resolves every symlink inside the root', async (t) => {
  const { ir, rootfs, untouched } = hostile(t)
  t.equal(where(ir, ir.open('/')), '/')
  t.equal(where(ir, ir.open('')), '/')
  t.equal(where(ir, ir.open('/../../..')), '/', '.. at the root stays at the root')
  t.equal(where(ir, ir.open('/adir/inner')), '/adir/inner')
  t.equal(where(ir, ir.open('adir/../file.txt')), '/file.txt')
  fs.mkdirSync(path.join(rootfs, 'outside'))
  t.equal(where(ir, ir.open('/up')), '/outside', 'a relative ../ link is clamped at the root')
  t.equal(where(ir, ir.open('/deep')), '/outside')
  fs.mkdirSync(path.join(rootfs, 'srv', 'data'))
  t.equal(where(ir, ir.open('/data')), '/srv/data', 'an absolute link is taken from the root')
  t.match(
    sysErr(() => ir.open('/dangling')),
    { syscall: 'openat2', errnoName: 'ENOENT', path: '/dangling' },
  )
  t.match(
    sysErr(() => ir.open('/etc/passwd')),
    { errnoName: 'ELOOP', path: '/etc/passwd' },
    '/etc -> /etc is itself',
  )
  t.match(
    sysErr(() => ir.open('/loop1')),
    { errnoName: 'ELOOP', path: '/loop1' },
  )
  t.match(
    sysErr(() => ir.open('/file.txt/x')),
    { errnoName: 'ENOTDIR' },
  )
  untouched()
})

t.test('open passes flags and mode: O_CREAT creates inside the root only', async (t) => {
  const { ir, rootfs, outside, untouched } = hostile(t)
  fs.mkdirSync(path.join(rootfs, 'outside'))
  const fd = ir.open('/up/created', C.O_CREAT | C.O_WRONLY, 0o600)
  t.equal(where(ir, fd), '/outside/created')
  t.equal(fs.statSync(path.join(rootfs, 'outside', 'created')).mode & 0o777, 0o600 & ~process.umask())
  t.equal(fs.existsSync(path.join(outside, 'created')), false)
  const w = ir.open('/dfile', C.O_CREAT | C.O_WRONLY, 0o644)
  linux.write(w, Buffer.from('hi'))
  linux.close(w)
  t.equal(fs.readFileSync(path.join(rootfs, 'outside', 'newfile'), 'utf8'), 'hi', 'a dangling link creates its target inside')
  untouched()
})

t.test('containerPathOf', async (t) => {
  const { ir, rootfs, outside } = hostile(t)
  t.equal(where(ir, ir.open('/adir')), '/adir')
  const fd = fs.openSync(outside, 'r')
  t.throws(() => ir.containerPathOf(fd), { message: `path ${outside} resolved outside the rootfs ${rootfs}` })
  fs.closeSync(fd)
  const sibling = fs.openSync(rootfs + '-not', 'w')
  t.throws(
    () => ir.containerPathOf(sibling),
    { message: `path ${rootfs}-not resolved outside the rootfs ${rootfs}` },
    'a name prefix is not a parent',
  )
  fs.closeSync(sibling)
  t.equal(ir.rootfd > 2, true)
})

t.test('a root of "/" maps host paths to themselves', async (t) => {
  const ir = InRoot.open(linux, '/')
  t.teardown(() => ir.close())
  t.equal(where(ir, ir.open('/')), '/')
  t.equal(where(ir, ir.open('/proc/self')), `/proc/${process.pid}`, '/proc/self is a plain symlink, not a magic one')
  t.match(
    sysErr(() => ir.open('/proc/self/cwd')),
    { errnoName: 'ELOOP' },
    'magic links are refused',
  )
})

t.test('mkdirAll creates missing directories inside the root', async (t) => {
  const { ir, rootfs, untouched } = hostile(t)
  t.equal(where(ir, ir.mkdirAll('/a/b/c')), '/a/b/c')
  t.ok(fs.statSync(path.join(rootfs, 'a/b/c')).isDirectory())
  t.equal(fs.statSync(path.join(rootfs, 'a/b/c')).mode & 0o777, 0o755 & ~process.umask())
  t.equal(where(ir, ir.mkdirAll('/a/b/c')), '/a/b/c', 'again: nothing to do')
  t.equal(where(ir, ir.mkdirAll('//a/./b/../x/')), '/a/x')
  t.equal(where(ir, ir.mkdirAll('/')), '/')
  t.equal(where(ir, ir.mkdirAll('/../../../escaped')), '/escaped')
  t.ok(fs.statSync(path.join(rootfs, 'escaped')).isDirectory())
  t.equal(where(ir, ir.mkdirAll('/m', 0o700)), '/m')
  t.equal(fs.statSync(path.join(rootfs, 'm')).mode & 0o777, 0o700)
  untouched()
})

t.test('mkdirAll follows a ..-laden relative link inside the root', async (t) => {
  const { ir, rootfs, untouched } = hostile(t)
  t.equal(where(ir, ir.mkdirAll('/up/sub/dir')), '/outside/sub/dir')
  t.ok(fs.statSync(path.join(rootfs, 'outside/sub/dir')).isDirectory())
  t.equal(where(ir, ir.mkdirAll('/deep/other')), '/outside/other')
  t.equal(fs.lstatSync(path.join(rootfs, 'up')).isSymbolicLink(), true, 'the link itself is left alone')
  untouched()
})

t.test('mkdirAll: a dangling link gets its target created inside the root', async (t) => {
  const { ir, rootfs, untouched } = hostile(t)
  t.equal(where(ir, ir.mkdirAll('/dangling')), '/outside/x')
  t.ok(fs.statSync(path.join(rootfs, 'outside/x')).isDirectory())
  t.equal(where(ir, ir.mkdirAll('/dangling/more/dirs')), '/outside/x/more/dirs')
  t.equal(where(ir, ir.mkdirAll('/data/vol')), '/srv/data/vol', 'an absolute dangling link')
  t.ok(fs.statSync(path.join(rootfs, 'srv/data/vol')).isDirectory())
  untouched()
})

t.test('mkdirAll: a link to a dangling link', async (t) => {
  const { ir, rootfs, untouched } = hostile(t)
  fs.symlinkSync('/dangling/y', path.join(rootfs, 'chain'))
  t.equal(where(ir, ir.mkdirAll('/chain/z')), '/outside/x/y/z')
  untouched()
})

t.test('mkdirAll errors', async (t) => {
  const { ir, untouched } = hostile(t)
  t.match(
    sysErr(() => ir.mkdirAll('/etc/' + 'x')),
    { syscall: 'openat2', errnoName: 'ELOOP', path: '/etc' },
  )
  t.match(
    sysErr(() => ir.mkdirAll('/loop1/x')),
    { errnoName: 'ELOOP', path: '/loop1' },
  )
  t.match(
    sysErr(() => ir.mkdirAll('/file.txt')),
    { syscall: 'openat2', errnoName: 'ENOTDIR', path: '/file.txt' },
  )
  t.match(
    sysErr(() => ir.mkdirAll('/file.txt/sub')),
    { errnoName: 'ENOTDIR', path: '/file.txt' },
  )
  untouched()
})

t.test('mkdirAll does not create anything in the host /etc', async (t) => {
  const { ir, rootfs, unique, untouched } = hostile(t)
  // Without the self-referential /etc: a link to a host path under /etc that the rootfs lacks.
  fs.rmSync(path.join(rootfs, 'etc'))
  fs.symlinkSync('/etc/' + unique, path.join(rootfs, 'conf'))
  t.equal(where(ir, ir.mkdirAll('/conf/sub')), `/etc/${unique}/sub`)
  t.ok(fs.statSync(path.join(rootfs, 'etc', unique, 'sub')).isDirectory(), 'created in the rootfs')
  untouched()
})

t.test('ensureFile creates a regular file inside the root', async (t) => {
  const { ir, rootfs, outside, untouched } = hostile(t)
  t.equal(where(ir, ir.ensureFile('/new/dir/file')), '/new/dir/file')
  const st = fs.lstatSync(path.join(rootfs, 'new/dir/file'))
  t.ok(st.isFile())
  t.equal(st.size, 0)
  t.equal(st.mode & 0o777, 0o644 & ~process.umask())
  t.equal(where(ir, ir.ensureFile('/up/f', 0o600)), '/outside/f', 'through a ..-laden link')
  t.equal(fs.statSync(path.join(rootfs, 'outside/f')).mode & 0o777, 0o600)
  t.equal(fs.existsSync(path.join(outside, 'f')), false)
  t.equal(where(ir, ir.ensureFile('/dangling/f')), '/outside/x/f', 'the dangling parent is created inside')
  untouched()
})

t.test('ensureFile keeps what exists', async (t) => {
  const { ir, rootfs, untouched } = hostile(t)
  t.equal(where(ir, ir.ensureFile('/file.txt')), '/file.txt')
  t.equal(fs.readFileSync(path.join(rootfs, 'file.txt'), 'utf8'), 'a regular file', 'not truncated')
  t.equal(where(ir, ir.ensureFile('/adir')), '/adir', 'a directory is returned as is')
  t.equal(where(ir, ir.ensureFile('/')), '/')
  untouched()
})

t.test('ensureFile on a dangling link refuses rather than follow it', async (t) => {
  const { ir, rootfs, untouched } = hostile(t)
  // O_CREAT|O_EXCL|O_NOFOLLOW meets the link (EEXIST); the final open finds no target.
  t.match(
    sysErr(() => ir.ensureFile('/dfile')),
    { syscall: 'openat2', errnoName: 'ENOENT', path: '/dfile' },
  )
  t.equal(fs.existsSync(path.join(rootfs, 'outside')), false)
  untouched()
})

t.test('ensureFile errors', async (t) => {
  const { ir, untouched } = hostile(t)
  t.match(
    sysErr(() => ir.ensureFile('/missing/..')),
    { syscall: 'open', errnoName: 'EISDIR', path: '/missing/..' },
  )
  t.match(
    sysErr(() => ir.ensureFile('/etc/hosts')),
    { errnoName: 'ELOOP' },
  )
  t.match(
    sysErr(() => ir.ensureFile('/loop1')),
    { errnoName: 'ELOOP' },
  )
  t.match(
    sysErr(() => ir.ensureFile('/file.txt/x')),
    { errnoName: 'ENOTDIR' },
  )
  untouched()
})

t.test('InRoot.open on a missing rootfs', async (t) => {
  const dir = t.testdir()
  t.match(
    sysErr(() => InRoot.open(linux, path.join(dir, 'nope'))),
    { syscall: 'open', errnoName: 'ENOENT' },
  )
})

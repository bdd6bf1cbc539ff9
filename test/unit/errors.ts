import t from 'tap'
import { SysError, StepError, fromWire, toWire, SpecError } from '../../src/errors.js'

t.test('SysError message names syscall, path and errno text', async (t) => {
  const e = new SysError({
    syscall: 'mount',
    errno: 1,
    errnoName: 'EPERM',
    strerror: 'operation not permitted',
    path: 'proc',
    path2: '/proc',
    detail: { flags: 'MS_NOSUID' },
  })
  t.equal(e.message, 'mount proc to /proc (flags=MS_NOSUID): operation not permitted')
  t.equal(e.code, 'EPERM')
})

t.test('errors survive the wire', async (t) => {
  const inner = new SysError({ syscall: 'mkdir', errno: 13, errnoName: 'EACCES', strerror: 'permission denied', path: '/x' })
  const step = new StepError('mounts[3]', inner)
  const back = fromWire(JSON.parse(JSON.stringify(toWire(step))))
  t.ok(back instanceof StepError)
  t.equal(back.message, 'mounts[3]: mkdir /x: permission denied')
  t.ok((back as StepError).cause instanceof SysError)
  t.equal(((back as StepError).cause as SysError).errnoName, 'EACCES')
  const spec = fromWire(toWire(new SpecError([{ path: 'root', message: 'required' }])))
  t.ok(spec instanceof SpecError)
  t.same((spec as SpecError).issues, [{ path: 'root', message: 'required' }])
})

t.test('messages stay bounded whatever the input', async (t) => {
  const { SpecError: SE, bounded, SysError: Sys } = await import('../../src/errors.js')
  const many = Array.from({ length: 10000 }, (_, i) => ({
    path: `linux.namespaces[${i + 1}].type`,
    message: 'duplicated ns "pid"',
  }))
  const e = new SE(many)
  t.equal(e.message, 'invalid config.json: linux.namespaces[1].type: duplicated ns "pid" (and 9999 more like it)')
  const few = new SE([
    { path: 'a', message: 'x' },
    { path: 'b', message: 'x' },
    { path: 'c', message: 'y' },
  ])
  t.equal(few.message, 'invalid config.json: a: x; b: x; c: y', 'a fault on a few fields is said for each')
  const distinct = new SE(Array.from({ length: 30 }, (_, i) => ({ path: `f${i}`, message: `m${i}` })))
  t.match(distinct.message, /; f9: m9; and 20 more$/)
  const huge = 'h'.repeat(10_000_000)
  t.equal(bounded(huge, 10), 'hhhhhhhhhh... (10000000 characters)')
  const big = new SE([{ path: 'hostname', message: `expected at most 64 characters, got "${huge}"` }])
  t.ok(big.message.length < 1000, `a 10 MB value gives ${big.message.length} characters`)
  const sys = new Sys({
    syscall: 'sethostname',
    errno: 36,
    errnoName: 'ENAMETOOLONG',
    strerror: 'file name too long',
    path: huge,
  })
  t.ok(sys.message.length < 300, `a syscall error on a 10 MB name: ${sys.message.length} characters`)
})

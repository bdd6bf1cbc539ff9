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

import t from 'tap'
import { validProcess, withDefaultUser } from '../../../src/process/exec.js'
import { SpecError } from '../../../src/errors.js'

t.test('a process file without user runs as root, as runc reads it', async (t) => {
  t.same(validProcess({ args: ['true'], cwd: '/' }).user, { uid: 0, gid: 0 })
  t.same(validProcess({ args: ['true'], cwd: '/', user: null }).user, { uid: 0, gid: 0 })
  t.same(validProcess({ args: ['true'], cwd: '/', user: {} }).user, { uid: 0, gid: 0 })
  t.same(validProcess({ args: ['true'], cwd: '/', user: { uid: 7 } }).user, { uid: 7, gid: 0 })
  t.same(validProcess({ args: ['true'], cwd: '/', user: { gid: 9, additionalGids: [4] } }).user, {
    uid: 0,
    gid: 9,
    additionalGids: [4],
  })
})

t.test('a bad user is still refused with its field', async (t) => {
  t.throws(() => validProcess({ args: ['true'], cwd: '/', user: 'root' }), SpecError)
  t.throws(() => validProcess({ args: ['true'], cwd: '/', user: { uid: 'root' } }), /user\.uid/)
  t.throws(() => validProcess({ args: ['true'] }), /cwd/, 'cwd stays required, as in runc')
  t.same(withDefaultUser([1]), [1], 'non-objects pass through')
  t.equal(withDefaultUser(null), null)
})

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

t.test('ids outside a created user namespace maps are refused by field, before anything starts', async (t) => {
  const { processConfig } = await import('../../../src/process/create.js')
  const { defaultSpec } = await import('../../../src/spec/defaults.js')
  const { capSets } = await import('../../../src/confine/capabilities.js')
  const spec = defaultSpec({ rootless: true, euid: 1001, egid: 1002 })
  const caps = capSets(spec.process!.capabilities, 40).sets
  const run = (user: { uid: number; gid: number; additionalGids?: number[] }, s = spec) =>
    processConfig({ ...spec.process!, user }, s, { caps })
  t.equal(run({ uid: 0, gid: 0 }).uid, 0, 'mapped ids pass')
  t.throws(() => run({ uid: 1000, gid: 0 }), {
    message:
      'unable to setup user: cannot set uid to unmapped user in user namespace (process.user.uid 1000 is not in linux.uidMappings)',
  })
  t.throws(() => run({ uid: 0, gid: 5 }), { message: /process\.user\.gid 5 is not in linux\.gidMappings/ })
  t.throws(() => run({ uid: 0, gid: 0, additionalGids: [0, 9] }), { message: /process\.user\.additionalGids 9 is not/ })
  const joined = structuredClone(spec)
  joined.linux!.namespaces = joined.linux!.namespaces!.map((n) => (n.type === 'user' ? { ...n, path: '/proc/1/ns/user' } : n))
  t.equal(run({ uid: 1000, gid: 0 }, joined).uid, 1000, 'a joined user namespace: its maps are not known here')
  const none = defaultSpec({})
  t.equal(run({ uid: 1000, gid: 5 }, none).uid, 1000, 'no user namespace: any id')
})

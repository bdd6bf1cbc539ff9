// The default --root (runc's XDG rule), the XDG root made sticky, and file system errors in
// Go's words. Pure logic against a temp dir: no root needed.

import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { defaultRoot, ensureXdgRoot, xdgRoot } from '../../../src/cli/command.js'
import { describe } from '../../../src/cli/report.js'
import { RuntimeError } from '../../../src/errors.js'
import { thrown } from '../../fixtures/thrown.js'

const never = () => false
const always = () => true

t.test('--root defaults as runc chooses its own', async (t) => {
  const xdg = { XDG_RUNTIME_DIR: '/run/user/1000', USER: 'alice' }
  t.equal(defaultRoot(xdgRoot({ env: {}, euid: 0, inUserNs: never })), '/run/runt', 'root')
  t.equal(
    defaultRoot(xdgRoot({ env: { XDG_RUNTIME_DIR: '/run/user/0', USER: 'root' }, euid: 0, inUserNs: never })),
    '/run/runt',
    'root with a runtime dir',
  )
  t.equal(defaultRoot(xdgRoot({ env: xdg, euid: 1000, inUserNs: never })), '/run/user/1000/runt', 'an unprivileged user')
  t.equal(defaultRoot(xdgRoot({ env: { USER: 'alice' }, euid: 1000, inUserNs: never })), '/run/runt', 'no XDG_RUNTIME_DIR')
  t.equal(
    defaultRoot(xdgRoot({ env: xdg, euid: 0, inUserNs: always })),
    '/run/user/1000/runt',
    'root of a user namespace (rootless podman)',
  )
  t.equal(defaultRoot(xdgRoot({ env: { ...xdg, USER: 'root' }, euid: 0, inUserNs: always })), '/run/runt', 'unless USER is root')
  t.equal(defaultRoot(xdgRoot({ env: { XDG_RUNTIME_DIR: '/x' }, euid: 0, inUserNs: always })), '/x/runt', 'no USER at all')
  t.equal(defaultRoot(xdgRoot({ env: xdg, euid: 0, inUserNs: never })), '/run/runt', 'real root ignores XDG')
})

t.test('the XDG root is made, mode 0700 and sticky; any other root is left alone', async (t) => {
  const dir = t.testdir()
  const o = { env: { XDG_RUNTIME_DIR: dir }, euid: 1000, inUserNs: never }
  const root = xdgRoot(o)!
  t.equal(root, path.join(dir, 'runt'))
  ensureXdgRoot(root, xdgRoot(o))
  t.equal(fs.statSync(root).mode & 0o7777, 0o1700)
  fs.chmodSync(root, 0o755)
  ensureXdgRoot(root, xdgRoot(o))
  t.equal(fs.statSync(root).mode & 0o7777, 0o1700, 'put back on every command, as runc does')
  const other = path.join(dir, 'elsewhere')
  ensureXdgRoot(other, xdgRoot(o))
  t.notOk(fs.existsSync(other), '--root given: nothing made here')
})

t.test('file system errors read as Go words them (runc prints these)', async (t) => {
  const dir = t.testdir({ f: 'x' })
  t.equal(describe(thrown(() => fs.readdirSync(path.join(dir, 'none')))), `open ${dir}/none: no such file or directory`)
  t.equal(describe(thrown(() => fs.readFileSync(path.join(dir, 'none')))), `open ${dir}/none: no such file or directory`)
  t.equal(describe(thrown(() => fs.mkdirSync(path.join(dir, 'f')))), `mkdir ${dir}/f: file exists`)
  t.equal(describe(thrown(() => fs.rmdirSync(path.join(dir, 'f')))), `remove ${dir}/f: not a directory`)
  t.equal(
    describe(thrown(() => fs.renameSync(path.join(dir, 'none'), path.join(dir, 'g')))),
    `rename ${dir}/none ${dir}/g: no such file or directory`,
  )
  t.equal(describe(new RuntimeError('container does not exist', 'ENOTEXIST')), 'container does not exist')
  t.equal(describe(new Error('boom')), 'internal error: boom', 'a bug says so')
})

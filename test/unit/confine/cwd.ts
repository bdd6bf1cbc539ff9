// chdir as runc does it, and the walk that proves the cwd lies under our root. (Refusing a
// directory outside a chroot needs root: test/priv/escape/cve-2024-21626-leaked-fd.ts.)

import t from 'tap'
import { chdirAsRoot, chdirAsUser, verifyCwdInside } from '../../../src/confine/cwd.js'
import { SysError } from '../../../src/errors.js'
import { linux } from '../../../src/sys/linux.js'

const failing = (errnoName: string) => ({
  ...linux,
  chdir: () => {
    throw new SysError({
      syscall: 'chdir',
      errno: 1,
      errnoName,
      strerror: errnoName === 'ENOENT' ? 'no such file or directory' : 'permission denied',
      path: '/x',
    })
  },
})

t.test('chdir as root: a refusal is retried as the user, anything else is an error', async (t) => {
  t.equal(chdirAsRoot({ ...linux, chdir: () => {} }, '/x'), true)
  t.equal(chdirAsRoot(failing('EACCES'), '/x'), false)
  t.equal(chdirAsRoot(failing('EPERM'), '/x'), false)
  t.throws(() => chdirAsRoot(failing('ENOENT'), '/x'), {
    message: 'chdir to cwd ("/x") set in config.json failed: no such file or directory',
    code: 'ECWD',
  })
  t.throws(() => chdirAsUser(failing('EACCES'), '/x'), {
    message: 'chdir to cwd ("/x") set in config.json failed: permission denied',
  })
})

t.test('any cwd of a process without a chroot walks up to its root', async (t) => {
  t.doesNotThrow(() => verifyCwdInside(linux, process.cwd()))
})

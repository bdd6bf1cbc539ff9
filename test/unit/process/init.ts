import t from 'tap'
import { execDetail, lookPath } from '../../../src/process/init.js'

t.test('execDetail: the program and the calls made just before execve', async (t) => {
  t.equal(execDetail('/bin/sh', []), 'execve /bin/sh')
  t.equal(execDetail('/bin/sh', ['capset', 'seccomp']), 'execve /bin/sh (after the final capset and the seccomp filter load)')
  t.equal(execDetail('/bin/sh', ['seccomp', 'capset']), 'execve /bin/sh (after the seccomp filter load and the final capset)')
})

t.test('lookPath: a name with a slash as is, else $PATH', async (t) => {
  const have = new Set(['/usr/bin/x'])
  t.equal(
    lookPath('x', ['PATH=/bin:/usr/bin'], (p) => have.has(p)),
    '/usr/bin/x',
  )
  t.equal(
    lookPath('/usr/bin/x', [], (p) => have.has(p)),
    '/usr/bin/x',
  )
  t.throws(() => lookPath('y', ['PATH=/bin'], () => false), /executable file not found in \$PATH/)
})

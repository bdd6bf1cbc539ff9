import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { CloneChain } from '../../../src/sys/clone-chain.js'
import { linux } from '../../../src/sys/linux.js'
import * as C from '../../../src/sys/constants.js'

// Real children, but no namespaces (clone flags 0), so no privilege is needed.

/** waitpid(pid) -> the exit code, or a failed assertion for a signal. */
function waitExit(t: Test, pid: number): number {
  const [got, status] = linux.waitpid(pid, 0)
  t.equal(got, pid)
  t.equal(status & 0x7f, 0, 'exited, not killed')
  return (status >> 8) & 0xff
}

/** Everything in the pipe until every writer has closed it. */
function drain(fd: number): string {
  const chunks: Buffer[] = []
  const b = Buffer.alloc(4096)
  for (;;) {
    const n = fs.readSync(fd, b, 0, b.length, null)
    if (n === 0) return Buffer.concat(chunks).toString()
    chunks.push(Buffer.from(b.subarray(0, n)))
  }
}

function pipe(t: Test): [number, number] {
  const [r, w] = linux.pipe2(C.O_CLOEXEC)
  t.teardown(() => {
    linux.close(r)
    linux.close(w)
  })
  return [r, w]
}

t.test('describe lists the calls as given', async (t) => {
  const c = new CloneChain()
  t.teardown(() => c.release())
  c.call('write', 1, 'x', 1).call('execve', '/bin/true', null, null)
  t.same(c.describe(), [
    { fn: 'write', args: [1, 'x', 1] },
    { fn: 'execve', args: ['/bin/true', null, null] },
  ])
  const d = c.describe()
  d.pop()
  t.equal(c.describe().length, 2, 'a copy')
})

t.test('write then execve /bin/true: the pipe gets "x", the child exits 0', async (t) => {
  const [r, w] = pipe(t)
  linux.setCloexec(w, false)
  const c = new CloneChain()
  c.call('write', w, c.str('x'), 1)
  c.call('execve', '/bin/true', c.strArray(['true']), c.strArray([]))
  const pid = c.spawn(0)
  c.release()
  t.ok(pid > 0)
  t.equal(waitExit(t, pid), 0)
  linux.setCloexec(w, true)
  linux.close(w)
  t.equal(drain(r), 'x')
})

t.test('execve gets the argv and envp given', async (t) => {
  const [r, w] = pipe(t)
  const c = new CloneChain()
  // The shell prints to the pipe: stdout is the pipe's write end (dup2 in the chain).
  c.call('dup2', w, 1)
  c.call(
    'execve',
    '/bin/sh',
    c.strArray(['sh', '-c', 'printf "%s|%s|%s" "$0" "$1" "$GREETING"', 'zero', 'one']),
    c.strArray(['GREETING=hi there']),
  )
  const pid = c.spawn(0)
  c.release()
  t.equal(waitExit(t, pid), 0)
  linux.close(w)
  t.equal(drain(r), 'zero|one|hi there')
})

t.test('a failing execve falls through to _exit(127)', async (t) => {
  const [r, w] = pipe(t)
  linux.setCloexec(w, false)
  const c = new CloneChain()
  c.call('execve', '/nonexistent/runt-test', c.strArray(['x']), c.strArray([]))
  c.call('write', w, 'after', 5)
  const pid = c.spawn(0)
  c.release()
  t.equal(waitExit(t, pid), 127)
  linux.setCloexec(w, true)
  linux.close(w)
  t.equal(drain(r), 'after', 'the chain went on after the failed call (it cannot branch)')
})

t.test("the exit code is the chain's", async (t) => {
  const c = new CloneChain(3)
  const pid = c.spawn(0)
  c.release()
  t.equal(waitExit(t, pid), 3)
})

t.test('a negative int argument reaches the callee (AT_FDCWD with a relative path)', async (t) => {
  const dir = t.testdir()
  const rel = path.relative(process.cwd(), path.join(dir, 'made-by-child'))
  t.notOk(path.isAbsolute(rel))
  const c = new CloneChain(0)
  c.call('mkdirat', C.AT_FDCWD, rel, 0o700)
  const pid = c.spawn(0)
  c.release()
  t.equal(waitExit(t, pid), 0)
  t.ok(fs.statSync(path.join(dir, 'made-by-child')).isDirectory())
})

t.test('a nested chain, cloned with CLONE_PARENT, becomes our child too', async (t) => {
  const [r, w] = pipe(t)
  linux.setCloexec(w, false)
  const outer = new CloneChain(0)
  const n = outer.nested(5)
  n.chain.call('write', w, n.chain.str('inner '), 6)
  outer.call('clone', () => CloneChain.symbol('setcontext'), n.stackTop, C.CLONE_PARENT | C.SIGCHLD, n.entry)
  const pid = outer.spawn(0)
  outer.release()
  linux.setCloexec(w, true)
  linux.close(w)
  t.equal(drain(r), 'inner ')
  t.equal(waitExit(t, pid), 0)
  // The grandchild is ours to reap (CLONE_PARENT); it is the only other child of this process.
  const [other, status] = linux.waitpid(-1, 0)
  t.not(other, pid)
  t.equal(status & 0x7f, 0)
  t.equal((status >> 8) & 0xff, 5)
})

t.test('release frees once; a released chain can be released again', async (t) => {
  const c = new CloneChain()
  c.str('x')
  c.strArray(['a', 'b'])
  c.buffer(64)
  c.release()
  t.doesNotThrow(() => c.release())
})

t.test('an unknown libc function fails at build time, before any clone', async (t) => {
  const c = new CloneChain()
  t.teardown(() => c.release())
  c.call('no_such_function_in_libc')
  // koffi throws before ffi.symbol's own check ("libc has no symbol ...") is reached.
  t.throws(() => c.spawn(0), { message: /no_such_function_in_libc/ })
})

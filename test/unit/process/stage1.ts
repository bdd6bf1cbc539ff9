import t from 'tap'
import * as C from '../../../src/sys/constants.js'
import * as ffi from '../../../src/sys/ffi.js'
import { CloneChain, type ChainCall } from '../../../src/sys/clone-chain.js'
import { buildStage1, type Stage1Spec } from '../../../src/process/stage1.js'

// Nothing here is spawned: the chains are built and inspected as data.

const SEAL_FLAGS = C.MS_NOSUID | C.MS_NODEV
const spec = (extra: Partial<Stage1Spec> = {}): Stage1Spec => ({
  cloneFlags: C.CLONE_NEWNS | C.CLONE_NEWPID,
  seal: [{ path: '/usr/local/bin/runt', flags: SEAL_FLAGS }],
  chainJoins: [],
  timeEarly: false,
  becomeRoot: false,
  syncFd: 5,
  closeFds: [4, 9],
  inheritFds: [5, 7],
  exec: { path: '/proc/self/exe', argv: ['runt', 'init'], env: ['_RUNT_SYNC_FD=5', 'PATH=/usr/bin'] },
  ...extra,
})

/** A C string in malloc'd memory. */
function cStr(p: bigint): string {
  const bytes: number[] = []
  for (let i = 0n; ; i++) {
    const b = ffi.peekU8(p + i, 1)[0]!
    if (b === 0) return Buffer.from(bytes).toString('utf8')
    bytes.push(b)
  }
}

/** A NULL-terminated char*[] in malloc'd memory. */
function cStrArray(p: bigint): string[] {
  const out: string[] = []
  for (let i = 0n; ; i += 8n) {
    const q = ffi.peekU8(p + i, 8).readBigUInt64LE(0)
    if (q === 0n) return out
    out.push(cStr(q))
  }
}

/**
 * The calls with C memory decoded: the 'S' handshake string, the argv and envp arrays; the
 * read buffer is 'buf'; functions computed at build time are 'fn'.
 */
function decoded(calls: ChainCall[]): [string, ...unknown[]][] {
  return calls.map(({ fn, args }) => {
    const out = args.map((a, i) => {
      if (typeof a === 'function') return 'fn'
      if (typeof a !== 'bigint') return a
      if (fn === 'write' && i === 1) return cStr(a)
      if (fn === 'read' && i === 1) return 'buf'
      if (fn === 'execve') return cStrArray(a)
      return a
    })
    return [fn, ...out]
  })
}

/** Die with the parent, holding none of its fds. */
const DIE: [string, ...unknown[]][] = [
  ['prctl', C.PR_SET_PDEATHSIG, C.SIGKILL, 0, 0, 0],
  ['close', 4],
  ['close', 9],
]
const SEAL: [string, ...unknown[]][] = [
  ...DIE,
  ['mount', null, '/', null, C.MS_REC | C.MS_SLAVE, null],
  ['mount', '/usr/local/bin/runt', '/usr/local/bin/runt', null, C.MS_BIND, null],
  ['mount', null, '/usr/local/bin/runt', null, C.MS_REMOUNT | C.MS_BIND | C.MS_RDONLY | SEAL_FLAGS, null],
]
const HANDSHAKE: [string, ...unknown[]][] = [
  ['write', 5, 'S', 1],
  ['read', 5, 'buf', 1],
]
const EXEC: [string, ...unknown[]][] = [['execve', '/proc/self/exe', ['runt', 'init'], ['_RUNT_SYNC_FD=5', 'PATH=/usr/bin']]]
const BECOME_ROOT: [string, ...unknown[]][] = [
  ['syscall', C.SYS.setgroups, 0, 0],
  ['syscall', C.SYS.setresgid, 0, 0, 0],
  ['syscall', C.SYS.setresuid, 0, 0, 0],
]
/** Everything above stdio close-on-exec, then the flag cleared on the fds the init inherits. */
const keep = (...fds: number[]): [string, ...unknown[]][] => [
  ['syscall', C.SYS.close_range, 3, 0xffffffff, C.CLOSE_RANGE_CLOEXEC],
  ...fds.map((fd): [string, ...unknown[]] => ['fcntl', fd, C.F_SETFD, 0]),
]
/** The grandchild of the late path has a death signal of its own. */
const NESTED_DIE: [string, ...unknown[]] = ['prctl', C.PR_SET_PDEATHSIG, C.SIGKILL, 0, 0, 0]
const exitCode = (c: CloneChain) => (c as unknown as { exitCode: number }).exitCode

t.test('direct path: seal, keep fds, handshake, execve', async (t) => {
  const r = buildStage1(spec())
  t.teardown(() => r.chain.release())
  t.same(Object.keys(r), ['chain'], 'no nested chain')
  t.same(decoded(r.chain.describe()), [...SEAL, ...keep(5, 7), ...HANDSHAKE, ...EXEC])
  t.equal(exitCode(r.chain), 127, 'a failed execve exits 127')
})

t.test('direct path with every option: time join, user join, chain joins, timeEarly, becomeRoot', async (t) => {
  const r = buildStage1(
    spec({
      timeJoinFd: 11,
      userJoinFd: 12,
      chainJoins: [
        { fd: 13, nstype: C.CLONE_NEWNET },
        { fd: 14, nstype: C.CLONE_NEWIPC },
      ],
      timeEarly: true,
      becomeRoot: true,
      inheritFds: [],
    }),
  )
  t.teardown(() => r.chain.release())
  t.same(decoded(r.chain.describe()), [
    ...SEAL,
    ['setns', 11, C.CLONE_NEWTIME],
    ['setns', 12, C.CLONE_NEWUSER],
    ['syscall', C.SYS.setresgid, 0, 0, 0],
    ['syscall', C.SYS.setresuid, 0, 0, 0],
    ['setns', 13, C.CLONE_NEWNET],
    ['setns', 14, C.CLONE_NEWIPC],
    ['unshare', C.CLONE_NEWTIME],
    ...keep(),
    ...HANDSHAKE,
    ...BECOME_ROOT,
    ...EXEC,
  ])
})

t.test('becomeRoot alone: setgroups, setresgid, setresuid after the parent answered', async (t) => {
  const r = buildStage1(spec({ becomeRoot: true }))
  t.teardown(() => r.chain.release())
  const calls = decoded(r.chain.describe())
  t.same(calls.slice(-5), [['read', 5, 'buf', 1], ...BECOME_ROOT, ...EXEC])
})

t.test('timeEarly: unshare(CLONE_NEWTIME) before the fds and the handshake', async (t) => {
  const r = buildStage1(spec({ timeEarly: true, inheritFds: [9] }))
  t.teardown(() => r.chain.release())
  t.same(decoded(r.chain.describe()), [...SEAL, ['unshare', C.CLONE_NEWTIME], ...keep(9), ...HANDSHAKE, ...EXEC])
})

t.test("the cgroup namespace is not stage 1's: the init unshares it once in its cgroup", async (t) => {
  const r = buildStage1(spec({ becomeRoot: true, timeEarly: true, inheritFds: [] }))
  t.teardown(() => r.chain.release())
  const unshared = decoded(r.chain.describe()).filter((c) => c[0] === 'unshare')
  t.same(unshared, [['unshare', C.CLONE_NEWTIME]])
})

t.test('late path: join the user namespace, unshare the rest, clone pid 1 with CLONE_PARENT', async (t) => {
  const late = C.CLONE_NEWPID | C.CLONE_NEWIPC | C.CLONE_NEWUTS | C.CLONE_NEWNS
  const r = buildStage1(
    spec({
      cloneFlags: C.CLONE_NEWNS,
      userJoinFd: 12,
      lateUnshare: late,
      chainJoins: [{ fd: 13, nstype: C.CLONE_NEWNET }],
      timeEarly: true,
      inheritFds: [5],
    }),
  )
  t.teardown(() => r.chain.release())
  t.same(Object.keys(r).sort(), ['chain', 'nested'])
  t.same(decoded(r.chain.describe()), [
    ...SEAL,
    ['setns', 12, C.CLONE_NEWUSER],
    ['syscall', C.SYS.setresgid, 0, 0, 0],
    ['syscall', C.SYS.setresuid, 0, 0, 0],
    ['setns', 13, C.CLONE_NEWNET],
    ['unshare', late],
    ['clone', 'fn', 'fn', C.CLONE_PARENT | C.SIGCHLD, 'fn'],
  ])
  t.same(decoded(r.nested!.describe()), [NESTED_DIE, ['unshare', C.CLONE_NEWTIME], ...keep(5), ...HANDSHAKE, ...EXEC])
  t.equal(exitCode(r.chain), 0, 'the first child exits 0 once it has cloned pid 1')
  t.equal(exitCode(r.nested!), 127)

  // The clone's arguments are computed when the chain is built: setcontext, a stack, the
  // nested chain's first context.
  const clone = r.chain.describe().at(-1)!
  const [fn, stack, , entry] = clone.args as (() => bigint)[]
  t.equal(fn!(), ffi.symbol('setcontext'))
  t.equal(typeof stack!(), 'bigint')
  t.not(stack!(), 0n)
  const first = entry!()
  t.equal(typeof first, 'bigint')
  t.not(first, 0n)
})

t.test('late path with a time join and becomeRoot', async (t) => {
  const r = buildStage1(
    spec({ cloneFlags: C.CLONE_NEWNS, timeJoinFd: 3, lateUnshare: C.CLONE_NEWPID, becomeRoot: true, inheritFds: [] }),
  )
  t.teardown(() => r.chain.release())
  t.same(decoded(r.chain.describe()), [
    ...SEAL,
    ['setns', 3, C.CLONE_NEWTIME],
    ['unshare', C.CLONE_NEWPID],
    ['clone', 'fn', 'fn', C.CLONE_PARENT | C.SIGCHLD, 'fn'],
  ])
  t.same(decoded(r.nested!.describe()), [NESTED_DIE, ...keep(), ...HANDSHAKE, ...BECOME_ROOT, ...EXEC])
})

t.test('lateUnshare 0 still takes the late path', async (t) => {
  const r = buildStage1(spec({ lateUnshare: 0, inheritFds: [] }))
  t.teardown(() => r.chain.release())
  t.ok(r.nested)
  t.same(decoded(r.chain.describe()).slice(SEAL.length), [
    ['unshare', 0],
    ['clone', 'fn', 'fn', C.CLONE_PARENT | C.SIGCHLD, 'fn'],
  ])
})

t.test('userFirstFd (rootless exec): join the user namespace, become root, unshare the mount namespace, then seal', async (t) => {
  const r = buildStage1(
    spec({ cloneFlags: 0, userFirstFd: 11, lateUnshare: 0, chainJoins: [{ fd: 12, nstype: C.CLONE_NEWPID }] }),
  )
  t.teardown(() => r.chain.release())
  const calls = decoded(r.chain.describe())
  t.same(calls.slice(0, DIE.length + 4), [
    ...DIE,
    ['setns', 11, C.CLONE_NEWUSER],
    ['syscall', C.SYS.setresgid, 0, 0, 0],
    ['syscall', C.SYS.setresuid, 0, 0, 0],
    ['unshare', C.CLONE_NEWNS],
  ])
  t.same(calls.slice(DIE.length + 4, DIE.length + 7), SEAL.slice(DIE.length), 'the seal inside it')
  t.same(calls[DIE.length + 7], ['setns', 12, C.CLONE_NEWPID], 'the pid namespace for the init')
  t.ok(r.nested, 'the init is forked into it')
})

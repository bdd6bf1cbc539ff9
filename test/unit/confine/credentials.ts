// The init's executor of the credential steps against a recording fake: the order of
// prctl/setgroups/setresgid/setresuid/capset, the errors it tolerates, and the interim sets
// that keep a capability past the user switch.

import t from 'tap'
import { chownStdio, interimCaps, runCredSteps, stdioToChown } from '../../../src/confine/credentials.js'
import { credentialSteps, type CredInput } from '../../../src/confine/steps.js'
import { SysError } from '../../../src/errors.js'
import * as C from '../../../src/sys/constants.js'

function fake(fail: (name: string, args: unknown[]) => string | undefined = () => undefined) {
  const calls: string[] = []
  const rec =
    (name: string) =>
    (...args: unknown[]) => {
      calls.push(`${name}(${args.map(String).join(',')})`)
      const e = fail(name, args)
      if (e) throw new SysError({ syscall: name, errno: 1, errnoName: e, strerror: e.toLowerCase() })
      return 0
    }
  return {
    calls,
    sys: {
      prctl: rec('prctl'),
      setgroups: rec('setgroups'),
      setresgid: rec('setresgid'),
      setresuid: rec('setresuid'),
      capset: rec('capset'),
    },
  }
}

const plan = (over: Partial<CredInput> = {}): CredInput => ({
  uid: 1000,
  gid: 1000,
  additionalGids: [5, 20],
  setgroups: true,
  caps: { bounding: 0x20000420n, effective: 0x20n, permitted: 0x20n, inheritable: 0x20n, ambient: 0x20n },
  extra: 0n,
  lastCap: 40,
  lsmExec: false,
  noNewPrivileges: false,
  seccomp: false,
  ...over,
})
const none = () => {}
const dropBoundingSet = (sys: Parameters<typeof runCredSteps>[0], c: CredInput) =>
  runCredSteps(sys, credentialSteps(c).bounding, none)
const setUser = (sys: Parameters<typeof runCredSteps>[0], c: CredInput, setgroups: boolean) =>
  runCredSteps(sys, credentialSteps({ ...c, setgroups }).ids, none)
const applyCaps = (
  sys: Parameters<typeof runCredSteps>[0],
  caps: CredInput['caps'],
  lastCap: number,
  warn: (m: string) => void,
) => runCredSteps(sys, credentialSteps(plan({ caps, lastCap })).caps, warn)

t.test('bounding set: every known capability left out is dropped', async (t) => {
  const f = fake((n, a) => (n === 'prctl' && a[1] === 40 ? 'EINVAL' : undefined))
  dropBoundingSet(f.sys, plan())
  const dropped = f.calls.map((c) => Number(/prctl\(24,(\d+)/.exec(c)?.[1]))
  t.equal(dropped.length, 41 - 3, 'all but KILL, NET_BIND_SERVICE, AUDIT_WRITE')
  t.notOk(dropped.includes(5))
  t.ok(dropped.includes(21), 'CAP_SYS_ADMIN')
  t.ok(dropped.includes(40), 'EINVAL (a kernel without it) is not an error')
  const g = fake(() => 'EPERM')
  t.throws(() => dropBoundingSet(g.sys, plan()), { name: 'SysError' })
})

t.test('groups, gid, uid with keep-caps on, in that order', async (t) => {
  const f = fake()
  setUser(f.sys, plan(), true)
  t.same(f.calls, [`prctl(${C.PR_SET_KEEPCAPS},1)`, 'setgroups(5,20)', 'setresgid(1000,1000,1000)', 'setresuid(1000,1000,1000)'])
  const d = fake()
  t.throws(() => setUser(d.sys, plan(), false), {
    message: 'cannot set additional gids: setgroups is denied in this user namespace',
  })
  const e = fake()
  setUser(e.sys, plan({ additionalGids: [] }), false)
  t.same(e.calls, ['prctl(8,1)', 'setresgid(1000,1000,1000)', 'setresuid(1000,1000,1000)'], 'no setgroups where denied')
})

t.test('capset, keep-caps off, ambient cleared and raised', async (t) => {
  const f = fake()
  const warns: string[] = []
  applyCaps(f.sys, plan().caps, 40, (m) => warns.push(m))
  t.same(f.calls, ['capset(32,32,32)', 'prctl(8,0)', `prctl(47,4)`, 'prctl(47,2,5)'])
  t.same(warns, [])
  const g = fake((n, a) => (n === 'prctl' && a[1] === 2 ? 'EPERM' : undefined))
  applyCaps(g.sys, plan().caps, 40, (m) => warns.push(m))
  t.same(
    warns,
    ['process.capabilities.ambient: cannot raise CAP_KILL: prctl: eperm'],
    'a cap that cannot be raised is a warning (runc)',
  )
  const several = { ...plan().caps, ambient: (1n << 0n) | (1n << 5n) | (1n << 21n) }
  const w2: string[] = []
  applyCaps(g.sys, several, 40, (m) => w2.push(m))
  t.same(w2, ['process.capabilities.ambient: cannot raise CAP_KILL: prctl: eperm'], 'one warning for all that failed')
  t.same(
    credentialSteps(plan({ caps: several })).notes,
    ['process.capabilities.ambient: cannot raise CAP_CHOWN, CAP_SYS_ADMIN: not in permitted and inheritable'],
    'what cannot be raised is never tried, and named in one debug note',
  )
})

t.test('interim sets widen effective and permitted only', async (t) => {
  const final = plan().caps
  const i = interimCaps(final, 1n << 21n)
  t.equal(i.effective, 0x20n | (1n << 21n))
  t.equal(i.permitted, 0x20n | (1n << 21n))
  t.equal(i.inheritable, final.inheritable, 'inheritable never widened (CVE-2022-29162)')
  t.equal(i.ambient, final.ambient)
  t.equal(i.bounding, final.bounding)
})

t.test("stdio goes to the process's user, as runc's fixStdioPermissions", async (t) => {
  const CHR = 0o020000 | 0o620
  const pty = { mode: CHR, uid: 0, rdevMajor: 136, rdevMinor: 3 }
  const devNull = { mode: CHR | 0o666, uid: 0, rdevMajor: 1, rdevMinor: 3 }
  const pipe = { mode: 0o010000 | 0o600, uid: 0, rdevMajor: 0, rdevMinor: 0 }
  t.same(stdioToChown([pty, pty, pty], 1000), [0, 1, 2], 'a terminal')
  t.same(stdioToChown([devNull, pipe, pipe], 1000), [1, 2], 'not /dev/null')
  t.same(stdioToChown([null, { ...pipe, uid: 1000 }, pipe], 1000), [2], 'not a closed fd, nor one the user owns')
  t.same(stdioToChown([pty, devNull, pipe], 0), [], 'root owns them already')
  t.same(stdioToChown([pty, devNull, pipe], undefined), [0, 2], 'owners in another user namespace: all but /dev/null')

  const calls: string[] = []
  const sys = {
    fstat: (fd: number) => {
      if (fd === 0) throw new SysError({ syscall: 'statx', errno: 9, errnoName: 'EBADF', strerror: 'bad file descriptor' })
      return pty
    },
    fchown: (fd: number, uid: number, gid: number) => {
      calls.push(`fchown(${fd},${uid},${gid})`)
      if (fd === 2) throw new SysError({ syscall: 'fchown', errno: 1, errnoName: 'EPERM', strerror: 'operation not permitted' })
    },
  }
  chownStdio(sys, 1000)
  t.same(calls, ['fchown(1,1000,4294967295)', 'fchown(2,1000,4294967295)'], 'uid only; EPERM is not an error')
  const broken = {
    ...sys,
    fchown: () => {
      throw new SysError({ syscall: 'fchown', errno: 5, errnoName: 'EIO', strerror: 'i/o' })
    },
  }
  t.throws(() => chownStdio(broken, 1000), { code: 'EIO' }, 'anything else is')
})

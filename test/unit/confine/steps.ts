// The one ordered list of the user switch and the lockdown (confine/steps.ts), which both the
// init and the exec process's chain follow: runc's order, the final capset before or after the
// seccomp filter as no_new_privs decides, and the two executors in step.

import t from 'tap'
import { credentialSteps, type CredInput } from '../../../src/confine/steps.js'
import { CloneChain } from '../../../src/sys/clone-chain.js'
import { chainSteps } from '../../../src/process/exec-process.js'
import * as C from '../../../src/sys/constants.js'

const caps = { bounding: 0x20n, effective: 0x20n, permitted: 0x20n, inheritable: 0x20n, ambient: 0x20n }
const input = (over: Partial<CredInput> = {}): CredInput => ({
  uid: 1000,
  gid: 100,
  additionalGids: [5],
  setgroups: true,
  caps,
  extra: 0n,
  lastCap: 6,
  lsmExec: false,
  noNewPrivileges: true,
  seccomp: true,
  ...over,
})
const ops = (steps: { op: string }[]) => steps.map((s) => s.op)
const all = (s: ReturnType<typeof credentialSteps>) => [...s.bounding, ...s.ids, ...s.caps, ...s.binds, ...s.final]

t.test("runc's order: bounding, keep-caps, groups, gid, uid, capset, ambient, binds, lockdown", async (t) => {
  const s = credentialSteps(input({ personality: 8, lsmExec: true }))
  t.same(
    s.bounding.map((x) => (x as { bit: number }).bit),
    [0, 1, 2, 3, 4, 6],
    'every capability but CAP_KILL dropped from the bounding set',
  )
  t.same(ops(s.ids), ['keepcaps', 'setgroups', 'setresgid', 'setresuid'])
  t.same(ops(s.caps), ['capset', 'keepcaps', 'ambient-clear', 'ambient-raise'])
  t.same(ops(s.binds), ['personality', 'lsm-exec', 'no-new-privs'])
  t.same(ops(s.final), ['seccomp'], 'no capability held beyond the configured sets: no second capset')
  t.same(s.notes, [])
})

t.test('without no_new_privs the filter needs CAP_SYS_ADMIN: the final capset follows it', async (t) => {
  const admin = 1n << 21n
  const s = credentialSteps(input({ noNewPrivileges: false, extra: admin }))
  t.same(ops(s.final), ['seccomp', 'capset'])
  const interim = s.caps[0] as { sets: typeof caps }
  t.equal(interim.sets.effective, caps.effective | admin, 'held in effective until the filter is loaded')
  t.equal(interim.sets.inheritable, caps.inheritable, 'never in inheritable (CVE-2022-29162)')
  t.same((s.final[1] as { sets: typeof caps }).sets, caps, 'then exactly the configured sets')
})

t.test('a capability held for another step is dropped before the filter', async (t) => {
  const nice = 1n << 23n
  t.same(ops(credentialSteps(input({ extra: nice })).final), ['capset', 'seccomp'])
  t.same(ops(credentialSteps(input({ extra: nice, seccomp: false })).final), ['capset'])
  t.same(ops(credentialSteps(input({ seccomp: false })).final), [])
})

t.test('setgroups denied: no setgroups, or an error when groups were asked for', async (t) => {
  t.same(ops(credentialSteps(input({ setgroups: false, additionalGids: [] })).ids), ['keepcaps', 'setresgid', 'setresuid'])
  t.throws(() => credentialSteps(input({ setgroups: false })), {
    message: 'cannot set additional gids: setgroups is denied in this user namespace',
    code: 'EUSER',
  })
})

t.test("the exec process's chain makes one call per step, in the same order", async (t) => {
  const s = credentialSteps(input({ personality: 8, noNewPrivileges: false, extra: 1n << 21n }))
  const chain = new CloneChain()
  t.teardown(() => chain.release())
  const filter = { flags: 0, program: { fprog: Buffer.alloc(16) } }
  chainSteps(chain, all(s), { filter } as never, 3)
  const calls = chain.describe().map((c) => {
    if (c.fn === 'prctl') return `prctl ${c.args[0]}${c.args[0] === C.PR_CAP_AMBIENT ? ` ${c.args[1]}` : ''}`
    if (c.fn === 'syscall') return `syscall ${c.args[0]}`
    return c.fn
  })
  const expected = all(s).map((x) => {
    switch (x.op) {
      case 'capbset-drop':
        return `prctl ${C.PR_CAPBSET_DROP}`
      case 'keepcaps':
        return `prctl ${C.PR_SET_KEEPCAPS}`
      case 'ambient-clear':
        return `prctl ${C.PR_CAP_AMBIENT} ${C.PR_CAP_AMBIENT_CLEAR_ALL}`
      case 'ambient-raise':
        return `prctl ${C.PR_CAP_AMBIENT} ${C.PR_CAP_AMBIENT_RAISE}`
      case 'no-new-privs':
        return `prctl ${C.PR_SET_NO_NEW_PRIVS}`
      default:
        return `syscall ${{ setgroups: C.SYS.setgroups, setresgid: C.SYS.setresgid, setresuid: C.SYS.setresuid, capset: C.SYS.capset, personality: C.SYS.personality, seccomp: C.SYS.seccomp }[x.op as 'capset']}`
    }
  })
  t.same(calls, expected)
})

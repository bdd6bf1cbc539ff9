// linux.seccomp -> SeccompPlan: action values, operators, flags, architectures and the rules
// runc would add. Pure.

import t from 'tap'
import { actionValue, archName, FILTER_FLAG, planSeccomp, ruleConditions, SCMP_ACT } from '../../../src/confine/seccomp.js'

const same = (p: string) => p

t.test('every action, with errnoRet folded in', async (t) => {
  t.equal(actionValue('SCMP_ACT_KILL', undefined), 0x00000000, 'KILL is KILL_THREAD, as in runc')
  t.equal(actionValue('SCMP_ACT_KILL_THREAD', undefined), 0x00000000)
  t.equal(actionValue('SCMP_ACT_KILL_PROCESS', undefined), 0x80000000)
  t.equal(actionValue('SCMP_ACT_TRAP', undefined), 0x00030000)
  t.equal(actionValue('SCMP_ACT_ERRNO', undefined), 0x00050001, 'EPERM when errnoRet is absent')
  t.equal(actionValue('SCMP_ACT_ERRNO', 38), 0x00050026)
  t.equal(actionValue('SCMP_ACT_ERRNO', 0), 0x00050000, 'errnoRet 0 is kept: the call "succeeds"')
  t.equal(actionValue('SCMP_ACT_TRACE', undefined), 0x7ff00001)
  t.equal(actionValue('SCMP_ACT_TRACE', 7), 0x7ff00007)
  t.equal(actionValue('SCMP_ACT_LOG', undefined), 0x7ffc0000)
  t.equal(actionValue('SCMP_ACT_ALLOW', undefined), 0x7fff0000)
  t.equal(actionValue('SCMP_ACT_NOTIFY', undefined), 0x7fc00000)
  t.throws(() => actionValue('SCMP_ACT_MAYBE', undefined))
})

t.test('architectures by libseccomp name', async (t) => {
  t.equal(archName('SCMP_ARCH_X86_64'), 'x86_64')
  t.equal(archName('SCMP_ARCH_X86'), 'x86')
  t.equal(archName('SCMP_ARCH_MIPSEL64N32'), 'mipsel64n32')
})

t.test('conditions: each operator, 64-bit values exact', async (t) => {
  const ops = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ']
  ops.forEach((op, i) => {
    t.same(ruleConditions([{ index: i % 6, value: 3, op }]), [[{ arg: i % 6, op: i + 1, a: '3', b: '0' }]], op)
  })
  t.same(
    ruleConditions([{ index: 0, value: 2 ** 64, valueTwo: 2 ** 32 + 4, op: 'SCMP_CMP_MASKED_EQ' }]),
    [[{ arg: 0, op: 7, a: '18446744073709551615', b: '4294967300' }]],
    'JSON rounds 2^64-1 up to 2^64: read back as the full mask',
  )
  t.same(ruleConditions(undefined), [[]], 'no args: one unconditional rule')
})

t.test('conditions on distinct args AND; a repeated arg splits into ORed rules (runc)', async (t) => {
  t.same(
    ruleConditions([
      { index: 0, value: 1, op: 'SCMP_CMP_EQ' },
      { index: 1, value: 2, op: 'SCMP_CMP_NE' },
    ]),
    [
      [
        { arg: 0, op: 4, a: '1', b: '0' },
        { arg: 1, op: 1, a: '2', b: '0' },
      ],
    ],
  )
  t.same(
    ruleConditions([
      { index: 0, value: 0, op: 'SCMP_CMP_EQ' },
      { index: 0, value: 8, op: 'SCMP_CMP_EQ' },
    ]),
    [[{ arg: 0, op: 4, a: '0', b: '0' }], [{ arg: 0, op: 4, a: '8', b: '0' }]],
  )
})

t.test('a plan: default action, flags, rules, skipped duplicates of the default', async (t) => {
  const r = planSeccomp(
    {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
      flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC'],
      syscalls: [
        { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
        { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
        { names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }] },
      ],
    },
    same,
  )
  t.same(r.issues, [])
  t.same(r.warnings, [])
  t.equal(r.plan.defaultAction, 0x00050026)
  t.same(r.plan.architectures, [
    { name: 'x86_64', field: 'linux.seccomp.architectures[0]' },
    { name: 'x86', field: 'linux.seccomp.architectures[1]' },
  ])
  t.equal(r.plan.flags, FILTER_FLAG.LOG | FILTER_FLAG.SPEC_ALLOW | FILTER_FLAG.TSYNC)
  t.same(
    r.plan.rules.map((x) => [x.field, x.names, x.action]),
    [
      ['linux.seccomp.syscalls[0]', ['read', 'write'], SCMP_ACT.ALLOW],
      ['linux.seccomp.syscalls[2]', ['kill'], 0x00050001],
    ],
    'syscalls[1] repeats the default action (libseccomp would refuse it): dropped',
  )
  t.equal(r.plan.notify, false)
  t.equal(r.plan.optimize, false)
})

t.test('runc turns on the binary tree past 32 syscall entries', async (t) => {
  const syscalls = Array.from({ length: 33 }, (_, i) => ({ names: [`s${i}`], action: 'SCMP_ACT_ALLOW' }))
  t.equal(planSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', syscalls }, same).plan.optimize, true)
  t.equal(planSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: syscalls.slice(1) }, same).plan.optimize, false)
})

t.test('notify: a listener, its metadata, the path made absolute', async (t) => {
  const r = planSeccomp(
    {
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: 'agent.sock',
      listenerMetadata: 'm',
      flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }],
    },
    (p) => '/run/x/' + p,
  )
  t.same(r.issues, [])
  t.equal(r.plan.notify, true)
  t.equal(r.plan.listenerPath, '/run/x/agent.sock')
  t.equal(r.plan.listenerMetadata, 'm')
  t.equal(r.plan.flags, FILTER_FLAG.WAIT_KILLABLE_RECV)
})

t.test('notify cannot be the default, nor catch the sendmsg runt hands the fd over with', async (t) => {
  const r = planSeccomp(
    {
      defaultAction: 'SCMP_ACT_NOTIFY',
      listenerPath: '/a',
      syscalls: [{ names: ['openat', 'sendmsg', 'write', 'capset'], action: 'SCMP_ACT_NOTIFY' }],
    },
    same,
  )
  t.same(r.issues, [
    {
      path: 'linux.seccomp.defaultAction',
      message: 'SCMP_ACT_NOTIFY cannot be used as default action',
    },
    { path: 'linux.seccomp.syscalls[0].names[1]', message: 'SCMP_ACT_NOTIFY cannot be used for the sendmsg syscall' },
    { path: 'linux.seccomp.syscalls[0].names[2]', message: 'SCMP_ACT_NOTIFY cannot be used for the write syscall' },
  ])
  const noNnp = planSeccomp(
    { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/x', syscalls: [{ names: ['capset'], action: 'SCMP_ACT_NOTIFY' }] },
    same,
    false,
  )
  t.same(
    noNnp.issues,
    [
      {
        path: 'linux.seccomp.syscalls[0].names[0]',
        message: 'SCMP_ACT_NOTIFY cannot be used for the capset syscall without process.noNewPrivileges',
      },
    ],
    'capset follows the load without no_new_privs',
  )
  const noPath = planSeccomp(
    { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] },
    same,
  )
  t.same(noPath.issues, [{ path: 'linux.seccomp.listenerPath', message: 'required with SCMP_ACT_NOTIFY' }])
})

t.test('WAIT_KILLABLE_RECV without a notify rule is dropped with a warning', async (t) => {
  const r = planSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }, same)
  t.equal(r.plan.flags, 0)
  t.same(r.warnings, ['linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs a SCMP_ACT_NOTIFY rule; ignored'])
})

t.test('a listener without a notify rule is not used, with a warning', async (t) => {
  const r = planSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock', listenerMetadata: 'm' }, same)
  t.same(r.issues, [])
  t.equal(r.plan.listenerPath, undefined)
  t.same(r.warnings, ['linux.seccomp.listenerPath: no SCMP_ACT_NOTIFY rule, so no listener is connected; ignored'])
})

t.test('errno values that do not fit and empty names', async (t) => {
  const r = planSeccomp(
    {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 70000,
      syscalls: [{ names: ['mkdir', ''], action: 'SCMP_ACT_ERRNO', errnoRet: 65536 }],
    },
    same,
  )
  t.same(r.issues, [
    { path: 'linux.seccomp.defaultErrnoRet', message: 'expected integer from 0 to 65535, got 70000' },
    { path: 'linux.seccomp.syscalls[0].errnoRet', message: 'expected integer from 0 to 65535, got 65536' },
    { path: 'linux.seccomp.syscalls[0].names[1]', message: 'empty string is not a valid syscall' },
  ])
})

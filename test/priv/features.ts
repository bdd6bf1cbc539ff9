// `runt features` is valid JSON and what it claims, runt does: every seccomp action and
// operator it lists loads in a real container, idmap mounts are covered by test/priv/rootfs.ts.

import t from 'tap'
import { makeBundle, priv, Runt } from '../fixtures/runt.js'

t.test('features: valid JSON whose seccomp claims hold', priv(), async (t) => {
  const runt = new Runt(t)
  const r = runt.ok(['features'])
  const d = JSON.parse(r.stdout)
  t.ok(d.linux.seccomp.enabled)
  // One container per action: a rule on a syscall busybox never makes (acct), default allow.
  for (const action of d.linux.seccomp.actions as string[]) {
    const b = makeBundle(t, ['true'], (c) => {
      c.linux!.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: ['SCMP_ARCH_X86_64'],
        syscalls: [{ names: ['acct'], action: action as 'SCMP_ACT_ERRNO' }],
      }
      if (action === 'SCMP_ACT_NOTIFY') c.linux!.seccomp.listenerPath = '/nonexistent/listener'
    })
    const out = runt.run(['run', '--bundle', b.dir, runt.id()])
    if (action === 'SCMP_ACT_NOTIFY') t.match(out.stderr, /listener/, 'NOTIFY is accepted and needs its listener')
    else t.equal(out.status, 0, `${action}: ${out.stderr}`)
  }
  const b = makeBundle(t, ['true'], (c) => {
    c.linux!.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: (d.linux.seccomp.operators as string[]).map((op) => ({
        names: ['acct'],
        action: 'SCMP_ACT_ERRNO' as const,
        args: [{ index: 0, value: 1, valueTwo: 1, op: op as 'SCMP_CMP_EQ' }],
      })),
    }
  })
  t.equal(runt.run(['run', '--bundle', b.dir, runt.id()]).status, 0, 'every operator loads')
})

// planConfinement: process.* and linux.* confinement fields checked and encoded on the host,
// with host facts passed in (no probing).

import t from 'tap'
import { planConfinement } from '../../../src/confine/plan.js'
import type { ConfineHost } from '../../../src/confine/host.js'
import type { Spec } from '../../../src/spec/schema.js'

const host = (over: Partial<ConfineHost> = {}): ConfineHost => ({
  apparmor: false,
  selinux: false,
  cwd: '/srv',
  isHostNs: () => false,
  memoryNodes: [0],
  ...over,
})

const spec = (edit: (s: Spec) => void = () => {}): Spec => {
  const s: Spec = {
    ociVersion: '1.3.0',
    process: { user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/' },
    root: { path: 'rootfs' },
    linux: { namespaces: [{ type: 'mount' }, { type: 'ipc' }, { type: 'network' }, { type: 'uts' }] },
  }
  edit(s)
  return s
}

const issues = (s: Spec, h = host()): { path: string; message: string }[] => {
  try {
    planConfinement(s, h)
  } catch (e) {
    return (e as { issues: { path: string; message: string }[] }).issues
  }
  return []
}

t.test('nothing asked, nothing planned', async (t) => {
  t.same(planConfinement(spec(), host()), { rlimits: [], warnings: [] })
  t.same(planConfinement({ ociVersion: '1.3.0' } as Spec, host()), { rlimits: [], warnings: [] })
})

t.test('rlimits: every RLIMIT_*, exact 64-bit values (duplicates and soft > hard: spec/validate.ts)', async (t) => {
  const p = planConfinement(
    spec((s) => {
      s.process!.rlimits = [
        { type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 },
        { type: 'RLIMIT_CORE', soft: 2 ** 64, hard: 2 ** 64 },
        { type: 'RLIMIT_RTTIME', soft: 1, hard: 2 },
      ]
    }),
    host(),
  )
  t.same(p.rlimits, [
    { type: 'RLIMIT_NOFILE', resource: 7, soft: '1024', hard: '4096', field: 'process.rlimits[0]' },
    { type: 'RLIMIT_CORE', resource: 4, soft: '18446744073709551615', hard: '18446744073709551615', field: 'process.rlimits[1]' },
    { type: 'RLIMIT_RTTIME', resource: 15, soft: '1', hard: '2', field: 'process.rlimits[2]' },
  ])
})

t.test('oomScoreAdj, scheduler, ioPriority, execCPUAffinity, personality', async (t) => {
  const p = planConfinement(
    spec((s) => {
      s.process!.oomScoreAdj = -500
      s.process!.scheduler = { policy: 'SCHED_FIFO', priority: 10, flags: ['SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_RECLAIM'] }
      s.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 6 }
      s.process!.execCPUAffinity = { initial: '0-1', final: '1' }
      s.linux!.personality = { domain: 'LINUX32' }
    }),
    host(),
  )
  t.equal(p.oomScoreAdj, -500)
  t.same(p.scheduler, {
    policy: 'SCHED_FIFO',
    policyNumber: 1,
    flags: 3,
    nice: 0,
    priority: 10,
    runtime: '0',
    deadline: '0',
    period: '0',
  })
  t.same(p.ioPriority, { class: 'IOPRIO_CLASS_BE', priority: 6, value: (2 << 13) | 6 })
  t.same(p.cpuAffinity, { initial: [0, 1], final: [1] })
  t.same(p.personality, { domain: 'LINUX32', persona: 8 })
  t.same(p.warnings, [])
  t.same(issues(spec((s) => (s.process!.execCPUAffinity = { final: '1,x' }))), [
    { path: 'process.execCPUAffinity.final', message: 'invalid cpu list "1,x": bad element "x"' },
  ])
  const w = planConfinement(
    spec((s) => (s.linux!.personality = { domain: 'LINUX', flags: ['X'] })),
    host(),
  )
  t.same(w.warnings, ['linux.personality.flags: the spec defines no personality flags; ignored'])
})

t.test('LSMs: applied where enabled; refused or said in the log where not, as runc does', async (t) => {
  const aa = spec((s) => (s.process!.apparmorProfile = 'runt-test'))
  t.equal(planConfinement(aa, host({ apparmor: true })).apparmorProfile, 'runt-test')
  t.same(issues(aa), [
    {
      path: 'process.apparmorProfile',
      message: 'AppArmor is not enabled on this host, so profile "runt-test" cannot be applied',
    },
  ])
  const unconfined = planConfinement(
    spec((s) => (s.process!.apparmorProfile = 'unconfined')),
    host(),
  )
  t.equal(unconfined.apparmorProfile, undefined)
  t.same(unconfined.warnings, ['process.apparmorProfile: AppArmor is not enabled on this host; "unconfined" is what it gets'])

  const se = spec((s) => (s.process!.selinuxLabel = 'system_u:system_r:container_t:s0'))
  t.equal(planConfinement(se, host({ selinux: true })).selinuxLabel, 'system_u:system_r:container_t:s0')
  t.same(issues(se), [
    { path: 'process.selinuxLabel', message: 'selinux label is specified in config, but selinux is disabled or not supported' },
  ])

  const ml = spec((s) => (s.linux!.mountLabel = 'system_u:object_r:container_file_t:s0'))
  t.same(planConfinement(ml, host({ selinux: true })).warnings, [])
  t.same(planConfinement(ml, host()).warnings, [
    'linux.mountLabel: SELinux is not enabled on this host; mount label "system_u:object_r:container_file_t:s0" not applied',
  ])
})

t.test('sysctl is checked against the namespaces', async (t) => {
  t.same(issues(spec((s) => (s.linux!.sysctl = { 'kernel.shmmax': '1', 'net.ipv4.ip_forward': '1' }))), [])
  t.same(
    issues(
      spec((s) => {
        s.linux!.sysctl = { 'vm.swappiness': '1' }
      }),
    ),
    [{ path: 'linux.sysctl["vm.swappiness"]', message: 'sysctl "vm.swappiness" is not in a separate kernel namespace' }],
  )
  const hostNet = spec((s) => {
    s.linux!.namespaces = [{ type: 'mount' }, { type: 'network', path: '/proc/1/ns/net' }]
    s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' }
  })
  t.equal(issues(hostNet, host({ isHostNs: (type) => type === 'network' })).length, 1)
  t.same(issues(hostNet, host()), [], "another namespace joined by path is the container's")
})

t.test('seccomp: planned, with listenerPath taken from the runtime cwd', async (t) => {
  const p = planConfinement(
    spec((s) => {
      s.linux!.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        listenerPath: 'agent.sock',
        syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }],
      }
    }),
    host(),
  )
  t.equal(p.seccomp?.listenerPath, '/srv/agent.sock')
  t.equal(p.seccomp?.notify, true)
  t.same(issues(spec((s) => (s.linux!.seccomp = { defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/a' }))), [
    {
      path: 'linux.seccomp.defaultAction',
      message: 'SCMP_ACT_NOTIFY cannot be used as default action',
    },
  ])
})

t.test('all issues at once, as one SpecError', async (t) => {
  t.throws(
    () =>
      planConfinement(
        spec((s) => {
          s.process!.selinuxLabel = 'x'
          s.linux!.sysctl = { 'kernel.core_pattern': 'core' }
        }),
        host(),
      ),
    {
      name: 'SpecError',
      message:
        'invalid config.json: process.selinuxLabel: selinux label is specified in config, but selinux is disabled or not supported; linux.sysctl["kernel.core_pattern"]: sysctl "kernel.core_pattern" is not in a separate kernel namespace',
    },
  )
})

t.test('linux.memoryPolicy: planned with the host memory nodes, refusals named', async (t) => {
  const p = planConfinement(
    spec((s) => (s.linux!.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0-1', flags: ['MPOL_F_STATIC_NODES'] })),
    host({ memoryNodes: [0, 1] }),
  )
  t.same(p.memoryPolicy, { mode: 'MPOL_BIND', flags: ['MPOL_F_STATIC_NODES'], value: 2 | 0x8000, nodes: [0, 1] })
  t.same(issues(spec((s) => (s.linux!.memoryPolicy = { mode: 'MPOL_BIND', nodes: '5' }))), [
    {
      path: 'linux.memoryPolicy.nodes',
      message: "node 5 does not exist or have no memory on this host (this host's nodes with memory are 0)",
    },
  ])
  const warned = planConfinement(
    spec((s) => (s.linux!.memoryPolicy = { mode: 'MPOL_PREFERRED', nodes: '0-1' })),
    host({ memoryNodes: [0, 1] }),
  )
  t.match(warned.warnings, [/MPOL_PREFERRED prefers node 0 only/])
  let read = 0
  const counting = host()
  Object.defineProperty(counting, 'memoryNodes', { get: () => (read++, [0]) })
  planConfinement(spec(), counting)
  t.equal(read, 0, 'the host nodes are read only when a policy is asked for')
})

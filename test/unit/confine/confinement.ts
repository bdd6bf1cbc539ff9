// The confinement order as built, against a recording fake of the syscalls: what happens
// before the user switch, at it, after start, and last (capset and seccomp in the order the
// no_new_privs setting requires).

import t from 'tap'
import { Confinement, type ConfineSys } from '../../../src/confine/confinement.js'
import { planConfinement } from '../../../src/confine/plan.js'
import { capSets } from '../../../src/confine/capabilities.js'
import { confineCalls } from '../../../src/sys/ffi-confine.js'
import { linux } from '../../../src/sys/linux.js'
import type { InitConfig } from '../../../src/process/init-config.js'
import type { Spec } from '../../../src/spec/schema.js'

const host = { apparmor: false, selinux: false, cwd: '/', isHostNs: () => false, memoryNodes: [0] }

function config(edit: (s: Spec) => void, over: Partial<InitConfig> = {}): InitConfig {
  const s: Spec = {
    ociVersion: '1.3.0',
    process: {
      user: { uid: 1000, gid: 1000, additionalGids: [5] },
      args: ['sh'],
      cwd: '/',
      capabilities: {
        bounding: ['CAP_KILL'],
        effective: ['CAP_KILL'],
        permitted: ['CAP_KILL'],
        inheritable: ['CAP_KILL'],
        ambient: ['CAP_KILL'],
      },
      noNewPrivileges: true,
    },
    linux: { namespaces: [{ type: 'mount' }] },
  }
  edit(s)
  const p = s.process!
  return {
    mode: 'create',
    id: 'c1',
    bundle: '/b',
    rootfs: '/b/rootfs',
    process: {
      args: p.args!,
      env: [],
      cwd: p.cwd,
      uid: p.user.uid,
      gid: p.user.gid,
      additionalGids: p.user.additionalGids ?? [],
      terminal: false,
      caps: capSets(p.capabilities, 40).sets,
      noNewPrivileges: p.noNewPrivileges === true,
      confine: planConfinement(s, host),
    },
    joined: [],
    created: [],
    cgroupns: false,
    sysctl: {},
    hooks: { createContainer: [], startContainer: [], runtime: false },
    state: { ociVersion: '1.3.0', id: 'c1', bundle: '/b' },
    extraFds: 0,
    noNewKeyring: false,
    lastCap: 40,
    reportExec: false,
    debug: false,
    ...over,
  }
}

/** Records calls; the calls that need a real kernel object (memfd, BPF copy, fds) are real. */
function fake() {
  const calls: string[] = []
  const rec =
    (name: string, ret: unknown = 0) =>
    (...args: unknown[]) => {
      const show = (a: unknown) =>
        Buffer.isBuffer(a) ? 'buf' : Array.isArray(a) ? `[${a.join(',')}]` : typeof a === 'object' && a ? 'obj' : String(a)
      calls.push(`${name}(${args.map(show).join(',')})`)
      return ret
    }
  const sys = {
    ...linux,
    ...confineCalls,
    prctl: rec('prctl'),
    setgroups: rec('setgroups'),
    setresgid: rec('setresgid'),
    setresuid: rec('setresuid'),
    capset: rec('capset'),
    chdir: rec('chdir'),
    prlimit: rec('prlimit'),
    prlimitGet: (r: number) => (calls.push(`prlimitGet(${r})`), [1024n, 1024n]),
    schedSetaffinity: rec('sched_setaffinity'),
    schedSetattr: rec('sched_setattr'),
    ioprioSet: rec('ioprio_set'),
    personality: rec('personality'),
    setMempolicy: (mode: number, mask: Buffer, maxnode: number, detail: Record<string, string>) =>
      calls.push(`set_mempolicy(${mode},${mask.readBigUInt64LE(0)},${maxnode},${detail.mode},${detail.nodes})`),
    joinSessionKeyring: rec('join_session_keyring', 77),
    describeKey: rec('describe_key', 'keyring;0;0;3f030000;_ses.c1'),
    setKeyPerm: rec('setperm'),
    seccompLoad: rec('seccomp', 0),
  } as unknown as ConfineSys
  return { calls, sys }
}

/** The run of one phase, without the 38 bounding-set drops. */
const phase = (calls: string[], fn: () => void) => {
  const from = calls.length
  fn()
  return calls.slice(from).filter((c) => !c.startsWith('prctl(24,'))
}

const SYS_ADMIN = 1n << 21n
const KILL = 1n << 5n

t.test('a non-root user, no_new_privs, seccomp: the whole order', async (t) => {
  const { calls, sys } = fake()
  const cfg = config((s) => {
    s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 2048 }]
    s.process!.scheduler = { policy: 'SCHED_BATCH', nice: 5 }
    s.process!.ioPriority = { class: 'IOPRIO_CLASS_IDLE', priority: 0 }
    s.process!.execCPUAffinity = { initial: '0', final: '0' }
    s.linux!.personality = { domain: 'LINUX32' }
    s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] }
  })
  const c = new Confinement(cfg, sys, () => {})
  t.same(
    phase(calls, () => c.preload()),
    ['sched_setaffinity(buf)'],
    'preload: initial affinity (the filter is built, not loaded)',
  )
  t.same(
    phase(calls, () => c.privileged()),
    [
      'join_session_keyring(_ses.c1)',
      'describe_key(77)',
      `setperm(77,${0x3f030000 | 0x80000})`,
      'prlimitGet(7)',
      'prlimit(7,1024,2048,RLIMIT_NOFILE)',
    ],
    'keyring (user-searchable), then the hard limit raised while privileged',
  )
  const interim = KILL | (1n << 23n) // CAP_SYS_NICE kept for the scheduler
  t.same(
    phase(calls, () => c.switchUser()),
    [
      'chdir(/)',
      'prctl(8,1)',
      'setgroups([5])',
      'setresgid(1000,1000,1000)',
      'setresuid(1000,1000,1000)',
      `capset(${interim},${interim},${KILL})`,
      'prctl(8,0)',
      'prctl(47,4)',
      'prctl(47,2,5)',
    ],
    'cwd as root, keep-caps, groups, gid, uid, interim capset, ambient',
  )
  const umask = process.umask()
  t.same(
    phase(calls, () => c.late()),
    ['sched_setaffinity(buf)', 'sched_setattr(buf)', `ioprio_set(1,${3 << 13})`, 'personality(8)', 'prctl(38,1)'],
    'after start: affinity, scheduler, I/O priority, personality, no_new_privs',
  )
  process.umask(umask)
  t.same(
    phase(calls, () => c.lockdown(42)),
    ['prlimit(7,100,2048,RLIMIT_NOFILE)', `capset(${KILL},${KILL},${KILL})`, 'seccomp(obj,0)'],
    'with no_new_privs: the rlimits (as late as they can be), the final capset, then the filter last',
  )
})

t.test('without no_new_privs, CAP_SYS_ADMIN is held until the filter is loaded', async (t) => {
  const { calls, sys } = fake()
  const cfg = config((s) => {
    s.process!.noNewPrivileges = false
    s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] }
  })
  const c = new Confinement(cfg, sys, () => {})
  c.preload()
  c.privileged()
  const sw = phase(calls, () => c.switchUser())
  t.ok(sw.includes(`capset(${KILL | SYS_ADMIN},${KILL | SYS_ADMIN},${KILL})`), 'interim sets hold CAP_SYS_ADMIN')
  t.notOk(phase(calls, () => c.late()).includes('prctl(38,1)'), 'no no_new_privs')
  t.same(
    phase(calls, () => c.lockdown(42)),
    ['seccomp(obj,0)', `capset(${KILL},${KILL},${KILL})`],
    'filter first, then the final capset',
  )
})

t.test('a root process that keeps CAP_SYS_ADMIN needs no interim sets', async (t) => {
  const { calls, sys } = fake()
  const all = ['CAP_SYS_ADMIN', 'CAP_KILL']
  const cfg = config((s) => {
    s.process!.user = { uid: 0, gid: 0 }
    s.process!.noNewPrivileges = false
    s.process!.capabilities = { bounding: all, effective: all, permitted: all }
    s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] }
  })
  const c = new Confinement(cfg, sys, () => {})
  c.preload()
  const sw = phase(calls, () => c.switchUser())
  t.ok(sw.includes(`capset(${KILL | SYS_ADMIN},${KILL | SYS_ADMIN},0)`))
  t.same(
    phase(calls, () => c.lockdown(1)),
    ['seccomp(obj,0)'],
    'execve is the only call after the filter',
  )
})

t.test('--no-new-keyring and a user namespace', async (t) => {
  const a = fake()
  new Confinement(
    config(() => {}, { noNewKeyring: true }),
    a.sys,
    () => {},
  ).privileged()
  t.same(a.calls, [], 'no keyring')
  const b = fake()
  const userns = config(() => {}, { created: [{ type: 'user', proc: 'user', ino: 1, dev: 1 }] })
  new Confinement(userns, b.sys, () => {}).privileged()
  t.same(b.calls.slice(-1), [`setperm(77,${0x3f030000 | 0x8})`], 'other-search in a user namespace (runc)')
})

t.test('warnings of the plan are said at preload', async (t) => {
  const { sys } = fake()
  const logs: string[] = []
  new Confinement(
    config((s) => (s.linux!.personality = { domain: 'LINUX', flags: ['x'] })),
    sys,
    (l, m) => logs.push(`${l}: ${m}`),
  ).preload()
  t.same(logs, ['warning: linux.personality.flags: the spec defines no personality flags; ignored'])
})

t.test('the memory policy: one set_mempolicy with mode | flags, the nodemask and maxnode', async (t) => {
  const { calls, sys } = fake()
  const c = new Confinement(
    config((s) => (s.linux!.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] })),
    sys,
    () => {},
  )
  c.preload()
  t.same(
    phase(calls, () => c.memoryPolicy()),
    [`set_mempolicy(${2 | 0x8000},1,1025,MPOL_BIND|MPOL_F_STATIC_NODES,0)`],
  )
  const none = fake()
  new Confinement(
    config(() => {}),
    none.sys,
    () => {},
  ).memoryPolicy()
  t.same(none.calls, [], 'no policy asked: no call (the default stays)')
  const failing = fake()
  failing.sys.setMempolicy = () => {
    throw new Error('set_mempolicy (mode=MPOL_BIND, nodes=0): Invalid argument')
  }
  t.throws(
    () =>
      new Confinement(
        config((s) => (s.linux!.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0' })),
        failing.sys,
        () => {},
      ).memoryPolicy(),
    { message: 'linux.memoryPolicy: set_mempolicy (mode=MPOL_BIND, nodes=0): Invalid argument' },
  )
})

// Confinement of the container process, read from inside real containers: the five capability
// sets, no_new_privs, uid/gid/groups/umask, rlimits, oom_score_adj, sysctl, personality, I/O
// priority, scheduler, CPU affinity, the session keyring, read-only and masked paths, and the
// descriptors the process holds. Bad values fail create with a message naming the field.

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { cleanEnv, makeBundle, priv, Runt, RUNT, waitFor, type Bundle } from '../fixtures/runt.js'
import type { Spec } from '../../src/spec/schema.js'
import { capSets } from '../../src/confine/capabilities.js'

/**
 * A Runt whose containers are force-deleted at teardown while its --root still exists (tap
 * runs teardowns last-registered first, so Runt's own cleanup would come after the rm).
 */
function newRunt(t: Test): Runt {
  const runt = new Runt(t)
  t.teardown(() => runt.cleanup())
  return runt
}

t.setTimeout(300_000)

/** `runt run` a container running `script` in sh; returns runt's result. */
function run(t: Test, script: string, edit?: (c: Spec) => void, flags: string[] = [], rootfs?: (dir: string) => void) {
  const runt = newRunt(t)
  const b = makeBundle(t, ['sh', '-c', script], edit)
  rootfs?.(b.rootfs)
  return { r: { ...runt.run(['run', ...flags, '--bundle', b.dir, runt.id()]), rootfs: b.rootfs }, runt, b }
}

/** Lines "Key:\tvalue" of /proc/self/status. */
function status(out: string): Record<string, string> {
  const m: Record<string, string> = {}
  for (const l of out.split('\n')) {
    const i = l.indexOf(':')
    if (i > 0) m[l.slice(0, i)] = l.slice(i + 1).trim()
  }
  return m
}

const hex = (m: bigint) => m.toString(16).padStart(16, '0')

/** Some sandboxes drop CAP_SYS_RESOURCE even for root: then no process may raise a hard limit. */
const noSysResource =
  (BigInt('0x' + (status(fs.readFileSync('/proc/self/status', 'utf8')).CapEff ?? '0')) & (1n << 24n)) === 0n
    ? 'this host drops CAP_SYS_RESOURCE (raising hard limits and lowering oom_score_adj need it)'
    : false

/** The msg of runt's last error record (logrus text format on stderr), unquoted. */
function errorMessage(stderr: string): string {
  const lines = stderr
    .trim()
    .split('\n')
    .filter((l) => l.includes('level=error'))
  const m = /msg=("(?:[^"\\]|\\.)*")/.exec(lines[lines.length - 1] ?? '')
  return m ? (JSON.parse(m[1]!) as string) : stderr
}

/** A create that must fail: exit 1, the message, no stack trace, nothing under --root. */
function failsCreate(t: Test, b: Bundle, message: RegExp | string, flags: string[] = []) {
  const runt = newRunt(t)
  const id = runt.id()
  const r = runt.run(['create', ...flags, '--bundle', b.dir, id])
  t.equal(r.status, 1, 'create fails')
  t.match(errorMessage(r.stderr), message)
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace')
  t.notOk(fs.existsSync(path.join(runt.root, id)), 'nothing left under --root')
  t.equal(runt.run(['state', id]).status, 1, 'no such container')
  return r
}

t.test('a root process: the five sets, as configured', priv(), async (t) => {
  const caps = ['CAP_CHOWN', 'CAP_NET_RAW', 'CAP_SYS_CHROOT', 'CAP_KILL']
  const { r } = run(t, 'grep -E "^Cap" /proc/self/status', (c) => {
    c.process!.capabilities = { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] }
  })
  t.equal(r.status, 0, r.stderr)
  const s = status(r.stdout)
  const want = hex(capSets({ bounding: caps }, 40).sets.bounding)
  t.equal(s.CapBnd, want, 'CapBnd')
  t.equal(s.CapEff, want, 'CapEff')
  t.equal(s.CapPrm, want, 'CapPrm')
  t.equal(s.CapInh, hex(0n), 'CapInh')
  t.equal(s.CapAmb, hex(0n), 'CapAmb')
})

t.test('a non-root user keeps its capabilities across the uid change', priv(), async (t) => {
  const kept = ['CAP_NET_BIND_SERVICE', 'CAP_KILL']
  const bounding = [...kept, 'CAP_CHOWN', 'CAP_AUDIT_WRITE']
  const { r } = run(t, 'grep -E "^(Cap|Uid|Gid|Groups|Umask|NoNewPrivs)" /proc/self/status', (c) => {
    c.process!.user = { uid: 1000, gid: 1000, additionalGids: [5, 20, 1000], umask: 0o027 }
    c.process!.capabilities = { bounding, effective: kept, permitted: kept, inheritable: kept, ambient: kept }
  })
  t.equal(r.status, 0, r.stderr)
  const s = status(r.stdout)
  const k = hex(capSets({ bounding: kept }, 40).sets.bounding)
  t.equal(s.CapBnd, hex(capSets({ bounding }, 40).sets.bounding), 'CapBnd')
  t.equal(s.CapAmb, k, 'CapAmb: raised after setuid')
  t.equal(s.CapEff, k, 'CapEff: from the ambient set at execve')
  t.equal(s.CapPrm, k, 'CapPrm')
  t.equal(s.CapInh, k, 'CapInh')
  t.equal(s.Uid, '1000\t1000\t1000\t1000')
  t.equal(s.Gid, '1000\t1000\t1000\t1000')
  t.equal(s.Groups, '5 20 1000')
  t.equal(s.Umask, '0027')
  t.equal(s.NoNewPrivs, '1')
})

t.test('no ambient set: a non-root user has no effective capabilities', priv(), async (t) => {
  const { r } = run(t, 'grep -E "^Cap(Eff|Prm|Amb)" /proc/self/status', (c) => {
    c.process!.user = { uid: 1000, gid: 1000 }
  })
  t.equal(r.status, 0, r.stderr)
  const s = status(r.stdout)
  t.same([s.CapEff, s.CapPrm, s.CapAmb], [hex(0n), hex(0n), hex(0n)])
})

t.test('an unknown capability name fails create', priv(), async (t) => {
  const b = makeBundle(t, ['true'], (c) => c.process!.capabilities!.effective!.push('CAP_TELEPORT'))
  failsCreate(t, b, 'process.capabilities.effective[3]: unknown capability "CAP_TELEPORT"')
})

t.test('noNewPrivileges', priv(), async (t) => {
  const on = run(t, 'grep NoNewPrivs /proc/self/status', (c) => (c.process!.noNewPrivileges = true))
  t.equal(status(on.r.stdout).NoNewPrivs, '1')
  const off = run(t, 'grep NoNewPrivs /proc/self/status', (c) => (c.process!.noNewPrivileges = false))
  t.equal(status(off.r.stdout).NoNewPrivs, '0')
})

t.test('the process starts with no signal ignored or blocked (the runtime ignores SIGPIPE and SIGXFSZ)', priv(), async (t) => {
  const runt = newRunt(t)
  const b = makeBundle(t, ['grep', '-E', '^Sig(Ign|Blk|Cgt)', '/proc/self/status'])
  const r = runt.run(['run', '--bundle', b.dir, runt.id()])
  t.equal(r.status, 0, r.stderr)
  const s = status(r.stdout)
  t.same([s.SigIgn, s.SigBlk, s.SigCgt], ['0000000000000000', '0000000000000000', '0000000000000000'])
})

/** The soft and hard columns of one row of /proc/self/limits. */
const limit = (out: string, name: string) =>
  out
    .split('\n')
    .find((l) => l.startsWith(name))
    ?.slice(26)
    .trim()
    .split(/\s+/)
    .slice(0, 2)

t.test('rlimits bind the container process, not runt', priv(), async (t) => {
  // Limits no Node process survives (8 fds, 64 MiB of address space) still let runt start the
  // container: they are set right before execve.
  // Within the caller's hard limits: raising one needs CAP_SYS_RESOURCE (tested below).
  const mine = fs.readFileSync('/proc/self/limits', 'utf8')
  const cap = (name: string, v: number) => {
    const h = limit(mine, name)?.[1]
    return h === undefined || h === 'unlimited' ? v : Math.min(v, Number(h))
  }
  const nice = cap('Max nice priority', 4)
  const rtprio = cap('Max realtime priority', 6)
  const { r } = run(t, 'cat /proc/self/limits', (c) => {
    c.process!.user = { uid: 1000, gid: 1000 }
    c.process!.rlimits = [
      { type: 'RLIMIT_NOFILE', soft: 8, hard: 16 },
      { type: 'RLIMIT_AS', soft: 64 << 20, hard: 64 << 20 },
      { type: 'RLIMIT_CORE', soft: 0, hard: 1 << 20 },
      { type: 'RLIMIT_NPROC', soft: 77, hard: 88 },
      { type: 'RLIMIT_MSGQUEUE', soft: 1000, hard: 2000 },
      { type: 'RLIMIT_NICE', soft: nice, hard: nice },
      { type: 'RLIMIT_RTPRIO', soft: rtprio, hard: rtprio },
      { type: 'RLIMIT_SIGPENDING', soft: 100, hard: 200 },
      { type: 'RLIMIT_CPU', soft: 1000, hard: 2000 },
      { type: 'RLIMIT_FSIZE', soft: 1 << 30, hard: 1 << 30 },
      { type: 'RLIMIT_LOCKS', soft: 10, hard: 20 },
      { type: 'RLIMIT_MEMLOCK', soft: 4096, hard: cap('Max locked memory', 8192) },
      { type: 'RLIMIT_RTTIME', soft: 1000000, hard: 2000000 },
      { type: 'RLIMIT_DATA', soft: 1 << 30, hard: 1 << 30 },
      { type: 'RLIMIT_STACK', soft: 4 << 20, hard: 8 << 20 },
      { type: 'RLIMIT_RSS', soft: 1 << 30, hard: 1 << 30 },
    ]
  })
  t.equal(r.status, 0, r.stderr)
  const row = (name: string) => limit(r.stdout, name)
  t.same(row('Max open files'), ['8', '16'], 'NOFILE')
  t.same(row('Max address space'), [String(64 << 20), String(64 << 20)], 'AS')
  t.same(row('Max core file size'), ['0', String(1 << 20)], 'CORE')
  t.same(row('Max processes'), ['77', '88'], 'NPROC')
  t.same(row('Max msgqueue size'), ['1000', '2000'], 'MSGQUEUE')
  t.same(row('Max nice priority'), [String(nice), String(nice)], 'NICE')
  t.same(row('Max realtime priority'), [String(rtprio), String(rtprio)], 'RTPRIO')
  t.same(row('Max pending signals'), ['100', '200'], 'SIGPENDING')
  t.same(row('Max cpu time'), ['1000', '2000'], 'CPU')
  t.same(row('Max file size'), [String(1 << 30), String(1 << 30)], 'FSIZE')
  t.same(row('Max file locks'), ['10', '20'], 'LOCKS')
  t.same(row('Max locked memory'), ['4096', String(cap('Max locked memory', 8192))], 'MEMLOCK')
  t.same(row('Max realtime timeout'), ['1000000', '2000000'], 'RTTIME')
  t.same(row('Max data size'), [String(1 << 30), String(1 << 30)], 'DATA')
  t.same(row('Max stack size'), [String(4 << 20), String(8 << 20)], 'STACK')
  t.same(row('Max resident set'), [String(1 << 30), String(1 << 30)], 'RSS')
})

t.test("a hard limit above the caller's, for a non-root user", { ...priv(), skip: priv().skip ?? noSysResource }, async (t) => {
  const { r } = run(t, 'cat /proc/self/limits', (c) => {
    c.process!.user = { uid: 1000, gid: 1000 }
    c.process!.rlimits = [
      { type: 'RLIMIT_NOFILE', soft: 1024, hard: 1048576 },
      { type: 'RLIMIT_CORE', soft: 0, hard: 2 ** 64 },
    ]
  })
  t.equal(r.status, 0, r.stderr)
  t.same(limit(r.stdout, 'Max open files'), ['1024', '1048576'], 'raised while privileged, set after the uid change')
  t.same(limit(r.stdout, 'Max core file size'), ['0', 'unlimited'], '2^64-1 is unlimited')
})

t.test(
  'a hard limit runt may not raise fails create, naming the rlimit',
  { ...priv(), skip: priv().skip ?? (!noSysResource && 'only where CAP_SYS_RESOURCE is dropped') },
  async (t) => {
    const hard = Number(limit(fs.readFileSync('/proc/self/limits', 'utf8'), 'Max open files')?.[1])
    const b = makeBundle(t, ['true'], (c) => (c.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: hard + 1 }]))
    failsCreate(t, b, 'process.rlimits[0]: prlimit RLIMIT_NOFILE: operation not permitted')
  },
)

t.test('a duplicate rlimit type is an error', priv(), async (t) => {
  const b = makeBundle(t, ['true'], (c) => c.process!.rlimits!.push({ type: 'RLIMIT_NOFILE', soft: 5, hard: 5 }))
  failsCreate(t, b, /process\.rlimits\[1\]\.type: duplicate/)
})

t.test('oomScoreAdj', priv(), async (t) => {
  const up = run(t, 'cat /proc/self/oom_score_adj', (c) => (c.process!.oomScoreAdj = 500))
  t.equal(up.r.stdout.trim(), '500', up.r.stderr)
  const user = run(t, 'cat /proc/self/oom_score_adj', (c) => {
    c.process!.oomScoreAdj = 321
    c.process!.user = { uid: 1000, gid: 1000 }
  })
  t.equal(user.r.stdout.trim(), '321', user.r.stderr)
})

t.test("oomScoreAdj below the caller's, for a non-root user", { ...priv(), skip: priv().skip ?? noSysResource }, async (t) => {
  const down = run(t, 'cat /proc/self/oom_score_adj', (c) => {
    c.process!.oomScoreAdj = -300
    c.process!.user = { uid: 1000, gid: 1000 }
  })
  t.equal(down.r.stdout.trim(), '-300', down.r.stderr)
})

const SYSCTL_READ =
  'cat /proc/sys/kernel/shmmax /proc/sys/fs/mqueue/msg_max /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/all/forwarding /proc/sys/kernel/domainname'
const SYSCTL = {
  'kernel.shmmax': '123456789',
  'fs.mqueue.msg_max': '17',
  'net.ipv4.ip_forward': '1',
  'kernel.domainname': 'runt.example',
}

t.test('sysctl: namespaced keys are set', priv(), async (t) => {
  const { r } = run(t, SYSCTL_READ, (c) => {
    c.linux!.sysctl = SYSCTL
    c.linux!.readonlyPaths = c.linux!.readonlyPaths!.filter((p) => p !== '/proc/sys')
  })
  t.equal(r.status, 0, r.stderr)
  t.same(r.stdout.trim().split('\n'), ['123456789', '17', '1', '1', 'runt.example'])
})

t.test('sysctl with /proc/sys read-only, as in the default config', priv(), async (t) => {
  const { r } = run(t, SYSCTL_READ, (c) => (c.linux!.sysctl = SYSCTL))
  t.equal(r.status, 0, r.stderr)
  t.same(r.stdout.trim().split('\n'), ['123456789', '17', '1', '1', 'runt.example'])
})

t.test('sysctl: keys of the host are refused with a clear error', priv(), async (t) => {
  const hostnet = makeBundle(t, ['true'], (c) => {
    c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'network')
    c.linux!.sysctl = { 'net.ipv4.ip_forward': '1' }
  })
  failsCreate(
    t,
    hostnet,
    `linux.sysctl["net.ipv4.ip_forward"]: sysctl "net.ipv4.ip_forward" is not allowed in the host's network namespace`,
  )
  const joined = makeBundle(t, ['true'], (c) => {
    c.linux!.namespaces = c.linux!.namespaces!.map((n) => (n.type === 'ipc' ? { type: 'ipc', path: '/proc/self/ns/ipc' } : n))
    c.linux!.sysctl = { 'kernel.msgmax': '100' }
  })
  failsCreate(t, joined, /linux\.sysctl\["kernel\.msgmax"\]: .*\(\/proc\/self\/ns\/ipc is the runtime's own\)/)
  const global = makeBundle(t, ['true'], (c) => (c.linux!.sysctl = { 'kernel.core_pattern': '|/tmp/x' }))
  failsCreate(t, global, 'sysctl "kernel.core_pattern" is not in a separate kernel namespace')
  t.not(fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8'), '|/tmp/x\n', 'the host value is untouched')
})

t.test('personality LINUX32', { ...priv(), skip: priv().skip ?? (process.arch !== 'x64' && 'x86-64 only') }, async (t) => {
  const { r } = run(t, 'uname -m', (c) => (c.linux!.personality = { domain: 'LINUX32' }))
  t.equal(r.stdout.trim(), 'i686')
  const l = run(t, 'uname -m', (c) => (c.linux!.personality = { domain: 'LINUX' }))
  t.equal(l.r.stdout.trim(), 'x86_64')
})

/** policy, nice and rt_priority from /proc/self/stat (fields 19, 40, 41 after the comm). */
function sched(stat: string): { nice: number; rtprio: number; policy: number } {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return { nice: Number(f[16]), rtprio: Number(f[37]), policy: Number(f[38]) }
}

t.test('ioPriority and scheduler', priv(), async (t) => {
  const batch = run(t, 'ionice -p $$; cat /proc/self/stat', (c) => {
    c.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 6 }
    c.process!.scheduler = { policy: 'SCHED_BATCH', nice: 7 }
  })
  t.equal(batch.r.status, 0, batch.r.stderr)
  const [io, stat] = batch.r.stdout.trim().split('\n')
  t.equal(io, 'best-effort: prio 6')
  t.same(sched(stat!), { nice: 7, rtprio: 0, policy: 3 }, 'SCHED_BATCH, nice 7')

  // A negative nice and the realtime I/O class, for a user without CAP_SYS_NICE: runt keeps
  // the capability until both are set, then drops it.
  const nice = run(t, 'ionice -p $$; cat /proc/self/stat; grep CapEff /proc/self/status', (c) => {
    c.process!.user = { uid: 1000, gid: 1000 }
    c.process!.ioPriority = { class: 'IOPRIO_CLASS_RT', priority: 2 }
    c.process!.scheduler = { policy: 'SCHED_OTHER', nice: -5 }
  })
  t.equal(nice.r.status, 0, nice.r.stderr)
  const [io1, stat1, eff1] = nice.r.stdout.trim().split('\n')
  t.equal(io1, 'realtime: prio 2', 'IOPRIO_CLASS_RT for uid 1000')
  t.same(sched(stat1!), { nice: -5, rtprio: 0, policy: 0 }, 'nice -5 for uid 1000')
  t.equal(status(eff1!).CapEff, hex(0n), 'and no capability left')

  // A realtime policy needs a realtime budget in a cgroup v1 cpu controller.
  const rt = run(t, 'ionice -p $$; cat /proc/self/stat; grep CapEff /proc/self/status', (c) => {
    c.process!.user = { uid: 1000, gid: 1000 }
    c.process!.ioPriority = { class: 'IOPRIO_CLASS_RT', priority: 2 }
    c.process!.scheduler = { policy: 'SCHED_RR', priority: 3 }
    // A cgroup v1 cpu controller admits realtime tasks only with a realtime budget.
    c.linux!.resources = { ...c.linux!.resources, cpu: { realtimeRuntime: 10000, realtimePeriod: 1000000 } }
  })
  const rtBlocked = rt.r.status !== 0 && /sched_setattr.*operation not permitted|rt_runtime_us/.test(rt.r.stderr)
  t.test(
    'realtime, for a non-root user',
    { skip: rtBlocked && `realtime scheduling is refused in this cgroup: ${errorMessage(rt.r.stderr)}` },
    async (t) => {
      t.equal(rt.r.status, 0, rt.r.stderr)
      const [io2, stat2, eff] = rt.r.stdout.trim().split('\n')
      t.equal(io2, 'realtime: prio 2')
      t.same(sched(stat2!), { nice: 0, rtprio: 3, policy: 2 }, 'SCHED_RR priority 3')
      t.equal(status(eff!).CapEff, hex(0n), 'CAP_SYS_NICE is gone again')
    },
  )
})

t.test('execCPUAffinity', priv(), async (t) => {
  const ncpu = fs.readFileSync('/sys/devices/system/cpu/online', 'utf8').trim()
  const fin = run(t, 'grep Cpus_allowed_list /proc/self/status', (c) => {
    c.process!.execCPUAffinity = { initial: '0', final: ncpu === '0' ? '0' : '1' }
  })
  t.equal(status(fin.r.stdout).Cpus_allowed_list, ncpu === '0' ? '0' : '1', fin.r.stderr)
  const init = run(t, 'grep Cpus_allowed_list /proc/self/status', (c) => (c.process!.execCPUAffinity = { initial: '0' }))
  t.equal(status(init.r.stdout).Cpus_allowed_list, ncpu, 'with only initial, the process gets all its CPUs back')
  const bad = makeBundle(t, ['true'], (c) => (c.process!.execCPUAffinity = { final: '0-' }))
  failsCreate(t, bad, 'process.execCPUAffinity.final: invalid cpu list "0-"')
})

t.test('a fresh session keyring unless --no-new-keyring', priv(), async (t) => {
  const unmask = (c: Spec) => (c.linux!.maskedPaths = c.linux!.maskedPaths!.filter((p) => p !== '/proc/keys'))
  for (const [flags, want] of [
    [[], '1'],
    [['--no-new-keyring'], '0'],
  ] as const) {
    const runt = newRunt(t)
    const id = runt.id('keys')
    const b = makeBundle(t, ['sh', '-c', `grep -c " _ses\\.${id}: " /proc/keys`], unmask)
    const r = runt.run(['run', ...flags, '--bundle', b.dir, id])
    t.equal(r.stdout.trim(), want, `${flags.join(' ') || 'by default'}: ${want === '1' ? 'a keyring _ses.<id>' : 'none'}`)
  }
})

t.test('read-only paths, masked paths, a read-only root', priv(), async (t) => {
  const { r } = run(
    t,
    [
      'echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null && echo ro-proc-writable || echo ro-proc-denied',
      'touch /etc/ro/x 2>/dev/null && echo ro-dir-writable || echo ro-dir-denied',
      'cat /etc/ro/kept',
      'echo masked-file $(wc -c < /etc/secret) $(wc -c < /proc/cpuinfo)',
      'echo masked-dir $(ls -A /opt/secrets | wc -l)',
      'touch /opt/secrets/x 2>/dev/null && echo masked-dir-writable || echo masked-dir-denied',
      'echo x > /etc/secret && echo masked-file-write-ok',
      'touch /etc/x 2>/dev/null && echo root-writable || echo root-denied',
      'touch /tmp/x && echo tmp-writable',
    ].join('; '),
    (c) => {
      c.root!.readonly = true
      c.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev'] })
      c.linux!.readonlyPaths!.push('/etc/ro')
      c.linux!.maskedPaths!.push('/etc/secret', '/proc/cpuinfo', '/opt/secrets')
    },
    [],
    (rootfs) => {
      fs.mkdirSync(path.join(rootfs, 'etc/ro'))
      fs.writeFileSync(path.join(rootfs, 'etc/ro/kept'), 'kept\n')
      fs.writeFileSync(path.join(rootfs, 'etc/secret'), 'secret\n')
      fs.mkdirSync(path.join(rootfs, 'opt/secrets'), { recursive: true })
      fs.writeFileSync(path.join(rootfs, 'opt/secrets/key'), 'key\n')
    },
  )
  t.equal(r.status, 0, r.stderr)
  t.same(r.stdout.trim().split('\n'), [
    'ro-proc-denied',
    'ro-dir-denied',
    'kept',
    'masked-file 0 0',
    'masked-dir 0',
    'masked-dir-denied',
    'masked-file-write-ok',
    'root-denied',
    'tmp-writable',
  ])
  t.equal(fs.readFileSync(path.join(r.rootfs, 'etc/secret'), 'utf8'), 'secret\n', 'a write to a masked file goes to /dev/null')
})

t.test('/proc/self/fd holds only stdio', priv(), async (t) => {
  // ls itself is the process runt exec'd (pid 1): what it holds came through execve, but for
  // fd 3, the directory it is reading.
  const runt = newRunt(t)
  const b = makeBundle(t, ['ls', '/proc/self/fd'])
  const r = runt.run(['run', '--bundle', b.dir, runt.id()])
  t.equal(r.status, 0, r.stderr)
  t.same(r.stdout.trim().split(/\s+/), ['0', '1', '2', '3'], "stdio, and nothing of runt's")
})

t.test('--preserve-fds passes exactly that many', priv(), async (t) => {
  const runt = newRunt(t)
  // Read from the host once pid 1 has exec'd sleep: busybox sh itself holds pipe fds and
  // saved-fd copies (10+) while it runs applets, which an inside listing would see.
  const b = makeBundle(t, ['sh', '-c', 'cat <&3; cat <&4; exec sleep 100'])
  const dir = t.testdir({ a: 'a\n', b: 'b\n', c: 'c\n' })
  const out = path.join(dir, 'out')
  const fds = ['a', 'b', 'c'].map((f) => fs.openSync(path.join(dir, f), 'r'))
  const o = fs.openSync(out, 'w')
  const id = runt.id()
  let r
  try {
    // fds 3 and 4 are passed with --preserve-fds 2; fd 5 is not, and must not get in.
    r = spawnSync(RUNT, ['--root', runt.root, 'run', '-d', '--preserve-fds', '2', '--bundle', b.dir, id], {
      // Files, not pipes: the container keeps its stdio, and spawnSync would wait for it.
      stdio: ['ignore', o, o, fds[0]!, fds[1]!, fds[2]!],
      env: cleanEnv(),
      encoding: 'utf8',
    })
  } finally {
    for (const fd of [...fds, o]) fs.closeSync(fd)
  }
  t.equal(r.status, 0, fs.readFileSync(out, 'utf8'))
  const pid = runt.state(id).pid
  const exe = () => fs.readlinkSync(`/proc/${pid}/exe`)
  t.ok(
    await waitFor(
      () =>
        fs.readFileSync(out, 'utf8') === 'a\nb\n' &&
        exe().endsWith('busybox') &&
        /sleep/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')),
      10_000,
    ),
    'both preserved fds were read, then sleep ran',
  )
  const held = fs
    .readdirSync(`/proc/${pid}/fd`)
    .map(Number)
    .sort((x, y) => x - y)
  t.same(held, [0, 1, 2, 3, 4], 'pid 1 holds stdio and the two preserved fds, not fd 5')
})

t.test('socket activation: LISTEN_FDS fds come first, then --preserve-fds', priv(), async (t) => {
  const runt = newRunt(t)
  const b = makeBundle(t, ['sh', '-c', 'echo "$LISTEN_FDS $LISTEN_PID"; cat <&3; cat <&4'])
  const dir = t.testdir({ a: 'listen\n', b: 'preserved\n' })
  const fds = ['a', 'b'].map((f) => fs.openSync(path.join(dir, f), 'r'))
  let r
  try {
    // LISTEN_PID must be runt's own pid, as systemd sets it: a shell that execs runt.
    const argv = ['--root', runt.root, 'run', '--preserve-fds', '1', '--bundle', b.dir, runt.id()]
    r = spawnSync('/bin/sh', ['-c', 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$@"', 'sh', RUNT, ...argv], {
      stdio: ['ignore', 'pipe', 'pipe', fds[0]!, fds[1]!],
      env: cleanEnv(),
      encoding: 'utf8',
    })
  } finally {
    for (const fd of fds) fs.closeSync(fd)
  }
  t.equal(r.status, 0, r.stderr)
  t.equal(r.stdout, '1 1\nlisten\npreserved\n', 'LISTEN_FDS=1, LISTEN_PID=1, the listen fd at 3, the preserved one at 4')
})

t.test('cwd', priv(), async (t) => {
  const home = run(t, 'pwd', (c) => {
    c.process!.user = { uid: 1000, gid: 1000 }
    c.process!.cwd = '/home/user'
  })
  t.equal(home.r.stdout.trim(), '/home/user')
  const missing = makeBundle(t, ['true'], (c) => (c.process!.cwd = '/no/such/dir'))
  const runt = newRunt(t)
  const r = runt.run(['run', '--bundle', missing.dir, runt.id()])
  t.not(r.status, 0)
  t.match(errorMessage(r.stderr), 'chdir to cwd ("/no/such/dir") set in config.json failed: no such file or directory')
})

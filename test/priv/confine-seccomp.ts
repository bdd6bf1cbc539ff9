// seccomp on real containers: `Seccomp: 2`, the configured errno for a blocked syscall and for
// argument-filtered rules with every operator, every action, the default action and its
// errno, flags and architectures, SCMP_ACT_NOTIFY with an agent on listenerPath, exec'd
// processes, and the runtime's own calls (and hooks) staying outside the filter.

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { spawn } from 'node:child_process'
import { addHostProgram, makeBundle, priv, Runt, REPO, RUNC } from '../fixtures/runt.js'
import type { LinuxSeccomp, Spec } from '../../src/spec/schema.js'
import { libseccomp } from '../../src/sys/libseccomp-ffi.js'

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

/** Container ids unique in this file (each Runt numbers its own from 0; cgroups are global). */
let serial = 0
const newId = (runt: Runt) => runt.id(`sc${serial++}`)

function run(t: Test, args: string[], seccomp: LinuxSeccomp, edit?: (c: Spec) => void) {
  const runt = newRunt(t)
  const b = makeBundle(t, args, (c) => {
    c.linux!.seccomp = seccomp
    edit?.(c)
  })
  const id = newId(runt)
  return { ...runt.run(['run', '--bundle', b.dir, id]), id, b, runt }
}

const hasPython = !!process.env.PATH?.split(':').some((d) => fs.existsSync(path.join(d, 'python3')))
const sh = (script: string) => ['sh', '-c', script]
const allow = (syscalls: LinuxSeccomp['syscalls']): LinuxSeccomp => ({ defaultAction: 'SCMP_ACT_ALLOW', syscalls })
const EXDEV = 18
const STATUS = 'grep -E "^(Seccomp|Seccomp_filters|NoNewPrivs|CapEff):" /proc/self/status'

t.test('Seccomp: 2, and a blocked syscall returns the configured errno', priv(), async (t) => {
  const r = run(
    t,
    sh(`${STATUS}; mkdir /tmp/x; echo rc=$?`),
    allow([{ names: ['mkdir', 'mkdirat', 'no_such_syscall'], action: 'SCMP_ACT_ERRNO', errnoRet: EXDEV }]),
  )
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /^Seccomp:\s+2$/m)
  t.match(r.stdout, /^Seccomp_filters:\s+1$/m, 'one filter: runt loads nothing of its own')
  t.match(r.stdout, /rc=1/)
  t.match(r.stderr, "mkdir: can't create directory '/tmp/x': Invalid cross-device link")
})

t.test('argument filters: every operator', priv(), async (t) => {
  // kill(pid, sig) from the shell builtin, against a sleeping child; these signals are
  // harmless to it (0 only checks, CHLD/URG/WINCH are ignored, CONT continues).
  const sigs = [0, 17, 18, 23, 28]
  const script = `sleep 100 & p=$!; for s in ${sigs.join(' ')}; do kill -$s $p 2>/dev/null && echo "$s ok" || echo "$s no"; done`
  const cases: [string, number, number | undefined, number[]][] = [
    ['SCMP_CMP_EQ', 17, undefined, [17]],
    ['SCMP_CMP_NE', 17, undefined, [0, 18, 23, 28]],
    ['SCMP_CMP_LT', 18, undefined, [0, 17]],
    ['SCMP_CMP_LE', 18, undefined, [0, 17, 18]],
    ['SCMP_CMP_GT', 18, undefined, [23, 28]],
    ['SCMP_CMP_GE', 18, undefined, [18, 23, 28]],
    ['SCMP_CMP_MASKED_EQ', 0x0f, 0x07, [23]],
  ]
  for (const [op, value, valueTwo, blocked] of cases) {
    const arg = { index: 1, value, op: op as 'SCMP_CMP_EQ', ...(valueTwo !== undefined ? { valueTwo } : {}) }
    const r = run(t, sh(script), allow([{ names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: EXDEV, args: [arg] }]))
    const got = r.stdout
      .trim()
      .split('\n')
      .filter((l) => l.endsWith(' no'))
      .map((l) => Number(l.split(' ')[0]))
    t.same(
      got,
      blocked,
      `${op} ${value}${valueTwo !== undefined ? '/' + valueTwo : ''}: kill refused for signals ${blocked.join(',')}`,
    )
  }
})

t.test('actions', priv(), async (t) => {
  const mkdir = ['mkdir', '/tmp/x']
  const act = (action: LinuxSeccomp['defaultAction'], errnoRet?: number) =>
    run(t, mkdir, allow([{ names: ['mkdir', 'mkdirat'], action, ...(errnoRet !== undefined ? { errnoRet } : {}) }]))
  const SIGSYS = 128 + 31
  for (const a of ['SCMP_ACT_KILL', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP'] as const) {
    t.equal(act(a).status, SIGSYS, `${a}: the process dies of SIGSYS`)
  }
  const errno = act('SCMP_ACT_ERRNO')
  t.equal(errno.status, 1)
  t.match(errno.stderr, 'Operation not permitted', 'ERRNO without errnoRet is EPERM')
  t.match(act('SCMP_ACT_ERRNO', 95).stderr, 'Operation not supported', 'ERRNO with errnoRet')
  const trace = act('SCMP_ACT_TRACE', 5)
  t.match(trace.stderr, 'Function not implemented', 'TRACE without a tracer: ENOSYS')
  t.equal(act('SCMP_ACT_LOG').status, 0, 'LOG lets it run')
  t.equal(act('SCMP_ACT_ALLOW').status, 0, 'ALLOW')
})

t.test('defaultAction and defaultErrnoRet', priv(), async (t) => {
  // Allow every syscall libseccomp knows here but mkdir: the default answers only for it.
  const native = libseccomp.archNative()
  const names: string[] = []
  for (let nr = 0; nr < 1024; nr++) {
    const n = libseccomp.resolveNum(native, nr)
    if (n && n !== 'mkdir' && n !== 'mkdirat') names.push(n)
  }
  const r = run(t, sh('echo hello; mkdir /tmp/x'), {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 95,
    syscalls: [{ names, action: 'SCMP_ACT_ALLOW' }],
  })
  t.equal(r.stdout, 'hello\n', r.stderr)
  t.match(r.stderr, "can't create directory '/tmp/x': Operation not supported")
})

t.test('flags and architectures', priv(), async (t) => {
  const base = allow([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: EXDEV }])
  for (const flags of [
    ['SECCOMP_FILTER_FLAG_TSYNC'],
    ['SECCOMP_FILTER_FLAG_LOG'],
    ['SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
    ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
  ] as LinuxSeccomp['flags'][]) {
    const r = run(t, sh(`${STATUS}; mkdir /tmp/x`), { ...base, flags })
    t.match(r.stdout, /^Seccomp:\s+2$/m, flags!.join('|'))
    t.match(r.stderr, 'Invalid cross-device link')
  }
  const archs = run(t, sh(`${STATUS}; mkdir /tmp/x`), {
    ...base,
    architectures:
      process.arch === 'x64' ? ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'] : ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
  })
  t.match(archs.stdout, /^Seccomp:\s+2$/m, 'with sub-architectures')
  t.match(archs.stderr, 'Invalid cross-device link')
})

t.test('a syscall newer than the profile answers ENOSYS, as under runc', priv(), async (t) => {
  // podman's allow-list as the fixture has it, without its defaultErrnoRet (so the default is
  // EPERM) and without the socket pair libseccomp 2.5 refuses for i386. perl makes the calls:
  // 1000 (no such syscall), futex_waitv (449: newer than the highest listed, faccessat2's 439)
  // and getcpu (309: older, unlisted).
  const podman = JSON.parse(fs.readFileSync(path.join(REPO, 'spec-fixtures/valid/podman.json'), 'utf8')) as Spec
  const sc = { ...podman.linux!.seccomp! }
  delete sc.defaultErrnoRet
  sc.syscalls = sc.syscalls!.filter((s) => !s.names.includes('socket'))
  // The fixture's list is trimmed; perl's loader needs these as well.
  sc.syscalls.push({
    names: ['arch_prctl', 'set_tid_address', 'set_robust_list', 'prlimit64', 'getrandom'],
    action: 'SCMP_ACT_ALLOW',
  })
  const script = 'for my $n (1000, 449, 309) { my $r = syscall($n, 0, 0, 0, 0, 0); print "$n=", ($r < 0 ? $! + 0 : "ok"), "\\n" }'
  const want = '1000=38\n449=38\n309=1\n'
  const runners = [newRunt(t), ...(RUNC ? [new Runt(t, RUNC)] : [])]
  if (!RUNC) t.comment('runc is not installed: runt alone (apt-get install runc for the comparison)')
  for (const runner of runners) {
    const b = makeBundle(t, ['/usr/bin/perl', '-e', script], (c) => {
      c.linux!.seccomp = sc
    })
    addHostProgram(b.rootfs, '/usr/bin/perl')
    const r = runner.run(['run', '--bundle', b.dir, newId(runner)])
    t.equal(r.status, 0, `${path.basename(runner.binary)}: ${r.stderr}`)
    t.equal(r.stdout, want, `${path.basename(runner.binary)}: ENOSYS above the profile, EPERM below`)
  }
})

t.test('without noNewPrivileges, a user without CAP_SYS_ADMIN still gets the filter', priv(), async (t) => {
  for (const user of [
    { uid: 1000, gid: 1000 },
    { uid: 0, gid: 0 },
  ]) {
    const r = run(
      t,
      sh(`${STATUS}; mkdir /tmp/x`),
      allow([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: EXDEV }]),
      (c) => {
        c.process!.noNewPrivileges = false
        c.process!.user = user
      },
    )
    t.match(r.stdout, /^NoNewPrivs:\s+0$/m, `uid ${user.uid}: no no_new_privs`)
    t.match(r.stdout, /^Seccomp:\s+2$/m, `uid ${user.uid}: filtered`)
    t.match(r.stdout, user.uid ? /^CapEff:\s+0{16}$/m : /^CapEff:\s+0000000020000420$/m, 'CAP_SYS_ADMIN is not left behind')
    t.match(r.stderr, 'Invalid cross-device link')
  }
})

t.test("the runtime's own calls are not filtered", priv(), async (t) => {
  // Deny what the init stage itself uses; the container starts all the same.
  const denied = [
    'mount',
    'umount2',
    'pivot_root',
    'setns',
    'unshare',
    'keyctl',
    'prlimit64',
    'setrlimit',
    'sched_setattr',
    'sched_setaffinity',
    'ioprio_set',
    'personality',
    'setgroups',
    'setresuid',
    'setresgid',
    'sethostname',
    'mknodat',
    'openat2',
    'memfd_create',
    'accept4',
    'socket',
    'connect',
    'statfs',
    'mkdir',
    'mkdirat',
  ]
  const r = run(t, sh('echo hello; mkdir /tmp/x'), allow([{ names: denied, action: 'SCMP_ACT_ERRNO', errnoRet: EXDEV }]), (c) => {
    c.hostname = 'filtered'
    c.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }]
    c.process!.oomScoreAdj = 10
    c.process!.scheduler = { policy: 'SCHED_BATCH' }
    c.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 3 }
    if (process.arch === 'x64') c.linux!.personality = { domain: 'LINUX' }
  })
  t.equal(r.stdout, 'hello\n', r.stderr)
  t.match(r.stderr, "can't create directory '/tmp/x': Invalid cross-device link", 'the process is filtered')
})

t.test("startContainer hooks run under the container's filter, as under runc", priv(), async (t) => {
  // A profile that kills mkdir, and a hook that makes one: the hook dies of SIGSYS, so the
  // container does not start. The same profile without the hook runs.
  const profile = allow([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_KILL_PROCESS' }])
  const hook = { startContainer: [{ path: '/bin/mkdir', args: ['mkdir', '/tmp/hooked'] }] }
  const runners = [newRunt(t), ...(RUNC ? [new Runt(t, RUNC)] : [])]
  for (const runner of runners) {
    const name = path.basename(runner.binary)
    const b = makeBundle(t, ['true'], (c) => {
      c.linux!.seccomp = profile
      c.hooks = hook
    })
    const r = runner.run(['run', '--bundle', b.dir, newId(runner)])
    t.not(r.status, 0, `${name}: run fails`)
    t.notOk(fs.existsSync(path.join(b.rootfs, 'tmp/hooked')), `${name}: the hook made no directory`)
    if (name === 'runt') t.match(r.stderr, 'error running startContainer hook #0 (/bin/mkdir): killed by signal SIGSYS')
  }
  const ok = run(t, ['true'], profile)
  t.equal(ok.status, 0, ok.stderr)
  // A hook also gets no_new_privs, rlimits and umask as the container's process will.
  const b = run(t, sh('cat /tmp/hook'), allow([]), (c) => {
    c.process!.noNewPrivileges = true
    c.process!.user.umask = 0o27
    c.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 123, hard: 456 }]
    c.hooks = {
      startContainer: [
        {
          path: '/bin/sh',
          args: [
            'sh',
            '-c',
            'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status > /tmp/hook; umask >> /tmp/hook; ulimit -n >> /tmp/hook',
          ],
        },
      ],
    }
  })
  t.equal(b.stdout, 'NoNewPrivs:\t1\nSeccomp:\t2\n0027\n123\n', b.stderr)
})

t.test(
  'hooks inherit no runtime descriptor, and a NOTIFY rule answers ENOSYS in a hook',
  { ...priv(), skip: priv().skip ?? (!hasPython && 'needs python3 for the agent') },
  async (t) => {
    // Every hook lists the fds of its shell under a NOTIFY profile, whose agent socket the
    // init holds while the hooks run; the startContainer hook also makes the notified call.
    const a = agent(t, 0)
    await a.listening
    // The shell's own test builtin: no other process, no directory fd of a listing.
    const fdsOf = (out: string) =>
      `l=; for f in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do [ -e /proc/self/fd/$f ] && l="$l $f"; done; echo $l > ${out}`
    const runt = newRunt(t)
    const b = makeBundle(t, ['true'], (c) => {
      c.linux!.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        listenerPath: a.sock,
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
      }
    })
    const host = (n: string) => [{ path: '/bin/sh', args: ['sh', '-c', fdsOf(`${b.dir}/fds.${n}`)] }]
    b.config.hooks = {
      prestart: host('prestart'),
      createRuntime: host('createRuntime'),
      createContainer: host('createContainer'),
      startContainer: [
        { path: '/bin/sh', args: ['sh', '-c', `${fdsOf('/tmp/fds.startContainer')}; mkdir /tmp/hooked 2>/tmp/mkdir.err; true`] },
      ],
      poststart: host('poststart'),
      poststop: host('poststop'),
    }
    b.write()
    const r = runt.run(['run', '--bundle', b.dir, newId(runt)])
    t.equal(r.status, 0, r.stderr)
    const read = (p: string) => fs.readFileSync(p, 'utf8').trim()
    for (const n of ['prestart', 'createRuntime', 'createContainer', 'poststart', 'poststop'])
      t.equal(read(path.join(b.dir, `fds.${n}`)), '0 1 2', `${n}: stdio only`)
    t.equal(read(path.join(b.rootfs, 'tmp/fds.startContainer')), '0 1 2', 'startContainer: stdio only')
    t.match(read(path.join(b.rootfs, 'tmp/mkdir.err')), 'Function not implemented', 'no agent for a hook: ENOSYS')
    const rep = (await a.report) as { notifications: unknown[] }
    t.equal(rep.notifications.length, 0, 'the agent saw nothing of the hook')
  },
)

t.test("exec'd processes get the container's filter", priv(), async (t) => {
  const runt = newRunt(t)
  const b = makeBundle(t, ['sleep', '100'], (c) => {
    c.linux!.seccomp = allow([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: EXDEV }])
  })
  const id = newId(runt)
  runt.ok(['run', '-d', '--bundle', b.dir, id])
  const st = runt.run(['exec', id, 'grep', 'Seccomp:', '/proc/self/status'])
  t.match(st.stdout, /Seccomp:\s+2/)
  const mk = runt.run(['exec', id, 'mkdir', '/tmp/x'])
  t.equal(mk.status, 1)
  t.match(mk.stderr, 'Invalid cross-device link')
})

/** The agent (test/fixtures/seccomp-agent.py) on a short socket path; its JSON report. */
function agent(t: Test, errno: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-agent-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const sock = path.join(dir, 'agent.sock')
  const p = spawn('python3', [path.join(REPO, 'test/fixtures/seccomp-agent.py'), sock, String(errno)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  t.teardown(() => p.kill())
  let out = ''
  p.stdout.on('data', (d) => (out += d))
  const listening = new Promise<void>((r) => p.stdout.on('data', () => out.includes('listening') && r()))
  const report = new Promise<Record<string, unknown>>((resolve) =>
    p.on('exit', () => resolve(JSON.parse(out.split('\n').find((l) => l.startsWith('{')) ?? '{}'))),
  )
  return { sock, listening, report }
}

t.test(
  'SCMP_ACT_NOTIFY: the agent gets the state and the fd, and answers',
  { ...priv(), skip: priv().skip ?? (!hasPython && 'needs python3 for the agent') },
  async (t) => {
    const EBADE = 52
    const a = agent(t, EBADE)
    await a.listening
    const runt = newRunt(t)
    const b = makeBundle(t, sh('mkdir /tmp/x; grep Seccomp: /proc/self/status'), (c) => {
      c.linux!.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        listenerPath: a.sock,
        listenerMetadata: 'runt-test-metadata',
        flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
      }
      c.annotations = { 'org.example/a': 'b' }
    })
    const id = newId(runt)
    runt.ok(['create', '--bundle', b.dir, id])
    const pid = runt.state(id).pid
    runt.ok(['start', id])
    const rep = (await a.report) as {
      state: { ociVersion: string; fds: string[]; pid: number; metadata: string; state: Record<string, unknown> }
      fds: number
      cloexec: boolean
      notifications: { nr: number; pid: number }[]
    }
    t.equal(rep.fds, 1, 'one fd, over SCM_RIGHTS')
    t.same(rep.state.fds, ['seccompFd'])
    t.equal(rep.state.ociVersion, '1.3.0')
    t.equal(rep.state.pid, pid, 'the process, as the host sees it')
    t.equal(rep.state.metadata, 'runt-test-metadata')
    t.same(rep.state.state, {
      ociVersion: '1.3.0',
      id,
      status: 'running',
      pid,
      bundle: b.dir,
      annotations: { 'org.example/a': 'b' },
    })
    t.equal(rep.notifications.length, 1, 'one notification: the mkdir')
    t.equal(rep.notifications[0]!.nr, libseccomp.resolveName('mkdir'))
    // The container's output went to runt start's stdio, which the harness captured... at create.
  },
)

t.test(
  'NOTIFY: the process sees the errno the agent answers',
  { ...priv(), skip: priv().skip ?? (!hasPython && 'needs python3 for the agent') },
  async (t) => {
    const a = agent(t, 52)
    await a.listening
    const r = run(t, sh('mkdir /tmp/x; echo rc=$?; grep Seccomp: /proc/self/status'), {
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: a.sock,
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
    })
    t.match(r.stderr, "can't create directory '/tmp/x': Invalid exchange", 'EBADE from the agent')
    t.match(r.stdout, /rc=1\nSeccomp:\s+2/)
    const rep = (await a.report) as { notifications: unknown[] }
    t.equal(rep.notifications.length, 1)
  },
)

t.test('bad seccomp configs fail create, naming the field', priv(), async (t) => {
  const cases: [LinuxSeccomp, string][] = [
    [
      { defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/tmp/x.sock' },
      'linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be used as default action',
    ],
    [
      {
        defaultAction: 'SCMP_ACT_ALLOW',
        listenerPath: '/tmp/x.sock',
        syscalls: [{ names: ['mkdir', 'write'], action: 'SCMP_ACT_NOTIFY' }],
      },
      'linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for the write syscall',
    ],
    [
      {
        defaultAction: 'SCMP_ACT_ALLOW',
        listenerPath: '/nonexistent/agent.sock',
        syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }],
      },
      'linux.seccomp.listenerPath failed to connect with seccomp agent specified in the seccomp profile: connect /nonexistent/agent.sock: no such file or directory',
    ],
  ]
  if (libseccomp.version().minor < 6)
    cases.push([
      { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_LOONGARCH64'] },
      'linux.seccomp.architectures[0]: architecture "loongarch64" is not known to libseccomp',
    ])
  for (const [sc, msg] of cases) {
    const runt = newRunt(t)
    const b = makeBundle(t, ['true'], (c) => (c.linux!.seccomp = sc))
    const id = newId(runt)
    const r = runt.run(['create', '--bundle', b.dir, id])
    t.equal(r.status, 1)
    t.match(r.stderr.replace(/\\"/g, '"'), msg)
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace')
    t.notOk(fs.existsSync(path.join(runt.root, id)), 'nothing left')
  }
})

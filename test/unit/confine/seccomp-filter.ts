// SeccompPlan -> BPF through the system's libseccomp, and what the loaded filter does. No
// root needed: a child node process sets no_new_privs, loads the filter the way the init
// stage does (one seccomp(2) call), makes syscalls with chosen arguments and reports errno.

import t from 'tap'
import { spawnSync } from 'node:child_process'
import * as path from 'node:path'
import { planSeccomp, type SpecSeccomp } from '../../../src/confine/seccomp.js'
import { buildBpf, compileFilter } from '../../../src/confine/seccomp-filter.js'
import { libseccomp } from '../../../src/sys/libseccomp-ffi.js'
import { confineCalls } from '../../../src/sys/ffi-confine.js'
import { linux } from '../../../src/sys/linux.js'

const SRC = path.resolve(import.meta.dirname, '../../../src')
const sys = { ...linux, ...confineCalls }
const plan = (sc: SpecSeccomp) => {
  const r = planSeccomp(sc, (p) => p)
  if (r.issues.length) throw new Error(JSON.stringify(r.issues))
  return r.plan
}
const bpf = (sc: SpecSeccomp, log: (l: string, m: string) => void = () => {}) =>
  buildBpf(plan(sc), () => confineCalls.memfdCreate('t'), linux.close, log)
/** The K operands of a BPF program (struct sock_filter: u16 code, u8 jt, u8 jf, u32 k). */
const operands = (b: Buffer) => Array.from({ length: b.length / 8 }, (_, i) => b.readUInt32LE(i * 8 + 4))

const AUDIT_ARCH_I386 = 0x40000003
const AUDIT_ARCH_X86_64 = 0xc000003e
const native = libseccomp.archNative()

t.test('libseccomp is the system one, 2.5 or later', async (t) => {
  const v = libseccomp.version()
  t.ok(v.major > 2 || (v.major === 2 && v.minor >= 5), `libseccomp ${v.major}.${v.minor}.${v.micro}`)
  t.ok(libseccomp.apiLevel() >= 6, 'API level 6: notify')
  t.equal(libseccomp.resolveNum(native, libseccomp.resolveName('mkdir')), 'mkdir')
})

t.test(
  'a filter exports as BPF, with the architectures asked for',
  { skip: native !== AUDIT_ARCH_X86_64 && 'x86-64 only' },
  async (t) => {
    const plain = bpf({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] })
    t.equal(plain.length % 8, 0, 'whole sock_filter instructions')
    t.ok(operands(plain).includes(AUDIT_ARCH_X86_64), 'checks the native arch')
    t.notOk(operands(plain).includes(AUDIT_ARCH_I386))
    t.ok(operands(plain).includes(0x00050001), 'returns SECCOMP_RET_ERRNO|EPERM')
    const multi = bpf({
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }],
    })
    t.ok(operands(multi).includes(AUDIT_ARCH_I386), 'and i386 when SCMP_ARCH_X86 is listed')
    t.ok(operands(multi).includes(39), "mkdir's i386 number")
  },
)

t.test('unknown syscall names are skipped, as runc does', async (t) => {
  const logs: string[] = []
  const b = bpf(
    { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['no_such_call', 'mkdir'], action: 'SCMP_ACT_ERRNO' }] },
    (l, m) => logs.push(`${l}: ${m}`),
  )
  t.ok(b.length > 0)
  t.same(logs, ['debug: linux.seccomp.syscalls[0].names[0]: unknown syscall "no_such_call" skipped'])
  t.ok(
    bpf({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['socketcall'], action: 'SCMP_ACT_ERRNO' }] }).length > 0,
    "another arch's syscall is no error",
  )
})

const lsv = libseccomp.version()
t.test(
  'an architecture libseccomp lacks is an error naming the field',
  { skip: lsv.minor >= 6 && 'libseccomp 2.6 knows loongarch64' },
  async (t) => {
    t.throws(() => bpf({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_LOONGARCH64'] }), {
      message: `linux.seccomp.architectures[0]: architecture "loongarch64" is not known to libseccomp ${lsv.major}.${lsv.minor}.${lsv.micro}`,
    })
  },
)

t.test('a rule libseccomp refuses names its entry', async (t) => {
  // The planner never makes one (validate.ts refuses index > 5); a hand-made plan shows the path.
  const p = plan({ defaultAction: 'SCMP_ACT_ALLOW' })
  p.rules.push({
    field: 'linux.seccomp.syscalls[3]',
    names: ['mkdir'],
    action: 0x00050001,
    conditions: [[{ arg: 6, op: 4, a: '1', b: '0' }]],
  })
  t.throws(
    () =>
      buildBpf(
        p,
        () => confineCalls.memfdCreate('t'),
        linux.close,
        () => {},
      ),
    { message: 'linux.seccomp.syscalls[3].names[0]: seccomp_rule_add mkdir: invalid argument' },
  )
})

t.test('compiling checks the load flags against the kernel', async (t) => {
  const f = compileFilter(
    plan({
      defaultAction: 'SCMP_ACT_ALLOW',
      flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
    }),
    sys,
    () => {},
  )
  t.equal(f.flags, 1 | 2 | 4)
  t.equal(f.notify, false)
  t.equal(f.program.insns * 8, f.bytes)
  const n = compileFilter(
    plan({
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: '/x',
      flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }],
    }),
    sys,
    () => {},
  )
  const killable = confineCalls.seccompFlagsSupported(8 | 32)
  t.equal(n.flags, 1 | 8 | 16 | (killable ? 32 : 0), 'NEW_LISTENER, and TSYNC_ESRCH with TSYNC (seccomp(2))')
})

/**
 * Run a child node that loads the filter for `sc` (with no_new_privs) and calls getpgid(v) for
 * each v; returns each result as an errno name or "ok", or how the child died.
 */
function probe(sc: SpecSeccomp, values: (number | bigint)[], extra = ''): { out: Record<string, string>; signal: string | null } {
  const code = `
    const { planSeccomp } = await import('${SRC}/confine/seccomp.ts')
    const { compileFilter, loadFilter } = await import('${SRC}/confine/seccomp-filter.ts')
    const { confineCalls } = await import('${SRC}/sys/ffi-confine.ts')
    const { linux } = await import('${SRC}/sys/linux.ts')
    const { libseccomp } = await import('${SRC}/sys/libseccomp-ffi.ts')
    const ffi = await import('${SRC}/sys/ffi.ts')
    const sys = { ...linux, ...confineCalls }
    const { plan } = planSeccomp(JSON.parse(process.env.SC), (p) => p)
    const f = compileFilter(plan, sys, () => {})
    const nr = libseccomp.resolveName('getpgid')
    linux.prctl(38, 1)
    const out = { fd: String(loadFilter(f, sys)) }
    ${extra}
    for (const v of JSON.parse(process.env.VALUES)) {
      const r = Number(ffi.syscall(nr, 'int64_t', BigInt(v)))
      out[v] = r < 0 ? ffi.errnoNames[ffi.errno()] : 'ok'
    }
    // Straight out: exit handlers (tsx's cache) may mkdir, which a NOTIFY filter would hold.
    const { writeSync } = await import('node:fs')
    writeSync(1, JSON.stringify(out))
    process.reallyExit(0)
  `
  // env -i: nothing of tap's reaches the child. tap adds NODE_OPTIONS to every node it sees
  // spawned, and its loader catches SIGSYS (signal-exit) and writes coverage at exit.
  const env = [
    `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`,
    `SC=${JSON.stringify(sc)}`,
    `VALUES=${JSON.stringify(values.map(String))}`,
  ]
  const r = spawnSync('/usr/bin/env', ['-i', ...env, process.execPath, '--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: path.resolve(SRC, '..'),
    encoding: 'utf8',
    timeout: 30000,
  })
  if (r.status !== 0 && !r.signal) throw new Error(`probe failed: ${r.stderr}`)
  return { out: r.stdout ? JSON.parse(r.stdout) : {}, signal: r.signal }
}

const rule = (op: string, value: number | bigint, valueTwo?: number): SpecSeccomp => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [
    {
      names: ['getpgid'],
      action: 'SCMP_ACT_ERRNO',
      errnoRet: 18,
      args: [{ index: 0, value: Number(value), op, ...(valueTwo !== undefined ? { valueTwo } : {}) }],
    },
  ],
})

// getpgid(0) succeeds and a pid that does not exist gives ESRCH: anything else is the filter.
const hit = 'EXDEV'
t.test('every operator, as the kernel runs the filter', async (t) => {
  const cases: [string, number, number, [number | bigint, boolean][]][] = [
    [
      'SCMP_CMP_EQ',
      5,
      0,
      [
        [5, true],
        [6, false],
        [4, false],
      ],
    ],
    [
      'SCMP_CMP_NE',
      5,
      0,
      [
        [5, false],
        [6, true],
        [0, true],
      ],
    ],
    [
      'SCMP_CMP_LT',
      5,
      0,
      [
        [4, true],
        [5, false],
        [6, false],
      ],
    ],
    [
      'SCMP_CMP_LE',
      5,
      0,
      [
        [5, true],
        [4, true],
        [6, false],
      ],
    ],
    [
      'SCMP_CMP_GT',
      5,
      0,
      [
        [6, true],
        [5, false],
        [0, false],
      ],
    ],
    [
      'SCMP_CMP_GE',
      5,
      0,
      [
        [5, true],
        [6, true],
        [4, false],
      ],
    ],
    [
      'SCMP_CMP_MASKED_EQ',
      0xff00,
      0x1200,
      [
        [0x12ab, true],
        [0x13ab, false],
        [0x1200, true],
      ],
    ],
  ]
  for (const [op, value, two, checks] of cases) {
    const { out } = probe(
      rule(op, value, op === 'SCMP_CMP_MASKED_EQ' ? two : undefined),
      checks.map((c) => c[0]),
    )
    for (const [v, match] of checks) {
      if (match) t.equal(out[String(v)], hit, `${op} ${value}: getpgid(${v}) is refused`)
      else t.not(out[String(v)], hit, `${op} ${value}: getpgid(${v}) passes`)
    }
  }
})

t.test('64-bit values are compared in full', async (t) => {
  const big = 2 ** 32 + 5
  const { out } = probe(rule('SCMP_CMP_EQ', big), [big, 5])
  t.equal(out[String(big)], hit, '2^32+5 matches')
  t.not(out['5'], hit, '5 (same low word) does not')
})

t.test('conditions on two args AND; a repeated arg ORs (runc)', async (t) => {
  const both: SpecSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      {
        names: ['getpgid'],
        action: 'SCMP_ACT_ERRNO',
        errnoRet: 18,
        args: [
          { index: 0, value: 7, op: 'SCMP_CMP_EQ' },
          { index: 0, value: 9, op: 'SCMP_CMP_EQ' },
        ],
      },
    ],
  }
  const { out } = probe(both, [7, 9, 8])
  t.same([out['7'], out['9']], [hit, hit])
  t.not(out['8'], hit)
})

t.test('actions', async (t) => {
  const act = (action: string, errnoRet?: number): SpecSeccomp => ({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['getpgid'], action, ...(errnoRet !== undefined ? { errnoRet } : {}) }],
  })
  t.equal(probe(act('SCMP_ACT_ERRNO', 61), [0]).out['0'], 'ENODATA', 'ERRNO with errnoRet')
  t.equal(probe(act('SCMP_ACT_ERRNO'), [0]).out['0'], 'EPERM', 'ERRNO defaults to EPERM')
  t.equal(probe(act('SCMP_ACT_TRACE', 3), [0]).out['0'], 'ENOSYS', 'TRACE without a tracer: ENOSYS')
  t.equal(probe(act('SCMP_ACT_LOG'), [0]).out['0'], 'ok', 'LOG lets the call run')
  t.equal(probe(act('SCMP_ACT_KILL_PROCESS'), [0]).signal, 'SIGSYS', 'KILL_PROCESS kills with SIGSYS')
  t.equal(probe(act('SCMP_ACT_TRAP'), [0]).signal, 'SIGSYS', 'TRAP raises SIGSYS')
  const n = probe(
    { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/x', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] },
    [0],
    'out.cloexec = String(linux.fcntl(Number(out.fd), 1, 0) & 1)',
  )
  t.ok(Number(n.out.fd) > 2, 'NOTIFY: the load returns a listener fd')
  t.equal(n.out.cloexec, '1', 'which is close-on-exec')
  t.equal(n.out['0'], 'ok', 'other calls run')
})

t.test('default action and defaultErrnoRet, with everything else allowed', async (t) => {
  // Every syscall libseccomp knows on this arch but getpgid: the default catches only it.
  const names: string[] = []
  for (let nr = 0; nr < 1024; nr++) {
    const n = libseccomp.resolveNum(native, nr)
    if (n && n !== 'getpgid') names.push(n)
  }
  t.ok(names.length > 300)
  const { out } = probe(
    { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 61, syscalls: [{ names, action: 'SCMP_ACT_ALLOW' }] },
    [0],
  )
  t.equal(out['0'], 'ENODATA')
})

t.test('a syscall newer than the profile answers ENOSYS, an older unlisted one the default', async (t) => {
  const names: string[] = []
  for (let nr = 0; nr < 1024; nr++) {
    const n = libseccomp.resolveNum(native, nr)
    if (n && n !== 'getpgid') names.push(n)
  }
  const newer = 'out.newer = Number(ffi.syscall(1000)) < 0 ? ffi.errnoNames[ffi.errno()] : "ok"'
  const plain = probe({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names, action: 'SCMP_ACT_ALLOW' }] }, [0], newer)
  t.equal(plain.out['0'], 'EPERM', 'getpgid, unlisted: the default errno')
  t.equal(plain.out.newer, 'ENOSYS', 'syscall(1000): ENOSYS, as under runc')
  const allowing = probe(
    { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpgid'], action: 'SCMP_ACT_ERRNO' }] },
    [0],
    newer,
  )
  t.equal(allowing.out['0'], 'EPERM')
  t.equal(allowing.out.newer, 'ENOSYS', "an allowing default: no stub; the kernel's own ENOSYS")
})

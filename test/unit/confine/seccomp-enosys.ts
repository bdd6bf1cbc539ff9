// The -ENOSYS stub: which defaults get it, the highest syscall per architecture, the assembled
// program run by a BPF interpreter for every architecture layout, and the whole filter as
// libseccomp plus the stub build it for podman's allow-list (without its defaultErrnoRet).

import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { planSeccomp, SCMP_ACT, stubApplies, type SpecSeccomp } from '../../../src/confine/seccomp.js'
import {
  AUDIT_ARCH,
  enosysStub,
  highestSyscalls,
  RET_ENOSYS,
  SCMP_ARCH_X32,
  X32_SYSCALL_BIT,
} from '../../../src/confine/seccomp-enosys.js'
import { buildBpf } from '../../../src/confine/seccomp-filter.js'
import { libseccomp } from '../../../src/sys/libseccomp-ffi.js'
import { confineCalls } from '../../../src/sys/ffi-confine.js'
import { linux } from '../../../src/sys/linux.js'
import { runSeccomp, runStub } from '../../fixtures/cbpf.js'

const I386 = 0x40000003
const AARCH64 = 0xc00000b7
const X86_64 = AUDIT_ARCH.X86_64
const EPERM = (SCMP_ACT.ERRNO | 1) >>> 0

t.test('which default actions get the stub (runc: all but ALLOW, LOG, TRACE)', async (t) => {
  t.equal(stubApplies(SCMP_ACT.ALLOW), false)
  t.equal(stubApplies(SCMP_ACT.LOG), false)
  t.equal(stubApplies((SCMP_ACT.TRACE | 1) >>> 0), false, 'TRACE with any data')
  t.equal(stubApplies(EPERM), true)
  t.equal(stubApplies(RET_ENOSYS), false, 'a default that already answers ENOSYS')
  t.equal(stubApplies(SCMP_ACT.KILL_PROCESS), true)
  t.equal(stubApplies(SCMP_ACT.KILL_THREAD), true)
  t.equal(stubApplies(SCMP_ACT.TRAP), true)
  const plan = (sc: SpecSeccomp) => planSeccomp(sc, (p) => p).plan
  const syscalls = [
    { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
    { names: ['write', 'mkdir'], action: 'SCMP_ACT_ERRNO' },
  ]
  t.same(
    plan({ defaultAction: 'SCMP_ACT_ERRNO', syscalls }).enosys,
    ['read', 'write', 'mkdir'],
    'every name, whatever its action',
  )
  t.equal(plan({ defaultAction: 'SCMP_ACT_ALLOW', syscalls }).enosys, undefined)
  t.equal(plan({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38, syscalls }).enosys, undefined)
})

t.test('the highest syscall per architecture', async (t) => {
  const table: Record<number, Record<string, number>> = {
    [X86_64]: { read: 0, clone3: 435, socket: 41 },
    [I386]: { read: 3, clone3: 435, socket: -101 },
    [AARCH64]: {},
  }
  const resolve = (arch: number, name: string) => table[arch]?.[name] ?? -1
  t.same(highestSyscalls(['read', 'socket', 'nope'], [X86_64, I386, X86_64, AARCH64], resolve), [
    { arch: X86_64, max: 41 },
    { arch: I386, max: 3 },
  ])
  t.same(highestSyscalls([], [X86_64], resolve), [], 'no names: no section')
})

t.test('the stub for one architecture', async (t) => {
  const stub = enosysStub([{ arch: AARCH64, max: 300 }])
  t.equal(stub.length % 8, 0)
  t.equal(runStub(stub, { arch: AARCH64, nr: 301 }), RET_ENOSYS)
  t.equal(runStub(stub, { arch: AARCH64, nr: 1000 }), RET_ENOSYS)
  t.equal(runStub(stub, { arch: AARCH64, nr: 300 }), 'filter', 'the highest itself goes to the filter')
  t.equal(runStub(stub, { arch: AARCH64, nr: 0 }), 'filter')
  t.equal(runStub(stub, { arch: X86_64, nr: 1000 }), 'filter', 'another arch: the filter decides (bad arch)')
  t.equal(runStub(enosysStub([]), { arch: AARCH64, nr: 1000 }), 'filter', 'no section: always the filter')
})

t.test('x86-64 with and without x32', async (t) => {
  const both = enosysStub([
    { arch: X86_64, max: 439 },
    { arch: SCMP_ARCH_X32, max: X32_SYSCALL_BIT + 400 },
    { arch: I386, max: 450 },
  ])
  t.equal(runStub(both, { arch: X86_64, nr: 440 }), RET_ENOSYS)
  t.equal(runStub(both, { arch: X86_64, nr: 439 }), 'filter')
  t.equal(runStub(both, { arch: X86_64, nr: X32_SYSCALL_BIT + 401 }), RET_ENOSYS, 'x32 against its own highest')
  t.equal(runStub(both, { arch: X86_64, nr: X32_SYSCALL_BIT + 400 }), 'filter')
  t.equal(runStub(both, { arch: I386, nr: 449 }), 'filter')
  t.equal(runStub(both, { arch: I386, nr: 451 }), RET_ENOSYS)

  const plain = enosysStub([{ arch: X86_64, max: 439 }])
  t.equal(runStub(plain, { arch: X86_64, nr: 1000 }), RET_ENOSYS)
  t.equal(runStub(plain, { arch: X86_64, nr: X32_SYSCALL_BIT + 1000 }), 'filter', 'x32 not listed: the filter refuses it')

  const x32 = enosysStub([{ arch: SCMP_ARCH_X32, max: X32_SYSCALL_BIT + 400 }])
  t.equal(runStub(x32, { arch: X86_64, nr: X32_SYSCALL_BIT + 401 }), RET_ENOSYS)
  t.equal(runStub(x32, { arch: X86_64, nr: 1000 }), 'filter', 'x86_64 not listed: the filter refuses it')
})

t.test('s390x: the multiplexer syscall 0 answers ENOSYS', async (t) => {
  const stub = enosysStub([{ arch: AUDIT_ARCH.S390X, max: 400 }])
  t.equal(runStub(stub, { arch: AUDIT_ARCH.S390X, nr: 0 }), RET_ENOSYS)
  t.equal(runStub(stub, { arch: AUDIT_ARCH.S390X, nr: 1 }), 'filter')
  t.equal(runStub(stub, { arch: AUDIT_ARCH.S390X, nr: 401 }), RET_ENOSYS)
})

t.test('every architecture at once stays within 8-bit jumps', async (t) => {
  const archs = [
    0x40000028,
    AARCH64,
    I386,
    X86_64,
    SCMP_ARCH_X32,
    0x8,
    0x80000008,
    0x40000008,
    0xc0000008,
    0x14,
    0x80000015,
    0xc0000015,
    AUDIT_ARCH.S390,
    AUDIT_ARCH.S390X,
    0xc00000f3,
  ]
  const stub = enosysStub(archs.map((arch, i) => ({ arch, max: (arch === SCMP_ARCH_X32 ? X32_SYSCALL_BIT : 0) + 400 + i })))
  archs.forEach((arch, i) => {
    if (arch === SCMP_ARCH_X32) return
    t.equal(runStub(stub, { arch, nr: 401 + i }), RET_ENOSYS, `arch 0x${arch.toString(16)} above`)
    t.equal(runStub(stub, { arch, nr: 399 }), 'filter', `arch 0x${arch.toString(16)} below`)
  })
})

const native = libseccomp.archNative()
t.test(
  "the whole filter: podman's allow-list without defaultErrnoRet",
  { skip: native !== X86_64 && 'x86-64 only' },
  async (t) => {
    const cfg = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../../spec-fixtures/valid/podman.json'), 'utf8'))
    const sc: SpecSeccomp = { ...cfg.linux.seccomp }
    delete sc.defaultErrnoRet
    // Its two socket rules (AF_VSOCK refused, the rest allowed) make libseccomp 2.5 refuse the
    // i386 filter with EEXIST, under runc as under runt; the allow-list is what matters here.
    sc.syscalls = sc.syscalls!.filter((s) => !s.names.includes('socket'))
    const logs: string[] = []
    const { plan } = planSeccomp(sc, (p) => p)
    const prog = buildBpf(
      plan,
      () => confineCalls.memfdCreate('t'),
      linux.close,
      (_l, m) => logs.push(m),
    )
    const nr = (name: string, arch = native) => libseccomp.resolveNameArch(arch, name)
    const names = sc.syscalls!.flatMap((s) => s.names)
    const highest = Math.max(...names.map((n) => nr(n)))
    const unlisted = Array.from({ length: highest }, (_, i) => i).find((i) => {
      const name = libseccomp.resolveNum(native, i)
      return name !== null && !names.includes(name)
    })!
    t.ok(
      logs.some((m) => m.startsWith('seccomp: -ENOSYS stub of')),
      'logged at debug',
    )
    t.equal(runSeccomp(prog, { arch: X86_64, nr: 1000 }), RET_ENOSYS, 'syscall(1000): ENOSYS, as under runc')
    t.equal(runSeccomp(prog, { arch: X86_64, nr: highest + 1 }), RET_ENOSYS)
    t.equal(runSeccomp(prog, { arch: X86_64, nr: unlisted }), EPERM, `an unlisted older syscall (${unlisted}) keeps the default`)
    t.equal(runSeccomp(prog, { arch: X86_64, nr: nr('read') }), SCMP_ACT.ALLOW)
    t.equal(runSeccomp(prog, { arch: I386, nr: nr('read', I386) }), SCMP_ACT.ALLOW, 'i386 listed')
    t.equal(runSeccomp(prog, { arch: I386, nr: 2000 }), RET_ENOSYS)
    t.equal(runSeccomp(prog, { arch: X86_64, nr: nr('read', SCMP_ARCH_X32) }), SCMP_ACT.ALLOW, 'x32 listed')
    t.equal(runSeccomp(prog, { arch: X86_64, nr: X32_SYSCALL_BIT + 2000 }), RET_ENOSYS)
    t.equal(runSeccomp(prog, { arch: AARCH64, nr: 0 }), SCMP_ACT.KILL_THREAD, 'an unlisted arch: the bad-arch action')

    const allowing = buildBpf(
      planSeccomp(
        { ...sc, defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] },
        (p) => p,
      ).plan,
      () => confineCalls.memfdCreate('t'),
      linux.close,
      () => {},
    )
    t.equal(runSeccomp(allowing, { arch: X86_64, nr: 1000 }), SCMP_ACT.ALLOW, 'an allowing default: no stub')

    const bare = buildBpf(
      planSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] }, (p) => p).plan,
      () => confineCalls.memfdCreate('t'),
      linux.close,
      () => {},
    )
    t.equal(runSeccomp(bare, { arch: X86_64, nr: 1 }), RET_ENOSYS, 'no architectures listed: the native one gets the stub')
    t.equal(runSeccomp(bare, { arch: X86_64, nr: 0 }), SCMP_ACT.ALLOW)
  },
)

// koffi binding of the system's libseccomp (libseccomp.so.2, 2.5+): filter contexts, rules with
// argument conditions, architectures, attributes, syscall and architecture name resolution,
// and BPF export. Syscall tables come from libseccomp, never from us. Loaded on first use,
// which the init stage does while host paths are still visible. Failures throw SysError.

import koffi from './koffi.js'
import { libc } from './ffi.js'
import { sysError } from './linux.js'
import { RuntimeError } from '../errors.js'

/** libseccomp's scmp_filter_ctx, an opaque pointer. */
export type ScmpCtx = unknown

/** enum scmp_filter_attr (seccomp.h). */
export const SCMP_FLTATR = {
  ACT_DEFAULT: 1,
  ACT_BADARCH: 2,
  CTL_NNP: 3,
  CTL_TSYNC: 4,
  API_TSKIP: 5,
  CTL_LOG: 6,
  CTL_SSB: 7,
  CTL_OPTIMIZE: 8,
  API_SYSRAWRC: 9,
} as const

/** __NR_SCMP_ERROR: what the resolvers return for a name they do not know. */
export const NR_SCMP_ERROR = -1

export type ScmpCond = { arg: number; op: number; a: bigint; b: bigint }

function bind() {
  let lib: ReturnType<typeof koffi.load>
  try {
    lib = koffi.load('libseccomp.so.2')
  } catch (e) {
    throw new RuntimeError(`cannot load libseccomp.so.2 (install libseccomp2): ${(e as Error).message}`, 'ESECCOMP')
  }
  const Version = koffi.struct('runt_libseccomp_version', { major: 'uint', minor: 'uint', micro: 'uint' })
  const ArgCmp = koffi.struct('runt_scmp_arg_cmp', { arg: 'uint', op: 'int', datum_a: 'uint64_t', datum_b: 'uint64_t' })
  return {
    Version,
    ArgCmp,
    version: lib.func('const runt_libseccomp_version *seccomp_version()'),
    apiGet: lib.func('unsigned int seccomp_api_get()'),
    init: lib.func('void *seccomp_init(uint32_t def_action)'),
    release: lib.func('void seccomp_release(void *ctx)'),
    archNative: lib.func('uint32_t seccomp_arch_native()'),
    archResolveName: lib.func('uint32_t seccomp_arch_resolve_name(const char *name)'),
    archAdd: lib.func('int seccomp_arch_add(void *ctx, uint32_t arch_token)'),
    attrSet: lib.func('int seccomp_attr_set(void *ctx, int attr, uint32_t value)'),
    resolveName: lib.func('int seccomp_syscall_resolve_name(const char *name)'),
    resolveNameArch: lib.func('int seccomp_syscall_resolve_name_arch(uint32_t arch_token, const char *name)'),
    resolveNumArch: lib.func('void *seccomp_syscall_resolve_num_arch(uint32_t arch_token, int num)'),
    ruleAddArray: lib.func(
      'int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int arg_cnt, const runt_scmp_arg_cmp *arg_array)',
    ),
    exportBpf: lib.func('int seccomp_export_bpf(void *ctx, int fd)'),
    free: libc.func('void free(void *ptr)'),
  }
}

let bound: ReturnType<typeof bind> | undefined
const lib = () => (bound ??= bind())

/** Negative errno returns -> SysError naming the libseccomp call. */
function check(r: number, fn: string, what?: string): number {
  if (r < 0) throw sysError(fn, -r, what)
  return r
}

export const libseccomp = {
  /** Load the library now (the init does this before it leaves the host's mounts). */
  load(): void {
    lib()
  },
  version(): { major: number; minor: number; micro: number } {
    const l = lib()
    return koffi.decode(l.version(), l.Version) as { major: number; minor: number; micro: number }
  },
  apiLevel(): number {
    return lib().apiGet()
  },
  archNative(): number {
    return lib().archNative()
  },
  /** AUDIT_ARCH_* token of a libseccomp arch name ("x86_64"), or 0 if libseccomp lacks it. */
  archResolve(name: string): number {
    return lib().archResolveName(name)
  },
  /** Native syscall number (or a negative pseudo number for another arch's), or NR_SCMP_ERROR. */
  resolveName(name: string): number {
    return lib().resolveName(name)
  },
  /** The number of syscall `name` on `arch` as the kernel sees it (x32's with its bit), or NR_SCMP_ERROR. */
  resolveNameArch(arch: number, name: string): number {
    return lib().resolveNameArch(arch >>> 0, name)
  },
  /** The name of syscall `num` on `arch`, or null. */
  resolveNum(arch: number, num: number): string | null {
    const l = lib()
    const p = l.resolveNumArch(arch, num)
    if (p === null) return null
    const s = koffi.decode(p, 'char', -1) as string
    l.free(p)
    return s
  },
  init(defAction: number): ScmpCtx {
    const ctx = lib().init(defAction >>> 0)
    if (ctx === null)
      throw new RuntimeError(`seccomp_init: invalid default action 0x${(defAction >>> 0).toString(16)}`, 'ESECCOMP')
    return ctx
  },
  release(ctx: ScmpCtx): void {
    lib().release(ctx)
  },
  /** Add an architecture; one already present (the native one) is not an error. */
  archAdd(ctx: ScmpCtx, token: number, what: string): void {
    const r = lib().archAdd(ctx, token)
    if (r === -17 /* EEXIST */) return
    check(r, 'seccomp_arch_add', what)
  },
  attrSet(ctx: ScmpCtx, attr: number, value: number, what: string): void {
    check(lib().attrSet(ctx, attr, value >>> 0), 'seccomp_attr_set', what)
  },
  ruleAdd(ctx: ScmpCtx, action: number, syscall: number, conds: ScmpCond[], what: string): void {
    const arr = conds.map((c) => ({ arg: c.arg, op: c.op, datum_a: c.a, datum_b: c.b }))
    check(lib().ruleAddArray(ctx, action >>> 0, syscall, arr.length, arr.length ? arr : null), 'seccomp_rule_add', what)
  },
  /** Write the filter as raw BPF (struct sock_filter[]) to `fd`. */
  exportBpf(ctx: ScmpCtx, fd: number): void {
    check(lib().exportBpf(ctx, fd), 'seccomp_export_bpf')
  },
}

// Stage 1: create a child process that runs only libc code and ends in execve.
//
// A child made by clone() without CLONE_VM cannot run JavaScript (V8 maps its heap
// MADV_DONTFORK), but it can run libc functions. We clone with glibc's setcontext as the
// child's entry point and a ucontext prepared with makecontext as its argument: each context
// calls one libc function and, when it returns, continues with its uc_link. The chain cannot
// branch on a result, so whatever runs after the execve (the init stage) verifies that each
// step took effect. See docs/design.md and ../shared/DESIGN.md (facts 1, 2, 4).
//
// All memory the child uses (contexts, stacks, strings) is malloc'd, outside the V8 heap, so
// the child's copy of it is intact.

import * as ffi from './ffi.js'
import { sysError } from './linux.js'

// glibc x86-64 and aarch64 agree on these offsets into ucontext_t (uc_link at 8,
// uc_stack.ss_sp at 16, uc_stack.ss_size at 32); sizeof(ucontext_t) is 968 on x86-64 and
// 4560 on aarch64, so we allocate more than either.
const UC_SIZE = 8192
const UC_LINK = 8
const UC_STACK_SP = 16
const UC_STACK_SIZE = 32
const CTX_STACK = 32 * 1024
const CLONE_STACK = 64 * 1024

/** A call argument: a 64-bit word, a string (copied to C memory), or a value computed when
 * the chain is built (the entry of a nested chain). */
type Arg = bigint | number | string | null | (() => bigint)

/** One libc call in the chain; strings become C strings, numbers pass as 64-bit words. */
export type ChainCall = { fn: string; args: Arg[] }

export class CloneChain {
  private allocations: ffi.Ptr[]
  private calls: ChainCall[] = []

  constructor(
    private exitCode = 127,
    shared?: ffi.Ptr[],
  ) {
    this.allocations = shared ?? []
  }

  private alloc(size: number): ffi.Ptr {
    const p = ffi.malloc(size)
    this.allocations.push(p)
    return p
  }

  /** A C string that lives as long as this chain. */
  str(s: string): ffi.Ptr {
    const p = ffi.cString(s)
    this.allocations.push(p)
    return p
  }

  /** A NULL-terminated char*[] that lives as long as this chain. */
  strArray(list: string[]): ffi.Ptr {
    const p = ffi.cPointerArray(list.map((s) => this.str(s)))
    this.allocations.push(p)
    return p
  }

  buffer(size: number): ffi.Ptr {
    return this.alloc(size)
  }

  /** A copy of `b` that lives as long as this chain. */
  bytes(b: Buffer): ffi.Ptr {
    const p = this.alloc(Math.max(b.length, 1))
    ffi.pokeBytes(p, b)
    return p
  }

  /** The address of this thread's errno, which a cloned child has at the same address. */
  static errnoAddress(): ffi.Ptr {
    return ffi.errnoLocation()
  }

  call(fn: string, ...args: Arg[]): this {
    this.calls.push({ fn, args })
    return this
  }

  /** The calls as data, for tests and --debug. */
  describe(): ChainCall[] {
    return this.calls.slice()
  }

  /** The address of a libc function, for passing as an argument (clone's fn). */
  static symbol(name: string): bigint {
    return ffi.symbol(name)
  }

  /**
   * A chain for a grandchild: `clone(setcontext, stack, flags, <nested>)` from this chain runs
   * it. It shares this chain's memory; `entry` builds it and gives its first context.
   */
  nested(exitCode = 127): { chain: CloneChain; entry: () => bigint; stackTop: () => bigint } {
    const chain = new CloneChain(exitCode, this.allocations)
    return {
      chain,
      entry: () => chain.build(),
      stackTop: () => chain.alloc(CLONE_STACK) + BigInt(CLONE_STACK),
    }
  }

  private word(a: Arg): bigint {
    if (a === null) return 0n
    if (typeof a === 'function') return a()
    if (typeof a === 'string') return this.str(a)
    if (typeof a === 'bigint') return a
    // Negative ints (AT_FDCWD) are sign-extended the way the C callee reads them.
    return BigInt.asUintN(64, BigInt(a))
  }

  private context(fn: ffi.Ptr, link: ffi.Ptr, args: bigint[]): ffi.Ptr {
    const uc = this.alloc(UC_SIZE)
    if (ffi.getcontext(uc) !== 0) throw sysError('getcontext', ffi.errno())
    const stack = this.alloc(CTX_STACK)
    ffi.pokeU64(uc, UC_STACK_SP, stack)
    ffi.pokeU64(uc, UC_STACK_SIZE, BigInt(CTX_STACK))
    ffi.pokeU64(uc, UC_LINK, link)
    const va: unknown[] = []
    for (const a of args) va.push('uint64_t', a)
    ffi.makecontext(uc, fn, args.length, ...va)
    return uc
  }

  /**
   * clone(2) a child with `flags` (namespaces to create at birth; SIGCHLD is added) that
   * runs the calls in order and then _exit(127)s if none of them replaced the process.
   * Returns the child's pid.
   */
  /** Build the contexts; returns the first. The last context calls _exit(exitCode). */
  build(): bigint {
    let link = this.context(ffi.symbol('_exit'), 0n, [BigInt(this.exitCode)])
    for (let i = this.calls.length - 1; i >= 0; i--) {
      const c = this.calls[i]!
      link = this.context(
        ffi.symbol(c.fn),
        link,
        c.args.map((a) => this.word(a)),
      )
    }
    return link
  }

  spawn(flags: number): number {
    return this.prepare(flags)()
  }

  /**
   * Build everything now and return a function that only calls clone(2): for a caller that
   * must make as few system calls as possible between two points (a seccomp filter is loaded).
   */
  prepare(flags: number): () => number {
    const link = this.build()
    const stack = this.alloc(CLONE_STACK)
    const top = stack + BigInt(CLONE_STACK)
    const entry = ffi.symbol('setcontext')
    return () => {
      const pid = ffi.clone(entry, top, flags | 17 /* SIGCHLD */, link)
      if (pid < 0) throw sysError('clone', ffi.errno())
      return pid
    }
  }

  /** Free the chain's memory. The child has its own copy (no CLONE_VM), so right after spawn. */
  release(): void {
    for (const p of this.allocations) ffi.free(p)
    this.allocations = []
  }
}

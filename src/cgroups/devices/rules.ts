// The device allow-list: the spec's linux.resources.devices plus runc's built-in rules, and an
// emulator of cgroup v1 devices semantics (runc's devices emulator) that reduces any rule list
// to a default policy plus exceptions. v1 writes the transition between two emulator states;
// v2 compiles the reduced list into an eBPF program (ebpf.ts). Where runc's emulator keeps the
// kernel's own edits and the spec's order says otherwise (a wildcard rule after a narrower one,
// "a" rules that are not "a *:* rwm", r and w from two rules), this one follows the spec; the
// methods below say how. test/unit/cgroups/devices/verdicts.ts checks both paths against the
// spec's semantics. Pure: no I/O.

import { cgroupError } from '../fs.js'
import { RuntimeError } from '../../errors.js'

export type DeviceType = 'a' | 'b' | 'c'

/** One devices-cgroup rule; major/minor -1 is the wildcard "*". */
export type DeviceRule = { type: DeviceType; major: number; minor: number; access: string; allow: boolean }

const WILDCARD = -1

/**
 * runc's specconv.AllowedDevices: appended after the spec's rules, so a container can always
 * mknod and use the standard devices. A rule with a path is dropped when linux.devices
 * declares the same path (the spec's own device wins).
 */
export const DEFAULT_ALLOWED: readonly { path?: string; rule: DeviceRule }[] = [
  { rule: { type: 'c', major: WILDCARD, minor: WILDCARD, access: 'm', allow: true } },
  { rule: { type: 'b', major: WILDCARD, minor: WILDCARD, access: 'm', allow: true } },
  { path: '/dev/null', rule: { type: 'c', major: 1, minor: 3, access: 'rwm', allow: true } },
  { path: '/dev/random', rule: { type: 'c', major: 1, minor: 8, access: 'rwm', allow: true } },
  { path: '/dev/full', rule: { type: 'c', major: 1, minor: 7, access: 'rwm', allow: true } },
  { path: '/dev/tty', rule: { type: 'c', major: 5, minor: 0, access: 'rwm', allow: true } },
  { path: '/dev/zero', rule: { type: 'c', major: 1, minor: 5, access: 'rwm', allow: true } },
  { path: '/dev/urandom', rule: { type: 'c', major: 1, minor: 9, access: 'rwm', allow: true } },
  // /dev/pts/*
  { rule: { type: 'c', major: 136, minor: WILDCARD, access: 'rwm', allow: true } },
  // /dev/ptmx
  { rule: { type: 'c', major: 5, minor: 2, access: 'rwm', allow: true } },
  // tun/tap
  { rule: { type: 'c', major: 10, minor: 200, access: 'rwm', allow: true } },
]

type SpecDeviceCgroup = { allow: boolean; type?: string; major?: number; minor?: number; access?: string }

/** The rules a container's devices cgroup gets, in the order they are applied. */
export function deviceRules(resources: SpecDeviceCgroup[] | undefined, linuxDevices: { path: string }[] = []): DeviceRule[] {
  const out: DeviceRule[] = []
  ;(resources ?? []).forEach((d, i) => {
    const field = `linux.resources.devices[${i}]`
    if (!d.access) throw cgroupError(`${field}.access`, 'cannot be empty')
    if (!/^[rwm]+$/.test(d.access)) throw cgroupError(`${field}.access`, `invalid access ${JSON.stringify(d.access)}`)
    const type = (d.type ?? 'a') as DeviceType
    if (type !== 'a' && type !== 'b' && type !== 'c') throw cgroupError(`${field}.type`, `invalid type ${JSON.stringify(d.type)}`)
    for (const k of ['major', 'minor'] as const) {
      const v = d[k]
      if (v !== undefined && v !== WILDCARD && (v < 0 || v > 0xffffffff))
        throw cgroupError(`${field}.${k}`, `must be -1 (any) or 0 to 4294967295, got ${v}`)
    }
    out.push({ type, major: d.major ?? WILDCARD, minor: d.minor ?? WILDCARD, access: d.access, allow: d.allow })
  })
  const declared = new Set(linuxDevices.map((d) => d.path))
  for (const d of DEFAULT_ALLOWED) if (!d.path || !declared.has(d.path)) out.push({ ...d.rule })
  return out
}

// Access sets as bits, printed in the kernel's canonical order.
const R = 1
const W = 2
const M = 4
export function accessBits(access: string): number {
  let b = 0
  for (const c of access) b |= c === 'r' ? R : c === 'w' ? W : c === 'm' ? M : 0
  return b
}
export function accessString(bits: number): string {
  return (bits & R ? 'r' : '') + (bits & W ? 'w' : '') + (bits & M ? 'm' : '')
}

/** "c 1:3 rwm", as devices.allow / devices.deny / devices.list spell a rule. */
export function cgroupString(r: DeviceRule): string {
  const n = (v: number) => (v === WILDCARD ? '*' : String(v))
  return `${r.type} ${n(r.major)}:${n(r.minor)} ${accessString(accessBits(r.access))}`
}

type Meta = { type: 'b' | 'c'; major: number; minor: number }
const keyOf = (m: Meta) => `${m.type} ${m.major} ${m.minor}`

/** Sorted as runc sorts (major, minor, type), so output is deterministic. */
function ordered(rules: Map<string, { meta: Meta; bits: number }>): { meta: Meta; bits: number }[] {
  return [...rules.values()].sort(
    (a, b) =>
      a.meta.major - b.meta.major ||
      a.meta.minor - b.meta.minor ||
      (a.meta.type < b.meta.type ? -1 : a.meta.type > b.meta.type ? 1 : 0),
  )
}

/**
 * cgroup v1 devices semantics: a default policy (allow-all "black-list" or deny-all
 * "white-list") and exceptions. "a *:* rwm" resets the policy; other rules add or remove
 * exceptions, a later rule overriding earlier ones for what it matches (the spec's order).
 * Removing part of a wildcard exception is refused (v1 would silently ignore it, leaving more
 * allowed than the user asked).
 */
export class DeviceEmulator {
  defaultAllow = false
  rules = new Map<string, { meta: Meta; bits: number }>()

  static of(rules: DeviceRule[]): DeviceEmulator {
    const e = new DeviceEmulator()
    for (const r of rules) e.apply(r)
    return e
  }

  /** The state a devices.list describes ("a *:* rwm" means allow-all). */
  static fromList(text: string): DeviceEmulator {
    const e = new DeviceEmulator()
    for (const line of text.split('\n')) {
      if (!line.trim()) continue
      const f = line.trim().split(/[ :]/)
      if (f.length !== 4) throw new RuntimeError(`malformed devices.list rule ${line}`, 'ECGROUP')
      const [type, major, minor, access] = f as [string, string, string, string]
      if (type === 'a') {
        e.apply({ type: 'a', major: WILDCARD, minor: WILDCARD, access: 'rwm', allow: true })
        continue
      }
      if (type !== 'b' && type !== 'c')
        throw new RuntimeError(`unknown device type ${JSON.stringify(type)} in devices.list`, 'ECGROUP')
      const num = (s: string) => (s === '*' ? WILDCARD : Number(s))
      e.apply({ type, major: num(major), minor: num(minor), access, allow: true })
    }
    return e
  }

  get isAllowAll(): boolean {
    return this.defaultAllow && this.rules.size === 0
  }

  apply(rule: DeviceRule): void {
    if (rule.type === 'a') {
      // Only "a *:* rwm" resets the policy. Any other "a" rule is the same rule for both types:
      // "allow a *:* m" grants mknod of everything, not everything (runc, like the v1 kernel,
      // resets the policy on any "a" rule, whatever its numbers and access).
      if (rule.major === WILDCARD && rule.minor === WILDCARD && accessBits(rule.access) === (R | W | M)) {
        this.defaultAllow = rule.allow
        this.rules = new Map()
        return
      }
      this.apply({ ...rule, type: 'b' })
      this.apply({ ...rule, type: 'c' })
      return
    }
    const meta: Meta = { type: rule.type, major: rule.major, minor: rule.minor }
    const bits = accessBits(rule.access)
    // allow on a black-list and deny on a white-list remove exceptions; the others add.
    if (rule.allow === this.defaultAllow) this.remove(meta, bits, rule)
    else this.add(meta, bits)
  }

  private add(meta: Meta, bits: number): void {
    const k = keyOf(meta)
    this.rules.set(k, { meta, bits: (this.rules.get(k)?.bits ?? 0) | bits })
    if (!this.defaultAllow) this.foldReadWrite()
  }

  /**
   * On a white-list v1 grants a request only when one exception covers all of it, so after
   * "allow c 1:* r" and "allow c 1:3 w" an O_RDWR open of c 1:3 would be refused although the
   * rules allow both. So every device that wildcard exceptions cover (an exception, or where two
   * meet) gets one exception with all the read and write they grant it. mknod is never asked
   * together with r or w, so m is left alone and the usual lists reduce exactly as runc's. runc
   * and the v1 kernel do not fold: there such an open is refused.
   */
  private foldReadWrite(): void {
    const RW = R | W
    const all = [...this.rules.values()].filter((e) => e.bits & RW)
    const wild = all.filter((e) => e.meta.major === WILDCARD || e.meta.minor === WILDCARD)
    if (!wild.length) return
    const covers = (a: Meta, b: Meta) =>
      a.type === b.type && (a.major === WILDCARD || a.major === b.major) && (a.minor === WILDCARD || a.minor === b.minor)
    const meet = (a: number, b: number) => (a === WILDCARD ? b : b === WILDCARD || a === b ? a : null)
    const points = new Map<string, Meta>()
    for (const w of wild)
      for (const e of all) {
        if (w.meta.type !== e.meta.type) continue
        const major = meet(w.meta.major, e.meta.major)
        const minor = meet(w.meta.minor, e.meta.minor)
        if (major === null || minor === null) continue
        const p = { type: w.meta.type, major, minor }
        points.set(keyOf(p), p)
      }
    for (const p of points.values()) {
      const cover = all.filter((e) => covers(e.meta, p))
      const rw = cover.reduce((acc, e) => acc | (e.bits & RW), 0)
      if (cover.some((e) => (e.bits & RW) === rw)) continue // one exception already grants it all
      const k = keyOf(p)
      this.rules.set(k, { meta: p, bits: (this.rules.get(k)?.bits ?? 0) | rw })
    }
  }

  /**
   * A later rule overrides earlier ones for every device it matches: the exceptions it covers
   * lose its bits (runc, like the kernel's devices.allow/deny, only edits the exception with
   * exactly the same numbers, so "deny c 1:* rwm" after "allow c 1:3 rwm" leaves /dev/null
   * allowed). An exception it only partly covers ("c *:* m" for "c 1:3 m", or "c *:3" for
   * "c 1:*") would need a hole v1 cannot express: refused, rather than silently ignored.
   */
  private remove(meta: Meta, bits: number, rule: DeviceRule): void {
    const covers = (a: number, b: number) => a === WILDCARD || a === b
    const meets = (a: number, b: number) => a === WILDCARD || b === WILDCARD || a === b
    for (const [k, e] of [...this.rules]) {
      if (e.meta.type !== meta.type || !(e.bits & bits)) continue
      if (covers(meta.major, e.meta.major) && covers(meta.minor, e.meta.minor)) {
        const left = e.bits & ~bits
        if (left) this.rules.set(k, { meta: e.meta, bits: left })
        else this.rules.delete(k)
      } else if (meets(meta.major, e.meta.major) && meets(meta.minor, e.meta.minor)) {
        throw cgroupError(
          'linux.resources.devices',
          `rule "${cgroupString(rule)}" cannot punch a hole in the wildcard rule "${cgroupString({ ...e.meta, access: accessString(e.bits), allow: true })}"`,
        )
      }
    }
  }

  /**
   * The fewest rules that take a cgroup from this state to `target` (runc's Transition). The
   * exceptions of an allow-all cgroup cannot be read back from devices.list, so leaving one
   * (or changing the policy) starts with a disruptive "a" rule.
   */
  transition(target: DeviceEmulator): DeviceRule[] {
    const out: DeviceRule[] = []
    let old = this.rules
    if (this.defaultAllow || this.defaultAllow !== target.defaultAllow) {
      out.push({ type: 'a', major: WILDCARD, minor: WILDCARD, access: 'rwm', allow: target.defaultAllow })
      old = new Map()
    }
    for (const { meta, bits } of ordered(old)) {
      const dropped = bits & ~(target.rules.get(keyOf(meta))?.bits ?? 0)
      if (dropped) out.push({ ...meta, access: accessString(dropped), allow: target.defaultAllow })
    }
    for (const { meta, bits } of ordered(target.rules)) {
      const gained = bits & ~(old.get(keyOf(meta))?.bits ?? 0)
      if (gained) out.push({ ...meta, access: accessString(gained), allow: !target.defaultAllow })
    }
    return out
  }

  /** The reduced rule list: from a deny-all cgroup to this state. */
  reduced(): DeviceRule[] {
    return new DeviceEmulator().transition(this)
  }
}

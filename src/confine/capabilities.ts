// Capability names <-> bit numbers and the five sets of process.capabilities as bitmasks.
// Pure: the running kernel's CAP_LAST_CAP arrives as an argument.

import { SpecError, type SpecIssue } from '../errors.js'

/** Capability names in bit order (linux/capability.h). */
export const CAP_NAMES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
] as const

export type CapSets = { bounding: bigint; effective: bigint; permitted: bigint; inheritable: bigint; ambient: bigint }
export type SpecCapabilities = Partial<Record<keyof CapSets, string[]>>

const SETS: (keyof CapSets)[] = ['bounding', 'effective', 'permitted', 'inheritable', 'ambient']

/** Bit number of a capability name ("CAP_SYS_ADMIN" or "SYS_ADMIN"), or -1 if unknown. */
export function capBit(name: string): number {
  const n = name.toUpperCase().startsWith('CAP_') ? name.toUpperCase() : 'CAP_' + name.toUpperCase()
  return (CAP_NAMES as readonly string[]).indexOf(n)
}

export function capName(bit: number): string {
  return CAP_NAMES[bit] ?? `CAP_${bit}`
}

/** All capabilities the kernel knows, as a mask. */
export function allCaps(lastCap: number): bigint {
  return (1n << BigInt(lastCap + 1)) - 1n
}

/**
 * The five sets as masks. A name this runtime does not know is an error; a name it knows but
 * the running kernel does not (newer than CAP_LAST_CAP) is skipped with a warning, as runc does.
 */
export function capSets(
  caps: SpecCapabilities | undefined,
  lastCap: number,
  field = 'process.capabilities',
): { sets: CapSets; warnings: string[] } {
  const sets: CapSets = { bounding: 0n, effective: 0n, permitted: 0n, inheritable: 0n, ambient: 0n }
  const warnings: string[] = []
  const issues: SpecIssue[] = []
  for (const set of SETS) {
    ;(caps?.[set] ?? []).forEach((name, i) => {
      const bit = capBit(name)
      if (bit < 0) {
        issues.push({ path: `${field}.${set}[${i}]`, message: `unknown capability "${name}"` })
        return
      }
      if (bit > lastCap) {
        warnings.push(`${field}.${set}[${i}]: capability ${name} is not supported by the running kernel; ignored`)
        return
      }
      sets[set] |= 1n << BigInt(bit)
    })
  }
  if (issues.length) throw new SpecError(issues)
  return { sets, warnings }
}

/** Names of the bits set in a mask, in bit order. */
export function capNames(mask: bigint): string[] {
  const out: string[] = []
  for (let i = 0; i < 64; i++) if (mask & (1n << BigInt(i))) out.push(capName(i))
  return out
}

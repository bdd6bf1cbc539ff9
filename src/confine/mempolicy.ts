// linux.memoryPolicy -> set_mempolicy(2): the spec's mode and flag names as the kernel's numbers
// (uapi linux/mempolicy.h), the node list ("0-3,7") as a nodemask, and the combinations the
// kernel answers with EINVAL, refused here with the field named instead of failing late. Pure:
// the host's memory nodes are passed in (confine/host.ts reads them).

import { RuntimeError, type SpecIssue } from '../errors.js'
import type { LinuxMemoryPolicy, MemoryPolicyFlag, MemoryPolicyMode } from '../spec/schema.js'

/** enum of linux/mempolicy.h (MPOL_PREFERRED_MANY since 5.15, WEIGHTED_INTERLEAVE since 6.9). */
export const MPOL_MODE: Readonly<Record<MemoryPolicyMode, number>> = {
  MPOL_DEFAULT: 0,
  MPOL_PREFERRED: 1,
  MPOL_BIND: 2,
  MPOL_INTERLEAVE: 3,
  MPOL_LOCAL: 4,
  MPOL_PREFERRED_MANY: 5,
  MPOL_WEIGHTED_INTERLEAVE: 6,
}

/** The mode flags, or'ed into set_mempolicy's mode argument. */
export const MPOL_FLAG: Readonly<Record<MemoryPolicyFlag, number>> = {
  MPOL_F_STATIC_NODES: 1 << 15,
  MPOL_F_RELATIVE_NODES: 1 << 14,
  MPOL_F_NUMA_BALANCING: 1 << 13,
}

/**
 * Node numbers stop below MAX_NUMNODES, 1 << CONFIG_NODES_SHIFT, at most 10 on x86-64 and
 * arm64; a bit beyond the kernel's own MAX_NUMNODES is EINVAL. runc 1.4 has the same bound.
 */
export const MAX_NODES = 1024

/** What the init passes to set_mempolicy(2): mode | flags, and the node numbers. */
export type MemoryPolicyPlan = { mode: string; flags: string[]; value: number; nodes: number[] }

/**
 * The spec's list format -> sorted node numbers, as runc reads it: elements "N" or "N-M",
 * spaces around an element and empty elements (",,") allowed; "" is no nodes. Throws a message
 * naming the bad part.
 */
export function parseNodeList(list: string): number[] {
  if (list === '') return []
  const out = new Set<number>()
  for (const raw of list.split(',')) {
    const part = raw.trim()
    if (part === '') continue
    const m = /^(\d+)(?:-(\d+))?$/.exec(part)
    if (!m) throw new RuntimeError(`invalid node list ${JSON.stringify(list)}: bad element ${JSON.stringify(part)}`, 'EINVAL')
    const lo = Number(m[1])
    const hi = m[2] === undefined ? lo : Number(m[2])
    if (hi < lo) throw new RuntimeError(`invalid node list ${JSON.stringify(list)}: range ${part} is reversed`, 'EINVAL')
    if (hi >= MAX_NODES)
      throw new RuntimeError(`invalid node list ${JSON.stringify(list)}: node ${hi} is beyond ${MAX_NODES - 1}`, 'EINVAL')
    for (let n = lo; n <= hi; n++) out.add(n)
  }
  if (out.size === 0) throw new RuntimeError(`invalid node list ${JSON.stringify(list)}: no nodes in it`, 'EINVAL')
  return [...out].sort((a, b) => a - b)
}

/** Node numbers as a list, the way the kernel prints one ("0-3,7"). */
export function formatNodeList(nodes: readonly number[]): string {
  const out: string[] = []
  for (let i = 0; i < nodes.length; i++) {
    let j = i
    while (j + 1 < nodes.length && nodes[j + 1] === nodes[j]! + 1) j++
    out.push(j === i ? `${nodes[i]}` : `${nodes[i]}-${nodes[j]}`)
    i = j
  }
  return out.join(',')
}

/**
 * set_mempolicy's nodemask and maxnode: MAX_NODES bits in 64-bit words, little-endian (the
 * arches runt runs on). The kernel reads maxnode - 1 bits (get_nodes() decrements it; numactl
 * passes its mask size + 1 too), so maxnode is one more than the bits.
 */
export function nodeMask(nodes: readonly number[]): { mask: Buffer; maxnode: number } {
  const mask = Buffer.alloc(MAX_NODES / 8)
  for (const n of nodes) mask[n >> 3] = (mask[n >> 3] ?? 0) | (1 << (n & 7))
  return { mask, maxnode: MAX_NODES + 1 }
}

const NO_NODES = new Set<MemoryPolicyMode>(['MPOL_DEFAULT', 'MPOL_LOCAL'])
const NEED_NODES = new Set<MemoryPolicyMode>(['MPOL_BIND', 'MPOL_INTERLEAVE', 'MPOL_WEIGHTED_INTERLEAVE', 'MPOL_PREFERRED_MANY'])
/** sanitize_mpol_flags(): balancing only where NUMA balancing can move pages within the set. */
const BALANCING_MODES = new Set<MemoryPolicyMode>(['MPOL_BIND', 'MPOL_PREFERRED_MANY'])

/**
 * Check linux.memoryPolicy against what set_mempolicy(2) accepts (mm/mempolicy.c mpol_new()
 * and sanitize_mpol_flags(), tried on 6.18) and the host's memory nodes; `memoryNodes` is
 * null when the host has no NUMA support at all (set_mempolicy is then ENOSYS).
 *
 * Without a flag, every node must have memory on this host: the kernel would drop the others
 * silently (or refuse when none is left). MPOL_F_STATIC_NODES keeps nodes that are not there
 * now for when they come (the kernel wants one that is), and with MPOL_F_RELATIVE_NODES the
 * numbers are positions in the allowed set, not nodes: neither is checked against the host.
 */
export function planMemoryPolicy(
  mp: LinuxMemoryPolicy,
  memoryNodes: readonly number[] | null,
): { plan?: MemoryPolicyPlan; issues: SpecIssue[]; warnings: string[] } {
  const at = 'linux.memoryPolicy'
  const issues: SpecIssue[] = []
  const warnings: string[] = []
  const flags = [...new Set(mp.flags ?? [])]
  const has = (f: MemoryPolicyFlag) => flags.includes(f)
  const fixed = has('MPOL_F_STATIC_NODES') || has('MPOL_F_RELATIVE_NODES')
  if (has('MPOL_F_STATIC_NODES') && has('MPOL_F_RELATIVE_NODES'))
    issues.push({ path: `${at}.flags`, message: 'MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES are mutually exclusive' })
  if (has('MPOL_F_NUMA_BALANCING') && !BALANCING_MODES.has(mp.mode))
    issues.push({
      path: `${at}.flags`,
      message: `MPOL_F_NUMA_BALANCING is only valid with MPOL_BIND or MPOL_PREFERRED_MANY, not ${mp.mode}`,
    })
  if (mp.mode === 'MPOL_LOCAL' && fixed)
    issues.push({ path: `${at}.flags`, message: 'MPOL_LOCAL takes neither MPOL_F_STATIC_NODES nor MPOL_F_RELATIVE_NODES' })

  let nodes: number[] = []
  try {
    nodes = parseNodeList(mp.nodes ?? '')
  } catch (e) {
    issues.push({ path: `${at}.nodes`, message: (e as Error).message })
    return { issues, warnings }
  }
  if (NO_NODES.has(mp.mode) && nodes.length)
    issues.push({ path: `${at}.nodes`, message: `${mp.mode} takes no nodes, got "${mp.nodes}"` })
  if (NEED_NODES.has(mp.mode) && !nodes.length)
    issues.push({ path: `${at}.nodes`, message: `${mp.mode} needs at least one node` })
  if (mp.mode === 'MPOL_PREFERRED' && !nodes.length && fixed)
    issues.push({
      path: `${at}.nodes`,
      message: 'MPOL_PREFERRED with no nodes (local allocation) takes neither MPOL_F_STATIC_NODES nor MPOL_F_RELATIVE_NODES',
    })

  if (memoryNodes === null) {
    issues.push({ path: at, message: 'this kernel has no NUMA support (no /sys/devices/system/node/has_memory)' })
  } else if (nodes.length && !has('MPOL_F_RELATIVE_NODES')) {
    const missing = nodes.filter((n) => !memoryNodes.includes(n))
    const host = `this host's nodes with memory are ${formatNodeList(memoryNodes) || 'none'}`
    if (has('MPOL_F_STATIC_NODES')) {
      if (missing.length === nodes.length)
        issues.push({ path: `${at}.nodes`, message: `none of nodes ${formatNodeList(nodes)} has memory on this host (${host})` })
    } else if (missing.length) {
      const what = missing.length === 1 ? `node ${missing[0]} does` : `nodes ${formatNodeList(missing)} do`
      issues.push({ path: `${at}.nodes`, message: `${what} not exist or have no memory on this host (${host})` })
    }
  }
  if (issues.length) return { issues, warnings }

  // The kernel keeps only the first node of MPOL_PREFERRED (mpol_new_preferred()).
  if (mp.mode === 'MPOL_PREFERRED' && nodes.length > 1)
    warnings.push(`${at}.nodes: MPOL_PREFERRED prefers node ${nodes[0]} only; MPOL_PREFERRED_MANY takes several`)
  let value = MPOL_MODE[mp.mode]
  for (const f of flags) value |= MPOL_FLAG[f]
  return { plan: { mode: mp.mode, flags, value, nodes }, issues, warnings }
}

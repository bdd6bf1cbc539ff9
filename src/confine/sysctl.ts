// linux.sysctl: which keys a container may set. /proc/sys is only partly namespaced, so a key
// is allowed only when the namespace that owns it is the container's own, never the host's
// (runc's validator rules; runc 1.5 also allows user.* in a user namespace). Pure: whether a
// namespace given by path is the runtime's own arrives as a callback.

import type { SpecIssue } from '../errors.js'

export type SysctlNs = 'ipc' | 'network' | 'uts' | 'user'

/** ipc_namespace keys (ipc/ipc_sysctl.c), besides fs.mqueue.* (ipc/mq_sysctl.c). */
const IPC_KEYS = new Set([
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
])

export type SysctlInput = {
  sysctl?: Record<string, string>
  namespaces?: { type: string; path?: string }[]
}

/**
 * "net/ipv4/conf/eno2.100/rp_filter" -> "net.ipv4.conf.eno2/100.rp_filter": sysctl(8) accepts
 * "/" as the separator, and then a "." belongs to a name. Keys in dot form come back as they are.
 */
export function dotForm(key: string): string {
  const i = key.search(/[./]/)
  if (i < 0 || key[i] === '.') return key
  return key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'))
}

/** The path under /proc/sys a key (either form) names. */
export function sysctlPath(key: string): string {
  return dotForm(key).replace(/[./]/g, (c) => (c === '.' ? '/' : '.'))
}

/**
 * Why `key` does not name a file below /proc/sys, or null when it does. A key is a relative
 * name of plain components: never absolute, never "." or "..", no empty component, no NUL.
 * Kubernetes passes pod sysctls from users, so a key is hostile input.
 */
export function sysctlKeyProblem(key: string): string | null {
  if (key === '') return 'a sysctl key must not be empty'
  if (key.includes('\0')) return 'a sysctl key must not contain NUL'
  const parts = sysctlPath(key).split('/')
  if (parts.some((p) => p === '' || p === '.' || p === '..'))
    return 'a sysctl key names a file below /proc/sys: no leading "/" or ".", and no empty, "." or ".." component'
  return null
}

/** Which namespace owns `key`, or null if it is not namespaced at all. */
export function owningNamespace(key: string): SysctlNs | null {
  const k = dotForm(key)
  if (IPC_KEYS.has(k) || k.startsWith('fs.mqueue.')) return 'ipc'
  if (k.startsWith('net.')) return 'network'
  if (k === 'kernel.domainname' || k === 'kernel.hostname') return 'uts'
  if (k.startsWith('user.')) return 'user'
  return null
}

const NS_WORD: Record<SysctlNs, string> = { ipc: 'ipc', network: 'network', uts: 'uts', user: 'user' }

/**
 * Check every key. `isHostNs(type, path)` says whether the namespace at `path` is the one the
 * runtime itself is in (joining it would make the write land on the host).
 */
export function checkSysctl(input: SysctlInput, isHostNs: (type: SysctlNs, path: string) => boolean): SpecIssue[] {
  const issues: SpecIssue[] = []
  const nsOf = (type: SysctlNs) => (input.namespaces ?? []).find((n) => n.type === type)
  for (const key of Object.keys(input.sysctl ?? {})) {
    const at = `linux.sysctl[${JSON.stringify(key)}]`
    const problem = sysctlKeyProblem(key)
    if (problem !== null) {
      issues.push({ path: at, message: problem })
      continue
    }
    const owner = owningNamespace(key)
    const k = dotForm(key)
    if (owner === null) {
      issues.push({ path: at, message: `sysctl "${k}" is not in a separate kernel namespace` })
      continue
    }
    if (k === 'kernel.hostname') {
      issues.push({ path: at, message: `sysctl "${k}" is not allowed as it conflicts with the OCI "hostname" field` })
      continue
    }
    const ns = nsOf(owner)
    if (ns === undefined) {
      issues.push({
        path: at,
        message: `sysctl "${k}" is not allowed in the host's ${NS_WORD[owner]} namespace (linux.namespaces has no ${owner} namespace)`,
      })
      continue
    }
    if (ns.path && isHostNs(owner, ns.path)) {
      issues.push({
        path: at,
        message: `sysctl "${k}" is not allowed in the host's ${NS_WORD[owner]} namespace (${ns.path} is the runtime's own)`,
      })
    }
  }
  return issues
}

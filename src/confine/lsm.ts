// Linux security modules: is AppArmor or SELinux enabled on this host, and the per-thread
// /proc attribute files through which a label is set for the next execve (apparmorProfile,
// selinuxLabel) or for new keyrings. The files are opened on the host's procfs, before the
// container's /proc (which a hostile config could shape) is the only one left.

import * as fs from 'node:fs'

/** runc's test: securityfs shows apparmor and the module parameter says Y. */
export function apparmorEnabled(): boolean {
  try {
    if (!fs.existsSync('/sys/kernel/security/apparmor')) return false
    return fs.readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').startsWith('Y')
  } catch {
    return false
  }
}

/** go-selinux's test: selinuxfs is mounted and this process has a label other than "kernel". */
export function selinuxEnabled(): boolean {
  try {
    const mounted = fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .some((l) => / - selinuxfs /.test(l))
    if (!mounted) return false
    const cur = fs.readFileSync('/proc/thread-self/attr/current', 'utf8').replace(/\0/g, '').trim()
    return cur !== '' && cur !== 'kernel'
  } catch {
    return false
  }
}

export type AttrName = 'exec' | 'keycreate'

/**
 * The attr file of the calling thread for `lsm`: AppArmor's own directory when the kernel
 * has it (stacked LSMs), else the legacy file.
 */
export function attrPath(lsm: 'apparmor' | 'selinux', name: AttrName): string {
  if (lsm === 'apparmor' && fs.existsSync(`/proc/thread-self/attr/apparmor/${name}`))
    return `/proc/thread-self/attr/apparmor/${name}`
  if (lsm === 'selinux' && fs.existsSync(`/proc/thread-self/attr/selinux/${name}`))
    return `/proc/thread-self/attr/selinux/${name}`
  return `/proc/thread-self/attr/${name}`
}

/** What to write to the exec attr: AppArmor wants "exec <profile>", SELinux the label. */
export function execAttrValue(lsm: 'apparmor' | 'selinux', label: string): string {
  return lsm === 'apparmor' ? `exec ${label}` : label
}

// mount(8) option strings -> mount(2) flags, propagation flags, mount_setattr(2) recursive
// attributes, runt extensions and filesystem data, with the semantics of runc's specconv.
// Pure: no sys/ calls, no I/O.

import * as C from '../sys/constants.js'

type FlagOp = { set: boolean; flag: number }

/** Options that set or clear a mount(2) flag. */
export const MOUNT_FLAGS: Readonly<Record<string, FlagOp>> = {
  acl: { set: true, flag: C.MS_POSIXACL },
  async: { set: false, flag: C.MS_SYNCHRONOUS },
  atime: { set: false, flag: C.MS_NOATIME },
  bind: { set: true, flag: C.MS_BIND },
  defaults: { set: true, flag: 0 },
  dev: { set: false, flag: C.MS_NODEV },
  diratime: { set: false, flag: C.MS_NODIRATIME },
  dirsync: { set: true, flag: C.MS_DIRSYNC },
  exec: { set: false, flag: C.MS_NOEXEC },
  iversion: { set: true, flag: C.MS_I_VERSION },
  lazytime: { set: true, flag: C.MS_LAZYTIME },
  loud: { set: false, flag: C.MS_SILENT },
  mand: { set: true, flag: C.MS_MANDLOCK },
  noacl: { set: false, flag: C.MS_POSIXACL },
  noatime: { set: true, flag: C.MS_NOATIME },
  nodev: { set: true, flag: C.MS_NODEV },
  nodiratime: { set: true, flag: C.MS_NODIRATIME },
  noexec: { set: true, flag: C.MS_NOEXEC },
  noiversion: { set: false, flag: C.MS_I_VERSION },
  nolazytime: { set: false, flag: C.MS_LAZYTIME },
  nomand: { set: false, flag: C.MS_MANDLOCK },
  norelatime: { set: false, flag: C.MS_RELATIME },
  nostrictatime: { set: false, flag: C.MS_STRICTATIME },
  nosuid: { set: true, flag: C.MS_NOSUID },
  nosymfollow: { set: true, flag: C.MS_NOSYMFOLLOW },
  rbind: { set: true, flag: C.MS_BIND | C.MS_REC },
  relatime: { set: true, flag: C.MS_RELATIME },
  remount: { set: true, flag: C.MS_REMOUNT },
  ro: { set: true, flag: C.MS_RDONLY },
  rw: { set: false, flag: C.MS_RDONLY },
  silent: { set: true, flag: C.MS_SILENT },
  strictatime: { set: true, flag: C.MS_STRICTATIME },
  suid: { set: false, flag: C.MS_NOSUID },
  sync: { set: true, flag: C.MS_SYNCHRONOUS },
  symfollow: { set: false, flag: C.MS_NOSYMFOLLOW },
}

/** Propagation options, applied with separate mount(2) calls after the mount itself. */
export const PROPAGATION_FLAGS: Readonly<Record<string, number>> = {
  private: C.MS_PRIVATE,
  rprivate: C.MS_PRIVATE | C.MS_REC,
  shared: C.MS_SHARED,
  rshared: C.MS_SHARED | C.MS_REC,
  slave: C.MS_SLAVE,
  rslave: C.MS_SLAVE | C.MS_REC,
  unbindable: C.MS_UNBINDABLE,
  runbindable: C.MS_UNBINDABLE | C.MS_REC,
}

/** Recursive options, applied to the whole mount tree with mount_setattr(AT_RECURSIVE). */
export const RECURSIVE_ATTRS: Readonly<Record<string, FlagOp>> = {
  rro: { set: true, flag: C.MOUNT_ATTR_RDONLY },
  rrw: { set: false, flag: C.MOUNT_ATTR_RDONLY },
  rnosuid: { set: true, flag: C.MOUNT_ATTR_NOSUID },
  rsuid: { set: false, flag: C.MOUNT_ATTR_NOSUID },
  rnodev: { set: true, flag: C.MOUNT_ATTR_NODEV },
  rdev: { set: false, flag: C.MOUNT_ATTR_NODEV },
  rnoexec: { set: true, flag: C.MOUNT_ATTR_NOEXEC },
  rexec: { set: false, flag: C.MOUNT_ATTR_NOEXEC },
  rnodiratime: { set: true, flag: C.MOUNT_ATTR_NODIRATIME },
  rdiratime: { set: false, flag: C.MOUNT_ATTR_NODIRATIME },
  rrelatime: { set: true, flag: C.MOUNT_ATTR_RELATIME },
  rnorelatime: { set: false, flag: C.MOUNT_ATTR_RELATIME },
  rnoatime: { set: true, flag: C.MOUNT_ATTR_NOATIME },
  ratime: { set: false, flag: C.MOUNT_ATTR_NOATIME },
  rstrictatime: { set: true, flag: C.MOUNT_ATTR_STRICTATIME },
  rnostrictatime: { set: false, flag: C.MOUNT_ATTR_STRICTATIME },
  rnosymfollow: { set: true, flag: C.MOUNT_ATTR_NOSYMFOLLOW },
  rsymfollow: { set: false, flag: C.MOUNT_ATTR_NOSYMFOLLOW },
}

/** Options that are runt's own business rather than the kernel's. */
export const EXTENSIONS = ['tmpcopyup', 'idmap', 'ridmap'] as const
export type Extension = (typeof EXTENSIONS)[number]

export type ParsedOptions = {
  /** mount(2) flags, including MS_BIND/MS_REC for bind and rbind. */
  flags: number
  /** Flags the options explicitly cleared (`rw`, `suid`, ...): matter for remounts. */
  cleared: number
  /** Propagation changes, in the order given. */
  propagation: number[]
  /** mount_setattr(2) attributes to set and clear recursively. */
  attrSet: number
  attrClr: number
  extensions: Extension[]
  /** Everything else, passed to the filesystem as the data string. */
  data: string[]
}

/** Every option name runt recognises (the `features` document lists these). */
export function knownOptions(): string[] {
  return [...Object.keys(MOUNT_FLAGS), ...Object.keys(PROPAGATION_FLAGS), ...Object.keys(RECURSIVE_ATTRS), ...EXTENSIONS].sort()
}

/** `table[key]` for the table's own keys only: "constructor" or "__proto__" are data, not options. */
function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined
}

export function parseMountOptions(options: readonly string[] | undefined): ParsedOptions {
  const out: ParsedOptions = { flags: 0, cleared: 0, propagation: [], attrSet: 0, attrClr: 0, extensions: [], data: [] }
  for (const opt of options ?? []) {
    const f = own(MOUNT_FLAGS, opt)
    if (f) {
      if (f.set) {
        out.flags |= f.flag
        out.cleared &= ~f.flag
      } else {
        out.flags &= ~f.flag
        out.cleared |= f.flag
      }
      continue
    }
    const p = own(PROPAGATION_FLAGS, opt)
    if (p !== undefined) {
      out.propagation.push(p)
      continue
    }
    const r = own(RECURSIVE_ATTRS, opt)
    if (r) {
      // The access-time attributes are one field: setting one means clearing the others.
      const atime = r.flag === C.MOUNT_ATTR_NOATIME || r.flag === C.MOUNT_ATTR_STRICTATIME || r.flag === C.MOUNT_ATTR_RELATIME
      if (r.set) {
        if (atime) {
          out.attrClr |= C.MOUNT_ATTR__ATIME
          out.attrSet &= ~C.MOUNT_ATTR__ATIME
        } else out.attrClr &= ~r.flag
        out.attrSet |= r.flag
      } else {
        if (atime) out.attrClr |= C.MOUNT_ATTR__ATIME
        else out.attrClr |= r.flag
        out.attrSet &= ~r.flag
      }
      continue
    }
    if ((EXTENSIONS as readonly string[]).includes(opt)) {
      if (!out.extensions.includes(opt as Extension)) out.extensions.push(opt as Extension)
      continue
    }
    out.data.push(opt)
  }
  return out
}

/** True when a mount is a bind mount, by type or by option (runc treats both alike). */
export function isBind(type: string | undefined, parsed: ParsedOptions): boolean {
  return type === 'bind' || (parsed.flags & C.MS_BIND) !== 0
}

// Mount flag names for messages (`flags=MS_BIND|MS_REC`), as runc's mountError prints them.
// Pure.

import * as C from './constants.js'

const NAMES: [number, string][] = [
  [C.MS_RDONLY, 'MS_RDONLY'],
  [C.MS_NOSUID, 'MS_NOSUID'],
  [C.MS_NODEV, 'MS_NODEV'],
  [C.MS_NOEXEC, 'MS_NOEXEC'],
  [C.MS_SYNCHRONOUS, 'MS_SYNCHRONOUS'],
  [C.MS_REMOUNT, 'MS_REMOUNT'],
  [C.MS_MANDLOCK, 'MS_MANDLOCK'],
  [C.MS_DIRSYNC, 'MS_DIRSYNC'],
  [C.MS_NOSYMFOLLOW, 'MS_NOSYMFOLLOW'],
  [C.MS_NOATIME, 'MS_NOATIME'],
  [C.MS_NODIRATIME, 'MS_NODIRATIME'],
  [C.MS_BIND, 'MS_BIND'],
  [C.MS_MOVE, 'MS_MOVE'],
  [C.MS_REC, 'MS_REC'],
  [C.MS_SILENT, 'MS_SILENT'],
  [C.MS_POSIXACL, 'MS_POSIXACL'],
  [C.MS_UNBINDABLE, 'MS_UNBINDABLE'],
  [C.MS_PRIVATE, 'MS_PRIVATE'],
  [C.MS_SLAVE, 'MS_SLAVE'],
  [C.MS_SHARED, 'MS_SHARED'],
  [C.MS_RELATIME, 'MS_RELATIME'],
  [C.MS_I_VERSION, 'MS_I_VERSION'],
  [C.MS_STRICTATIME, 'MS_STRICTATIME'],
  [C.MS_LAZYTIME, 'MS_LAZYTIME'],
]

/** `MS_BIND|MS_REC`, or `0` when no flag is set; unknown bits print in hex. */
export function mountFlagNames(flags: number): string {
  const parts: string[] = []
  let rest = flags >>> 0
  for (const [bit, name] of NAMES) {
    if (rest & bit) {
      parts.push(name)
      rest &= ~bit >>> 0
    }
  }
  if (rest) parts.push('0x' + rest.toString(16))
  return parts.length ? parts.join('|') : '0'
}

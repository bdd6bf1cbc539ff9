// The version of the system's libseccomp, for --version (seccomp_version(3)).

import koffi from './koffi.js'

let cached: string | undefined

/** Computed once: koffi refuses to declare the struct type a second time. */
export function libseccompVersion(): string {
  if (cached !== undefined) return cached
  const lib = koffi.load('libseccomp.so.2')
  const Version = koffi.struct('runt_scmp_version', { major: 'uint', minor: 'uint', micro: 'uint' })
  const fn = lib.func('const runt_scmp_version *seccomp_version()')
  const v = koffi.decode(fn(), Version) as { major: number; minor: number; micro: number }
  cached = `${v.major}.${v.minor}.${v.micro}`
  return cached
}

// Host probes for `runt features` and `--version`: libseccomp's version and architectures, and
// which seccomp filter flags the kernel accepts (seccomp(SECCOMP_SET_MODE_FILTER, flag, NULL) fails with
// EFAULT for a flag it knows and EINVAL for one it does not, as runc probes).

import * as C from '../sys/constants.js'
import { linux as sys } from '../sys/linux.js'
import { libseccomp } from '../sys/libseccomp-ffi.js'
import type { FeatureProbes } from '../ops/features.js'
import { FILTER_FLAG } from './seccomp.js'

const SECCOMP_SET_MODE_FILTER = 1
const EFAULT = 14

/** The system's libseccomp as "2.5.4", or null without one. */
export function libseccompVersion(): string | null {
  try {
    const v = libseccomp.version()
    return `${v.major}.${v.minor}.${v.micro}`
  } catch {
    return null
  }
}

export function hostFeatureProbes(): FeatureProbes {
  return {
    libseccompVersion,
    archKnown: (name) => libseccomp.archResolve(name) !== 0,
    flagSupported(flag) {
      // WAIT_KILLABLE_RECV is only valid together with NEW_LISTENER.
      const flags = flag === FILTER_FLAG.WAIT_KILLABLE_RECV ? flag | FILTER_FLAG.NEW_LISTENER : flag
      const r = sys.rawSyscallErrno(C.SYS.seccomp, 'uint', SECCOMP_SET_MODE_FILTER, 'uint', flags, 'void *', null)
      return r.ret < 0 && r.errno === EFAULT
    },
  }
}

// Host probes for `runt features`: libseccomp's version and architectures, and which seccomp
// filter flags the kernel accepts (seccomp(SECCOMP_SET_MODE_FILTER, flag, NULL) fails with
// EFAULT for a flag it knows and EINVAL for one it does not, as runc probes).

import * as C from '../sys/constants.js'
import { linux as sys } from '../sys/linux.js'
import { libseccomp } from '../sys/libseccomp-ffi.js'
import { errno } from '../sys/ffi.js'
import type { FeatureProbes } from './features.js'
import { FILTER_FLAG } from '../confine/seccomp.js'

const SECCOMP_SET_MODE_FILTER = 1
const EFAULT = 14

export function hostFeatureProbes(): FeatureProbes {
  return {
    libseccompVersion() {
      try {
        const v = libseccomp.version()
        return `${v.major}.${v.minor}.${v.micro}`
      } catch {
        return null
      }
    },
    archKnown: (name) => libseccomp.archResolve(name) !== 0,
    flagSupported(flag) {
      // WAIT_KILLABLE_RECV is only valid together with NEW_LISTENER.
      const flags = flag === FILTER_FLAG.WAIT_KILLABLE_RECV ? flag | FILTER_FLAG.NEW_LISTENER : flag
      const r = sys.rawSyscall(C.SYS.seccomp, 'uint', SECCOMP_SET_MODE_FILTER, 'uint', flags, 'void *', null)
      return r < 0 && errno() === EFAULT
    },
  }
}

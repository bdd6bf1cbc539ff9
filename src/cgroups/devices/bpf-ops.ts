// The real BpfOps: bpf(2) and the cgroup directory fd through sys/. Imported only where device
// rules are enforced (create), so commands that only read cgroups never load the FFI.

import * as C from '../../sys/constants.js'
import * as bpf from '../../sys/bpf.js'
import { linux as sys } from '../../sys/linux.js'
import type { BpfOps } from './apply.js'

/** bpf(2) through sys/bpf.ts. */
export function realBpf(): BpfOps {
  return {
    openDir: (p) => sys.openat(C.AT_FDCWD, p, C.O_RDONLY | C.O_DIRECTORY),
    close: (fd) => sys.close(fd),
    load: (insns, license) => bpf.progLoadCgroupDevice(insns, license),
    query: (fd) => bpf.progQuery(fd, bpf.BPF_CGROUP_DEVICE),
    attach: (fd, prog) => bpf.progAttach(fd, prog, bpf.BPF_CGROUP_DEVICE, bpf.BPF_F_ALLOW_MULTI),
    detachId(fd, id) {
      const prog = bpf.progGetFdById(id)
      try {
        bpf.progDetach(fd, prog, bpf.BPF_CGROUP_DEVICE)
      } finally {
        sys.close(prog)
      }
    },
  }
}

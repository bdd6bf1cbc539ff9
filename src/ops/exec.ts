// `exec`: a new process in a running container (process/exec.ts); its exit status, or 0 with
// --detach.

import { execInContainer, type ExecOptions } from '../process/exec.js'

export function exec(o: ExecOptions): Promise<number> {
  return execInContainer(o)
}

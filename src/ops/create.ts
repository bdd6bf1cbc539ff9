// `create`: build the container and leave its init waiting for `start` (process/create.ts).

import { createContainer, type CreateOptions } from '../process/create.js'

export function create(opts: CreateOptions): void {
  createContainer(opts)
}

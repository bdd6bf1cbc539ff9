// `runt resume`.

import { type CommandDef, requireId, store } from '../command.js'
export const resumeCommand: CommandDef = {
  command: 'resume [container-id]',
  describe: 'resumes all processes that have been previously paused',
  builder: (y) => y,
  async run(args) {
    const id = requireId(args, 'resume')
    const { resume } = await import('../../ops/pause.js')
    resume(await store(args), id)
    return 0
  },
}

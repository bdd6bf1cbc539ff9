// Every command runt has, registered explicitly (the single-binary bundle must see each one).

import type { CommandDef } from '../command.js'
import { createCommand } from './create.js'
import { runCommand } from './run.js'
import { startCommand } from './start.js'
import { execCommand } from './exec.js'
import { featuresCommand } from './features.js'
import { stateCommand } from './state.js'
import { killCommand } from './kill.js'
import { deleteCommand } from './delete.js'
import { listCommand } from './list.js'
import { specCommand } from './spec.js'
import { pauseCommand } from './pause.js'
import { resumeCommand } from './resume.js'
import { psCommand } from './ps.js'
import { eventsCommand } from './events.js'
import { updateCommand } from './update.js'
import { checkpointCommand } from './checkpoint.js'
import { restoreCommand } from './restore.js'

export const COMMANDS: CommandDef[] = [
  createCommand,
  runCommand,
  startCommand,
  execCommand,
  featuresCommand,
  stateCommand,
  killCommand,
  deleteCommand,
  listCommand,
  specCommand,
  pauseCommand,
  resumeCommand,
  psCommand,
  eventsCommand,
  updateCommand,
  checkpointCommand,
  restoreCommand,
]

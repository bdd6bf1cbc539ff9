// `spec`: write a default config.json into the bundle directory, refusing to overwrite one.

import * as fs from 'node:fs'
import * as path from 'node:path'
import { RuntimeError, fsError } from '../errors.js'
import { defaultSpec } from '../spec/defaults.js'

export function writeSpec(bundle: string, rootless: boolean): void {
  try {
    process.chdir(bundle)
  } catch (e) {
    throw fsError(e, 'chdir', bundle)
  }
  const file = path.join(process.cwd(), 'config.json')
  if (fs.existsSync(file)) throw new RuntimeError('File config.json exists. Remove it first', 'EEXIST')
  // runc adds a cgroup namespace only where cgroup v2 is the unified hierarchy.
  const cgroupNamespace = fs.existsSync('/sys/fs/cgroup/cgroup.controllers')
  const spec = rootless
    ? defaultSpec({ rootless: true, euid: process.geteuid!(), egid: process.getegid!(), cgroupNamespace })
    : defaultSpec({ cgroupNamespace })
  fs.writeFileSync(file, JSON.stringify(spec, null, '\t'), { mode: 0o666 })
}

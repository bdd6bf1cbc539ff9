// A rootfs whose /proc or /sys is a symlink (`rm -rf rootfs/proc; ln -s /symlink rootfs/proc`)
// is refused, as runc 1.1.5 refuses it ('filesystem "proc" must be mounted on ordinary
// directory'). Mounting procfs or sysfs through a link, and then masking /proc/kcore or
// /sys/firmware by their written paths, is how masked paths have been bypassed (the
// CVE-2019-19921 and CVE-2025-52565 class): the mask must land on the filesystem it hides.

import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { makeBundle, priv, Runt } from '../../fixtures/runt.js'

for (const dir of ['proc', 'sys']) {
  for (const [how, target] of [
    ['absolute', '/symlink'],
    ['relative', 'elsewhere'],
    ['to a file', '/etc/passwd'],
  ] as const) {
    t.test(`a rootfs whose /${dir} is a symlink (${how}) is refused`, priv(), async (t) => {
      const runt = new Runt(t)
      const b = makeBundle(t, ['sh', '-c', 'cat /proc/kcore > /dev/null 2>&1 && echo KCORE-READABLE; echo ran'])
      fs.rmSync(path.join(b.rootfs, dir), { recursive: true, force: true })
      fs.mkdirSync(path.join(b.rootfs, 'symlink'), { recursive: true })
      fs.mkdirSync(path.join(b.rootfs, 'elsewhere'), { recursive: true })
      fs.symlinkSync(target, path.join(b.rootfs, dir))
      const r = runt.run(['run', '--bundle', b.dir, runt.id(`${dir}link`)])
      t.not(r.status, 0, 'refused')
      t.notMatch(r.stdout, /ran/, 'the process never ran')
      const fstype = dir === 'proc' ? 'proc' : 'sysfs'
      t.match(
        r.stderr,
        new RegExp(`mounts\\[\\d+\\] /${dir}: filesystem \\\\?"${fstype}\\\\?" must be mounted on ordinary directory`),
      )
      t.notMatch(r.stderr, /\n\s+at /, 'no stack trace')
      t.same(runt.leftovers(), [], 'no state left')
    })
  }
}

// A CI-sized run of the hostile-input campaign (scripts/fuzz): 200 mutated configs from a
// fixed seed through `runt run`. Every one must be accepted or refused clearly: no crash, no
// hang, nothing left behind, no file written outside the bundle. The long run (10,000
// configs, with runc beside it) is `scripts/fuzz --count 10000` (docs/hostile-input.md).

import t from 'tap'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { priv, REPO, RUNT } from '../fixtures/runt.js'

t.setTimeout(900_000)

t.test('200 hostile configs: no crash, no hang, no leftovers, no host writes', priv(), async (t) => {
  const r = spawnSync(
    process.execPath,
    [path.join(REPO, 'scripts/fuzz.mjs'), '--count', '200', '--seed', '20261202', '--no-runc', '--runt', RUNT, '--show', '20'],
    { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, timeout: 850_000 },
  )
  t.comment(r.stdout.trim())
  if (r.stderr.trim()) t.comment(r.stderr.trim())
  const count = (cls: string) => Number(new RegExp(`^\\| ${cls} \\| (\\d+) \\|`, 'm').exec(r.stdout)?.[1] ?? NaN)
  t.equal(count('accepted') + count('clear refusal'), 200, 'every config accepted or refused clearly')
  for (const cls of ['crash', 'hang', 'leftovers', 'host writes']) t.equal(count(cls), 0, `no ${cls}`)
  t.ok(count('accepted') > 0, 'some configs still run (the campaign is not all refusals)')
  t.equal(r.status, 0, 'scripts/fuzz exits 0')
})

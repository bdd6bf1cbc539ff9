// kill -9 of `create` at any moment must never wedge the container: an engine's timeout kills
// the runtime wherever it is. Killed at many points spread over create's whole duration,
// `delete --force` must finish within 5 s each time and leave nothing: no state directory, no
// process in the container's cgroup, no cgroup, and the id must be usable again. (Before
// the fix, 3 of 261 kills left stage 1 holding the lock and delete --force hung forever, and
// 8 leaked the cgroups.) Stage 1 dies with its parent and holds neither the parent's end of
// the sync socket nor the lock; create records its cgroups in creating.json before it makes
// them.

import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { spawn } from 'node:child_process'
import { cleanCommand, cleanEnv, makeBundle, priv, Runt } from '../fixtures/runt.js'

t.setTimeout(300_000)

/** Processes whose cgroup (any hierarchy) is the container's. */
function processesOf(id: string): number[] {
  const out: number[] = []
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue
    try {
      if (
        fs
          .readFileSync(`/proc/${p}/cgroup`, 'utf8')
          .split('\n')
          .some((l) => l.endsWith(`/runt/${id}`))
      )
        out.push(Number(p))
    } catch {
      /* gone */
    }
  }
  return out
}

function cgroupsOf(id: string): string[] {
  const out: string[] = []
  for (const h of fs.readdirSync('/sys/fs/cgroup')) {
    const d = path.join('/sys/fs/cgroup', h, 'runt', id)
    if (fs.existsSync(d)) out.push(d)
  }
  if (fs.existsSync(path.join('/sys/fs/cgroup/runt', id))) out.push(path.join('/sys/fs/cgroup/runt', id))
  return out
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

t.test('create killed with SIGKILL at many points: delete --force cleans up in bounded time', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['sleep', '300'])
  // How long a create takes here, to spread the kills over it.
  const times: number[] = []
  for (let i = 0; i < 3; i++) {
    const id = runt.id('measure')
    const t0 = Date.now()
    runt.ok(['create', '--bundle', b.dir, id])
    times.push(Date.now() - t0)
    runt.ok(['delete', '--force', id])
  }
  const duration = times.sort((a, b) => a - b)[1]!
  const points = 24
  t.comment(`create takes ${duration} ms here; killing it at ${points} points from 0 to ${Math.round(duration * 1.2)} ms`)
  const id = runt.id('killed')
  const outcomes: string[] = []
  for (let i = 0; i < points; i++) {
    const at = Math.round((duration * 1.2 * i) / (points - 1))
    const [cmd, argv] = cleanCommand(['--root', runt.root, 'create', '--bundle', b.dir, id], cleanEnv())
    const child = spawn(cmd, argv, { stdio: 'ignore' })
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
    await sleep(at)
    // env -i execs runt in its own place: this pid is runt's.
    child.kill('SIGKILL')
    const code = await exited
    const t0 = Date.now()
    const del = runt.run(['delete', '--force', id], { timeout: 10_000 })
    const took = Date.now() - t0
    t.equal(del.status, 0, `killed at ${at} ms: delete --force exits 0 (${del.stderr.trim()})`)
    t.ok(took < 5000, `killed at ${at} ms: delete --force took ${took} ms`)
    // Processes killed with SIGKILL may take a moment to leave their cgroup.
    for (let k = 0; k < 50 && processesOf(id).length; k++) await sleep(20)
    t.same(processesOf(id), [], `killed at ${at} ms: no process left in the container's cgroup`)
    t.same(cgroupsOf(id), [], `killed at ${at} ms: no cgroup left`)
    t.same(runt.leftovers(), [], `killed at ${at} ms: no state left`)
    outcomes.push(`${at}ms:${code === null ? 'killed' : `exited ${code}`}`)
  }
  t.comment(outcomes.join(' '))
  runt.ok(['create', '--bundle', b.dir, id])
  t.equal(runt.state(id).status, 'created', 'the id can be used again')
  runt.ok(['delete', '--force', id])
})

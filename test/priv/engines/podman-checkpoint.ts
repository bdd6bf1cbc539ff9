// `podman container checkpoint` and `restore` through runt. On this project's machines criu
// cannot dump (see test/priv/checkpoint.ts): podman's checkpoint must fail there as it does
// with runc, with CRIU's reason reaching podman, and leave the container running. Where
// `criu check` passes, the checkpoint and restore must work end to end.

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import { spawnSync } from 'node:child_process'
import { engineSkipReason, PodmanEnv, type EngineResult } from '../../fixtures/podman-engine.js'
import { RUNC } from '../../fixtures/runt.js'

t.setTimeout(300_000)
const IMAGE = 'localhost/runt-busybox:latest'
const skip = engineSkipReason('podman', 'conmon', 'criu')
const criuCheck = spawnSync('criu', ['check'], { encoding: 'utf8' })
const criuWorks = criuCheck.status === 0
const ok = (t: Test, r: EngineResult, what: string): boolean => t.equal(r.status, 0, `${what}: ${r.out}`)
const COUNTER = 'i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.1; done'

t.test('podman container checkpoint and restore with runt', skip ? { skip } : {}, async (t) => {
  const e = new PodmanEnv(t)
  if (!ok(t, e.importBusybox(IMAGE), 'podman import')) return
  const pm = (args: string[]) => e.podman(args)
  const running = (name: string) => pm(['inspect', '--format', '{{.State.Status}}', name]).stdout.trim()

  if (!ok(t, pm(['run', '-d', '--name', 'ck', IMAGE, 'sh', '-c', COUNTER]), 'podman run -d')) return
  const cp = pm(['container', 'checkpoint', 'ck'])
  const calls = e.runtCalls().filter((l) => /(^| )checkpoint --image-path/.test(l))
  t.match(calls[0], /checkpoint .*--image-path \S+.*--work-path \S+/, `podman called runt checkpoint: ${calls.join('\n')}`)
  if (!criuWorks) {
    t.not(cp.status, 0, `checkpoint fails where criu cannot dump: ${cp.out}`)
    t.match(cp.out, /criu failed: type DUMP errno 0/, "runt's error reaches podman")
    t.match(cp.out, /log file: \S+dump\.log/, 'with the log path')
    t.equal(running('ck'), 'running', 'the container is left running')
    t.equal(pm(['exec', 'ck', 'cat', '/tmp/count']).status, 0, 'and usable')

    t.test('podman with runc fails the same way', RUNC ? {} : { skip: 'runc is not installed' }, async (t) => {
      const argv = (args: string[]) => {
        const a = e.podmanArgv(args)
        a[a.indexOf(e.runtime)] = RUNC!
        return a
      }
      const name = `ck-runc-${process.pid}`
      if (!ok(t, e.run(argv(['run', '-d', '--name', name, IMAGE, 'sh', '-c', COUNTER])), 'podman --runtime runc run -d')) return
      const r = e.run(argv(['container', 'checkpoint', name]))
      t.not(r.status, 0, `runc: ${r.out}`)
      t.match(r.out, /criu failed: type DUMP errno 0/, 'the same criu failure')
      t.equal(e.run(argv(['inspect', '--format', '{{.State.Status}}', name])).stdout.trim(), 'running')
      e.run(argv(['rm', '--force', '--time', '0', name]))
    })
    return
  }
  ok(t, cp, 'podman container checkpoint')
  t.equal(running('ck'), 'exited', 'checkpointed: exited, as podman shows it')
  ok(t, pm(['container', 'restore', 'ck']), 'podman container restore')
  t.equal(running('ck'), 'running')
  const n = Number(pm(['exec', 'ck', 'cat', '/tmp/count']).stdout.trim())
  t.ok(n > 0, 'the counter runs on after restore')
  t.ok(fs.existsSync(e.dir))
})

// buildah building an image from a Containerfile whose RUN steps run through runt
// (`buildah bud --isolation oci --runtime <runt>`), on a base image the test makes from a
// busybox-static rootfs. The RUN steps' effects are checked in the built image, read both
// through `buildah run` (runt again) and from the mounted image on the host.
// Private state (storage, run root, runt's --root): test/fixtures/podman-engine.ts.

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { engineSkipReason, PodmanEnv, type EngineResult } from '../../fixtures/podman-engine.js'

t.setTimeout(300_000)
const BASE = 'localhost/runt-busybox-base:latest'
const BUILT = 'localhost/runt-built:latest'
const skip = engineSkipReason('buildah')

const ok = (t: Test, r: EngineResult, what: string): boolean => t.equal(r.status, 0, `${what}: ${r.out}`)

const CONTAINERFILE = `FROM ${BASE}
RUN echo built-by-run > /built && id -u > /uid
RUN mkdir -p /data && echo "$(cat /built) second step" > /data/second
ENV GREETING=hello
WORKDIR /work
RUN echo "$GREETING from $(pwd)" > greeting
USER user
RUN id -u > /home/user/uid && touch /not-allowed 2>/dev/null || echo "root is not writable by user" > /home/user/denied
USER root
RUN test -s /home/user/denied && echo "steps see each other's files" > /data/seen
`

t.test('buildah bud runs RUN steps through runt', skip ? { skip } : {}, async (t) => {
  t.setTimeout(280_000)
  const e = new PodmanEnv(t)
  const base = e.buildahBusybox(BASE)
  if (!ok(t, base, 'base image from a busybox rootfs')) return
  const ctx = path.join(e.dir, 'context')
  fs.mkdirSync(ctx)
  fs.writeFileSync(path.join(ctx, 'Containerfile'), CONTAINERFILE)
  const bud = (file: string, tag: string) =>
    e.buildah(
      ['bud', '--isolation', 'oci', '--runtime', e.runtime, '--network', 'none', '--layers=false', '-t', tag, '-f', file, ctx],
      {
        privateCache: true,
        timeout: 180_000,
      },
    )

  t.test('the build succeeds and runt ran each RUN step', async (t) => {
    const r = bud(path.join(ctx, 'Containerfile'), BUILT)
    if (!ok(t, r, 'buildah bud')) return
    t.match(r.stdout, /STEP 10\/10: RUN test -s/, 'every step ran')
    t.match(r.stdout, `Successfully tagged ${BUILT}`)
    const calls = e.runtCalls()
    t.equal(calls.filter((l) => /(^| )create /.test(l)).length, 5, `runt create once per RUN step:\n${calls.join('\n')}`)
    t.equal(calls.filter((l) => /(^| )start /.test(l)).length, 5, 'runt start once per RUN step')
    t.ok(calls.filter((l) => /(^| )delete /.test(l)).length >= 5, 'runt delete after each RUN step')
    t.same(fs.readdirSync(path.join(e.dir, 'runt-state')), [], "nothing left under runt's --root")
  })

  t.test("the RUN steps' files are in the image, read through buildah run", async (t) => {
    const from = e.buildah(['from', BUILT])
    if (!ok(t, from, 'buildah from the built image')) return
    const c = from.stdout.trim()
    const r = e.buildah([
      'run',
      '--runtime',
      e.runtime,
      '--network',
      'none',
      c,
      '--',
      'sh',
      '-c',
      'cat /built /uid /data/second /work/greeting /home/user/uid /home/user/denied /data/seen; pwd; echo $GREETING; id -u',
    ])
    ok(t, r, 'buildah run')
    t.equal(
      r.stdout,
      [
        'built-by-run',
        '0',
        'built-by-run second step',
        'hello from /work',
        '1000',
        'root is not writable by user',
        "steps see each other's files",
        '/work',
        'hello',
        '0',
        '',
      ].join('\n'),
    )
    ok(t, e.buildah(['rm', c]), 'buildah rm')
  })

  t.test("the RUN steps' files are in the image, read from the host", async (t) => {
    const from = e.buildah(['from', BUILT])
    if (!ok(t, from, 'buildah from the built image')) return
    const c = from.stdout.trim()
    const m = e.buildah(['mount', c])
    if (ok(t, m, 'buildah mount')) {
      const root = m.stdout.trim()
      t.equal(fs.readFileSync(path.join(root, 'built'), 'utf8'), 'built-by-run\n')
      t.equal(fs.readFileSync(path.join(root, 'data/second'), 'utf8'), 'built-by-run second step\n')
      t.equal(fs.statSync(path.join(root, 'home/user/uid')).uid, 1000, 'the USER step wrote as uid 1000')
      t.notOk(fs.existsSync(path.join(root, 'not-allowed')), 'the USER step could not write to /')
      ok(t, e.buildah(['umount', c]), 'buildah umount')
    }
    ok(t, e.buildah(['rm', c]), 'buildah rm')
    const cfg = e.buildah(['inspect', '--type', 'image', '--format', '{{.OCIv1.Config.WorkingDir}} {{.OCIv1.Config.Env}}', BUILT])
    t.match(cfg.stdout, /^\/work \[.*GREETING=hello.*\]/, `image config: ${cfg.out}`)
  })

  t.test('a failing RUN step fails the build with its exit status', async (t) => {
    const file = path.join(ctx, 'Containerfile.fail')
    fs.writeFileSync(file, `FROM ${BASE}\nRUN echo before-failure && exit 3\nRUN echo never > /never\n`)
    const r = bud(file, 'localhost/runt-failed:latest')
    t.not(r.status, 0, 'buildah bud fails')
    t.match(r.stdout, 'before-failure', "the step's output is shown")
    t.match(r.out, /exit status 3/, `buildah reports the step's exit status: ${r.out}`)
    t.equal(e.buildah(['images', '--quiet', '--filter', 'reference=localhost/runt-failed']).stdout, '', 'no image tagged')
  })
})

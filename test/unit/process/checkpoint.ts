// dumpContainer and criuSwrk against test/fixtures/fake-criu.ts: real processes and sockets,
// no privilege (the "container" is a sleep of ours, the image directory a temp dir).

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { spawn } from 'node:child_process'
import { dumpContainer, prepareImagePaths } from '../../../src/process/checkpoint.js'
import { criuPath, criuSwrk } from '../../../src/process/criu.js'
import { CRIU_REQ } from '../../../src/sys/constants.js'
import { CriuError } from '../../../src/errors.js'
import type { CriuFlags } from '../../../src/plan/criu.js'
import type { ContainerRecord } from '../../../src/state/store.js'
import { criuFlags, fakeCriu } from '../../fixtures/criu.js'
import { tempDir } from '../../fixtures/runt.js'

const FLAGS: CriuFlags = criuFlags('')

/** Run `fn` with the fake first on PATH (and its settings) in our own environment. */
function withEnv<T>(t: Test, env: Record<string, string>, fn: () => T): T {
  const saved = { ...process.env }
  Object.assign(process.env, env)
  try {
    return fn()
  } finally {
    for (const k of Object.keys(env)) delete process.env[k]
    Object.assign(process.env, saved)
  }
}

function sleeper(t: Test) {
  const p = spawn('sleep', ['1000'], { stdio: 'ignore' })
  t.teardown(() => p.kill('SIGKILL'))
  const exited = new Promise<NodeJS.Signals | null>((r) => p.on('exit', (_c, sig) => r(sig)))
  return { pid: p.pid!, exited }
}

function record(pid: number, dir: string): ContainerRecord {
  return {
    ociVersion: '1.0.2',
    id: 'c',
    pid,
    pidStartTime: '',
    bundle: dir,
    rootfs: path.join(dir, 'rootfs'),
    created: '',
    config: { ociVersion: '1.0.2', root: { path: 'rootfs' }, mounts: [], linux: { maskedPaths: ['/proc/kcore'] } },
    namespacePaths: {},
    cgroupPaths: { freezer: '/sys/fs/cgroup/freezer/runt/c' },
  }
}

t.test('a dump: the request, each notification answered, the marker, the process killed', async (t) => {
  const fake = fakeCriu(t)
  const dir = tempDir(t)
  const state = tempDir(t)
  const s = sleeper(t)
  const images = path.join(dir, 'img')
  withEnv(t, fake.env, () => dumpContainer(record(s.pid, dir), state, { ...FLAGS, imagePath: images, shellJob: true }))
  const [first, ...acks] = fake.records()
  t.equal(first!.imagesDir, images)
  t.match(first!.req, {
    type: CRIU_REQ.DUMP,
    opts: { pid: s.pid, shellJob: true, freezeCgroup: '/sys/fs/cgroup/freezer/runt/c' },
  })
  t.same(
    acks.map((a) => [a.ack, a.notifySuccess]),
    [
      ['network-lock', true],
      ['post-dump', true],
    ],
  )
  t.ok(fs.existsSync(path.join(state, 'checkpoint')), 'post-dump marks the state directory')
  t.equal(JSON.parse(fs.readFileSync(path.join(images, 'descriptors.json'), 'utf8')).length, 3)
  t.equal(await s.exited, 'SIGKILL', 'criu killed the dumped process')
})

t.test('a failed dump: CriuError with the log path; the process untouched', async (t) => {
  const fake = fakeCriu(t, 'fail')
  const dir = tempDir(t)
  const s = sleeper(t)
  const images = path.join(dir, 'img')
  const work = path.join(dir, 'work')
  t.throws(
    () =>
      withEnv(t, fake.env, () => dumpContainer(record(s.pid, dir), tempDir(t), { ...FLAGS, imagePath: images, workPath: work })),
    new CriuError('criu failed: type DUMP errno 0', `${work}/dump.log`),
  )
  t.match(fs.readFileSync(path.join(work, 'dump.log'), 'utf8'), 'told to fail')
  t.ok(fs.existsSync(`/proc/${s.pid}`), 'still running')
})

t.test('lazy pages the fake criu lacks: missing features', async (t) => {
  const fake = fakeCriu(t)
  const dir = tempDir(t)
  const s = sleeper(t)
  t.throws(
    () =>
      withEnv(t, fake.env, () =>
        dumpContainer(record(s.pid, dir), tempDir(t), { ...FLAGS, imagePath: path.join(dir, 'i'), lazyPages: true }),
      ),
    new CriuError('criu is missing features: [LazyPages]'),
  )
  t.equal(fake.records().length, 1, 'only the feature check was sent')
})

t.test('an answer of another type, and no criu on PATH', async (t) => {
  const fake = fakeCriu(t)
  t.throws(() => withEnv(t, fake.env, () => criuSwrk({ type: CRIU_REQ.CPUINFO_DUMP })), { message: /type CPUINFO_DUMP errno 22/ })
  t.throws(
    () => withEnv(t, { PATH: tempDir(t) }, () => criuPath()),
    new CriuError('criu failed: exec: "criu": executable file not found in $PATH'),
  )
})

t.test('prepareImagePaths: made 0700, parent path checked, flags checked', async (t) => {
  const dir = tempDir(t)
  const images = path.join(dir, 'a/b')
  t.equal(prepareImagePaths({ ...FLAGS, imagePath: images }), images)
  t.equal(fs.statSync(images).mode & 0o777, 0o700)
  fs.writeFileSync(path.join(images, 'file'), '')
  t.throws(() => prepareImagePaths({ ...FLAGS, imagePath: images, parentPath: 'file' }), { message: /not a directory/ })
  t.throws(() => prepareImagePaths({ ...FLAGS, imagePath: images, manageCgroupsMode: 'x' }), {
    message: 'invalid manage-cgroups-mode value',
  })
})

// src/sys/file.ts has two implementations: Bun's file API in the shipped binary, node:fs under
// Node. The tests run under Node, so each case runs here and again under the pinned Bun, and
// both must give the same answers.

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import * as file from '../../../src/sys/file.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const BUN = path.join(ROOT, 'node_modules/.bin/bun')
const SRC = path.join(ROOT, 'src/sys/file.ts')

/** What every case gives: values, or the errno code of a failure. */
async function cases(dir: string, f: typeof file): Promise<unknown> {
  const settle = async (p: () => Promise<unknown> | unknown) => {
    try {
      return { ok: await p() }
    } catch (e) {
      return { err: (e as NodeJS.ErrnoException).code }
    }
  }
  return {
    dirs: await settle(() => f.dirsHolding(`${dir}/root`, 'state.json')),
    dirsMissing: await settle(() => f.dirsHolding(`${dir}/none`, 'state.json')),
    dirsOfFile: await settle(() => f.dirsHolding(`${dir}/plain`, 'state.json')),
    text: await settle(() => f.readText(`${dir}/plain`)),
    textMissing: await settle(() => f.readText(`${dir}/none`)),
    textOrNull: await settle(() => f.readTextOrNull(`${dir}/none`)),
    exists: await settle(() => f.pathExists(`${dir}/plain`)),
    existsFifo: await settle(() => f.pathExists(`${dir}/fifo`)),
    existsDir: await settle(() => f.pathExists(`${dir}/root`)),
    existsMissing: await settle(() => f.pathExists(`${dir}/none`)),
    owner: await settle(() => f.ownerOf(`${dir}/root/b`)),
    ownerMissing: await settle(() => f.ownerOf(`${dir}/none`)),
  }
}

function fixture(t: Test): string {
  const dir = t.testdir({
    root: {
      b: { 'state.json': '{}' },
      a: { 'state.json': '{}', 'exec.fifo': '' },
      '.dot': { 'state.json': '{}' },
      'no-state': { other: '' },
      'state-is-dir': { 'state.json': {} },
      'a-file': 'x',
    },
    plain: 'héllo\n',
  })
  fs.symlinkSync(path.join(dir, 'root/a'), path.join(dir, 'root/link-to-a'))
  spawnSync('mkfifo', [path.join(dir, 'fifo')])
  return dir
}

const expected = (uid: number) => ({
  dirs: { ok: ['.dot', 'a', 'b'] },
  dirsMissing: { ok: [] },
  dirsOfFile: { err: 'ENOTDIR' },
  text: { ok: 'héllo\n' },
  textMissing: { err: 'ENOENT' },
  textOrNull: { ok: null },
  exists: { ok: true },
  existsFifo: { ok: true },
  existsDir: { ok: false },
  existsMissing: { ok: false },
  owner: { ok: uid },
  ownerMissing: { err: 'ENOENT' },
})

t.test('under Node', async (t) => {
  const dir = fixture(t)
  t.same(await cases(dir, file), expected(process.getuid!()))
})

t.test('under Bun: the same answers', { skip: fs.existsSync(BUN) ? false : `${BUN} missing: run npm ci` }, async (t) => {
  const dir = fixture(t)
  const driver = path.join(dir, 'driver.ts')
  fs.writeFileSync(
    driver,
    `import * as f from ${JSON.stringify(SRC)}\n` +
      `const cases = ${cases.toString()}\n` +
      `process.stdout.write(JSON.stringify(await cases(${JSON.stringify(dir)}, f)))\n`,
  )
  const r = spawnSync(BUN, [driver], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, timeout: 30_000 })
  t.equal(r.status, 0, r.stderr)
  t.same(JSON.parse(r.stdout || 'null'), expected(process.getuid!()))
})

t.test('writeAll: every byte, to a pipe, under both', async (t) => {
  const big = 'x'.repeat(300_000) + '\n'
  const node = spawnSync(
    process.execPath,
    [
      '--import=./test/loader/register.mjs',
      '-e',
      `import(${JSON.stringify(SRC)}).then((f) => f.writeAll(1, 'x'.repeat(300000) + '\\n'))`,
    ],
    {
      encoding: 'utf8',
      cwd: ROOT,
      maxBuffer: 1 << 20,
    },
  )
  t.equal(node.stdout, big, 'node')
  if (!fs.existsSync(BUN)) return
  const b = spawnSync(
    BUN,
    ['-e', `const f = await import(${JSON.stringify(SRC)}); await f.writeAll(1, 'x'.repeat(300000) + '\\n')`],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    },
  )
  t.equal(b.stdout, big, 'bun')
})

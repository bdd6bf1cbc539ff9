// The single executable stands alone: copied into an empty directory it runs `--version` and
// a container with an empty environment (no node on PATH, no node_modules), its init stage is
// the same binary, and neither NODE_OPTIONS, NODE_EXTRA_CA_CERTS nor any BUN_* reaches the init.

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { RUNT, makeBundle, priv } from '../fixtures/runt.js'
import { INIT_JSC_OPTIONS } from '../../src/process/self.js'

/** dist/runt copied alone into an empty directory; the test's own --root next to it. */
function standalone(t: Test) {
  const dir = t.testdir({})
  const bin = path.join(dir, 'runt')
  fs.copyFileSync(RUNT, bin)
  fs.chmodSync(bin, 0o755)
  const root = path.join(dir, 'state')
  const ids: string[] = []
  t.teardown(() => {
    for (const id of ids) spawnSync(bin, ['--root', root, 'delete', '--force', id], { env: {}, stdio: 'ignore' })
  })
  /** `env -i <copy> ...` from the empty directory; stdio to files (a created container keeps it). */
  const run = (args: string[], env: string[] = []) => {
    const out = path.join(dir, 'out')
    const err = path.join(dir, 'err')
    const o = fs.openSync(out, 'w')
    const e = fs.openSync(err, 'w')
    try {
      const r = spawnSync('env', ['-i', ...env, bin, '--root', root, ...args], { cwd: dir, stdio: ['ignore', o, e] })
      return { status: r.status, stdout: fs.readFileSync(out, 'utf8'), stderr: fs.readFileSync(err, 'utf8') }
    } finally {
      fs.closeSync(o)
      fs.closeSync(e)
    }
  }
  return { dir, bin, root, run, id: (name: string) => (ids.push(`${name}-${process.pid}`), `${name}-${process.pid}`) }
}

t.test('is one ELF executable', fs.existsSync(RUNT) ? {} : { skip: `needs a built ${RUNT}` }, async (t) => {
  const head = Buffer.alloc(4)
  const fd = fs.openSync(RUNT, 'r')
  fs.readSync(fd, head, 0, 4, 0)
  fs.closeSync(fd)
  t.same([...head], [0x7f, 0x45, 0x4c, 0x46], 'starts with the ELF magic, not a #! line')
})

t.test('runs --version alone in an empty directory with an empty environment', priv(), async (t) => {
  const s = standalone(t)
  t.same(fs.readdirSync(s.dir), ['runt'], 'nothing but the binary')
  const r = spawnSync(s.bin, ['--version'], { cwd: s.dir, env: {}, encoding: 'utf8' })
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /^runt version \S+\ncommit: \S+\nspec: 1\.\d+\.\d+\n/)
  t.match(r.stdout, /\nlibseccomp: \d+\.\d+\.\d+\n/, 'the FFI works: libseccomp was asked for its version')
})

t.test('runs a container under env -i', priv(), async (t) => {
  const s = standalone(t)
  const b = makeBundle(t, ['sh', '-c', 'echo "hello from $(hostname)"; exit 3'], (c) => {
    c.hostname = 'alone'
  })
  const r = s.run(['run', '--bundle', b.dir, s.id('alone')])
  t.equal(r.status, 3, r.stderr)
  t.equal(r.stdout, 'hello from alone\n')
})

t.test('the init stage is the same binary, with none of the caller environment', priv(), async (t) => {
  const s = standalone(t)
  const b = makeBundle(t, ['sleep', '1000'])
  const id = s.id('init')
  // Bun applies BUN_OPTIONS to runt itself before any of runt's code runs (a preload records
  // each process that ran it); these must go no further than the process the caller started.
  const marker = path.join(s.dir, 'preloaded')
  const preload = path.join(s.dir, 'preload.js')
  fs.writeFileSync(preload, `require('node:fs').appendFileSync(${JSON.stringify(marker)}, process.pid + '\\n')\n`)
  const r = s.run(
    ['create', '--bundle', b.dir, id],
    [
      'NODE_OPTIONS=--no-deprecation',
      'NODE_EXTRA_CA_CERTS=/nonexistent',
      `BUN_OPTIONS=--preload=${preload}`,
      'BUN_JSC_useJIT=1',
      'BUN_JSC_useDFGJIT=0',
      'BUN_CONFIG_VERBOSE_FETCH=1',
      'FOO=bar',
    ],
  )
  t.equal(r.status, 0, r.stderr)
  const state = JSON.parse(s.run(['state', id]).stdout) as { pid: number; status: string }
  t.equal(state.status, 'created')
  // The init runs in its own mount namespace, where the binary is bound read-only over itself
  // (readlink shows no host path there): the same file, by device and inode.
  const exe = fs.statSync(`/proc/${state.pid}/exe`)
  const bin = fs.statSync(s.bin)
  t.same([exe.dev, exe.ino], [bin.dev, bin.ino], 'the init re-executed this binary')
  const env = fs.readFileSync(`/proc/${state.pid}/environ`, 'utf8').split('\0').filter(Boolean)
  const ran = fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8').trim().split('\n').map(Number) : []
  t.notOk(ran.includes(state.pid), `the preload never ran in the init (ran in ${ran.join(', ') || 'nothing'})`)
  // Only runt's own variables: its channel, the addon copy, and the JSC options it sets for
  // the init itself (process/self.ts), never the caller's values for them.
  const own = Object.entries(INIT_JSC_OPTIONS).map(([k, v]) => `${k}=${v}`)
  t.same(
    env.filter((kv) => !/^(_RUNT_SYNC_FD|_RUNT_KOFFI)=/.test(kv)).sort(),
    own.sort(),
    `init environment holds only runt's own variables: ${env.join(', ')}`,
  )
  t.equal(s.run(['start', id]).status, 0)
  t.equal(s.run(['delete', '--force', id]).status, 0)
})

t.test('the FFI addon copy is owned by root and writable by nobody', priv(), async (t) => {
  const s = standalone(t)
  t.equal(spawnSync(s.bin, ['--version'], { env: {}, stdio: 'ignore' }).status, 0)
  const dirs = ['/run/runt-lib', '/var/lib/runt/lib', '/dev/shm/runt-lib'].filter((d) => fs.existsSync(d))
  const files = dirs.flatMap((d) =>
    fs
      .readdirSync(d)
      .filter((f) => /^koffi-.*\.node$/.test(f))
      .map((f) => path.join(d, f)),
  )
  t.ok(files.length > 0, `a koffi-*.node in ${dirs.join(' or ')}`)
  for (const f of [...dirs, ...files]) {
    const st = fs.lstatSync(f)
    t.equal(st.uid, 0, `${f} is root's`)
    t.equal(
      st.mode & 0o222 & (st.isDirectory() ? 0o022 : 0o222),
      0,
      `${f} is not writable by ${st.isDirectory() ? 'group or others' : 'anyone'}`,
    )
  }
})

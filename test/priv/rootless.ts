// Rootless containers (issue 14, item 2): runt run by an unprivileged user of the test's own
// (useradd, removed with userdel -r at teardown, with any /etc/subuid and /etc/subgid lines the
// test added), on a bundle it owns, with `runt spec --rootless`'s config: the single mapping
// of its own uid and gid (setgroups denied), and subordinate ranges written by newuidmap and
// newgidmap (package uidmap). run, create/start/state/list/exec/kill/delete, the default state
// root under $XDG_RUNTIME_DIR, no cgroup made, and the errors for what the user may not do
// (no user namespace, ids it does not own without the tools, limits without a cgroup). runc
// 1.1.5 runs the same cases side by side where installed. Before the change runt failed at
// the first step: "linux.gidMappings: write /proc/N/gid_map: EPERM".

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { makeBundle, priv, RUNC, RUNT, spawnToFiles, waitFor, type Bundle } from '../fixtures/runt.js'
import { defaultSpec } from '../../src/spec/defaults.js'
import type { Spec } from '../../src/spec/schema.js'

const BINS = RUNC ? [RUNT, RUNC] : [RUNT]
if (!RUNC) t.comment('runc is not installed: runt alone (apt-get install runc for the comparison)')
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
const NEWUIDMAP = ['/usr/bin/newuidmap', '/bin/newuidmap'].find((p) => fs.existsSync(p))
const NEWGIDMAP = ['/usr/bin/newgidmap', '/bin/newgidmap'].find((p) => fs.existsSync(p))
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p))

function skipReason(): string | null {
  const p = priv().skip
  if (p) return p
  if (!SETPRIV) return 'needs setpriv (util-linux)'
  if (spawnSync('which', ['useradd']).status !== 0) return 'needs useradd (passwd)'
  return null
}
const SKIP = skipReason()
const opts = SKIP ? { skip: SKIP } : {}

type Out = { status: number | null; stdout: string; stderr: string }

/** A user of the test's own, with a subordinate range and a runtime dir; all gone at teardown. */
type User = { name: string; uid: number; gid: number; home: string; xdg: string; subuid: number; subgid: number }

/** The range `name` has in /etc/subuid or /etc/subgid, or null. */
function subRange(file: string, name: string): number | null {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
  for (const line of text.split('\n')) {
    const [n, start, count] = line.split(':')
    if (n === name && Number(count) >= 65536) return Number(start)
  }
  return null
}

function removeLine(file: string, line: string): void {
  if (!fs.existsSync(file)) return
  const kept = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== line)
  fs.writeFileSync(file, kept.join('\n'))
}

function makeUser(t: Test): User {
  const name = `runt-rl-${process.pid}-${Math.random().toString(36).slice(2, 6)}`
  const r = spawnSync('useradd', ['-m', '-s', '/bin/sh', name], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`useradd ${name}: ${r.stderr}`)
  const added: [string, string][] = []
  t.teardown(() => {
    spawnSync('userdel', ['-r', name], { encoding: 'utf8' })
    for (const [file, line] of added) removeLine(file, line)
  })
  const uid = Number(spawnSync('id', ['-u', name], { encoding: 'utf8' }).stdout.trim())
  const gid = Number(spawnSync('id', ['-g', name], { encoding: 'utf8' }).stdout.trim())
  // Debian's useradd adds subordinate ranges itself (login.defs SUB_UID_*); elsewhere the
  // test adds its own, far from the usual 100000+ ones.
  const own = 3_000_000 + (process.pid % 1000) * 65536
  const ensure = (file: string): number => {
    const have = subRange(file, name)
    if (have !== null) return have
    const line = `${name}:${own}:65536`
    fs.appendFileSync(file, line + '\n')
    added.push([file, line])
    return own
  }
  const subuid = ensure('/etc/subuid')
  const subgid = ensure('/etc/subgid')
  const xdg = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-rl-xdg-'))
  fs.chownSync(xdg, uid, gid)
  fs.chmodSync(xdg, 0o700)
  t.teardown(() => fs.rmSync(xdg, { recursive: true, force: true }))
  return { name, uid, gid, home: `/home/${name}`, xdg, subuid, subgid }
}

/** `bin` as the user, with a clean environment and its own XDG_RUNTIME_DIR (the default root). */
function asUser(u: User, bin: string, args: string[], o: { cwd?: string; env?: Record<string, string> } = {}): Out {
  const env = { PATH, HOME: u.home, USER: u.name, XDG_RUNTIME_DIR: u.xdg, ...o.env }
  const argv = [
    '--reuid',
    String(u.uid),
    '--regid',
    String(u.gid),
    '--init-groups',
    '/usr/bin/env',
    '-i',
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    bin,
    ...args,
  ]
  return spawnToFiles(SETPRIV!, argv, { cwd: o.cwd ?? u.xdg })
}

/** A busybox bundle owned by the user, with `runt spec --rootless`'s config for its ids. */
function rootlessBundle(t: Test, u: User, args: string[], edit?: (c: Spec) => void): Bundle {
  const b = makeBundle(t, args)
  const c = defaultSpec({
    rootless: true,
    euid: u.uid,
    egid: u.gid,
    cgroupNamespace: fs.existsSync('/sys/fs/cgroup/cgroup.controllers'),
  })
  c.process!.terminal = false
  c.process!.args = args
  edit?.(c)
  b.config = c
  b.write()
  spawnSync('chown', ['-R', `${u.uid}:${u.gid}`, b.dir])
  return b
}

const ranges = (u: User): Pick<NonNullable<Spec['linux']>, 'uidMappings' | 'gidMappings'> => ({
  uidMappings: [
    { containerID: 0, hostID: u.uid, size: 1 },
    { containerID: 1, hostID: u.subuid, size: 65536 },
  ],
  gidMappings: [
    { containerID: 0, hostID: u.gid, size: 1 },
    { containerID: 1, hostID: u.subgid, size: 65536 },
  ],
})

/** /proc/self/uid_map's lines as "inside outside count". */
const mapLines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim().split(/\s+/).join(' '))
    .filter((l) => /^\d+ \d+ \d+$/.test(l))

const name = (bin: string) => path.basename(bin)
const stateRoot = (u: User, bin: string) => path.join(u.xdg, name(bin))
const PROBE = 'id; echo ---; cat /proc/self/uid_map; echo ---; cat /proc/self/gid_map; echo ---; cat /proc/self/setgroups'

/** `run` output split on the probe's separators. */
function probe(out: string): { id: string; uid: string[]; gid: string[]; setgroups: string } {
  const [id = '', uid = '', gid = '', sg = ''] = out.split('---\n')
  return { id: id.trim(), uid: mapLines(uid), gid: mapLines(gid), setgroups: sg.trim() }
}

t.test('rootless', opts, async (t) => {
  const u = makeUser(t)
  // Containers a failing case left behind, killed and deleted as the user before userdel.
  const made: [string, string][] = []
  t.teardown(() => {
    for (const [bin, id] of made) asUser(u, bin, ['delete', '--force', id])
  })
  const id = (bin: string, what: string) => {
    const i = `rl-${what}-${name(bin)}-${process.pid}`
    made.push([bin, i])
    return i
  }

  for (const bin of BINS) {
    t.test(`${name(bin)}: run with the single mapping of the user's own ids`, async (t) => {
      const b = rootlessBundle(t, u, ['sh', '-c', PROBE])
      const r = asUser(u, bin, ['run', id(bin, 'run')], { cwd: b.dir })
      t.equal(r.status, 0, r.stderr)
      const p = probe(r.stdout)
      t.match(p.id, /^uid=0\(root\) gid=0\(root\)/, 'root inside')
      t.same(p.uid, [`0 ${u.uid} 1`], 'uid_map: the user as root')
      t.same(p.gid, [`0 ${u.gid} 1`], "gid_map: the user's group as root")
      t.equal(p.setgroups, 'deny', 'setgroups denied (needed to map the own gid)')
      t.same(fs.readdirSync(stateRoot(u, bin)), [], `nothing left in $XDG_RUNTIME_DIR/${name(bin)}`)
    })

    t.test(`${name(bin)}: create, start, state, list, exec, kill, delete as the user`, async (t) => {
      const b = rootlessBundle(t, u, ['sleep', '1000'])
      const c = id(bin, 'life')
      let r = asUser(u, bin, ['create', c], { cwd: b.dir })
      t.equal(r.status, 0, `create: ${r.stderr}`)
      t.ok(fs.existsSync(path.join(stateRoot(u, bin), c)), 'state under $XDG_RUNTIME_DIR by default')
      r = asUser(u, bin, ['state', c])
      t.equal(r.status, 0, `state: ${r.stderr}`)
      const st = JSON.parse(r.stdout || '{}') as { status?: string; pid?: number }
      t.equal(st.status, 'created')
      r = asUser(u, bin, ['start', c])
      t.equal(r.status, 0, `start: ${r.stderr}`)
      r = asUser(u, bin, ['list', '-q'])
      t.match(r.stdout, new RegExp(`^${c}$`, 'm'), 'listed')
      r = asUser(u, bin, ['ps', c])
      t.not(r.status, 0, 'ps: no cgroup to list from')
      t.match(r.stderr, /unable to get all container pids/, 'ps: says so')
      r = asUser(u, bin, ['exec', c, 'sh', '-c', PROBE])
      t.equal(r.status, 0, `exec: ${r.stderr}`)
      const p = probe(r.stdout)
      t.match(p.id, /^uid=0\(root\) gid=0\(root\)/, 'exec: root inside')
      t.same(p.uid, [`0 ${u.uid} 1`], "exec: in the container's user namespace")
      r = asUser(u, bin, ['exec', c, 'sh', '-c', 'exit 3'])
      t.equal(r.status, 3, "exec: the process's exit status")
      if (st.pid) {
        const cg = fs.readFileSync(`/proc/${st.pid}/cgroup`, 'utf8')
        t.notMatch(cg, new RegExp(c), 'no cgroup made for the container (the user may not)')
      }
      r = asUser(u, bin, ['kill', c, 'KILL'])
      t.equal(r.status, 0, `kill: ${r.stderr}`)
      for (let i = 0; i < 100; i++) {
        if (JSON.parse(asUser(u, bin, ['state', c]).stdout || '{}').status === 'stopped') break
        await new Promise((res) => setTimeout(res, 50))
      }
      r = asUser(u, bin, ['delete', c])
      t.equal(r.status, 0, `delete: ${r.stderr}`)
      t.notOk(fs.existsSync(path.join(stateRoot(u, bin), c)), 'state gone')
      const pid = st.pid
      if (pid) t.ok(await waitFor(() => !fs.existsSync(`/proc/${pid}`), 3000), 'init gone')
    })

    t.test(
      `${name(bin)}: subordinate ranges through newuidmap and newgidmap`,
      NEWUIDMAP && NEWGIDMAP ? {} : { skip: 'needs newuidmap and newgidmap (apt-get install uidmap)' },
      async (t) => {
        const chown = '; echo ---; touch /tmp/f && chown 1000:1000 /tmp/f && stat -c %u:%g /tmp/f'
        const b = rootlessBundle(t, u, ['sh', '-c', PROBE + chown], (c) => {
          c.root = { path: 'rootfs', readonly: false }
          Object.assign(c.linux!, ranges(u))
          for (const set of ['bounding', 'effective', 'permitted'] as const) c.process!.capabilities![set]!.push('CAP_CHOWN')
        })
        const r = asUser(u, bin, ['run', id(bin, 'ranges')], { cwd: b.dir })
        t.equal(r.status, 0, r.stderr)
        const p = probe(r.stdout)
        t.match(p.id, /^uid=0\(root\) gid=0\(root\)/, 'root inside')
        t.same(p.uid, [`0 ${u.uid} 1`, `1 ${u.subuid} 65536`], 'uid_map: the user and its range')
        t.same(p.gid, [`0 ${u.gid} 1`, `1 ${u.subgid} 65536`], 'gid_map: the group and its range')
        t.match(p.setgroups, /^allow/, 'setgroups left allowed (newgidmap maps the range)')
        t.equal(r.stdout.split('---\n')[4]?.trim(), '1000:1000', 'an id of the range can own a file')
        const host = fs.statSync(path.join(b.rootfs, 'tmp/f'))
        t.same([host.uid, host.gid], [u.subuid + 999, u.subgid + 999], 'owned by the subordinate id on the host')

        // exec into a ranged container, as a non-root user of the range.
        const b2 = rootlessBundle(t, u, ['sleep', '1000'], (c) => Object.assign(c.linux!, ranges(u)))
        const c = id(bin, 'ranges-exec')
        let x = asUser(u, bin, ['run', '-d', c], { cwd: b2.dir })
        t.equal(x.status, 0, `run -d: ${x.stderr}`)
        x = asUser(u, bin, ['exec', '-u', '1000:1000', c, 'sh', '-c', 'id -u; id -g; cat /proc/self/uid_map'])
        t.equal(x.status, 0, `exec -u 1000: ${x.stderr}`)
        t.match(x.stdout, /^1000\n1000\n/, 'exec: uid and gid 1000 of the range')
        t.same(mapLines(x.stdout), [`0 ${u.uid} 1`, `1 ${u.subuid} 65536`])
        x = asUser(u, bin, ['delete', '--force', c])
        t.equal(x.status, 0, `delete --force: ${x.stderr}`)
        t.same(fs.readdirSync(stateRoot(u, bin)), [], 'nothing left')
      },
    )

    if (bin === RUNT)
      t.test('runt: no XDG_RUNTIME_DIR: the state root it may not make is named, with the way out', async (t) => {
        const b = rootlessBundle(t, u, ['true'])
        const r = asUser(u, bin, ['run', id(bin, 'noxdg')], { cwd: b.dir, env: { XDG_RUNTIME_DIR: '' } })
        t.equal(r.status, 1)
        t.match(r.stderr, /mkdir \/run\/runt\S*: permission denied \(runt runs as uid \d+: set XDG_RUNTIME_DIR/)
      })

    t.test(`${name(bin)}: what an unprivileged user cannot do`, async (t) => {
      const cases: { what: string; edit: (c: Spec) => void; env?: Record<string, string>; runt: RegExp; runc?: RegExp }[] = [
        {
          what: 'no user namespace',
          edit: (c) => {
            c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'user')
            delete c.linux!.uidMappings
            delete c.linux!.gidMappings
          },
          runt: /linux\.namespaces: rootless container requires user namespaces/,
          runc: /rootless container requires user namespaces/,
        },
        {
          what: 'a user namespace without mappings',
          edit: (c) => {
            delete c.linux!.uidMappings
          },
          runt: /linux\.uidMappings: user namespace enabled, but no uid mappings specified/,
          runc: /User namespaces enabled, but no uid mappings found/,
        },
        {
          what: 'ids of others, no newuidmap on PATH',
          edit: (c) => Object.assign(c.linux!, ranges(u)),
          env: { PATH: '/nonexistent' },
          runt: /linux\.uidMappings: runt runs as uid \d+ and may map only that uid.*newuidmap/,
          runc: /mapping tool not present|newuid map/,
        },
        {
          what: 'a range outside /etc/subuid',
          edit: (c) => {
            Object.assign(c.linux!, ranges(u))
            c.linux!.uidMappings![1]!.hostID = u.subuid + 1_000_000
          },
          runt: /linux\.uidMappings: \S*newuidmap \d+ 0 \d+ 1 1 \d+ 65536: exit status 1: newuidmap: uid range/,
          runc: /newuid map/,
        },
        {
          what: 'a process uid outside the map',
          edit: (c) => {
            c.process!.user.uid = 1000
          },
          runt: /unable to setup user: cannot set uid to unmapped user in user namespace \(process\.user\.uid 1000 is not in linux\.uidMappings\)/,
          runc: /unmapped user/,
        },
        {
          what: 'an idmapped mount (runt only: runc 1.1.5 has none)',
          edit: (c) => {
            c.mounts!.push({ destination: '/mnt', type: 'bind', source: '/tmp', options: ['rbind', 'idmap'] })
          },
          runt: /mounts\[\d+\]\.options: idmapped mounts need root: runt runs as uid \d+/,
        },
        {
          what: 'a memory limit without a cgroup',
          edit: (c) => {
            c.linux!.resources = { memory: { limit: 64 << 20 } }
          },
          runt: /linux\.resources\.memory\.limit: cannot set memory limit: container could not join or create cgroup/,
          runc: /cannot set memory limit: container could not join or create cgroup/,
        },
      ]
      for (const k of cases) {
        if (k.what.includes('subuid') && !NEWUIDMAP) continue
        const want = bin === RUNT ? k.runt : k.runc
        if (!want) continue
        const b = rootlessBundle(t, u, ['true'], k.edit)
        const r = asUser(u, bin, ['run', id(bin, 'bad')], { cwd: b.dir, ...(k.env ? { env: k.env } : {}) })
        t.not(r.status, 0, `${k.what}: refused`)
        t.match(r.stderr, want, `${k.what}: says why`)
        if (bin === RUNT) t.notMatch(r.stderr, /\n\s+at /, `${k.what}: no stack trace`)
        const left = fs.existsSync(stateRoot(u, bin)) ? fs.readdirSync(stateRoot(u, bin)) : []
        t.same(left, [], `${k.what}: no state left`)
      }
    })
  }
})

// Containers with the small limits Kubernetes gives most pods start and run: a cpu quota of
// 1 ms per 100 ms (cpu: 10m), a 6 MiB memory limit (Docker's minimum) and less, pids.limit 1.
// The init is moved into its cgroup only for the container's part (process/init.ts
// cgroupEntry), so only what it does for the container counts against the limits. How long
// they take is scripts/bench's business (its "small limits" lines), not an assertion here.
// The cpu limits are applied once the init has built the container, as runc does, and before
// the prestart hooks, which see them.

import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { makeBundle, priv, Runt } from '../fixtures/runt.js'
import { parseHost } from '../../src/cgroups/host.js'

const host = parseHost(fs.readFileSync('/proc/self/mountinfo', 'utf8'), fs.readFileSync('/proc/self/cgroup', 'utf8'))
const cpuMount = host.v1.find((h) => h.controllers.includes('cpu'))?.mountPoint

const cases: [string, NonNullable<NonNullable<import('../../src/spec/schema.js').Spec['linux']>['resources']>][] = [
  ['cpu quota 1000/100000', { cpu: { quota: 1000, period: 100000 } }],
  ['memory limit 6 MiB', { memory: { limit: 6 << 20 } }],
  // Below Docker's minimum, and what runc 1.1.5 runs here too (2 MiB fails under runc with
  // "unable to set memory limit"). Run four times: with the init's own start-up charged to the
  // container (the build before it was moved in once booted) half of such runs were
  // OOM-killed on this host under load (6 of 12), and none since (12 of 12, same load).
  ['memory limit 3 MiB', { memory: { limit: 3 << 20 } }],
  ['pids limit 1', { pids: { limit: 1 } }],
]

for (const [name, resources] of cases) {
  t.test(`run with ${name}`, priv(), async (t) => {
    const runt = new Runt(t)
    const b = makeBundle(t, ['echo', 'ran'], (c) => {
      c.linux!.resources = { ...c.linux!.resources, ...resources }
    })
    for (let i = 0; i < (name === 'memory limit 3 MiB' ? 4 : 1); i++) {
      const r = runt.run(['run', '--bundle', b.dir, runt.id()], { timeout: 60_000 })
      t.equal(r.status, 0, r.stderr)
      t.equal(r.stdout, 'ran\n')
    }
  })
}

const hookOpts = cpuMount ? priv() : { skip: 'needs the v1 cpu controller (the v2 path is unit-tested)' }
t.test('a prestart hook sees the cpu quota in place', hookOpts, async (t) => {
  const runt = new Runt(t)
  const id = runt.id()
  const cg = `/runt-small-${process.pid}`
  const out = path.join(runt.root, 'quota-seen')
  const b = makeBundle(t, ['true'], (c) => {
    c.linux!.cgroupsPath = cg
    c.linux!.resources = { ...c.linux!.resources, cpu: { quota: 1000, period: 100000 } }
    c.hooks = { prestart: [{ path: '/bin/sh', args: ['sh', '-c', `cat ${cpuMount}${cg}/cpu.cfs_quota_us > ${out}`] }] }
  })
  const r = runt.run(['run', '--bundle', b.dir, id], { timeout: 60_000 })
  t.equal(r.status, 0, r.stderr)
  t.equal(fs.readFileSync(out, 'utf8').trim(), '1000')
})

// The init builds the root outside the container's cgroup and is moved in before its first
// cgroup mount, any hook, or (without either) its credentials switch: a config without a
// cgroup mount takes the later paths. The hook and `created` must see it in the cgroup.
const cgroupOpts = cpuMount ? priv() : { skip: 'needs the v1 cpu controller (the v2 path is unit-tested)' }
for (const hook of [true, false]) {
  t.test(`no cgroup mount${hook ? ', a prestart hook' : ''}: the init is in its cgroup`, cgroupOpts, async (t) => {
    const runt = new Runt(t)
    const id = runt.id()
    const cg = `/runt-late-${process.pid}-${hook ? 'h' : 'n'}`
    const out = path.join(runt.root, 'cgroup-seen')
    const b = makeBundle(t, ['sleep', '60'], (c) => {
      c.linux!.cgroupsPath = cg
      c.mounts = c.mounts!.filter((m) => m.type !== 'cgroup' && m.type !== 'cgroup2')
      if (!c.linux!.namespaces!.some((n) => n.type === 'cgroup')) c.linux!.namespaces!.push({ type: 'cgroup' })
      if (hook) {
        const script = `pid=$(sed -n 's/.*"pid": *\\([0-9]*\\).*/\\1/p'); cat /proc/$pid/cgroup > ${out}`
        c.hooks = { prestart: [{ path: '/bin/sh', args: ['sh', '-c', script] }] }
      }
    })
    const r = runt.run(['create', '--bundle', b.dir, id])
    t.equal(r.status, 0, r.stderr)
    const pid = JSON.parse(runt.run(['state', id]).stdout).pid as number
    const cpuLine = (text: string) => text.split('\n').find((l) => /^\d+:[^:]*\bcpu\b/.test(l))
    t.match(cpuLine(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8')), new RegExp(`:${cg}$`), 'created: in the cgroup')
    if (hook) t.match(cpuLine(fs.readFileSync(out, 'utf8')), new RegExp(`:${cg}$`), 'prestart: in the cgroup')
    // The container's cgroup is the root of its cgroup namespace.
    const inside = runt.run(['exec', id, 'cat', '/proc/self/cgroup'])
    t.equal(inside.status, 0, inside.stderr)
    t.match(cpuLine(inside.stdout), /:\/$/, 'cgroup namespace rooted at the container cgroup')
    t.equal(runt.run(['delete', '--force', id]).status, 0)
  })
}

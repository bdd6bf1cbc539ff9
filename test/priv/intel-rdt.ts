// linux.intelRdt against the host's resctrl. Where none is mounted (this project's hosts), any
// intelRdt is refused at create, as runc 1.4 does, with nothing left behind: no state, no
// cgroup, no process. Where resctrl is mounted, the container's own group is made with the
// init in it and removed on delete (not run on a host without resctrl).

import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { makeBundle, priv, Runt } from '../fixtures/runt.js'
import { probeHost } from '../../src/cgroups/host.js'
import { probeResctrl } from '../../src/cgroups/intelrdt.js'
import type { Spec } from '../../src/spec/schema.js'

const resctrl = probeResctrl()
const unless = (skip: string | false) => ({ ...priv(), skip: priv().skip ?? skip })
const host = priv().skip ? null : probeHost()

let n = 0
const cgPath = () => `/runt-rdt-test-${process.pid}-${n++}`
/** Every hierarchy directory of `cg` that exists. */
const dirsOf = (cg: string) =>
  [...(host?.v1.map((h) => h.mountPoint) ?? []), ...(host?.unified ? [host.unified.mountPoint] : [])]
    .map((mp) => path.join(mp, cg))
    .filter((d) => fs.existsSync(d))

const REFUSAL =
  'linux.intelRdt: intelRdt is specified in config, but Intel RDT is not enabled: no resctrl file system is mounted (see /proc/self/mountinfo)'

t.test(
  'without resctrl, any intelRdt is refused at create and nothing is left',
  unless(resctrl !== null && 'resctrl is mounted here'),
  async (t) => {
    const cases: [string, NonNullable<Spec['linux']>['intelRdt']][] = [
      ['a closID alone (runc 1.1 ignored it; 1.4 refuses)', { closID: 'runt-test' }],
      ['an empty intelRdt', {}],
      ['schemata', { l3CacheSchema: 'L3:0=f', schemata: ['MB:0=20'] }],
      ['monitoring', { enableMonitoring: true }],
    ]
    for (const [name, intelRdt] of cases) {
      const runt = new Runt(t)
      const cg = cgPath()
      const b = makeBundle(t, ['true'], (c) => {
        c.linux!.cgroupsPath = cg
        c.linux!.intelRdt = intelRdt
      })
      const id = runt.id()
      for (const verb of ['create', 'run']) {
        const r = runt.run([verb, '--bundle', b.dir, id])
        t.equal(r.status, 1, `${verb}, ${name}: fails`)
        t.match(r.stderr, REFUSAL, `${verb}, ${name}: names linux.intelRdt`)
        t.notMatch(r.stderr, /\n\s+at /, 'no stack trace')
        t.notOk(fs.existsSync(path.join(runt.root, id)), 'no state directory')
        t.same(dirsOf(cg), [], 'no cgroup (and so no process in one)')
        t.match(runt.run(['state', id]).stderr, 'container does not exist')
      }
    }
  },
)

t.test(
  'update --l3-cache-schema / --mem-bw-schema without resctrl: runc texts',
  unless(resctrl !== null && 'resctrl is mounted here'),
  async (t) => {
    const runt = new Runt(t)
    const b = makeBundle(t, ['sleep', '1000'])
    const id = runt.id()
    runt.ok(['create', '--bundle', b.dir, id])
    t.match(runt.run(['update', '--l3-cache-schema', 'L3:0=f', id]).stderr, 'Intel RDT/CAT: l3 cache schema is not enabled')
    t.match(
      runt.run(['update', '--mem-bw-schema', 'MB:0=20', id]).stderr,
      'Intel RDT/MBA: memory bandwidth schema is not enabled',
    )
    runt.ok(['delete', '--force', id])
  },
)

t.test(
  'with resctrl: the own group holds the init and goes with delete',
  unless(resctrl === null && 'no resctrl file system is mounted here'),
  async (t) => {
    const runt = new Runt(t)
    const b = makeBundle(t, ['sleep', '1000'], (c) => (c.linux!.intelRdt = { enableMonitoring: true }))
    const id = runt.id()
    runt.ok(['create', '--bundle', b.dir, id])
    const pid = runt.state(id).pid
    const group = path.join(resctrl!, id)
    t.ok(fs.readFileSync(path.join(group, 'tasks'), 'utf8').split('\n').includes(String(pid)), 'the init is in the group')
    t.ok(
      fs
        .readFileSync(path.join(group, 'mon_groups', id, 'tasks'), 'utf8')
        .split('\n')
        .includes(String(pid)),
      'and in its MON group',
    )
    runt.ok(['delete', '--force', id])
    t.notOk(fs.existsSync(group), 'removed with the container')
  },
)

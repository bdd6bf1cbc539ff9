import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { spawn } from 'node:child_process'
import { cgroupPids, destroyCgroups, signalAll } from '../../../src/cgroups/lifecycle.js'
import type { ContainerRecord } from '../../../src/state/store.js'

const rec = (cgroupPaths: Record<string, string>, owned = true): ContainerRecord => ({
  ociVersion: '1.3.0',
  id: 'c',
  pid: 0,
  pidStartTime: '0',
  bundle: '/b',
  rootfs: '/b/rootfs',
  created: '',
  config: {},
  namespacePaths: {},
  cgroupPaths,
  cgroupOwned: owned,
})

t.test('signalAll signals every pid in the cgroup, freezing around it', async (t) => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' })
  const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, s) => r(s)))
  const dir = t.testdir({ 'cgroup.procs': `${child.pid}\n`, 'cgroup.freeze': '0' })
  const r = rec({ '': dir })
  t.same(cgroupPids(r), [child.pid])
  signalAll(r, 15)
  t.equal(await exited, 'SIGTERM')
  t.equal(fs.readFileSync(path.join(dir, 'cgroup.freeze'), 'utf8'), '0', 'thawed again')
})

t.test('a paused container stays paused, except after SIGKILL', async (t) => {
  const dir = t.testdir({ 'cgroup.procs': '', 'cgroup.freeze': '1', 'cgroup.events': 'frozen 1\n' })
  signalAll(rec({ '': dir }), 10)
  t.equal(fs.readFileSync(path.join(dir, 'cgroup.freeze'), 'utf8'), '1')
  signalAll(rec({ '': dir }), 9)
  t.equal(fs.readFileSync(path.join(dir, 'cgroup.freeze'), 'utf8'), '0')
})

t.test('without a cgroup: nothing to do', async (t) => {
  signalAll(rec({}), 0)
  t.same(cgroupPids(rec({})), [])
  destroyCgroups(rec({}))
  t.pass()
})

t.test('destroyCgroups removes only what runt created', async (t) => {
  const root = t.testdir({ mine: {}, theirs: {} })
  destroyCgroups(rec({ '': path.join(root, 'theirs') }, false))
  t.ok(fs.existsSync(path.join(root, 'theirs')))
  destroyCgroups(rec({ '': path.join(root, 'mine') }, true))
  t.notOk(fs.existsSync(path.join(root, 'mine')))
})

t.test('destroyCgroups removes the resctrl MON group, and the group only if runt owns it', async (t) => {
  // Empty directories stand for the groups (rmdir(2) on a temp dir); a MON group gone already is fine.
  const root = t.testdir({ own: {}, gold: { mon_groups: { c: {} } } })
  const own = { root, path: path.join(root, 'own'), owned: true, written: true, monPath: path.join(root, 'own/mon_groups/c') }
  destroyCgroups({ ...rec({}), intelRdt: own })
  t.notOk(fs.existsSync(own.path), 'no cgroup recorded: the resctrl group goes all the same')
  const gold = {
    root,
    path: path.join(root, 'gold'),
    owned: false,
    written: false,
    monPath: path.join(root, 'gold/mon_groups/c'),
  }
  destroyCgroups({ ...rec({}), intelRdt: gold })
  t.notOk(fs.existsSync(gold.monPath), 'the MON group goes')
  t.ok(fs.existsSync(gold.path), 'a closID group stays')
})

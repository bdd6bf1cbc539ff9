// Cgroups on real containers (this machine: cgroup v1, hybrid): limits in the host's files and
// the init in cgroup.procs, pause/resume, ps, events, update, kill --all, delete, and failures
// that leave nothing behind. Skips with the reason where the host cannot run them.

import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { makeBundle, priv, Runt, tempDir, waitFor } from '../fixtures/runt.js'
import { parseHost } from '../../src/cgroups/host.js'

const host = fs.existsSync('/proc/self/mountinfo')
  ? parseHost(fs.readFileSync('/proc/self/mountinfo', 'utf8'), fs.readFileSync('/proc/self/cgroup', 'utf8'))
  : null

/** Where a controller's hierarchy is mounted on the host, if it is (v1). */
const mountOf = (ctrl: string) => host?.v1.find((h) => h.controllers.includes(ctrl))?.mountPoint

function v1(): { skip?: string } {
  const p = priv()
  if (p.skip) return p
  if (host?.mode !== 'v1' && host?.mode !== 'hybrid') return { skip: `needs cgroup v1 controllers (host mode: ${host?.mode})` }
  for (const c of ['memory', 'pids', 'cpu', 'freezer', 'devices'])
    if (!mountOf(c)) return { skip: `needs the v1 ${c} controller mounted` }
  return {}
}

let n = 0
const cgPath = () => `/runt-test-${process.pid}-${n++}`
const read = (ctrl: string, cg: string, file: string) => fs.readFileSync(path.join(mountOf(ctrl)!, cg, file), 'utf8').trim()
/** Every hierarchy directory of `cg` that exists. */
const dirsOf = (cg: string) =>
  [...(host?.v1.map((h) => h.mountPoint) ?? []), ...(host?.unified ? [host.unified.mountPoint] : [])]
    .map((mp) => path.join(mp, cg))
    .filter((d) => fs.existsSync(d))

t.test('limits, pause/resume, ps, events, update, kill --all, delete', v1(), async (t) => {
  const runt = new Runt(t)
  const cg = cgPath()
  const b = makeBundle(t, ['sh', '-c', 'sleep 1000 & sleep 1001; true'], (c) => {
    c.linux!.cgroupsPath = cg
    c.linux!.resources = {
      ...c.linux!.resources,
      memory: { limit: 256 << 20 },
      pids: { limit: 100 },
      cpu: { shares: 512, quota: 50000, period: 100000 },
    }
  })
  const id = runt.id()
  runt.ok(['create', '--bundle', b.dir, id])
  const pid = runt.state(id).pid
  t.equal(read('memory', cg, 'memory.limit_in_bytes'), String(256 << 20), 'memory limit')
  t.equal(read('pids', cg, 'pids.max'), '100', 'pids limit')
  t.equal(read('cpu', cg, 'cpu.shares'), '512', 'cpu shares')
  t.equal(read('cpu', cg, 'cpu.cfs_quota_us'), '50000', 'cpu quota')
  t.equal(read('cpu', cg, 'cpu.cfs_period_us'), '100000', 'cpu period')
  for (const c of ['memory', 'pids', 'cpu', 'freezer', 'devices'])
    t.match(read(c, cg, 'cgroup.procs').split('\n'), [String(pid)], `init in ${c}/cgroup.procs before start`)
  t.match(read('devices', cg, 'devices.list'), /^c 1:3 rwm$/m, 'device allow-list')
  t.notMatch(read('devices', cg, 'devices.list'), /^a /m, 'not allow-all')

  runt.ok(['start', id])
  t.ok(await waitFor(() => read('pids', cg, 'cgroup.procs').split('\n').length === 3), 'three processes')

  runt.ok(['pause', id])
  t.equal(runt.state(id).status, 'paused')
  t.equal(read('freezer', cg, 'freezer.state'), 'FROZEN')
  const again = runt.run(['pause', id])
  t.equal(again.status, 1)
  t.match(again.stderr, 'container not running')
  runt.ok(['resume', id])
  t.equal(runt.state(id).status, 'running')
  t.equal(read('freezer', cg, 'freezer.state'), 'THAWED')
  t.match(runt.run(['resume', id]).stderr, 'container not paused')

  const pids = JSON.parse(runt.ok(['ps', '--format', 'json', id]).stdout) as number[]
  t.equal(pids.length, 3, 'ps --format json lists the three pids')
  t.ok(pids.includes(pid))
  const table = runt.ok(['ps', id, '-o', 'pid,args']).stdout.trim().split('\n')
  t.match(table[0], /PID/)
  t.equal(table.length, 4, 'header and three processes')
  t.match(table.join('\n'), /sleep 1001/)

  const ev = JSON.parse(runt.ok(['events', '--stats', id]).stdout)
  t.equal(ev.type, 'stats')
  t.equal(ev.id, id)
  t.ok(ev.data.memory.usage.usage > 0, 'memory usage')
  t.equal(ev.data.memory.usage.limit, 256 << 20)
  t.same(ev.data.pids, { current: 3, limit: 100 }, 'pids usage and limit')
  t.ok(ev.data.cpu.usage.total > 0, 'cpu usage')

  const stream = runt.spawn(['events', '--interval', '200ms', id])
  let out = ''
  stream.stdout.on('data', (d) => (out += d))
  await waitFor(() => out.split('\n').filter(Boolean).length >= 2, 5000)
  stream.kill('SIGTERM')
  t.ok(out.split('\n').filter(Boolean).length >= 2, 'a stream of stats events')
  t.equal(JSON.parse(out.split('\n')[0]!).type, 'stats')

  runt.ok(['update', '--resources', '-', id], {
    input: '{"memory":{"limit":134217728},"pids":{"limit":50},"cpu":{"quota":20000}}',
  })
  t.equal(read('memory', cg, 'memory.limit_in_bytes'), '134217728', 'update -r: memory')
  t.equal(read('pids', cg, 'pids.max'), '50', 'update -r: pids')
  t.equal(read('cpu', cg, 'cpu.cfs_quota_us'), '20000', 'update -r: quota (period kept)')
  t.equal(read('cpu', cg, 'cpu.cfs_period_us'), '100000')
  runt.ok(['update', '--memory', '200m', '--pids-limit', '60', '--cpu-share', '256', id])
  t.equal(read('memory', cg, 'memory.limit_in_bytes'), String(200 << 20), 'update --memory')
  t.equal(read('pids', cg, 'pids.max'), '60')
  t.equal(read('cpu', cg, 'cpu.shares'), '256')
  const bad = runt.run(['update', '--memory', '1', id])
  t.equal(bad.status, 1)
  t.match(bad.stderr, 'linux.resources.memory.limit: unable to set memory limit to 1')
  const usage = runt.run(['update', id])
  t.equal(usage.status, 1)
  t.match(usage.stderr, 'requires --resources or at least one resource option')

  runt.ok(['kill', '--all', id, 'KILL'])
  t.ok(await waitFor(() => runt.state(id).status === 'stopped'), 'stopped')
  t.ok(await waitFor(() => read('pids', cg, 'cgroup.procs') === ''), 'no process left in the cgroup')
  runt.ok(['delete', id])
  t.same(dirsOf(cg), [], 'no cgroup directory left in any hierarchy')
})

t.test('delete --force of a paused container; the default cgroup path', v1(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['sleep', '1000'])
  const id = runt.id()
  runt.ok(['run', '-d', '--bundle', b.dir, id])
  const cg = `/runt/${id}`
  t.equal(dirsOf(cg).length > 0, true, 'default: /runt/<id>')
  runt.ok(['pause', id])
  runt.ok(['delete', '--force', id])
  t.same(dirsOf(cg), [])
})

t.test('devices: deny all, then the allow-list', v1(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(
    t,
    ['sh', '-c', 'head -c 1 /dev/zero | wc -c; mknod /tmp/sda b 8 0 && head -c 1 /tmp/sda; echo rc=$?'],
    (c) => {
      c.linux!.cgroupsPath = cgPath()
      c.process!.capabilities = { bounding: ['CAP_MKNOD'], effective: ['CAP_MKNOD'], permitted: ['CAP_MKNOD'] }
    },
  )
  const r = runt.run(['run', '--bundle', b.dir, runt.id()])
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /^1$/m, '/dev/zero is allowed')
  t.match(r.stdout, /rc=1/, 'a block device made with mknod cannot be opened')
  t.match(r.stderr, /Operation not permitted/)
})

t.test('the memory, blkio and cpu fields no other test sets reach their v1 files', v1(), async (t) => {
  const runt = new Runt(t)
  const cg = cgPath()
  const vda = fs.existsSync('/sys/block/vda/dev') ? fs.readFileSync('/sys/block/vda/dev', 'utf8').trim() : null
  const [major, minor] = (vda ?? '0:0').split(':').map(Number) as [number, number]
  const b = makeBundle(t, ['true'], (c) => {
    c.linux!.cgroupsPath = cg
    c.linux!.resources = {
      memory: { limit: 64 << 20, swappiness: 7, disableOOMKiller: true, useHierarchy: true },
      cpu: { idle: 0, ...(fs.existsSync(path.join(mountOf('cpu')!, 'cpu.cfs_burst_us')) ? { burst: 1000 } : {}), quota: 50000 },
      ...(vda && mountOf('blkio') ? { blockIO: { throttleReadBpsDevice: [{ major, minor, rate: 1 << 20 }] } } : {}),
    }
  })
  const id = runt.id()
  runt.ok(['create', '--bundle', b.dir, id])
  t.equal(read('memory', cg, 'memory.swappiness'), '7')
  t.match(read('memory', cg, 'memory.oom_control'), /^oom_kill_disable 1$/m)
  t.equal(read('memory', cg, 'memory.use_hierarchy'), '1')
  t.equal(read('cpu', cg, 'cpu.idle'), '0')
  if (b.config.linux!.resources!.cpu!.burst !== undefined) t.equal(read('cpu', cg, 'cpu.cfs_burst_us'), '1000')
  if (vda && mountOf('blkio')) t.equal(read('blkio', cg, 'blkio.throttle.read_bps_device'), `${vda} ${1 << 20}`)
  runt.ok(['delete', '--force', id])

  // Linux >= 5.11 has only hierarchical memory accounting: false is refused, naming the field.
  b.config.linux!.resources = { memory: { useHierarchy: false } }
  b.write()
  const r = runt.run(['create', '--bundle', b.dir, id])
  t.equal(r.status, 1)
  t.match(r.stderr, 'linux.resources.memory.useHierarchy: this kernel does not allow non-hierarchical memory accounting')
  t.same(dirsOf(cg), [], 'nothing left behind')
})

t.test('a failed create leaves no cgroup behind', v1(), async (t) => {
  const runt = new Runt(t)
  const cg = cgPath()
  const b = makeBundle(t, ['true'], (c) => {
    c.linux!.cgroupsPath = cg + '/nested'
    c.linux!.resources = { memory: { limit: 64 << 20 }, unified: { 'memory.high': '1' } }
  })
  const id = runt.id()
  const r = runt.run(['create', '--bundle', b.dir, id])
  t.equal(r.status, 1)
  t.match(r.stderr, 'linux.resources.unified: cannot use unified on cgroup v1')
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace')
  t.same(dirsOf(cg), [], 'nothing in any hierarchy, parents included')
  t.match(runt.run(['state', id]).stderr, 'container does not exist')

  b.config.linux!.resources = { pids: { limit: 10 }, cpu: { shares: 100, realtimeRuntime: 1 << 30, realtimePeriod: 1000 } }
  b.write()
  const rt = runt.run(['create', '--bundle', b.dir, id])
  t.equal(rt.status, 1)
  t.match(rt.stderr, /linux.resources.cpu.realtime(Period|Runtime): write/)
  t.same(dirsOf(cg), [])
})

t.test('a create that fails in the init leaves no cgroup behind', v1(), async (t) => {
  const runt = new Runt(t)
  const cg = cgPath()
  const b = makeBundle(t, ['true'], (c) => {
    c.linux!.cgroupsPath = cg
    c.mounts!.push({ destination: '/data', type: 'bind', source: '/nonexistent-runt-test', options: ['bind'] })
  })
  const id = runt.id()
  const r = runt.run(['create', '--bundle', b.dir, id])
  t.equal(r.status, 1)
  t.match(r.stderr, 'nonexistent-runt-test')
  t.same(dirsOf(cg), [])
})

t.test('delete --force undoes a create killed halfway: its cgroup and its init', v1(), async (t) => {
  const runt = new Runt(t)
  const cg = cgPath()
  const hookPid = path.join(tempDir(t), 'hook.pid')
  t.teardown(() => {
    try {
      process.kill(Number(fs.readFileSync(hookPid, 'utf8')), 'SIGKILL')
    } catch {
      /* gone */
    }
  })
  // Killed while a prestart hook runs: after the cgroup step, before state.json.
  const b = makeBundle(t, ['sleep', '1000'], (c) => {
    c.linux!.cgroupsPath = cg
    c.hooks = { prestart: [{ path: '/bin/sh', args: ['sh', '-c', `echo $$ > ${hookPid}; exec sleep 60`] }] }
  })
  const id = runt.id()
  const create = runt.spawn(['create', '--bundle', b.dir, id])
  const exited = new Promise((r) => create.on('exit', r))
  t.ok(await waitFor(() => fs.existsSync(hookPid) && fs.readFileSync(hookPid, 'utf8').trim() !== '', 20_000), 'the hook runs')
  create.kill('SIGKILL')
  await exited
  t.notSame(dirsOf(cg), [], 'the killed create left its cgroup')
  t.ok(fs.existsSync(path.join(runt.root, id)), 'and its state directory')
  t.match(runt.run(['state', id]).stderr, 'container does not exist', 'which is no container')
  const r = runt.run(['delete', '--force', id])
  t.equal(r.status, 0, r.stderr)
  t.same(dirsOf(cg), [], 'delete --force removed the cgroup')
  t.notOk(fs.existsSync(path.join(runt.root, id)), 'and the directory')

  // Killed after the init said ready but before state.json: the init waits for a start that
  // never comes. (Made by hand: the record of a created container under the name a create
  // in progress gives it.)
  b.config.hooks = {}
  b.write()
  const id2 = runt.id()
  runt.ok(['create', '--bundle', b.dir, id2])
  const pid = runt.state(id2).pid
  fs.renameSync(path.join(runt.root, id2, 'state.json'), path.join(runt.root, id2, 'creating.json'))
  t.match(runt.run(['delete', id2]).stderr, 'container does not exist', 'plain delete: no such container')
  t.ok(fs.existsSync(`/proc/${pid}`), 'the init is still there')
  const r2 = runt.run(['delete', '--force', id2])
  t.equal(r2.status, 0, r2.stderr)
  t.ok(await waitFor(() => !fs.existsSync(`/proc/${pid}`) || /^State:\s+Z/m.test(readStatus(pid)), 5000), 'the init was killed')
  t.same(dirsOf(cg), [], 'its cgroup removed')
  t.notOk(fs.existsSync(path.join(runt.root, id2)), 'its directory removed')
})

function readStatus(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return ''
  }
}

t.test('an existing cgroup with processes is refused', v1(), async (t) => {
  const runt = new Runt(t)
  const cg = cgPath()
  const b = makeBundle(t, ['sleep', '1000'], (c) => (c.linux!.cgroupsPath = cg))
  const first = runt.id()
  runt.ok(['run', '-d', '--bundle', b.dir, first])
  const second = runt.id()
  const r = runt.run(['create', '--bundle', b.dir, second])
  t.equal(r.status, 1)
  t.match(r.stderr, "container's cgroup is not empty: 1 process(es) found")
  runt.ok(['delete', '--force', first])
  t.same(dirsOf(cg), [])
})

const systemd = fs.existsSync('/run/systemd/system')

t.test(
  '--systemd-cgroup: the init runs in a transient scope, stopped at delete',
  { ...priv(), ...(systemd ? {} : { skip: 'systemd is not the init system here' }) },
  async (t) => {
    const runt = new Runt(t)
    const id = runt.id()
    const b = makeBundle(t, ['sleep', '100'], (c) => (c.linux!.cgroupsPath = `system.slice:runt-test:${id}`))
    runt.ok(['--systemd-cgroup', 'run', '-d', '--bundle', b.dir, id])
    const pid = runt.state(id).pid
    t.match(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'), `/system.slice/runt-test-${id}.scope`)
    runt.ok(['delete', '--force', id])
    const show = spawnSync('systemctl', ['is-active', `runt-test-${id}.scope`], { encoding: 'utf8' })
    t.not(show.stdout.trim(), 'active', 'the scope is gone')
  },
)

t.test('--systemd-cgroup without systemd', { ...priv(), ...(systemd ? { skip: 'systemd is running here' } : {}) }, async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['true'], (c) => (c.linux!.cgroupsPath = 'system.slice:runt-test:x'))
  const id = runt.id()
  const r = runt.run(['--systemd-cgroup', 'create', '--bundle', b.dir, id])
  t.equal(r.status, 1)
  t.match(r.stderr, 'systemd is not running on this host')
  t.same(dirsOf('/system.slice/runt-test-x.scope'), [])
  t.match(runt.run(['state', id]).stderr, 'container does not exist')
})

t.test('OOM kills are reported by events', v1(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['sh', '-c', 'sleep 1; dd if=/dev/zero of=/dev/null bs=300M count=1; sleep 1000'], (c) => {
    c.linux!.cgroupsPath = cgPath()
    c.linux!.resources = { ...c.linux!.resources, memory: { limit: 128 << 20, swap: 128 << 20 } }
  })
  const id = runt.id()
  runt.ok(['run', '-d', '--bundle', b.dir, id])
  const stream = runt.spawn(['events', '--interval', '10s', id])
  let out = ''
  stream.stdout.on('data', (d) => (out += d))
  const seen = await waitFor(() => out.includes('"type":"oom"'), 8000)
  stream.kill('SIGTERM')
  t.ok(seen, 'an oom event')
  t.match(out, `{"type":"oom","id":"${id}"}`)
  runt.ok(['delete', '--force', id])
})

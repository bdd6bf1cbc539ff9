// linux.netDevices (runtime-spec 1.3): host devices moved into the container's network
// namespace with their MAC and permanent global addresses, renamed by `name` (a `%d` template
// picked by the kernel), set up; refusals that leave every device where it was; what happens
// to a device when the container goes. veth pairs made here with `ip` (this kernel has no
// dummy driver); runt itself never runs `ip`. runc 1.1.5 has no netDevices (it ignores the
// field), so there is nothing to compare with it; runc 1.4 moves them as runt does.

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { spawn, spawnSync } from 'node:child_process'
import { makeBundle, priv, Runt, waitFor } from '../fixtures/runt.js'

function ip(...args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

const vethSkip = (() => {
  if (priv().skip) return priv()
  const probe = `nd${process.pid}z`
  const r = spawnSync('ip', ['link', 'add', probe, 'type', 'veth', 'peer', 'name', `${probe}p`], { encoding: 'utf8' })
  if (r.status !== 0) return { skip: `needs veth: ${r.stderr.trim()}` }
  spawnSync('ip', ['link', 'del', probe])
  return {}
})()

// Unique per test file process (other files and helpers run at the same time) and short:
// interface names have 15 bytes at most.
let made = 0
const pid = process.pid

type Veth = { name: string; peer: string; mac: string; v4: string; v6: string }

/** A veth pair on the host, `name` with a fixed MAC and, if asked, addresses and up. */
function veth(t: Test, o: { up?: boolean; addrs?: boolean } = {}): Veth {
  const n = made++
  const name = `nd${pid}${String.fromCharCode(97 + n)}`
  const peer = `${name}p`
  const mac = `02:5e:${((pid >> 16) & 0xff).toString(16).padStart(2, '0')}:${((pid >> 8) & 0xff).toString(16).padStart(2, '0')}:${(pid & 0xff).toString(16).padStart(2, '0')}:${n.toString(16).padStart(2, '0')}`
  // 198.18.0.0/15 is for benchmarking: never routed anywhere.
  const v4 = `198.18.${pid % 250}.${n + 1}/24`
  const v6 = `fd00:5ee:${pid.toString(16)}::${n + 1}/64`
  ip('link', 'add', name, 'address', mac, 'type', 'veth', 'peer', 'name', peer)
  t.teardown(() => {
    spawnSync('ip', ['link', 'del', name])
    spawnSync('ip', ['link', 'del', peer])
  })
  if (o.addrs) {
    ip('addr', 'add', v4, 'dev', name)
    ip('addr', 'add', v6, 'dev', name, 'nodad')
  }
  if (o.up) ip('link', 'set', name, 'up')
  return { name, peer, mac, v4, v6 }
}

const onHost = (name: string) => fs.existsSync(`/sys/class/net/${name}`)
const isUp = (flags: string) => (Number(flags.trim()) & 1) === 1

t.test('moved in: MAC kept, permanent global addresses re-added, renamed, up', vethSkip, async (t) => {
  const a = veth(t, { up: true, addrs: true })
  const b = veth(t) // down, no addresses, no new name
  const runt = new Runt(t)
  const bundle = makeBundle(t, ['sleep', '1000'], (c) => {
    c.linux!.netDevices = { [a.name]: { name: 'eth9' }, [b.name]: {} }
  })
  const id = runt.id()
  runt.ok(['run', '-d', '--bundle', bundle.dir, id])
  t.notOk(onHost(a.name), 'the host no longer sees it')
  t.notOk(onHost(b.name), 'nor the other one')
  t.ok(onHost(a.peer), "the veth's peer stays on the host")
  const r = runt.ok([
    'exec',
    id,
    'sh',
    '-c',
    `cat /sys/class/net/eth9/address /sys/class/net/eth9/flags /sys/class/net/${b.name}/flags; ip -o addr show dev eth9`,
  ])
  const [mac, flagsA, flagsB, ...addrs] = r.stdout.trim().split('\n')
  t.equal(mac, a.mac, "the host side's MAC")
  t.ok(isUp(flagsA!), `up, as on the host (flags ${flagsA})`)
  t.ok(isUp(flagsB!), `up though it was down on the host: the spec says MUST set up (flags ${flagsB})`)
  const text = addrs.join('\n')
  t.match(text, `inet ${a.v4} `, 'its IPv4 address')
  t.match(text, `inet6 ${a.v6} `, 'its IPv6 address')
})

t.test('a %d template: the kernel picks the free names', vethSkip, async (t) => {
  const a = veth(t)
  const b = veth(t)
  const runt = new Runt(t)
  const bundle = makeBundle(t, ['sh', '-c', 'cat /sys/class/net/ctr0/address /sys/class/net/ctr1/address'], (c) => {
    c.linux!.netDevices = { [a.name]: { name: 'ctr%d' }, [b.name]: { name: 'ctr%d' } }
  })
  const r = runt.run(['run', '--bundle', bundle.dir, runt.id()])
  t.equal(r.status, 0, r.stderr)
  t.same(r.stdout.trim().split('\n').sort(), [a.mac, b.mac].sort(), 'ctr0 and ctr1 are the two devices')
})

t.test('in a new user namespace too, and there before the prestart and createRuntime hooks', vethSkip, async (t) => {
  const a = veth(t, { addrs: true })
  const runt = new Runt(t)
  const bundle = makeBundle(t, ['sleep', '1000'])
  const hook = path.join(bundle.dir, 'hook.sh')
  // A host program: it looks into the init's network namespace by the pid in the state.
  fs.writeFileSync(
    hook,
    `#!/bin/sh\npid=$(sed -n 's/.*"pid":\\([0-9]*\\).*/\\1/p')\nnsenter --net=/proc/$pid/ns/net ip -o addr show dev eth9 > "$1" 2>&1\n`,
    { mode: 0o755 },
  )
  bundle.config.linux!.namespaces!.push({ type: 'user' })
  bundle.config.linux!.uidMappings = [{ containerID: 0, hostID: 300000, size: 65536 }]
  bundle.config.linux!.gidMappings = [{ containerID: 0, hostID: 300000, size: 65536 }]
  bundle.config.linux!.netDevices = { [a.name]: { name: 'eth9' } }
  bundle.config.hooks = {
    prestart: [{ path: hook, args: ['hook.sh', path.join(bundle.dir, 'prestart.out')] }],
    createRuntime: [{ path: hook, args: ['hook.sh', path.join(bundle.dir, 'createRuntime.out')] }],
  }
  bundle.write()
  const id = runt.id()
  runt.ok(['create', '--bundle', bundle.dir, id])
  for (const h of ['prestart', 'createRuntime'])
    t.match(fs.readFileSync(path.join(bundle.dir, `${h}.out`), 'utf8'), `inet ${a.v4} `, `${h}: eth9 is there, addressed`)
  runt.ok(['start', id])
  const r = runt.ok(['exec', id, 'sh', '-c', 'id -u; cat /sys/class/net/eth9/address'])
  t.same(r.stdout.trim().split('\n'), ['0', a.mac])
})

t.test(
  'delete: nothing is moved back (the spec forbids it); the kernel destroys a veth with the namespace',
  vethSkip,
  async (t) => {
    const runt = new Runt(t)
    // A created container, deleted: its namespace dies with the init.
    const a = veth(t, { up: true, addrs: true })
    const created = makeBundle(t, ['true'], (c) => (c.linux!.netDevices = { [a.name]: { name: 'eth9' } }))
    const id = runt.id()
    runt.ok(['create', '--bundle', created.dir, id])
    t.notOk(onHost(a.name), 'in the container')
    runt.ok(['delete', id])
    t.ok(await waitFor(() => !onHost(a.peer)), 'veth destroyed, peer and all (network namespaces are cleaned up asynchronously)')
    t.notOk(onHost(a.name), 'not back under its name')
    t.notOk(onHost('eth9'), 'nor under the name it had inside')

    // A process that exited: the namespace dies with it, before any delete.
    const b = veth(t)
    const ran = makeBundle(t, ['true'], (c) => (c.linux!.netDevices = { [b.name]: {} }))
    const id2 = runt.id()
    runt.ok(['run', '-d', '--bundle', ran.dir, id2])
    t.ok(await waitFor(() => !onHost(b.peer)), 'gone once the process exited')
    t.equal(runt.state(id2).status, 'stopped')
    runt.ok(['delete', id2])
  },
)

t.test('a network namespace joined by path keeps the device after delete (its owner manages it)', vethSkip, async (t) => {
  const holder = spawn('unshare', ['--net', 'sleep', '60'], { stdio: 'ignore' })
  t.teardown(() => holder.kill('SIGKILL'))
  const ns = `/proc/${holder.pid}/ns/net`
  t.ok(await waitFor(() => fs.existsSync(ns) && fs.readlinkSync(ns) !== fs.readlinkSync('/proc/self/ns/net')))
  const inNs = (...args: string[]) => spawnSync('nsenter', [`--net=${ns}`, 'ip', ...args], { encoding: 'utf8' })
  const a = veth(t, { addrs: true })
  const other = veth(t)
  // A device already there by the name asked: refused before anything moves.
  ip('link', 'set', other.name, 'netns', String(holder.pid))
  const runt = new Runt(t)
  const clash = makeBundle(t, ['true'], (c) => {
    c.linux!.namespaces = c.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: ns } : n))
    c.linux!.netDevices = { [a.name]: { name: other.name } }
  })
  const r = runt.run(['run', '--bundle', clash.dir, runt.id()])
  t.equal(r.status, 1)
  t.match(r.stderr, `a network device named ${other.name} already exists in the container's network namespace`)
  t.ok(onHost(a.name), 'still on the host')

  clash.config.linux!.netDevices = { [a.name]: { name: 'eth9' } }
  clash.write()
  const id = runt.id()
  runt.ok(['run', '-d', '--bundle', clash.dir, id])
  runt.ok(['delete', '--force', id])
  const shown = inNs('-o', 'addr', 'show', 'dev', 'eth9')
  t.equal(shown.status, 0, shown.stderr)
  t.match(shown.stdout, `inet ${a.v4} `, 'still in the joined namespace, addressed, after delete')
  t.notOk(onHost(a.name), 'not moved back to the host')
})

t.test('refusals leave every device on the host as it was, and no state', vethSkip, async (t) => {
  const runt = new Runt(t)
  const a = veth(t, { up: true, addrs: true })
  const before = ip('-o', 'addr', 'show', 'dev', a.name)
  const check = (
    what: string,
    edit: (devs: Record<string, { name?: string }>) => void,
    error: RegExp | string,
    noNet = false,
  ) => {
    const devs: Record<string, { name?: string }> = {}
    edit(devs)
    const b = makeBundle(t, ['true'], (c) => {
      c.linux!.netDevices = devs
      if (noNet) c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'network')
    })
    const id = runt.id()
    const r = runt.run(['run', '--bundle', b.dir, id])
    t.equal(r.status, 1, `${what}: refused`)
    t.match(r.stderr, error, `${what}: says why`)
    t.ok(onHost(a.name), `${what}: ${a.name} still on the host`)
    t.equal(ip('-o', 'addr', 'show', 'dev', a.name), before, `${what}: with its addresses`)
    t.ok(isUp(fs.readFileSync(`/sys/class/net/${a.name}/flags`, 'utf8')), `${what}: and up`)
    t.same(runt.leftovers(), [], `${what}: no state directory`)
  }
  const missing = `nd${pid}none`
  check(
    'a device the host does not have',
    (d) => {
      d[a.name] = { name: 'eth9' }
      d[missing] = {}
    },
    `linux.netDevices.${missing}: netlink RTM_GETLINK ${missing}: no such device`,
  )
  check(
    'a name taken in the container',
    (d) => (d[a.name] = { name: 'lo' }),
    `linux.netDevices.${a.name}.name: a network device named lo already exists in the container's network namespace`,
  )
  check(
    'no private network namespace',
    (d) => (d[a.name] = {}),
    'linux.netDevices: unable to move network devices without a private network namespace',
    true,
  )
  check('an invalid name', (d) => (d[a.name] = { name: 'a/b' }), `linux.netDevices.${a.name}.name: invalid network device name`)

  // A failure after the move (a prestart hook): moved back, under its name, addressed, up.
  const b = makeBundle(t, ['true'], (c) => {
    c.linux!.netDevices = { [a.name]: { name: 'eth9' } }
    c.hooks = { prestart: [{ path: '/bin/false' }] }
  })
  const r = runt.run(['run', '--bundle', b.dir, runt.id()])
  t.equal(r.status, 1)
  t.match(r.stderr, 'error running prestart hook #0 (/bin/false): exit status 1')
  t.ok(onHost(a.name), 'moved back to the host under its own name')
  t.equal(ip('-o', 'addr', 'show', 'dev', a.name), before, 'with its addresses')
  t.ok(isUp(fs.readFileSync(`/sys/class/net/${a.name}/flags`, 'utf8')), 'up again')
  t.same(runt.leftovers(), [])
})

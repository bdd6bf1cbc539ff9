// The device rule lists of test/fixtures/device-rules.ts (docker, containerd, podman, adversarial
// orders) enforced by the kernel through runt's own code: v1 writes devices.allow/deny of a
// throwaway devices cgroup (applyDevicesV1), v2 attaches the generated program to a throwaway
// cgroup2 directory (applyDevicesV2). A process in the cgroup then mknods and opens device
// nodes; EPERM is the cgroup's refusal, anything else (success, ENXIO, ENODEV) got past it.
// Each verdict must be the spec reference's; v1's devices.list must be what the kernel model
// in the fixture predicts (so the unit test's model is the kernel's).

import t from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { parseHost } from '../../src/cgroups/host.js'
import { CgDir } from '../../src/cgroups/fs.js'
import { applyDevicesV1, applyDevicesV2 } from '../../src/cgroups/devices/apply.js'
import { realBpf } from '../../src/cgroups/devices/bpf-ops.js'
import { DeviceEmulator, deviceRules, type DeviceRule } from '../../src/cgroups/devices/rules.js'
import { KernelV1, LISTS, probeString, specAllows, type Probe } from '../fixtures/device-rules.js'
import { makeBundle, priv, Runt, RUNC, RUNT } from '../fixtures/runt.js'

const host = parseHost(fs.readFileSync('/proc/self/mountinfo', 'utf8'), fs.readFileSync('/proc/self/cgroup', 'utf8'))
const devicesMount = host.v1.find((h) => h.controllers.includes('devices'))?.mountPoint
const PY = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'

/**
 * Devices to try, opened only (never read or written, O_NONBLOCK | O_NOCTTY): the standard
 * ones, their neighbours, and the numbers the lists name. Missing drivers answer ENXIO or
 * ENODEV, after the cgroup check.
 */
const SAMPLE: [Probe['type'], number, number][] = [
  ['c', 1, 3],
  ['c', 1, 5],
  ['c', 1, 7],
  ['c', 1, 9],
  ['c', 4, 1],
  ['c', 4, 2],
  ['c', 4, 7],
  ['c', 5, 2],
  ['c', 7, 0],
  ['c', 10, 200],
  ['c', 10, 229],
  ['c', 13, 64],
  ['c', 136, 7],
  ['c', 226, 0],
  ['b', 7, 0],
  ['b', 8, 0],
  ['b', 8, 1],
]
const ACCESS = ['m', 'r', 'w', 'rw']

// In the cgroup: mknod each "m" probe at a fresh path; open each other probe's node (made
// before joining) with its flags. Prints one errno name (or OK) per probe, in order.
const PROBE_PY = `
import json, os, sys, errno
dirpath, procs, probes = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
def node(p): return os.path.join(dirpath, '%s-%d-%d' % (p['type'], p['major'], p['minor']))
for p in probes:
    mode = (0o60600 if p['type'] == 'b' else 0o20600)
    if p['access'] != 'm' and not os.path.exists(node(p)):
        os.mknod(node(p), mode, os.makedev(p['major'], p['minor']))
with open(procs, 'w') as f: f.write(str(os.getpid()))
out = []
for i, p in enumerate(probes):
    try:
        if p['access'] == 'm':
            mode = (0o60600 if p['type'] == 'b' else 0o20600)
            os.mknod(os.path.join(dirpath, 'm%d' % i), mode, os.makedev(p['major'], p['minor']))
        else:
            fl = {'r': os.O_RDONLY, 'w': os.O_WRONLY, 'rw': os.O_RDWR}[p['access']]
            os.close(os.open(node(p), fl | os.O_NONBLOCK | os.O_NOCTTY))
        out.append('OK')
    except OSError as e:
        out.append(errno.errorcode.get(e.errno, str(e.errno)))
print(json.dumps(out))
`

/** Run the probes from a process in the cgroup whose cgroup.procs is `procs`. */
function probeIn(procs: string, probes: Probe[]): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-devnodes-'))
  try {
    const r = spawnSync(PY, ['-c', PROBE_PY, dir, procs, JSON.stringify(probes)], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`probe failed: ${r.stderr}`)
    return JSON.parse(r.stdout) as string[]
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

function probesFor(): Probe[] {
  const out: Probe[] = []
  for (const [type, major, minor] of SAMPLE) for (const access of ACCESS) out.push({ type, major, minor, access })
  return out
}

function rulesOf(list: (typeof LISTS)[number]): DeviceRule[] {
  return deviceRules(
    list.devices,
    (list.linuxDevices ?? []).map((p) => ({ path: p })),
  )
}

/** Verdicts the kernel gave that differ from the reference. */
function mismatches(rules: DeviceRule[], probes: Probe[], got: string[]): string[] {
  const bad: string[] = []
  probes.forEach((p, i) => {
    const allowed = got[i] !== 'EPERM'
    if (allowed !== specAllows(rules, p))
      bad.push(`${probeString(p)}: ${got[i]}, reference ${specAllows(rules, p) ? 'allows' : 'denies'}`)
  })
  return bad
}

let n = 0
const unique = () => `runt-devorder-${process.pid}-${n++}`

function rmdirRetry(dir: string): void {
  for (let i = 0; i < 50; i++) {
    try {
      fs.rmdirSync(dir)
      return
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return
      spawnSync('sleep', ['0.05'])
    }
  }
  fs.rmdirSync(dir)
}

const skipV1 = process.getuid?.() !== 0 ? 'needs root' : !devicesMount ? 'needs the v1 devices controller mounted' : null

t.test('v1: devices.allow/deny written by runt', skipV1 ? { skip: skipV1 } : {}, async (t) => {
  const probes = probesFor()
  for (const list of LISTS) {
    t.test(list.name, async (t) => {
      const rules = rulesOf(list)
      const dir = path.join(devicesMount!, unique())
      fs.mkdirSync(dir)
      t.teardown(() => rmdirRetry(dir))
      const d = new CgDir(dir)
      if (list.refused) {
        t.throws(() => applyDevicesV1(d, rules), { message: list.refused })
        t.equal(fs.readFileSync(path.join(dir, 'devices.list'), 'utf8').trim(), 'a *:* rwm', 'nothing written')
        return
      }
      applyDevicesV1(d, rules)
      const model = new KernelV1()
      for (const r of DeviceEmulator.fromList('a *:* rwm').transition(DeviceEmulator.of(rules))) model.write(r.allow, r)
      const listed = fs.readFileSync(path.join(dir, 'devices.list'), 'utf8').trim().split('\n').sort()
      t.same(listed, model.list().sort(), 'devices.list is what the kernel model predicts')
      const got = probeIn(path.join(dir, 'cgroup.procs'), probes)
      const bad = mismatches(rules, probes, got)
      t.same(bad, [], 'every mknod and open gets the reference verdict')
      // Sanity: the probe sees the cgroup at all (some refusal, or the list allows everything).
      if (!DeviceEmulator.of(rules).isAllowAll) t.ok(got.includes('EPERM'), 'some probe was refused')
    })
  }
})

const skipV2 = process.getuid?.() !== 0 ? 'needs root' : !host.unified ? 'needs a cgroup2 mount' : null

t.test('v2: the eBPF program runt attaches', skipV2 ? { skip: skipV2 } : {}, async (t) => {
  const probes = probesFor()
  for (const list of LISTS) {
    t.test(list.name, async (t) => {
      const rules = rulesOf(list)
      const dir = path.join(host.unified!.mountPoint, unique())
      fs.mkdirSync(dir)
      t.teardown(() => rmdirRetry(dir))
      if (list.refused) {
        t.throws(() => applyDevicesV2(dir, rules, realBpf()), { message: list.refused })
        return
      }
      try {
        applyDevicesV2(dir, rules, realBpf())
      } catch (e) {
        t.fail(`the kernel refused the program: ${(e as Error).message}`)
        return
      }
      const got = probeIn(path.join(dir, 'cgroup.procs'), probes)
      const bad = mismatches(rules, probes, got)
      t.same(bad, [], 'every mknod and open gets the reference verdict')
      if (!DeviceEmulator.of(rules).isAllowAll) t.ok(got.includes('EPERM'), 'some probe was refused')
    })
  }
})

// Containers, runt and runc side by side: devices.list of the container's v1 devices cgroup
// after `create`. runt's must be what its emulator computes; runc 1.1.5's is pinned here, so the
// differences the comments in src/cgroups/devices/ cite stay true.
const SIDE_BY_SIDE: { name: string; runc: string[] }[] = [
  { name: 'docker run', runc: [] },
  // runc edits only the exception with the same numbers: c 4:1 and c 4:2 stay allowed.
  { name: 'deny all, allow a device, then deny its major', runc: ['c 4:1 rwm', 'c 4:2 r'] },
  // runc resets the policy on any "a" rule: allow-all.
  { name: "type 'a' with one access: deny all, allow mknod of everything", runc: ['a *:* rwm'] },
  // One exception per rule: the O_RDWR open of b 8:0 is refused under runc.
  { name: 'overlapping majors: block major 8 wildcard, then one minor narrowed', runc: ['b 8:* w', 'b 8:0 r'] },
]
const runtimes = RUNC ? [RUNT, RUNC] : [RUNT]
if (!RUNC) t.comment('runc is not installed: runt alone')

for (const bin of runtimes) {
  t.test(`containers: devices.list after create (${path.basename(bin)})`, skipV1 ? { skip: skipV1 } : priv(), async (t) => {
    for (const c of SIDE_BY_SIDE) {
      const list = LISTS.find((l) => l.name === c.name)!
      const rules = rulesOf(list)
      const cg = `/${unique()}`
      const runt = new Runt(t, bin)
      const b = makeBundle(t, ['true'], (s) => {
        s.linux!.cgroupsPath = cg
        s.linux!.resources = { devices: list.devices as never }
      })
      const id = runt.id()
      runt.ok(['create', '--bundle', b.dir, id])
      const listed = fs
        .readFileSync(path.join(devicesMount!, cg, 'devices.list'), 'utf8')
        .trim()
        .split('\n')
      runt.ok(['delete', '--force', id])
      if (bin === RUNT) {
        const model = new KernelV1()
        for (const r of DeviceEmulator.fromList('a *:* rwm').transition(DeviceEmulator.of(rules))) model.write(r.allow, r)
        t.same(listed.sort(), model.list().sort(), `${c.name}: runt's list`)
      } else {
        // runc appends its built-in devices too; compare the lines the list is about.
        const about = c.runc.length ? listed.filter((l) => c.runc.includes(l) || /^a /.test(l) || /^[bc] (4|8):/.test(l)) : []
        t.same(about.sort(), [...c.runc].sort(), `${c.name}: runc's list`)
      }
    }
  })
}

// The cgroup v2 device filter for real: the generated eBPF program is loaded with bpf(2) and
// attached to a cgroup2 directory, a process in it is refused what the rules do not allow, and
// an update replaces the program. Runs on any cgroup2 mount, even one without controllers
// (this machine's /sys/fs/cgroup/unified): device programs need none.

import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { parseHost } from '../../src/cgroups/host.js'
import { V2Manager } from '../../src/cgroups/v2/manager.js'
import * as bpf from '../../src/sys/bpf.js'
import { realBpf } from '../../src/cgroups/devices/bpf-ops.js'

const host = parseHost(fs.readFileSync('/proc/self/mountinfo', 'utf8'), fs.readFileSync('/proc/self/cgroup', 'utf8'))

function reason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root'
  if (!host.unified) return 'needs a cgroup2 mount'
  return null
}

/** Run `script` with sh inside the cgroup at `dir`; stdout and stderr together. */
function inCgroup(dir: string, script: string): string {
  const r = spawnSync('sh', ['-c', `echo $$ > ${dir}/cgroup.procs && ${script}`], { encoding: 'utf8' })
  return r.stdout + r.stderr
}

t.test('device filter on cgroup v2', reason() ? { skip: reason()! } : {}, async (t) => {
  const dir = path.join(host.unified!.mountPoint, `runt-bpf-${process.pid}`)
  const m = new V2Manager(host.unified!.mountPoint, dir, { bpf: realBpf })
  const created = m.create()
  t.teardown(() => m.destroy())
  const zeroOnly = [
    { type: 'a' as const, major: -1, minor: -1, access: 'rwm', allow: false },
    { type: 'c' as const, major: 1, minor: 5, access: 'r', allow: true },
  ]
  try {
    m.apply({}, { devices: zeroOnly, update: false })
  } catch (e) {
    t.plan(0, `the kernel refused the device program: ${(e as Error).message}`)
    return
  }
  t.ok(created)
  const out = inCgroup(dir, 'head -c 1 /dev/zero | wc -c; cat /dev/null; echo null=$?; echo x > /dev/zero; echo zerow=$?')
  t.match(out, /^1$/m, '/dev/zero readable')
  t.match(out, /null=1/, '/dev/null refused')
  t.match(out, /zerow=\d*[1-9]/, '/dev/zero not writable (r only)')
  t.match(out, /Operation not permitted/)

  const fd = fs.openSync(dir, 'r')
  t.teardown(() => fs.closeSync(fd))
  const first = bpf.progQuery(fd, bpf.BPF_CGROUP_DEVICE)
  t.equal(first.length, 1, 'one program attached')

  m.apply({}, { devices: [{ type: 'c', major: 1, minor: 3, access: 'rwm', allow: true }], update: false })
  const second = bpf.progQuery(fd, bpf.BPF_CGROUP_DEVICE)
  t.equal(second.length, 1, 'the old program was replaced')
  t.not(second[0], first[0])
  const out2 = inCgroup(dir, 'cat /dev/null; echo null=$?; head -c 1 /dev/zero; echo zero=$?')
  t.match(out2, /null=0/)
  t.match(out2, /zero=1/)
})

import t from 'tap'
import * as path from 'node:path'
import { applyDevicesV1, applyDevicesV2, type BpfOps } from '../../../../src/cgroups/devices/apply.js'
import { deviceRules } from '../../../../src/cgroups/devices/rules.js'
import { CgDir } from '../../../../src/cgroups/fs.js'
import { FakeKernel } from '../../../fixtures/fake-kernel.js'

t.test('v1: deny all, then the allow-list, into a new cgroup', async (t) => {
  const k = new FakeKernel(t.testdir({}))
  const mp = k.mountV1('devices', ['devices'])
  k.mkdir(path.join(mp, 'c'))
  applyDevicesV1(new CgDir(path.join(mp, 'c'), k), deviceRules([{ allow: false, access: 'rwm' }]))
  const seq = k.writes.map((w) => `${path.basename(w.file)} ${w.data}`)
  t.equal(seq[0], 'devices.deny a *:* rwm')
  t.same(seq.slice(1, 4), ['devices.allow b *:* m', 'devices.allow c *:* m', 'devices.allow c 1:3 rwm'])
  t.equal(seq.at(-1), 'devices.allow c 136:* rwm')
  t.equal(seq.length, 12)
  k.set('devices/c/devices.list', 'gibberish')
  t.throws(() => applyDevicesV1(new CgDir(path.join(mp, 'c'), k), []), { message: /linux.resources.devices: cannot parse/ })
})

function fakeBpf(existing: number[]) {
  const calls: string[] = []
  const ops: BpfOps = {
    openDir: (p) => (calls.push(`open ${path.basename(p)}`), 10),
    close: (fd) => void calls.push(`close ${fd}`),
    load: (insns, license) => (calls.push(`load ${insns.length / 8} ${license}`), 20),
    query: () => (calls.push('query'), existing),
    attach: (dir, prog) => void calls.push(`attach ${dir} ${prog}`),
    detachId: (dir, id) => void calls.push(`detach ${dir} ${id}`),
  }
  return { ops, calls }
}

t.test('v2: load, attach, then detach what was there', async (t) => {
  const { ops, calls } = fakeBpf([7, 8])
  applyDevicesV2('/sys/fs/cgroup/c1', deviceRules([{ allow: false, access: 'rwm' }]), ops)
  t.same(calls, ['open c1', 'query', 'load 64 Apache', 'attach 10 20', 'close 20', 'detach 10 7', 'detach 10 8', 'close 10'])
  const failing = fakeBpf([])
  failing.ops.attach = () => {
    throw new Error('bpf BPF_PROG_ATTACH: operation not permitted')
  }
  t.throws(() => applyDevicesV2('/x/c', [], failing.ops), {
    message: 'linux.resources.devices: attach the device filter to /x/c: bpf BPF_PROG_ATTACH: operation not permitted',
  })
  t.same(failing.calls.slice(-2), ['close 20', 'close 10'], 'fds closed on failure')
})

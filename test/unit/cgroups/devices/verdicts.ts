// runt's two device-cgroup paths against the spec's ordered semantics, for the rule lists docker,
// containerd and podman write and for adversarial orders: v2 runs the generated eBPF program in
// an interpreter, v1 replays the devices.allow/deny writes on a model of the kernel's devices
// cgroup. Every (type, major, minor, access) of a probe grid must get the reference's verdict.

import t from 'tap'
import { deviceRules, DeviceEmulator, type DeviceRule } from '../../../../src/cgroups/devices/rules.js'
import { assemble, deviceFilter } from '../../../../src/cgroups/devices/ebpf.js'
import { KERNEL_ACCESS, KernelV1, LISTS, probeGrid, probeString, specAllows, type Probe } from '../../../fixtures/device-rules.js'
import { devCtx, runDeviceProgram } from '../../../fixtures/ebpf-vm.js'

const v2Allows = (prog: Buffer, p: Probe) => runDeviceProgram(prog, devCtx(p)) === 1

function v1Kernel(rules: DeviceRule[]): KernelV1 {
  const k = new KernelV1()
  for (const r of DeviceEmulator.fromList('a *:* rwm').transition(DeviceEmulator.of(rules))) k.write(r.allow, r)
  return k
}

/**
 * Probes where `got` differs from the reference, split by direction; refusals of access sets the
 * kernel never asks for (rm, wm, rwm) apart: one rule must cover a whole request, on v1 and
 * in runc's program alike, and only mknod and open reach the filter.
 */
function compare(rules: DeviceRule[], got: (p: Probe) => boolean) {
  const looser: string[] = []
  const stricter: string[] = []
  const stricterSynthetic: string[] = []
  for (const p of probeGrid(rules)) {
    const want = specAllows(rules, p)
    const g = got(p)
    if (g && !want) looser.push(probeString(p))
    if (!g && want) (KERNEL_ACCESS.has(p.access) ? stricter : stricterSynthetic).push(probeString(p))
  }
  return { looser, stricter, stricterSynthetic }
}

for (const list of LISTS) {
  t.test(list.name, async (t) => {
    const rules = deviceRules(
      list.devices,
      (list.linuxDevices ?? []).map((path) => ({ path })),
    )
    if (list.refused) {
      t.throws(() => deviceFilter(rules), { message: list.refused }, 'v2: refused')
      t.throws(() => DeviceEmulator.of(rules), { message: list.refused }, 'v1: refused')
      return
    }
    const prog = assemble(deviceFilter(rules))
    const kernel = v1Kernel(rules)
    for (const [path, got] of [
      ['v2 eBPF', (p: Probe) => v2Allows(prog, p)],
      ['v1 devices.allow/deny', (p: Probe) => kernel.allows(p)],
    ] as const) {
      const { looser, stricter, stricterSynthetic } = compare(rules, got)
      if (stricterSynthetic.length)
        t.comment(`${path}: refuses ${stricterSynthetic.length} combined requests (e.g. ${stricterSynthetic[0]})`)
      t.same(looser.slice(0, 10), [], `${path}: grants nothing the rules deny (${looser.length} probes)`)
      t.same(stricter.slice(0, 10), [], `${path}: refuses nothing the rules allow (${stricter.length} probes)`)
    }
  })
}

t.test('the reference evaluator itself', async (t) => {
  const r = (type: DeviceRule['type'], major: number, minor: number, access: string, allow: boolean): DeviceRule => ({
    type,
    major,
    minor,
    access,
    allow,
  })
  const p = (access: string): Probe => ({ type: 'c', major: 1, minor: 3, access })
  t.notOk(specAllows([], p('r')), 'nothing matched: denied')
  t.ok(specAllows([r('a', -1, -1, 'rwm', true)], p('rwm')))
  t.notOk(specAllows([r('a', -1, -1, 'rwm', true), r('c', 1, 3, 'w', false)], p('rw')), 'a later deny of one bit')
  t.ok(specAllows([r('a', -1, -1, 'rwm', true), r('c', 1, 3, 'w', false)], p('r')))
  t.ok(specAllows([r('c', 1, 3, 'rwm', false), r('c', 1, -1, 'rwm', true)], p('rw')), 'a later wildcard allow')
  t.notOk(specAllows([r('c', 1, 3, 'rwm', true), r('b', -1, -1, 'rwm', false), r('c', 1, -1, 'r', false)], p('r')))
  t.ok(specAllows([r('c', 1, -1, 'r', true), r('c', 1, 3, 'w', true)], p('rw')), 'bits from two rules')
})

// Enforce a device allow-list: on v1 by writing the transition from the cgroup's current
// devices.list to the target into devices.deny/devices.allow ("a" first for a fresh cgroup); on
// v2 by loading the generated eBPF program and attaching it to the cgroup directory, replacing
// programs attached before (ours, on update). bpf(2) sits behind `BpfOps` (bpf-ops.ts has the
// real one), so that reading a cgroup never loads the FFI.

import { cgroupError, type CgDir } from '../fs.js'
import { errnoText } from '../../errors.js'
import { cgroupString, DeviceEmulator, type DeviceRule } from './rules.js'
import { assemble, deviceFilter, LICENSE } from './ebpf.js'

const FIELD = 'linux.resources.devices'

export function applyDevicesV1(d: CgDir, rules: DeviceRule[]): void {
  const target = DeviceEmulator.of(rules)
  // A cgroup's devices.list reads "a *:* rwm" while it allows everything (a new cgroup does).
  let current: DeviceEmulator
  try {
    current = DeviceEmulator.fromList(d.read('devices.list') ?? 'a *:* rwm')
  } catch (e) {
    throw cgroupError(FIELD, `cannot parse ${d.file('devices.list')}: ${(e as Error).message}`)
  }
  for (const r of current.transition(target)) d.write(FIELD, r.allow ? 'devices.allow' : 'devices.deny', cgroupString(r))
}

export type BpfOps = {
  openDir(path: string): number
  close(fd: number): void
  load(insns: Buffer, license: string): number
  query(dirFd: number): number[]
  attach(dirFd: number, progFd: number): void
  detachId(dirFd: number, id: number): void
}

/**
 * Attach the filter for `rules` to the cgroup at `dir`. The new program is attached (with
 * BPF_F_ALLOW_MULTI, so both run and the stricter wins) before the old ones are detached:
 * there is no moment without a filter.
 */
export function applyDevicesV2(dir: string, rules: DeviceRule[], ops: BpfOps): void {
  const prog = assemble(deviceFilter(rules))
  const dirFd = ops.openDir(dir)
  try {
    let old: number[]
    try {
      old = ops.query(dirFd)
    } catch (e) {
      throw cgroupError(FIELD, `query device programs of ${dir}: ${errnoText(e)}`)
    }
    let progFd: number
    try {
      progFd = ops.load(prog, LICENSE)
    } catch (e) {
      throw cgroupError(FIELD, `load the device filter (${prog.length / 8} instructions): ${(e as Error).message}`)
    }
    try {
      ops.attach(dirFd, progFd)
    } catch (e) {
      throw cgroupError(FIELD, `attach the device filter to ${dir}: ${(e as Error).message}`)
    } finally {
      ops.close(progFd)
    }
    for (const id of old) {
      try {
        ops.detachId(dirFd, id)
      } catch (e) {
        throw cgroupError(FIELD, `detach the previous device filter (id ${id}) from ${dir}: ${(e as Error).message}`)
      }
    }
  } finally {
    ops.close(dirFd)
  }
}

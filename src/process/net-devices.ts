// linux.netDevices (runtime-spec 1.3 config-linux.md "Network Devices"): create moves each
// named host device into the container's network namespace, renamed when `name` is given,
// with its permanent global addresses, and sets it up. runc 1.4 does the same from its parent
// (devChangeNetNamespace, after the cgroup, before the init gets its config); runc 1.1.5 has
// no netDevices. Through rtnetlink (sys/netlink.ts), never the `ip` binary.
//
// On delete nothing is moved back: the spec says the runtime MUST NOT move a device out of
// the namespace before deletion. When the namespace dies the kernel returns physical devices
// to the initial namespace (under the name they have inside) and destroys virtual ones (a
// veth with its peer). Only a create that fails moves back what it moved, to leave the host
// as it found it.

import * as C from '../sys/constants.js'
import { linux as sys, sysError } from '../sys/linux.js'
import { Rtnl } from '../sys/netlink.js'
import { IFF_UP, IFA_F_PERMANENT, RT_SCOPE_UNIVERSE, type Addr, type Link } from '../sys/netlink-msg.js'
import { InternalError, RuntimeError, attachCleanup, withContext } from '../errors.js'
import type { LinuxNetDevice } from '../spec/schema.js'
import { timed } from '../log.js'

const ENODEV = 19
const OWN_NETNS = '/proc/thread-self/ns/net'

/**
 * The addresses that go with a device: permanent ones (IFA_F_PERMANENT) of global scope
 * (RT_SCOPE_UNIVERSE), of any family, as the spec says and runc 1.4 does. Moving a device
 * drops all of its addresses in the kernel, so these are added again on the other side;
 * link-local and other kernel-made addresses are made again by the kernel.
 */
export function carriedAddrs(addrs: readonly Addr[]): Addr[] {
  return addrs.filter((a) => a.flags & IFA_F_PERMANENT && a.scope === RT_SCOPE_UNIVERSE)
}

/** A device moved in: where it came from, and what it is called inside. */
type Moved = { hostName: string; wasUp: boolean; addrs: Addr[]; index: number; name: string }

export type MovedNetDevices = {
  /** Move the devices back to the host (a create that failed after the move). */
  undo(): void
  /** Drop the hold on the container's network namespace (create succeeded). */
  release(): void
}

const NOTHING: MovedNetDevices = { undo() {}, release() {} }

/**
 * Move `devices` (linux.netDevices) into the network namespace of `pid`, the init, which
 * waits for its bootstrap. Everything is checked before anything moves (each device exists on
 * the host, no device inside has the name it is to take), so a refusal leaves the host as it
 * was; a failure after some moved puts those back before it is thrown.
 *
 * The namespace stays held by an fd until `release` or `undo`: an init that dies during create
 * would otherwise take a veth with it before `undo` could move it back.
 */
export function moveNetDevices(pid: number, devices: Readonly<Record<string, LinuxNetDevice>>): MovedNetDevices {
  const entries = Object.entries(devices)
  if (entries.length === 0) return NOTHING
  const nsPath = `/proc/${pid}/ns/net`
  const nsFd = inContext(() => sys.openat(C.AT_FDCWD, nsPath, C.O_RDONLY))
  let held = true
  const release = () => {
    if (held) sys.close(nsFd)
    held = false
  }
  const moved: Moved[] = []
  try {
    timed(`network: move ${entries.map(([k]) => k).join(', ')} into ${nsPath}`, () => {
      const host = inContext(() => Rtnl.open())
      try {
        // Renaming, addresses and the up flag act inside the container's namespace, through
        // a socket opened there (Rtnl.openIn): rtnetlink acts in its socket's namespace.
        // Without root this is where it stops (setns: EPERM), as runc 1.4 refuses netDevices
        // to rootless containers.
        const inside = inContext(() => Rtnl.openIn(nsFd, nsPath))
        try {
          const planned = entries.map(([hostName, d]) => check(host, inside, hostName, d))
          for (const p of planned) moveOne(host, inside, nsFd, p, moved)
        } finally {
          inside.close()
        }
      } finally {
        host.close()
      }
    })
  } catch (e) {
    try {
      moveBack(moved, nsFd)
    } catch (c) {
      attachCleanup(e, c)
    }
    release()
    throw e
  }
  return {
    undo() {
      try {
        moveBack(moved, nsFd)
      } finally {
        release()
      }
    },
    release,
  }
}

/** A failure before any device is named: the field as a whole. */
function inContext<T>(fn: () => T): T {
  try {
    return fn()
  } catch (e) {
    throw withContext(e as Error, 'linux.netDevices')
  }
}

type Planned = { field: string; hostName: string; name: string; link: Link; addrs: Addr[] }

function check(host: Rtnl, inside: Rtnl, hostName: string, d: LinuxNetDevice): Planned {
  const field = `linux.netDevices.${hostName}`
  const link = host.link(hostName)
  if (!link) throw withContext(sysError('netlink RTM_GETLINK', ENODEV, hostName), field)
  // An empty name is no name (runc 1.4: "kept the same if device.Name is the zero value").
  const name = d.name || hostName
  // The spec: a name already taken inside is an error, unless it is a `%d` template, for
  // which the kernel picks a free one. Asked before the move: when the host name is free
  // inside, the kernel moves the device first and fails only the rename after.
  if (!name.includes('%') && inside.link(name)) {
    const at = d.name ? `${field}.name` : field
    throw new RuntimeError(`${at}: a network device named ${name} already exists in the container's network namespace`, 'EEXIST')
  }
  return { field, hostName, name, link, addrs: host.addrs(link.index, hostName) }
}

/** Move one device in, and record it in `moved` as soon as it is there (for moveBack). */
function moveOne(host: Rtnl, inside: Rtnl, nsFd: number, p: Planned, moved: Moved[]): void {
  const template = p.name.includes('%')
  const before = template ? new Set(inside.links().map((l) => l.index)) : null
  // One request moves and renames, as runc's does: the kernel closes the device (sets it
  // down) first, keeps its MAC, MTU and index (unless the index is taken there) and drops
  // its addresses.
  try {
    host.moveLink(p.link.index, nsFd, p.name, p.hostName)
  } catch (e) {
    throw withContext(e as Error, p.field)
  }
  const link = template ? newLink(inside, before!, p) : inside.link(p.name)
  if (!link) throw new InternalError(`${p.field}: ${p.name} not found in the container after the move`)
  moved.push({ hostName: p.hostName, wasUp: (p.link.flags & IFF_UP) !== 0, addrs: p.addrs, index: link.index, name: link.name })
  try {
    for (const a of carriedAddrs(p.addrs)) inside.addAddr(link.index, a, link.name)
    // The spec: MUST set it up, whatever it was on the host (runc 1.4 does too).
    inside.setUp(link.index, true, link.name)
  } catch (e) {
    throw withContext(e as Error, p.field)
  }
}

/** The device a template move made: the one new inside (by MAC if others appeared too). */
function newLink(inside: Rtnl, before: Set<number>, p: Planned): Link | null {
  const fresh = inside.links().filter((l) => !before.has(l.index))
  if (fresh.length === 1) return fresh[0]!
  return fresh.find((l) => l.mac === p.link.mac) ?? null
}

/**
 * Move each device back to the host under its own name, last first, with the addresses it
 * had and up if it was. Each is tried; the first failure is thrown after.
 */
function moveBack(moved: Moved[], nsFd: number): void {
  if (moved.length === 0) return
  let first: unknown = null
  const host = Rtnl.open()
  let inside: Rtnl | null = null
  const hostNs = sys.openat(C.AT_FDCWD, OWN_NETNS, C.O_RDONLY)
  try {
    inside = Rtnl.openIn(nsFd, 'the container network namespace')
    for (const m of moved.splice(0).reverse()) {
      try {
        inside.moveLink(m.index, hostNs, m.hostName, m.name)
        const back = host.link(m.hostName)
        if (!back) throw new InternalError(`${m.hostName} not found on the host after moving it back`)
        for (const a of carriedAddrs(m.addrs)) host.addAddr(back.index, a, m.hostName)
        if (m.wasUp) host.setUp(back.index, true, m.hostName)
      } catch (e) {
        first ??= withContext(e as Error, `linux.netDevices.${m.hostName}: moving it back`)
      }
    }
  } finally {
    inside?.close()
    host.close()
    sys.close(hostNs)
  }
  if (first) throw first
}

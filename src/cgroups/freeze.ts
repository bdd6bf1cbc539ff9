// Freezing and thawing a cgroup: v1 freezer.state (FREEZING may need retries while processes
// keep appearing; runc's empirical loop), v2 cgroup.freeze confirmed through cgroup.events.
// A freeze that fails is undone: a cgroup is never left half-frozen.

import { cgroupError, sleepMs, type CgDir } from './fs.js'

export function freezeV1(d: CgDir): void {
  try {
    for (let i = 0; i < 1000; i++) {
      if (i % 50 === 49) {
        // An occasional thaw and pause helps when new processes keep arriving.
        d.tryWrite('freezer.state', 'THAWED')
        sleepMs(10)
      }
      d.write('', 'freezer.state', 'FROZEN')
      if (i % 25 === 24) sleepMs(1)
      const state = (d.read('freezer.state') ?? '').trim()
      if (state === 'FROZEN') return
      if (state !== 'FREEZING') throw cgroupError('', `unexpected state ${state || '(none)'} while freezing ${d.path}`)
    }
    throw cgroupError('', `unable to freeze ${d.path}`)
  } catch (e) {
    d.tryWrite('freezer.state', 'THAWED')
    throw e
  }
}

export function thawV1(d: CgDir): void {
  d.write('', 'freezer.state', 'THAWED')
}

export function isFrozenV1(d: CgDir): boolean {
  return (d.read('freezer.state') ?? '').trim() === 'FROZEN'
}

/** Write cgroup.freeze and wait (up to 10 s) until cgroup.events agrees. */
export function setFrozenV2(d: CgDir, frozen: boolean): void {
  const code = d.tryWrite('cgroup.freeze', frozen ? '1' : '0')
  if (code === 'ENOENT') {
    if (!frozen) return // nothing can be frozen without the file
    throw cgroupError('', `freezer not supported: ${d.file('cgroup.freeze')} does not exist (kernel 5.2+ needed)`)
  }
  if (code) throw d.writeError('', 'cgroup.freeze', frozen ? '1' : '0', code)
  if (!frozen) return
  for (let i = 0; i < 1000; i++) {
    const events = d.read('cgroup.events')
    const m = events === null ? null : /^frozen (\d)$/m.exec(events)
    if (!m || m[1] === '1') return // nothing to confirm with, or frozen
    sleepMs(10)
  }
  d.tryWrite('cgroup.freeze', '0')
  throw cgroupError('', `timeout of 10s reached waiting for ${d.path} to freeze`)
}

export function isFrozenV2(d: CgDir): boolean {
  return (d.read('cgroup.freeze') ?? '').trim() === '1'
}

// The cgroupfs driver for cgroup v1 (and hybrid hosts): one directory per mounted hierarchy,
// cpuset parents filled from their parent as they are created (an empty cpuset cannot hold a
// task), and on hybrid hosts the unified hierarchy joined too, for tracking and cgroup.kill.

import * as path from 'node:path'
import { logger } from '../../log.js'
import { DEFAULT_PARENT } from '../path.js'
import type { LinuxResources } from '../../spec/schema.js'
import { CgDir, cgroupError, realFs, sleepMs, type CgroupFs } from '../fs.js'
import { checkReusable, mkdirs, removeTree, treePids, type ApplyOptions, type CgroupManager } from '../manager.js'
import { freezeV1, isFrozenV1, thawV1 } from '../freeze.js'
import { applyV1 } from './resources.js'
import { oomKillsV1, statsV1 } from './stats.js'
import type { Stats } from '../stats.js'

export type V1Layout = {
  /** Each hierarchy: its controllers, where it is mounted (creation starts below) and our dir. */
  hierarchies: { controllers: string[]; mountPoint: string; dir: string }[]
  /** Hybrid hosts: the container's directory in the (controller-less) unified hierarchy. */
  unified?: { mountPoint: string; dir: string }
}

export class V1Manager implements CgroupManager {
  readonly kind = 'v1'
  private created: string[] = []

  constructor(
    private layout: V1Layout,
    private io: CgroupFs = realFs,
    private hugePageSizes: () => string[] = () => [],
  ) {}

  /** A manager over recorded paths (no creation: each directory is its own top). */
  static fromPaths(paths: Record<string, string>, io: CgroupFs = realFs, hugePageSizes?: () => string[]): V1Manager {
    const byDir = new Map<string, string[]>()
    for (const [ctrl, dir] of Object.entries(paths)) if (ctrl !== '') byDir.set(dir, [...(byDir.get(dir) ?? []), ctrl])
    const layout: V1Layout = {
      hierarchies: [...byDir].map(([dir, controllers]) => ({ controllers, mountPoint: dir, dir })),
    }
    if (paths[''] !== undefined) layout.unified = { mountPoint: paths[''], dir: paths[''] }
    return new V1Manager(layout, io, hugePageSizes)
  }

  paths(): Record<string, string> {
    const out: Record<string, string> = {}
    for (const h of this.layout.hierarchies) for (const c of h.controllers) out[c] = h.dir
    if (this.layout.unified) out[''] = this.layout.unified.dir
    return out
  }

  private dirs(): Map<string, CgDir> {
    const m = new Map<string, CgDir>()
    for (const h of this.layout.hierarchies) for (const c of h.controllers) m.set(c, new CgDir(h.dir, this.io))
    return m
  }

  private allDirs(): string[] {
    const ds = this.layout.hierarchies.map((h) => h.dir)
    if (this.layout.unified) ds.push(this.layout.unified.dir)
    return [...new Set(ds)]
  }

  exists(): boolean {
    return this.allDirs().some((d) => this.io.exists(d))
  }

  create(): boolean {
    checkReusable(this)
    let leaf = false
    try {
      for (const h of this.layout.hierarchies) {
        const cpuset = h.controllers.includes('cpuset')
        const made = mkdirs(this.io, h.mountPoint, h.dir, cpuset ? (d, p) => this.fillCpuset(d, p) : undefined)
        this.created.push(...made)
        if (made.includes(h.dir)) leaf = true
      }
    } catch (e) {
      this.removeCreated()
      throw e
    }
    const u = this.layout.unified
    if (u) {
      // Best effort: v1 hierarchies carry every limit; the unified one only tracks processes.
      try {
        this.created.push(...mkdirs(this.io, u.mountPoint, u.dir))
      } catch (e) {
        logger().debug(`hybrid cgroup2 hierarchy not used: ${(e as Error).message}`)
        delete this.layout.unified
      }
    }
    return leaf
  }

  /** A new cpuset cgroup starts with no cpus and mems: copy them from the parent. */
  private fillCpuset(dir: string, parent: string): void {
    const d = new CgDir(dir, this.io)
    const p = new CgDir(parent, this.io)
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      if ((d.read(f) ?? '').trim() !== '') continue
      d.write('linux.cgroupsPath', f, (p.read(f) ?? '').trim())
    }
  }

  removeCreated(): void {
    for (const d of [...this.created].reverse()) {
      try {
        removeTree(this.io, d)
      } catch (e) {
        logger().warn((e as Error).message)
      }
    }
    this.created = []
  }

  apply(r: LinuxResources, opts: ApplyOptions): void {
    // Realtime budgets may be raised in parents runt made, and in its default parent.
    const mayGrowRt = (dir: string) => this.created.includes(dir) || path.basename(dir) === path.basename(DEFAULT_PARENT)
    applyV1(this.dirs(), r, { devices: opts.devices, mayGrowRt })
  }

  addPid(pid: number): void {
    for (const dir of this.allDirs()) writeProcs(new CgDir(dir, this.io), pid)
  }

  /** The processes: from the unified dir on hybrid hosts, else devices (as runc), else any. */
  pids(): number[] {
    const dir = this.layout.unified?.dir ?? this.dirs().get('devices')?.path ?? this.allDirs()[0]
    return dir ? treePids(this.io, dir) : []
  }

  private freezer(): CgDir {
    const d = this.dirs().get('freezer')
    if (!d) throw cgroupError('', 'the freezer cgroup controller is not available on this host')
    return d
  }

  freeze(): void {
    freezeV1(this.freezer())
  }
  thaw(): void {
    thawV1(this.freezer())
  }
  isFrozen(): boolean {
    const d = this.dirs().get('freezer')
    return d ? isFrozenV1(d) : false
  }

  stats(): Stats {
    return statsV1(this.dirs(), this.hugePageSizes())
  }

  oomKills(): bigint | null {
    return oomKillsV1(this.dirs().get('memory'))
  }

  killAll(): boolean {
    const u = this.layout.unified
    if (!u) return false
    const d = new CgDir(u.dir, this.io)
    if (!d.has('cgroup.kill')) return false
    d.write('', 'cgroup.kill', '1')
    return true
  }

  destroy(): void {
    for (const d of this.allDirs()) removeTree(this.io, d)
  }
}

/** Move `pid` into the cgroup. EINVAL can mean the task is still being forked: retry. */
export function writeProcs(d: CgDir, pid: number): void {
  for (let i = 0; ; i++) {
    const code = d.tryWrite('cgroup.procs', pid)
    if (!code) return
    if (code !== 'EINVAL' || i >= 4) throw d.writeError('linux.cgroupsPath', 'cgroup.procs', pid, code)
    sleepMs(30)
  }
}

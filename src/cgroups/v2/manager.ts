// The cgroupfs driver for the unified hierarchy (cgroup v2): one directory; creating it enables
// every controller the root offers in each ancestor's cgroup.subtree_control (as runc does),
// refusing a level whose cgroup.type forbids domain controllers. The root directory is a
// parameter, so tests drive it against a temp-dir tree.

import * as path from 'node:path'
import type { LinuxResources } from '../../spec/schema.js'
import { CgDir, cgroupError, realFs, type CgroupFs } from '../fs.js'
import { checkReusable, mkdirs, removeTree, treePids, type ApplyOptions, type CgroupManager } from '../manager.js'
import { isFrozenV2, setFrozenV2 } from '../freeze.js'
import { applyV2 } from './resources.js'
import { oomKillsV2, statsV2 } from './stats.js'
import { writeProcs } from '../v1/manager.js'
import type { BpfOps } from '../devices/apply.js'
import type { Stats } from '../stats.js'

export type V2Options = {
  io?: CgroupFs
  bpf?: () => BpfOps
  hugePageSizes?: () => string[]
}

export class V2Manager implements CgroupManager {
  readonly kind = 'v2'
  private created: string[] = []
  private io: CgroupFs
  private bpf: () => BpfOps
  private hugePageSizes: () => string[]

  /** `root` is the cgroup2 mount point (creation starts below it); `dir` the container's. */
  constructor(
    readonly root: string,
    readonly dir: string,
    opts: V2Options = {},
  ) {
    this.io = opts.io ?? realFs
    this.bpf =
      opts.bpf ??
      (() => {
        throw cgroupError('linux.resources.devices', 'internal error: no bpf(2) access given to the cgroup v2 manager')
      })
    this.hugePageSizes = opts.hugePageSizes ?? (() => [])
  }

  private get d(): CgDir {
    return new CgDir(this.dir, this.io)
  }

  paths(): Record<string, string> {
    return { '': this.dir }
  }

  exists(): boolean {
    return this.io.exists(this.dir)
  }

  create(): boolean {
    checkReusable(this)
    const rootDir = new CgDir(this.root, this.io)
    const available = (rootDir.read('cgroup.controllers') ?? '').trim().split(/\s+/).filter(Boolean)
    const enable = available.map((c) => '+' + c).join(' ')
    // Enable controllers on the way down: in the root, then in each level above the leaf.
    const enableIn = (d: CgDir) => {
      if (!enable) return
      // All at once; if the kernel refuses (one controller busy or not delegated), one by one.
      // A controller left disabled is reported when a resource needs it.
      if (d.tryWrite('cgroup.subtree_control', enable)) for (const c of enable.split(' ')) d.tryWrite('cgroup.subtree_control', c)
    }
    if (path.relative(this.root, this.dir) !== '') enableIn(rootDir)
    try {
      this.created = mkdirs(this.io, this.root, this.dir, (dir) => {
        const d = new CgDir(dir, this.io)
        const type = (d.read('cgroup.type') ?? '').trim()
        // Threaded or invalid levels cannot hold domain controllers (memory, io, pids...).
        if (type === 'domain invalid' || type === 'threaded' || type === 'domain threaded')
          throw cgroupError(
            'linux.cgroupsPath',
            `cannot enter cgroupv2 ${dir} with domain controllers -- it is in ${type === 'domain invalid' ? 'an invalid state' : `${type} mode`}`,
          )
        if (dir !== this.dir) enableIn(d)
      })
    } catch (e) {
      this.removeCreated()
      throw e
    }
    return this.created.includes(this.dir)
  }

  removeCreated(): void {
    for (const d of [...this.created].reverse()) {
      try {
        removeTree(this.io, d)
      } catch {
        /* best effort */
      }
    }
    this.created = []
  }

  apply(r: LinuxResources, opts: ApplyOptions): void {
    applyV2(this.d, r, { devices: opts.devices, update: opts.update, bpf: this.bpf })
  }

  addPid(pid: number): void {
    writeProcs(this.d, pid)
  }

  pids(): number[] {
    return treePids(this.io, this.dir)
  }

  freeze(): void {
    setFrozenV2(this.d, true)
  }
  thaw(): void {
    setFrozenV2(this.d, false)
  }
  isFrozen(): boolean {
    return isFrozenV2(this.d)
  }

  stats(): Stats {
    return statsV2(this.d, this.hugePageSizes())
  }

  oomKills(): bigint | null {
    return oomKillsV2(this.d)
  }

  killAll(): boolean {
    if (!this.d.has('cgroup.kill')) return false
    this.d.write('', 'cgroup.kill', '1')
    return true
  }

  destroy(): void {
    removeTree(this.io, this.dir)
  }
}

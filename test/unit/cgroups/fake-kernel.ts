// Test helper (no tests of its own): a temp-dir cgroup tree that behaves enough like the
// kernel for the managers: new directories get their controllers' control files, every write
// is logged in order, subtree_control/freeze/freezer.state react as the kernel does, and
// rmdir refuses a cgroup that still has processes or children (EBUSY).

import * as fs from 'node:fs'
import * as path from 'node:path'
import type { CgroupFs } from '../../../src/cgroups/fs.js'
import type { HostCgroups } from '../../../src/cgroups/host.js'

const UNLIMITED = '9223372036854771712'

/** v1 control files of a new cgroup, per controller. */
export const V1_FILES: Record<string, Record<string, string>> = {
  memory: {
    'memory.limit_in_bytes': UNLIMITED,
    'memory.memsw.limit_in_bytes': UNLIMITED,
    'memory.soft_limit_in_bytes': UNLIMITED,
    'memory.kmem.limit_in_bytes': UNLIMITED,
    'memory.kmem.tcp.limit_in_bytes': UNLIMITED,
    'memory.swappiness': '60',
    'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n',
    'memory.usage_in_bytes': '1000',
    'memory.max_usage_in_bytes': '2000',
    'memory.failcnt': '0',
    'memory.memsw.usage_in_bytes': '1500',
    'memory.memsw.max_usage_in_bytes': '2500',
    'memory.memsw.failcnt': '0',
    'memory.stat': 'cache 4096\nrss 8192\n',
  },
  cpu: {
    'cpu.shares': '1024',
    'cpu.cfs_period_us': '100000',
    'cpu.cfs_quota_us': '-1',
    'cpu.cfs_burst_us': '0',
    'cpu.rt_period_us': '1000000',
    'cpu.rt_runtime_us': '0',
    'cpu.idle': '0',
    'cpu.stat': 'nr_periods 10\nnr_throttled 2\nthrottled_time 3000\n',
  },
  cpuacct: {
    'cpuacct.usage': '5000',
    'cpuacct.usage_percpu': '3000 2000 ',
    'cpuacct.stat': 'user 10\nsystem 5\n',
    'cpuacct.usage_all': 'cpu user system\n0 2000 1000\n1 1500 500\n',
  },
  cpuset: { 'cpuset.cpus': '', 'cpuset.mems': '', 'cpuset.sched_relax_domain_level': '-1' },
  devices: { 'devices.allow': '', 'devices.deny': '', 'devices.list': 'a *:* rwm\n' },
  freezer: { 'freezer.state': 'THAWED' },
  pids: { 'pids.max': 'max', 'pids.current': '0' },
  blkio: {
    'blkio.bfq.weight': '100',
    'blkio.bfq.weight_device': '',
    'blkio.leaf_weight': '0',
    'blkio.leaf_weight_device': '',
    'blkio.throttle.read_bps_device': '',
    'blkio.throttle.write_bps_device': '',
    'blkio.throttle.read_iops_device': '',
    'blkio.throttle.write_iops_device': '',
    'blkio.throttle.io_service_bytes_recursive': '8:0 Read 4096\n8:0 Write 8192\nTotal 12288\n',
    'blkio.throttle.io_serviced_recursive': '8:0 Read 1\n8:0 Write 2\nTotal 3\n',
  },
  hugetlb: {
    'hugetlb.2MB.limit_in_bytes': UNLIMITED,
    'hugetlb.2MB.rsvd.limit_in_bytes': UNLIMITED,
    'hugetlb.2MB.usage_in_bytes': '0',
    'hugetlb.2MB.max_usage_in_bytes': '0',
    'hugetlb.2MB.failcnt': '0',
  },
  net_cls: { 'net_cls.classid': '0' },
  net_prio: { 'net_prio.ifpriomap': '' },
  rdma: { 'rdma.max': '' },
  'name=systemd': {},
}

/** v2 control files of a new cgroup, per enabled controller ('' = always present). */
export const V2_FILES: Record<string, Record<string, string>> = {
  '': {
    'cgroup.procs': '',
    'cgroup.subtree_control': '',
    'cgroup.type': 'domain',
    'cgroup.freeze': '0',
    'cgroup.events': 'populated 0\nfrozen 0\n',
    'cgroup.kill': '',
    'cpu.stat': 'usage_usec 300\nuser_usec 200\nsystem_usec 100\nnr_periods 4\nnr_throttled 1\nthrottled_usec 7\n',
    'cpu.pressure': 'some avg10=0.50 avg60=0.00 avg300=0.00 total=12\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=3\n',
  },
  memory: {
    'memory.max': 'max',
    'memory.low': '0',
    'memory.high': 'max',
    'memory.swap.max': 'max',
    'memory.current': '4096',
    'memory.peak': '8192',
    'memory.swap.current': '0',
    'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n',
    'memory.stat': 'anon 4096\nfile 8192\n',
  },
  cpu: { 'cpu.weight': '100', 'cpu.max': 'max 100000', 'cpu.max.burst': '0', 'cpu.idle': '0' },
  pids: { 'pids.max': 'max', 'pids.current': '1' },
  io: { 'io.weight': 'default 100', 'io.max': '', 'io.stat': '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n' },
  cpuset: { 'cpuset.cpus': '', 'cpuset.mems': '', 'cpuset.cpus.effective': '0-1', 'cpuset.mems.effective': '0' },
  hugetlb: {
    'hugetlb.2MB.max': 'max',
    'hugetlb.2MB.rsvd.max': 'max',
    'hugetlb.2MB.current': '0',
    'hugetlb.2MB.events': 'max 0\n',
  },
  rdma: { 'rdma.max': '' },
}

export type Write = { file: string; data: string }

export class FakeKernel implements CgroupFs {
  writes: Write[] = []
  /** v1 hierarchies: mount point -> its controllers (decides the files of new directories). */
  private v1 = new Map<string, string[]>()
  /** v2 mount points. */
  private v2 = new Set<string>()
  /** Writes that fail: relative file path -> errno code (once each, or always with '!'). */
  failures = new Map<string, string>()

  constructor(readonly root: string) {}

  rel(p: string): string {
    return path.relative(this.root, p)
  }

  /** A v1 hierarchy mounted at root/<name> with these controllers (files filled). */
  mountV1(name: string, controllers: string[], rootValues: Record<string, string> = {}): string {
    const mp = path.join(this.root, name)
    fs.mkdirSync(mp, { recursive: true })
    this.v1.set(mp, controllers)
    this.populate(mp, { 'cgroup.procs': '', ...this.v1Files(controllers), ...rootValues })
    return mp
  }

  /** A cgroup2 mount at root/<name> whose root offers `controllers`. */
  mountV2(name: string, controllers: string[], extra: Record<string, string> = {}): string {
    const mp = path.join(this.root, name)
    fs.mkdirSync(mp, { recursive: true })
    this.v2.add(mp)
    this.populate(mp, { ...V2_FILES['']!, 'cgroup.controllers': controllers.join(' '), ...extra })
    return mp
  }

  private v1Files(controllers: string[]): Record<string, string> {
    return Object.assign({}, ...controllers.map((c) => V1_FILES[c] ?? {}))
  }

  private populate(dir: string, files: Record<string, string>): void {
    for (const [f, v] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), v)
  }

  private mountOf(p: string): { kind: 'v1' | 'v2'; mp: string } | undefined {
    for (const mp of this.v1.keys()) if (p === mp || p.startsWith(mp + '/')) return { kind: 'v1', mp }
    for (const mp of this.v2) if (p === mp || p.startsWith(mp + '/')) return { kind: 'v2', mp }
    return undefined
  }

  /** Set a file's content directly (as the kernel would report it). */
  set(file: string, data: string): void {
    fs.writeFileSync(path.join(this.root, file), data)
  }
  get(file: string): string {
    return fs.readFileSync(path.join(this.root, file), 'utf8')
  }
  /** The data written to `file` (relative), in order. */
  writesTo(file: string): string[] {
    return this.writes.filter((w) => w.file === file).map((w) => w.data)
  }

  read(file: string): string {
    return fs.readFileSync(file, 'utf8')
  }

  write(file: string, data: string): void {
    const rel = this.rel(file)
    const fail = this.failures.get(rel) ?? this.failures.get(rel + '!')
    if (fail) {
      if (this.failures.has(rel)) this.failures.delete(rel)
      throw Object.assign(new Error(`${fail}: ${file}`), { code: fail })
    }
    if (!fs.existsSync(file)) throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' })
    this.writes.push({ file: rel, data })
    const base = path.basename(file)
    const dir = path.dirname(file)
    if (base === 'cgroup.subtree_control') {
      const have = new Set(fs.readFileSync(file, 'utf8').split(/\s+/).filter(Boolean))
      const avail = fs.readFileSync(path.join(dir, 'cgroup.controllers'), 'utf8').split(/\s+/)
      for (const tok of data.split(/\s+/).filter(Boolean)) {
        const c = tok.slice(1)
        if (!avail.includes(c)) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' })
        if (tok[0] === '+') have.add(c)
        else have.delete(c)
      }
      fs.writeFileSync(file, [...have].join(' '))
      return
    }
    if (base === 'cgroup.freeze') {
      fs.writeFileSync(file, data.trim())
      fs.writeFileSync(path.join(dir, 'cgroup.events'), `populated 0\nfrozen ${data.trim()}\n`)
      return
    }
    if (base === 'cpu.rt_runtime_us') {
      // v1 realtime budgets: a group's runtime fits in its parent's, with its siblings'.
      const rt = (d: string) => Number(fs.readFileSync(path.join(d, 'cpu.rt_runtime_us'), 'utf8'))
      const parent = path.dirname(dir)
      const want = Number(data)
      if (fs.existsSync(path.join(parent, 'cpu.rt_runtime_us'))) {
        const siblings = this.subdirs(parent)
          .map((s) => path.join(parent, s))
          .filter((s) => s !== dir)
          .reduce((a, s) => a + rt(s), 0)
        if (siblings + want > rt(parent)) throw Object.assign(new Error('EINVAL'), { code: 'EINVAL' })
      }
      const children = this.subdirs(dir).reduce((a, s) => a + rt(path.join(dir, s)), 0)
      if (want < children) throw Object.assign(new Error('EINVAL'), { code: 'EINVAL' })
    }
    if (base === 'cgroup.procs') {
      const cur = fs.readFileSync(file, 'utf8')
      fs.writeFileSync(file, cur + data + '\n')
      return
    }
    fs.writeFileSync(file, data)
  }

  exists(file: string): boolean {
    return fs.existsSync(file)
  }

  mkdir(dir: string): void {
    fs.mkdirSync(dir)
    const m = this.mountOf(dir)
    if (!m) return
    if (m.kind === 'v1') {
      this.populate(dir, { 'cgroup.procs': '', ...this.v1Files(this.v1.get(m.mp)!) })
      return
    }
    const enabled = fs
      .readFileSync(path.join(path.dirname(dir), 'cgroup.subtree_control'), 'utf8')
      .split(/\s+/)
      .filter(Boolean)
    const files: Record<string, string> = { ...V2_FILES['']!, 'cgroup.controllers': enabled.join(' ') }
    for (const c of enabled) Object.assign(files, V2_FILES[c] ?? {})
    this.populate(dir, files)
  }

  rmdir(dir: string): void {
    if (!fs.existsSync(dir)) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' })
    if (this.subdirs(dir).length) throw Object.assign(new Error('EBUSY'), { code: 'EBUSY' })
    const procs = path.join(dir, 'cgroup.procs')
    if (fs.existsSync(procs) && fs.readFileSync(procs, 'utf8').trim()) throw Object.assign(new Error('EBUSY'), { code: 'EBUSY' })
    fs.rmSync(dir, { recursive: true })
  }

  subdirs(dir: string): string[] {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
  }
}

const ROOT_VALUES: Record<string, Record<string, string>> = {
  cpuset: { 'cpuset.cpus': '0-3', 'cpuset.mems': '0' },
  cpu: { 'cpu.rt_runtime_us': '950000' },
}

export const CONTROLLERS = [
  'cpu',
  'cpuacct',
  'cpuset',
  'memory',
  'devices',
  'freezer',
  'pids',
  'blkio',
  'hugetlb',
  'net_cls',
  'net_prio',
  'rdma',
  'name=systemd',
]

/** A v1 (or hybrid) host whose hierarchies are mounted under `root`, one per controller. */
export function v1Host(root: string, opts: { hybrid?: boolean; controllers?: string[] } = {}) {
  const k = new FakeKernel(root)
  const v1 = (opts.controllers ?? CONTROLLERS).map((c) => ({
    controllers: [c],
    mountPoint: k.mountV1(c.replace('name=', ''), [c], ROOT_VALUES[c] ?? {}),
    root: '/',
  }))
  const host: HostCgroups = { mode: opts.hybrid ? 'hybrid' : 'v1', v1, own: [{ id: 0, controllers: [], path: '/' }] }
  if (opts.hybrid) host.unified = { mountPoint: k.mountV2('unified', []), root: '/' }
  return { k, host }
}

export const V2_CONTROLLERS = ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma']

/** A unified (v2) host: cgroup2 mounted at root/cg offering `controllers`. */
export function v2Host(root: string, controllers = V2_CONTROLLERS) {
  const k = new FakeKernel(root)
  const mp = k.mountV2('cg', controllers)
  const host: HostCgroups = {
    mode: 'v2',
    v1: [],
    unified: { mountPoint: mp, root: '/' },
    own: [{ id: 0, controllers: [], path: '/user.slice/session.scope' }],
  }
  return { k, host, mp }
}

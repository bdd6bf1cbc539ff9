// Parse /proc/<pid>/mountinfo and /proc/<pid>/cgroup text. Pure.

export type MountInfo = {
  id: number
  parent: number
  major: number
  minor: number
  root: string
  mountPoint: string
  options: string
  optional: string[]
  fsType: string
  source: string
  superOptions: string
}

/** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
}

export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = []
  for (const line of text.split('\n')) {
    if (!line) continue
    const f = line.split(' ')
    const sep = f.indexOf('-', 6)
    if (sep < 0 || f.length < sep + 3) continue
    const [major, minor] = (f[2] ?? '0:0').split(':').map(Number)
    out.push({
      id: Number(f[0]),
      parent: Number(f[1]),
      major: major ?? 0,
      minor: minor ?? 0,
      root: unescape(f[3] ?? ''),
      mountPoint: unescape(f[4] ?? ''),
      options: f[5] ?? '',
      optional: f.slice(6, sep),
      fsType: f[sep + 1] ?? '',
      source: unescape(f[sep + 2] ?? ''),
      superOptions: f[sep + 3] ?? '',
    })
  }
  return out
}

/** The mount a path lies on: the last-mounted entry whose mount point is its longest prefix. */
export function mountOf(mounts: MountInfo[], p: string): MountInfo | undefined {
  let best: MountInfo | undefined
  for (const m of mounts) {
    const mp = m.mountPoint
    const under = mp === '/' || p === mp || p.startsWith(mp + '/')
    if (!under) continue
    if (!best || mp.length >= best.mountPoint.length) best = m
  }
  return best
}

/**
 * The mount on top at exactly `mountPoint`: of those mounted there, the one no other is
 * stacked on (a mount stacked at the same point has the one below as its parent).
 */
export function topMountAt(mounts: MountInfo[], mountPoint: string): MountInfo | undefined {
  const here = mounts.filter((m) => m.mountPoint === mountPoint)
  const parents = new Set(here.map((m) => m.parent))
  return here.filter((m) => !parents.has(m.id)).at(-1)
}

/**
 * The host's full procfs and sysfs mounts (the filesystem's root mounted, outside `rootfs`),
 * in mountinfo order. Under --no-pivot they stay in the container's mount namespace, and the
 * kernel lets a new procfs or sysfs be mounted (in a user namespace the container makes) only
 * when such a full, uncovered mount is visible: they are hidden before the chroot, as runc's
 * msMoveRoot does.
 */
export function fullPseudoMounts(mounts: MountInfo[], rootfs: string): string[] {
  const root = rootfs.replace(/\/+$/, '') || '/'
  const inside = (p: string) => root === '/' || p === root || p.startsWith(root + '/')
  return mounts
    .filter((m) => m.root === '/' && (m.fsType === 'proc' || m.fsType === 'sysfs') && !inside(m.mountPoint))
    .map((m) => m.mountPoint)
}

export type CgroupEntry = { id: number; controllers: string[]; path: string }

/** /proc/<pid>/cgroup: "4:memory:/a/b" lines; the v2 entry is "0::/path". */
export function parseProcCgroup(text: string): CgroupEntry[] {
  const out: CgroupEntry[] = []
  for (const line of text.split('\n')) {
    if (!line) continue
    const a = line.indexOf(':')
    const b = line.indexOf(':', a + 1)
    if (a < 0 || b < 0) continue
    const ctrl = line.slice(a + 1, b)
    out.push({ id: Number(line.slice(0, a)), controllers: ctrl ? ctrl.split(',') : [], path: line.slice(b + 1) })
  }
  return out
}

// The config.json that `runt spec` writes: runc's template (libcontainer/specconv/example.go,
// current main) with our hostname and ociVersion, and runc's ToRootless conversion.
// Pure: host facts (euid, egid, cgroup v2) arrive as options; nothing here reads the host.

import type { Mount, Spec } from './schema.js'

/** The runtime-spec version runt implements, written as ociVersion and reported by --version. */
export const OCI_VERSION = '1.3.0'

export type DefaultSpecOptions = {
  /**
   * runc adds a cgroup namespace only on a cgroup v2 (unified) host; pass the host fact.
   * Default true.
   */
  cgroupNamespace?: boolean
} & ({ rootless?: false } | { rootless: true; euid: number; egid: number })

const CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']

/** runc's `spec` template. Key order follows specs-go, so JSON output matches runc's. */
export function defaultSpec(opts: DefaultSpecOptions = {}): Spec {
  const spec: Spec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      // runc 1.1 also filled `ambient`; current runc leaves it out (ambient caps would survive
      // execve into non-root programs), and so do we.
      capabilities: { bounding: [...CAPS], effective: [...CAPS], permitted: [...CAPS] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runt',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      {
        destination: '/dev/shm',
        type: 'tmpfs',
        source: 'shm',
        options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
      },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      {
        destination: '/sys/fs/cgroup',
        type: 'cgroup',
        source: 'cgroup',
        options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
      },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/sys/firmware',
        '/proc/scsi',
        '/sys/devices/virtual/tpm',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  }
  if (opts.cgroupNamespace ?? true) spec.linux!.namespaces!.push({ type: 'cgroup' })
  return opts.rootless ? toRootless(spec, { euid: opts.euid, egid: opts.egid }) : spec
}

/**
 * runc's ToRootless, as a pure function returning a new Spec: a user namespace mapping only the
 * caller's euid/egid to root, no network namespace (an unprivileged user cannot configure one),
 * /sys bind-mounted read-only (sysfs cannot be mounted without owning the network namespace),
 * no uid=/gid= mount options (those ids are not mapped), and no cgroup resources.
 */
export function toRootless(spec: Spec, ids: { euid: number; egid: number }): Spec {
  const out: Spec = structuredClone(spec)
  const linux = (out.linux ??= {})
  linux.namespaces = [...(linux.namespaces ?? []).filter((ns) => ns.type !== 'network' && ns.type !== 'user'), { type: 'user' }]
  // Rebuild `linux` so uidMappings/gidMappings come first, as specs-go orders them.
  const { uidMappings: _u, gidMappings: _g, resources: _r, ...rest } = linux
  out.linux = {
    uidMappings: [{ containerID: 0, hostID: ids.euid, size: 1 }],
    gidMappings: [{ containerID: 0, hostID: ids.egid, size: 1 }],
    ...rest,
  }
  if (out.mounts) out.mounts = out.mounts.map(rootlessMount)
  return out
}

function rootlessMount(m: Mount): Mount {
  if (cleanPath(m.destination) === '/sys') {
    return { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
  }
  if (m.options === undefined) return m
  const options = m.options.filter((o) => !o.startsWith('gid=') && !o.startsWith('uid='))
  // runc leaves a nil slice (omitted from JSON) when every option was removed.
  const { options: _o, ...rest } = m
  return options.length > 0 ? { ...rest, options } : rest
}

/** filepath.Clean for the cases that matter here: duplicate and trailing slashes, "." parts. */
function cleanPath(p: string): string {
  const parts: string[] = []
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue
    if (seg === '..') parts.pop()
    else parts.push(seg)
  }
  return (p.startsWith('/') ? '/' : '') + parts.join('/')
}

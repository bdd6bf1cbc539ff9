// Hostile-input campaign against dist/runt (and runc beside it, when installed): a seeded
// generator mutates a busybox bundle's config.json, `run` takes each, and every outcome is
// classed: accepted, clear refusal, crash (a stack trace, "internal error", a signal), hang
// (no exit within the timeout), leftovers (state, processes, mounts, cgroups) and host writes
// (a file outside the bundle changed). Run as root:
//
//   scripts/fuzz [--count N] [--seed S] [--timeout MS] [--runt PATH] [--runc PATH|--no-runc]
//                [--json FILE] [--show N] [--save DIR]   (DIR gets the configs that were not fine)
//
// Exit status 1 when runt crashed, hung, left something or wrote to the host. The same seed
// gives the same configs. test/priv/fuzz.ts runs a CI-sized campaign; docs/hostile-input.md
// says how to run the long one and what it found.

import { spawnSync, execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' }

function options(argv) {
  const o = {
    count: 300,
    seed: 1,
    timeout: 20000,
    runt: path.join(ROOT, 'dist/runt'),
    runc: which('runc'),
    json: '',
    show: 5,
    save: '',
  }
  for (let i = 0; i < argv.length; i++) {
    const [k, v] = [argv[i], argv[i + 1]]
    if (k === '--count') o.count = Number(v)
    else if (k === '--seed') o.seed = Number(v)
    else if (k === '--timeout') o.timeout = Number(v)
    else if (k === '--runt') o.runt = path.resolve(v)
    else if (k === '--runc') o.runc = v
    else if (k === '--no-runc') {
      o.runc = undefined
      continue
    } else if (k === '--json') o.json = v
    else if (k === '--show') o.show = Number(v)
    else if (k === '--save') o.save = path.resolve(v)
    else {
      console.error(`unknown option ${k}`)
      process.exit(2)
    }
    i++
  }
  return o
}

function which(cmd) {
  for (const d of ENV.PATH.split(':')) if (fs.existsSync(path.join(d, cmd))) return path.join(d, cmd)
  return undefined
}

/** mulberry32: small, seeded, the same sequence everywhere. */
function rng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// ---------------------------------------------------------------------------------------------
// Mutations. Each takes the config and the random source and changes one thing. None makes a
// config that legitimately writes to the host (no hook runs a program of ours, no bind of a
// host directory writable by the container): a host write is always a runtime defect.

const VICTIM = '/tmp/runt-fuzz-victim'

const weird = (r) => {
  const values = [
    null,
    -1,
    0,
    1.5,
    2 ** 31,
    2 ** 32,
    4294967295,
    2 ** 53,
    1e300,
    '',
    'x',
    '../../../../..' + VICTIM + '/w',
    '/proc/self/fd/3',
    'a'.repeat(5000),
    '\0',
    '\u00e9\ud83d\ude00',
    true,
    [],
    {},
    [1, 'x', null],
    { a: { b: { c: [] } } },
  ]
  return values[Math.floor(r() * values.length)]
}

const pick = (r, xs) => xs[Math.floor(r() * xs.length)]

/** Paths of fields to overwrite, as arrays of keys. */
const FIELDS = [
  ['ociVersion'],
  ['hostname'],
  ['domainname'],
  ['root', 'path'],
  ['root', 'readonly'],
  ['process', 'args'],
  ['process', 'args', 0],
  ['process', 'env'],
  ['process', 'env', 0],
  ['process', 'cwd'],
  ['process', 'user', 'uid'],
  ['process', 'user', 'gid'],
  ['process', 'user', 'umask'],
  ['process', 'user', 'additionalGids'],
  ['process', 'terminal'],
  ['process', 'capabilities', 'bounding'],
  ['process', 'capabilities', 'ambient'],
  ['process', 'rlimits'],
  ['process', 'rlimits', 0, 'soft'],
  ['process', 'rlimits', 0, 'type'],
  ['process', 'noNewPrivileges'],
  ['process', 'oomScoreAdj'],
  ['process', 'apparmorProfile'],
  ['process', 'scheduler'],
  ['process', 'ioPriority'],
  ['mounts'],
  ['mounts', 0, 'destination'],
  ['mounts', 0, 'type'],
  ['mounts', 0, 'source'],
  ['mounts', 0, 'options'],
  ['mounts', 1, 'options'],
  ['linux', 'namespaces'],
  ['linux', 'namespaces', 0, 'type'],
  ['linux', 'namespaces', 0, 'path'],
  ['linux', 'maskedPaths'],
  ['linux', 'maskedPaths', 0],
  ['linux', 'readonlyPaths', 0],
  ['linux', 'uidMappings'],
  ['linux', 'devices'],
  ['linux', 'sysctl'],
  ['linux', 'resources'],
  ['linux', 'resources', 'memory'],
  ['linux', 'resources', 'pids'],
  ['linux', 'resources', 'devices'],
  ['linux', 'seccomp'],
  ['linux', 'cgroupsPath'],
  ['linux', 'rootfsPropagation'],
  ['linux', 'mountLabel'],
  ['linux', 'personality'],
  ['annotations'],
  ['hooks'],
]

function setAt(obj, keys, value) {
  let o = obj
  for (const k of keys.slice(0, -1)) {
    if (typeof o[k] !== 'object' || o[k] === null) o[k] = typeof keys[keys.indexOf(k) + 1] === 'number' ? [] : {}
    o = o[k]
  }
  o[keys.at(-1)] = value
}

function deleteAt(obj, keys) {
  let o = obj
  for (const k of keys.slice(0, -1)) {
    if (typeof o[k] !== 'object' || o[k] === null) return
    o = o[k]
  }
  delete o[keys.at(-1)]
}

const MUTATIONS = {
  'set a field to an odd value': (c, r) => setAt(c, pick(r, FIELDS), weird(r)),
  'delete a field': (c, r) => deleteAt(c, pick(r, FIELDS)),
  'repeat a namespace': (c, r) => {
    const n = Math.floor(r() * 2000) + 2
    c.linux.namespaces = [...c.linux.namespaces, ...Array.from({ length: n }, () => ({ type: 'pid' }))]
  },
  'a sysctl key that walks out': (c, r) => {
    c.linux.sysctl = { [pick(r, ['net/../../..', 'net/ipv4/../../../..', '/', 'net.ipv4.//..']) + VICTIM + '/sysctl']: '1' }
  },
  'a mount destination that walks out': (c, r) => {
    c.mounts.push({
      destination: pick(r, ['../../../..' + VICTIM, '/../..' + VICTIM, '/proc/../..' + VICTIM]),
      type: 'tmpfs',
      source: 'tmpfs',
    })
  },
  'a mount of an odd type': (c, r) => {
    c.mounts.push({
      destination: '/mnt',
      type: pick(r, ['proc', 'sysfs', 'cgroup', 'mqueue', 'bind', 'nosuchfs', 'devpts']),
      source: pick(r, ['none', '/', '/proc', VICTIM]),
      options: pick(r, [[], ['ro'], ['rbind'], ['bogus'], ['size=1x']]),
    })
  },
  'odd mount options': (c, r) => {
    c.mounts[0].options = Array.from({ length: Math.floor(r() * 5) + 1 }, () =>
      pick(r, [
        'nosuid',
        'rw',
        'ro',
        'rbind',
        'shared',
        'rprivate',
        'idmap',
        'x-unknown',
        'size=',
        'mode=7777',
        '',
        'a'.repeat(3000),
      ]),
    )
  },
  'a device': (c, r) => {
    c.linux.devices = [
      {
        type: pick(r, ['c', 'b', 'p', 'u', 'x']),
        path: pick(r, ['/dev/fuzz', '/dev/null', '../../..' + VICTIM + '/dev', '/dev/../..' + VICTIM]),
        major: pick(r, [1, 0, -1, 2 ** 33]),
        minor: pick(r, [3, 0, -5]),
      },
    ]
  },
  'an id out of range': (c, r) => {
    c.process.user = {
      uid: pick(r, [4294967295, 2147483648, -1, 1000]),
      gid: pick(r, [4294967295, 0, 1000]),
      additionalGids: pick(r, [[], [4294967295], [1, 2, 3]]),
    }
  },
  'odd environment': (c, r) => {
    c.process.env.push(pick(r, ['NOEQUALS', '=value', 'A\0B=c', 'A=b\0c', 'X='.padEnd(100000, 'x')]))
  },
  'a memory limit': (c, r) => {
    c.linux.resources = { memory: { limit: pick(r, [1, 4096, 1 << 20, -1, 0, 2 ** 62]) } }
  },
  'a pids limit': (c, r) => {
    c.linux.resources = { pids: { limit: pick(r, [1, 0, -1, 2 ** 40]) } }
  },
  // Issue 19: quotas of a few percent make runt's init very slow; kept at 20% or more here.
  'a cpu quota': (c, r) => {
    c.linux.resources = { cpu: { quota: pick(r, [20000, 50000, -1]), period: pick(r, [100000, 1000, 0]) } }
  },
  rlimits: (c, r) => {
    c.process.rlimits = [
      {
        type: pick(r, ['RLIMIT_NOFILE', 'RLIMIT_NPROC', 'RLIMIT_BOGUS']),
        soft: pick(r, [0, 1, 1024, 2 ** 64]),
        hard: pick(r, [0, 1, 1024, 2 ** 64]),
      },
    ]
  },
  capabilities: (c, r) => {
    c.process.capabilities = {
      bounding: pick(r, [[], ['CAP_SYS_ADMIN'], ['CAP_BOGUS'], ['cap_kill']]),
      ambient: pick(r, [['CAP_KILL'], ['CAP_SYS_ADMIN'], []]),
    }
  },
  'a seccomp profile': (c, r) => {
    c.linux.seccomp = {
      defaultAction: pick(r, ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_BOGUS']),
      syscalls: [
        {
          names: pick(r, [['mkdir'], ['nosuchcall'], []]),
          action: pick(r, ['SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_NOTIFY']),
          args: pick(r, [undefined, [{ index: 9, value: 1, op: 'SCMP_CMP_EQ' }]]),
        },
      ],
    }
  },
  'a namespace to join': (c, r) => {
    c.linux.namespaces = [
      ...c.linux.namespaces.filter((n) => n.type !== 'network'),
      { type: 'network', path: pick(r, ['/proc/1/ns/net', '/nonexistent', '/proc/self/ns/pid', VICTIM, 'relative']) },
    ]
  },
  'a user namespace': (c, r) => {
    c.linux.namespaces.push({ type: 'user' })
    c.linux.uidMappings = pick(r, [
      [{ containerID: 0, hostID: 100000, size: 65536 }],
      [],
      [{ containerID: 0, hostID: 0, size: 4294967295 }],
    ])
    c.linux.gidMappings = pick(r, [[{ containerID: 0, hostID: 100000, size: 65536 }], []])
  },
  'a hook that cannot run': (c, r) => {
    c.hooks = {
      [pick(r, ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'])]: [
        { path: pick(r, ['/nonexistent', 'relative', VICTIM]), timeout: pick(r, [1, 0, -1]) },
      ],
    }
  },
  'nest very deep': (c, r) => {
    // Spliced in as text: Node's own JSON.stringify recurses.
    c.__deep = pick(r, [100, 5000, 10000, 10001, 50000])
  },
}

function mutate(base, r) {
  const c = structuredClone(base)
  const applied = []
  const names = Object.keys(MUTATIONS)
  for (let i = 0, n = 1 + Math.floor(r() * 3); i < n; i++) {
    const name = pick(r, names)
    try {
      MUTATIONS[name](c, r)
    } catch {
      /* the mutation did not fit this config (an earlier one removed what it edits) */
    }
    applied.push(name)
  }
  const n = c.__deep
  delete c.__deep
  let text = JSON.stringify(c)
  if (n) text = text.replace(/}$/, `,"x-deeper":${'['.repeat(n)}${']'.repeat(n)}}`)
  return { text, applied }
}

// ---------------------------------------------------------------------------------------------
// Running and classing.

function victimSnapshot() {
  if (!fs.existsSync(VICTIM)) return ''
  return fs
    .readdirSync(VICTIM, { recursive: true })
    .map((f) => {
      const p = path.join(VICTIM, String(f))
      const st = fs.lstatSync(p)
      return `${f}:${st.size}:${st.mtimeMs}`
    })
    .sort()
    .join('\n')
}

function cgroupDirs(id) {
  const out = []
  for (const h of fs.readdirSync('/sys/fs/cgroup')) {
    for (const d of [path.join('/sys/fs/cgroup', h, 'runt', id), path.join('/sys/fs/cgroup', h, 'fuzz', id)])
      if (fs.existsSync(d)) out.push(d)
  }
  return out
}

function mountsOf(dir) {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(dir))
}

function runOne(bin, root, bundle, id, timeout) {
  const err = path.join(os.tmpdir(), `runt-fuzz-err-${process.pid}`)
  const fd = fs.openSync(err, 'w+')
  const r = spawnSync(bin, ['--root', root, 'run', '--bundle', bundle, id], {
    env: ENV,
    stdio: ['ignore', 'ignore', fd],
    timeout,
    killSignal: 'SIGKILL',
  })
  fs.closeSync(fd)
  const stderr = fs.readFileSync(err, 'utf8')
  fs.rmSync(err, { force: true })
  return { status: r.status, signal: r.signal, timedOut: r.error?.code === 'ETIMEDOUT', stderr }
}

/** One outcome class, and what was left behind. */
function classify(r, left) {
  if (r.timedOut) return 'hang'
  if (/\n\s+at |internal error|Maximum call stack|panic:|SIGSEGV|Segmentation fault|Aborted/.test(r.stderr) || r.signal)
    return 'crash'
  if (left.length) return 'leftovers'
  // `run` exits with the container's status: a process that ran and failed (under a
  // seccomp profile that denies everything, say) is an accepted config. runt's refusals are
  // log records on stderr.
  if (r.status === 0 || !r.stderr.trim()) return 'accepted'
  return /level=error/.test(r.stderr) ? 'clear refusal' : 'crash'
}

function campaign(name, bin, o, base, work) {
  const root = path.join(work, `root-${name}`)
  const counts = { accepted: 0, 'clear refusal': 0, crash: 0, hang: 0, leftovers: 0, 'host writes': 0 }
  const examples = {}
  const r = rng(o.seed)
  for (let i = 0; i < o.count; i++) {
    const { text, applied } = mutate(base.config, r)
    const bundle = path.join(work, `bundle-${name}`)
    fs.writeFileSync(path.join(bundle, 'config.json'), text)
    const id = `fuzz-${process.pid}-${i}`
    const before = victimSnapshot()
    const res = runOne(bin, root, bundle, id, o.timeout)
    const left = []
    for (const e of fs.existsSync(root) ? fs.readdirSync(root) : []) left.push(`state ${e}`)
    for (const d of cgroupDirs(id)) left.push(`cgroup ${d}`)
    for (const m of mountsOf(bundle)) left.push(`mount ${m.split(' ')[4]}`)
    let cls = classify(res, left)
    if (victimSnapshot() !== before) {
      cls = 'host writes'
      left.push(`host files changed in ${VICTIM}`)
    }
    counts[cls]++
    if (cls !== 'accepted' && cls !== 'clear refusal') {
      if (o.save) {
        fs.mkdirSync(o.save, { recursive: true })
        fs.writeFileSync(path.join(o.save, `${name}-${i}.json`), text)
      }
      ;(examples[cls] ??= []).push({ i, applied, stderr: res.stderr.trim().split('\n').pop()?.slice(0, 300), left })
    }
    // Whatever it left, clean it for the next one (and count only once).
    spawnSync(bin, ['--root', root, 'delete', '--force', id], { env: ENV, stdio: 'ignore', timeout: 10000 })
    for (const d of cgroupDirs(id)) fs.rmSync(d, { recursive: false, force: true })
  }
  return { counts, examples }
}

const o = options(process.argv.slice(2))
if (process.getuid() !== 0) {
  console.error('scripts/fuzz runs containers: run it as root')
  process.exit(2)
}
if (!fs.existsSync(o.runt)) {
  console.error(`no ${o.runt}: npm run build`)
  process.exit(2)
}
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-fuzz-'))
fs.mkdirSync(VICTIM, { recursive: true })
fs.writeFileSync(path.join(VICTIM, 'canary'), 'untouched\n')
try {
  const baseDir = path.join(work, 'base')
  execFileSync(path.join(ROOT, 'scripts/make-bundle.sh'), [baseDir, 'true'], { env: { ...ENV, RUNT: o.runt }, stdio: 'ignore' })
  const base = { config: JSON.parse(fs.readFileSync(path.join(baseDir, 'config.json'), 'utf8')) }
  const names = o.runc ? ['runt', 'runc'] : ['runt']
  const results = {}
  for (const n of names) {
    const bundle = path.join(work, `bundle-${n}`)
    fs.mkdirSync(bundle)
    execFileSync('cp', ['-a', path.join(baseDir, 'rootfs'), path.join(bundle, 'rootfs')])
    const t0 = Date.now()
    results[n] = campaign(n, n === 'runt' ? o.runt : o.runc, o, base, work)
    results[n].seconds = (Date.now() - t0) / 1000
  }
  console.log(`${o.count} configs, seed ${o.seed}, timeout ${o.timeout} ms`)
  const classes = Object.keys(results.runt.counts)
  console.log(`| class | ${names.join(' | ')} |`)
  console.log(`|---|${names.map(() => '---').join('|')}|`)
  for (const c of classes) console.log(`| ${c} | ${names.map((n) => results[n].counts[c]).join(' | ')} |`)
  console.log(`| seconds | ${names.map((n) => results[n].seconds.toFixed(0)).join(' | ')} |`)
  for (const [cls, xs] of Object.entries(results.runt.examples)) {
    console.log(`\nrunt ${cls} (first ${Math.min(o.show, xs.length)} of ${xs.length}):`)
    for (const x of xs.slice(0, o.show)) console.log(`  #${x.i} [${x.applied.join('; ')}] ${x.stderr ?? ''} ${x.left.join(', ')}`)
  }
  if (o.json) fs.writeFileSync(o.json, JSON.stringify(results, null, 2))
  const bad = ['crash', 'hang', 'leftovers', 'host writes'].reduce((s, c) => s + results.runt.counts[c], 0)
  process.exitCode = bad ? 1 : 0
} finally {
  fs.rmSync(work, { recursive: true, force: true })
  fs.rmSync(VICTIM, { recursive: true, force: true })
}

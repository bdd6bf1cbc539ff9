import t from 'tap'
import { SpecError } from '../../../src/errors.js'
import type { Spec } from '../../../src/spec/schema.js'
import { RULES, assertValidSpec, validateProcess, validateSpec } from '../../../src/spec/validate.js'

/** A valid spec in the shape `runc spec` writes, trimmed; each test breaks one thing. */
const base = (): Spec => ({
  ociVersion: '1.3.0',
  process: {
    user: { uid: 0, gid: 0 },
    args: ['sh'],
    cwd: '/',
    rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
  },
  root: { path: 'rootfs', readonly: true },
  hostname: 'runt',
  mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
  linux: {
    namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
    maskedPaths: ['/proc/kcore'],
    readonlyPaths: ['/proc/sys'],
  },
})

const errorsOf = (mutate: (s: Spec) => void) => {
  const s = base()
  mutate(s)
  return validateSpec(s).errors
}

const ns = (s: Spec) => s.linux!.namespaces!

t.test('the base spec is valid', async (t) => {
  t.same(validateSpec(base()), { errors: [], warnings: [] })
})

t.test('root is required, with a path', async (t) => {
  t.same(
    errorsOf((s) => delete s.root),
    [{ path: 'root', message: 'required' }],
  )
  t.same(
    errorsOf((s) => (s.root!.path = '')),
    [{ path: 'root.path', message: 'must not be empty' }],
  )
})

t.test('process cwd and args', async (t) => {
  t.same(
    errorsOf((s) => (s.process!.cwd = 'srv')),
    [{ path: 'process.cwd', message: 'must be an absolute path' }],
  )
  t.same(
    errorsOf((s) => (s.process!.cwd = '')),
    [{ path: 'process.cwd', message: 'must not be empty' }],
  )
  t.same(
    errorsOf((s) => (s.process!.args = [])),
    [{ path: 'process.args', message: 'must not be empty' }],
  )
  t.same(
    errorsOf((s) => delete s.process!.args),
    [{ path: 'process.args', message: 'must not be empty' }],
  )
  t.same(
    errorsOf((s) => delete s.process),
    [],
    'no process, nothing to check (create needs none)',
  )
})

t.test('rlimits: duplicated type, soft above hard', async (t) => {
  t.same(
    errorsOf((s) =>
      s.process!.rlimits!.push({ type: 'RLIMIT_CORE', hard: 0, soft: 0 }, { type: 'RLIMIT_NOFILE', hard: 1, soft: 1 }),
    ),
    [{ path: 'process.rlimits[2].type', message: 'duplicated rlimit "RLIMIT_NOFILE"' }],
  )
  t.same(
    errorsOf((s) => (s.process!.rlimits![0]!.soft = 2048)),
    [{ path: 'process.rlimits[0].soft', message: 'must not exceed hard' }],
  )
  t.same(
    errorsOf((s) => (s.process!.rlimits = [{ type: 'RLIMIT_CORE', hard: 2 ** 64, soft: 2 ** 64 }])),
    [],
  )
})

t.test('namespaces: duplicates and relative paths', async (t) => {
  t.same(
    errorsOf((s) => ns(s).push({ type: 'pid' })),
    [{ path: 'linux.namespaces[5].type', message: 'duplicated ns "pid"' }],
  )
  t.same(
    errorsOf((s) => ns(s).push({ type: 'uts', path: '/proc/1/ns/uts' })),
    [{ path: 'linux.namespaces[5].type', message: 'duplicated ns "uts"' }],
  )
  t.same(
    errorsOf((s) => (ns(s)[1]!.path = 'run/netns/x')),
    [{ path: 'linux.namespaces[1].path', message: 'must be an absolute path' }],
  )
  t.same(
    errorsOf((s) => (ns(s)[1]!.path = '/run/netns/x')),
    [],
  )
})

t.test('hostname and domainname need a UTS namespace', async (t) => {
  const noUts = (s: Spec) => (s.linux!.namespaces = ns(s).filter((n) => n.type !== 'uts'))
  t.same(
    errorsOf((s) => noUts(s)),
    [{ path: 'hostname', message: 'unable to set hostname without a private UTS namespace' }],
  )
  t.same(
    errorsOf((s) => {
      noUts(s)
      delete s.hostname
      s.domainname = 'example.org'
    }),
    [{ path: 'domainname', message: 'unable to set domainname without a private UTS namespace' }],
  )
  t.same(
    errorsOf((s) => {
      noUts(s)
      s.hostname = ''
    }),
    [],
    'an empty hostname sets nothing',
  )
  t.same(
    errorsOf((s) => (ns(s)[3]!.path = '/proc/1/ns/uts')),
    [],
    'a joined UTS namespace is fine, as in runc',
  )
})

t.test('uid/gid mappings and the user namespace', async (t) => {
  const map = [{ containerID: 0, hostID: 1000, size: 1 }]
  t.same(
    errorsOf((s) => {
      s.linux!.uidMappings = map
      s.linux!.gidMappings = map
    }),
    [
      { path: 'linux.uidMappings', message: "user namespace mappings specified, but user namespace isn't enabled in the config" },
      { path: 'linux.gidMappings', message: "user namespace mappings specified, but user namespace isn't enabled in the config" },
    ],
  )
  t.same(
    errorsOf((s) => ns(s).push({ type: 'user' })),
    [
      { path: 'linux.uidMappings', message: 'user namespace enabled, but no uid mappings specified' },
      { path: 'linux.gidMappings', message: 'user namespace enabled, but no gid mappings specified' },
    ],
  )
  t.same(
    errorsOf((s) => {
      ns(s).push({ type: 'user' })
      s.linux!.uidMappings = map
    }),
    [{ path: 'linux.gidMappings', message: 'user namespace enabled, but no gid mappings specified' }],
  )
  t.same(
    errorsOf((s) => ns(s).push({ type: 'user', path: '/proc/42/ns/user' })),
    [],
    'a joined user namespace brings its maps',
  )
  t.same(
    errorsOf((s) => {
      ns(s).push({ type: 'user' })
      s.linux!.uidMappings = map
      s.linux!.gidMappings = map
    }),
    [],
  )
})

t.test('time offsets need a new time namespace', async (t) => {
  const offsets = { monotonic: { secs: 10 } }
  t.same(
    errorsOf((s) => (s.linux!.timeOffsets = offsets)),
    [{ path: 'linux.timeOffsets', message: "time namespace offsets specified, but time namespace isn't enabled in the config" }],
  )
  t.same(
    errorsOf((s) => {
      s.linux!.timeOffsets = offsets
      ns(s).push({ type: 'time', path: '/proc/9/ns/time' })
    }),
    [{ path: 'linux.timeOffsets', message: 'time namespace offsets cannot be applied to a joined time namespace' }],
  )
  t.same(
    errorsOf((s) => {
      s.linux!.timeOffsets = offsets
      ns(s).push({ type: 'time' })
    }),
    [],
  )
})

t.test('masked and read-only paths: absolute, and only with a mount namespace', async (t) => {
  t.same(
    errorsOf((s) => (s.linux!.maskedPaths = ['/proc/kcore', 'proc/keys'])),
    [{ path: 'linux.maskedPaths[1]', message: 'must be an absolute path' }],
  )
  t.same(
    errorsOf((s) => (s.linux!.readonlyPaths = ['sys'])),
    [{ path: 'linux.readonlyPaths[0]', message: 'must be an absolute path' }],
  )
  t.same(
    errorsOf((s) => (s.linux!.namespaces = ns(s).filter((n) => n.type !== 'mount'))),
    [
      { path: 'linux.maskedPaths', message: 'unable to restrict sys entries without a private MNT namespace' },
      { path: 'linux.readonlyPaths', message: 'unable to restrict sys entries without a private MNT namespace' },
    ],
  )
})

t.test("no mount namespace: the runtime's is shared, but not with a user namespace", async (t) => {
  const noMount = (s: Spec) => {
    s.linux!.namespaces = ns(s).filter((n) => n.type !== 'mount')
    s.linux!.maskedPaths = []
    s.linux!.readonlyPaths = []
  }
  t.same(errorsOf(noMount), [], 'allowed (runc runs it)')
  t.same(
    errorsOf((s) => {
      s.linux!.namespaces = []
      delete s.hostname
    }),
    [
      { path: 'linux.maskedPaths', message: 'unable to restrict sys entries without a private MNT namespace' },
      { path: 'linux.readonlyPaths', message: 'unable to restrict sys entries without a private MNT namespace' },
    ],
    'no namespaces at all: only the masks are refused',
  )
  t.same(
    errorsOf((s) => {
      noMount(s)
      s.linux!.namespaces!.push({ type: 'user' })
      s.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]
      s.linux!.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]
    }),
    [
      {
        path: 'linux.namespaces',
        message: "a user namespace needs a mount namespace of its own: it has no privilege over the runtime's",
      },
    ],
  )
})

t.test('network devices need a network namespace', async (t) => {
  const noNet = (s: Spec) => (s.linux!.namespaces = ns(s).filter((n) => n.type !== 'network'))
  t.same(
    errorsOf((s) => {
      noNet(s)
      s.linux!.netDevices = { eth1: {} }
    }),
    [{ path: 'linux.netDevices', message: 'unable to move network devices without a private network namespace' }],
  )
  t.same(
    errorsOf((s) => (s.linux!.netDevices = { eth1: { name: 'ctr0' } })),
    [],
  )
  t.same(
    errorsOf((s) => {
      noNet(s)
      s.linux!.netDevices = {}
    }),
    [],
  )
})

t.test('network device names: the kernel rules, one %d in a new name, no two alike inside', async (t) => {
  const of = (devs: Record<string, { name?: string }>) => errorsOf((s) => (s.linux!.netDevices = devs))
  t.same(of({ eth1: { name: 'ctr0' }, eth2: {}, eth3: { name: 'c%d' }, eth4: { name: 'c%d' }, eth5: { name: '' } }), [])
  t.same(of({ 'a-15-byte-name1': { name: '123456789012345' } }), [], '15 bytes is the most')
  t.same(of({ '1234567890123456': {} }), [
    { path: 'linux.netDevices.1234567890123456', message: 'invalid network device name "1234567890123456"' },
  ])
  t.same(
    of({ eth1: { name: '..' }, eth2: { name: 'a/b' }, eth3: { name: 'a:b' }, eth4: { name: 'a b' }, eth5: { name: 'a%s' } }).map(
      (e) => e.path,
    ),
    [
      'linux.netDevices.eth1.name',
      'linux.netDevices.eth2.name',
      'linux.netDevices.eth3.name',
      'linux.netDevices.eth4.name',
      'linux.netDevices.eth5.name',
    ],
  )
  t.same(of({ eth1: { name: 'c%d%d' } }), [
    { path: 'linux.netDevices.eth1.name', message: 'invalid network device name "c%d%d"' },
  ])
  t.same(of({ 'e%d': {} }), [{ path: 'linux.netDevices.e%d', message: 'invalid network device name "e%d"' }])
  t.same(of({ eth1: { name: 'x' }, eth2: { name: 'x' } }), [
    { path: 'linux.netDevices.eth2.name', message: 'x is also the name of linux.netDevices.eth1 in the container' },
  ])
  t.same(of({ eth1: {}, eth2: { name: 'eth1' } }), [
    { path: 'linux.netDevices.eth2.name', message: 'eth1 is also the name of linux.netDevices.eth1 in the container' },
  ])
  t.same(of({ eth1: { name: 'eth2' }, eth2: {} }), [
    { path: 'linux.netDevices.eth2', message: 'eth2 is also the name of linux.netDevices.eth1 in the container' },
  ])
})

t.test('scheduler fields the policy does not use', async (t) => {
  t.same(
    errorsOf((s) => (s.process!.scheduler = { policy: 'SCHED_OTHER', nice: 20 })),
    [{ path: 'process.scheduler.nice', message: 'expected integer from -20 to 19, got 20' }],
  )
  t.same(
    errorsOf((s) => (s.process!.scheduler = { policy: 'SCHED_BATCH', priority: 10 })),
    [{ path: 'process.scheduler.priority', message: 'can only be set for SCHED_FIFO or SCHED_RR' }],
  )
  t.same(
    errorsOf((s) => (s.process!.scheduler = { policy: 'SCHED_RR', priority: 10, nice: -20 })),
    [],
  )
  t.same(
    errorsOf((s) => (s.process!.scheduler = { policy: 'SCHED_FIFO', runtime: 1, period: 2 })),
    [
      { path: 'process.scheduler.runtime', message: 'can only be set for SCHED_DEADLINE' },
      { path: 'process.scheduler.period', message: 'can only be set for SCHED_DEADLINE' },
    ],
  )
  t.same(
    errorsOf((s) => (s.process!.scheduler = { policy: 'SCHED_DEADLINE', runtime: 1, deadline: 2, period: 2 })),
    [],
  )
})

t.test('hook paths are absolute', async (t) => {
  t.same(
    errorsOf((s) => (s.hooks = { prestart: [{ path: '/bin/a' }], poststop: [{ path: '/bin/b' }, { path: 'hook' }] })),
    [{ path: 'hooks.poststop[1].path', message: 'must be an absolute path' }],
  )
})

t.test('a relative mount destination is only a warning', async (t) => {
  const s = base()
  s.mounts!.push({ destination: 'tmp', type: 'tmpfs', source: 'tmpfs' })
  t.same(validateSpec(s), {
    errors: [],
    warnings: ['mounts[1].destination: relative destination "tmp" is deprecated, using it as relative to /'],
  })
})

t.test('devices', async (t) => {
  t.same(
    errorsOf((s) => (s.linux!.devices = [{ type: 'c', path: '/dev/fuse', major: 10 }])),
    [{ path: 'linux.devices[0].minor', message: 'required for device type "c"' }],
  )
  t.same(
    errorsOf((s) => (s.linux!.devices = [{ type: 'b', path: 'dev/sda' }])),
    [
      { path: 'linux.devices[0].path', message: 'must be an absolute path' },
      { path: 'linux.devices[0].major', message: 'required for device type "b"' },
      { path: 'linux.devices[0].minor', message: 'required for device type "b"' },
    ],
  )
  t.same(
    errorsOf((s) => (s.linux!.devices = [{ type: 'p', path: '/run/fifo' }])),
    [],
    'a fifo has no numbers',
  )
})

t.test('blockIO weightDevice and rdma entries need a value', async (t) => {
  t.same(
    errorsOf(
      (s) =>
        (s.linux!.resources = {
          blockIO: {
            weightDevice: [
              { major: 8, minor: 0, weight: 10 },
              { major: 8, minor: 16 },
            ],
          },
        }),
    ),
    [{ path: 'linux.resources.blockIO.weightDevice[1]', message: 'must set weight or leafWeight' }],
  )
  t.same(
    errorsOf((s) => (s.linux!.resources = { rdma: { mlx5_1: {}, mlx4_0: { hcaObjects: 1 } } })),
    [{ path: 'linux.resources.rdma["mlx5_1"]', message: 'must set hcaHandles or hcaObjects' }],
  )
})

t.test('intelRdt', async (t) => {
  for (const closID of ['.', '..', 'a/b']) {
    t.same(
      errorsOf((s) => (s.linux!.intelRdt = { closID })),
      [{ path: 'linux.intelRdt.closID', message: 'must be a plain name (no "/", not "." or "..") or "/"' }],
      closID,
    )
  }
  t.same(
    errorsOf((s) => (s.linux!.intelRdt = { closID: '/' })),
    [],
    'runtime-spec 1.3: "/" is the default CLOS',
  )
  t.same(
    errorsOf((s) => (s.linux!.intelRdt = { schemata: ['L3:0=f', 'MB:0=20\nL2:0=f'] })),
    [{ path: 'linux.intelRdt.schemata[1]', message: 'must not contain a newline' }],
  )
  t.same(
    errorsOf((s) => (s.linux!.intelRdt = { memBwSchema: 'L3:0=1' })),
    [{ path: 'linux.intelRdt.memBwSchema', message: 'must start with "MB:" and be a single line' }],
  )
  t.same(
    errorsOf((s) => (s.linux!.intelRdt = { memBwSchema: 'MB:0=20\nMB:1=20' })),
    [{ path: 'linux.intelRdt.memBwSchema', message: 'must start with "MB:" and be a single line' }],
  )
  t.same(
    errorsOf((s) => (s.linux!.intelRdt = { closID: 'gold', memBwSchema: 'MB:0=20;1=70' })),
    [],
  )
})

t.test('seccomp', async (t) => {
  t.same(
    errorsOf((s) => (s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 1 })),
    [{ path: 'linux.seccomp.defaultErrnoRet', message: 'only valid with defaultAction SCMP_ACT_ERRNO or SCMP_ACT_TRACE' }],
  )
  t.same(
    errorsOf((s) => (s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38 })),
    [],
  )
  t.same(
    errorsOf((s) => (s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerMetadata: 'x' })),
    [{ path: 'linux.seccomp.listenerMetadata', message: 'must not be set without listenerPath' }],
  )
  t.same(
    errorsOf((s) => (s.linux!.seccomp = { defaultAction: 'SCMP_ACT_NOTIFY' })),
    [{ path: 'linux.seccomp.defaultAction', message: 'SCMP_ACT_NOTIFY requires linux.seccomp.listenerPath' }],
  )
  t.same(
    errorsOf(
      (s) =>
        (s.linux!.seccomp = {
          defaultAction: 'SCMP_ACT_ALLOW',
          syscalls: [
            { names: ['ptrace'], action: 'SCMP_ACT_KILL', errnoRet: 1 },
            { names: ['mknod'], action: 'SCMP_ACT_NOTIFY' },
            { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] },
          ],
        }),
    ),
    [
      { path: 'linux.seccomp.syscalls[0].errnoRet', message: 'only valid with action SCMP_ACT_ERRNO or SCMP_ACT_TRACE' },
      { path: 'linux.seccomp.syscalls[1].action', message: 'SCMP_ACT_NOTIFY requires linux.seccomp.listenerPath' },
      { path: 'linux.seccomp.syscalls[2].args[0].index', message: 'expected integer from 0 to 5, got 6' },
    ],
  )
  t.same(
    errorsOf(
      (s) =>
        (s.linux!.seccomp = {
          defaultAction: 'SCMP_ACT_ALLOW',
          listenerPath: '/run/agent.sock',
          listenerMetadata: 'm',
          syscalls: [{ names: ['mknod'], action: 'SCMP_ACT_NOTIFY' }],
        }),
    ),
    [],
  )
})

t.test('errors are reported together, in rule order', async (t) => {
  const got = errorsOf((s) => {
    delete s.root
    s.process!.cwd = 'x'
    ns(s).push({ type: 'pid' })
  })
  t.same(got, [
    { path: 'root', message: 'required' },
    { path: 'process.cwd', message: 'must be an absolute path' },
    { path: 'linux.namespaces[5].type', message: 'duplicated ns "pid"' },
  ])
  t.ok(Object.keys(RULES).length >= 15, 'rules are small and named')
})

t.test('assertValidSpec throws SpecError, or returns the warnings', async (t) => {
  const bad = base()
  bad.process!.cwd = 'x'
  t.throws(() => assertValidSpec(bad), new SpecError([{ path: 'process.cwd', message: 'must be an absolute path' }]))
  try {
    assertValidSpec(bad)
  } catch (err) {
    t.ok(err instanceof SpecError)
    t.equal((err as Error).message, 'invalid config.json: process.cwd: must be an absolute path')
  }
  const warn = base()
  warn.mounts![0]!.destination = 'proc'
  t.same(assertValidSpec(warn), ['mounts[0].destination: relative destination "proc" is deprecated, using it as relative to /'])
})

t.test('validation does not mutate the spec', async (t) => {
  const s = base()
  s.mounts!.push({ destination: 'tmp' })
  const before = structuredClone(s)
  validateSpec(s)
  t.strictSame(s, before)
})

t.test('validateProcess checks an exec process.json with paths relative to it', async (t) => {
  t.same(validateProcess({ user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/' }), { errors: [], warnings: [] })
  t.same(
    validateProcess({
      user: { uid: 0, gid: 0 },
      cwd: 'tmp',
      rlimits: [
        { type: 'RLIMIT_NPROC', hard: 1, soft: 1 },
        { type: 'RLIMIT_NPROC', hard: 1, soft: 2 },
      ],
      scheduler: { policy: 'SCHED_OTHER', priority: 1 },
    }).errors,
    [
      { path: 'cwd', message: 'must be an absolute path' },
      { path: 'args', message: 'must not be empty' },
      { path: 'rlimits[1].type', message: 'duplicated rlimit "RLIMIT_NPROC"' },
      { path: 'rlimits[1].soft', message: 'must not exceed hard' },
      { path: 'scheduler.priority', message: 'can only be set for SCHED_FIFO or SCHED_RR' },
    ],
  )
})

t.test('env entries as runc takes them: NAME=VALUE, no empty name, no NUL', async (t) => {
  const s = (env: string[]) => errorsOf((x) => (x.process!.env = env))
  t.same(s(['A=1', 'B=', 'C=x=y']), [])
  t.same(s(['PATH']), [{ path: 'process.env[0]', message: "invalid environment variable: missing '='" }])
  t.same(s(['=x']), [{ path: 'process.env[0]', message: 'invalid environment variable: name cannot be empty' }])
  t.same(s(['A\0B=1']), [
    { path: 'process.env[0]', message: 'invalid environment variable "A\\u0000B": name contains nul byte (\\x00)' },
  ])
  t.same(s(['A=1', 'B=x\0y']), [
    { path: 'process.env[1]', message: 'invalid environment variable "B": value contains nul byte (\\x00)' },
  ])
})

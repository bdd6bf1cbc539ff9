import t from 'tap'
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  NAMESPACE_TYPES,
  SECCOMP_ACTIONS,
  formatPath,
  formatZodIssues,
  int64ToBigInt,
  jsonKind,
  specSchema,
  specSchemas,
  documentSchema,
  uint64ToBigInt,
  type ZodIssueLike,
} from '../../../src/spec/schema.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.resolve(here, '../../..')
const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(repo, 'spec-fixtures', name), 'utf8'))
const requireCache = () => Object.keys(createRequire(import.meta.url).cache)
const zodLoaded = () => requireCache().some((k) => k.includes(`${path.sep}node_modules${path.sep}zod${path.sep}`))

/** A minimal valid config.json to mutate. */
const base = () => ({
  ociVersion: '1.3.0',
  process: { user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/' },
  root: { path: 'rootfs' },
  linux: { namespaces: [{ type: 'mount' }] },
})

/** Parse and return formatted issues ([] when valid). */
const issuesOf = (json: unknown) => {
  const r = specSchema().safeParse(json, { reportInput: true })
  return r.success ? [] : formatZodIssues(r.error.issues)
}

const set = (obj: any, dotted: string, value: unknown) => {
  const keys = dotted.split('.')
  let o = obj
  for (const k of keys.slice(0, -1)) o = o[k] ??= {}
  o[keys[keys.length - 1]!] = value
  return obj
}

t.test('importing schema.ts does not load zod; the first specSchemas() call does', async (t) => {
  // This must run before any other test builds the schemas.
  t.notOk(zodLoaded(), 'zod not loaded by import')
  const src = fs.readFileSync(path.join(repo, 'src/spec/schema.ts'), 'utf8')
  t.notMatch(src, /^import\s+(?!type\b)[^\n]*from\s+'zod'/m, 'no value import of zod')
  const a = specSchemas()
  t.ok(zodLoaded(), 'zod loaded on demand')
  t.equal(specSchemas(), a, 'built once and cached')
  t.equal(specSchema(), a.spec)
})

t.test('exec and update build only their part, the same schemas create uses', async (t) => {
  const a = specSchemas()
  t.equal(documentSchema('process'), a.process, 'process.json: the process part of config.json')
  t.equal(documentSchema('resources'), a.resources, 'update -r: the resources part of config.json')
  t.equal(documentSchema('spec'), a.spec)
  // Shared leaves: one schema object for every optional string, in every part.
  t.equal(a.process.shape.cwd, a.root.shape.path, 'required strings share one schema')
  t.equal(a.process.shape.apparmorProfile, a.namespace.shape.path, 'optional strings share one schema')
})

t.test('enumerations the spec fixes', async (t) => {
  t.same([...NAMESPACE_TYPES], ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'])
  t.ok(SECCOMP_ACTIONS.includes('SCMP_ACT_NOTIFY'))
  t.equal(SECCOMP_ACTIONS.length, 9)
})

t.test('valid fixtures parse, and a fully known config parses to itself', async (t) => {
  for (const name of ['runc-spec.json', 'runc-spec-rootless.json', 'podman.json', 'containerd.json', 'full.json']) {
    t.same(issuesOf(fixture(`valid/${name}`)), [], name)
  }
  const runc = fixture('valid/runc-spec.json')
  t.strictSame(specSchema().parse(runc), runc)
  const podman = fixture('valid/podman.json')
  t.strictSame(specSchema().parse(podman), podman)
})

t.test('full.json uses every field of the schema', async (t) => {
  // Walk the zod definitions: every object key reachable from the root, with [] for array
  // items and {} for record values. Then collect the same paths from full.json.
  const def = (s: any) => s._zod.def
  const schemaPaths = (s: any, at: string, out: Set<string>) => {
    const d = def(s)
    switch (d.type) {
      case 'optional':
        return schemaPaths(d.innerType, at, out)
      case 'array':
        return schemaPaths(d.element, `${at}[]`, out)
      case 'record':
        return schemaPaths(d.valueType, `${at}{}`, out)
      case 'object':
        for (const [k, v] of Object.entries(d.shape)) {
          out.add(`${at}.${k}`)
          schemaPaths(v, `${at}.${k}`, out)
        }
    }
  }
  const dataPaths = (s: any, v: any, at: string, out: Set<string>) => {
    const d = def(s)
    if (v === undefined) return
    switch (d.type) {
      case 'optional':
        return dataPaths(d.innerType, v, at, out)
      case 'array':
        for (const x of v) dataPaths(d.element, x, `${at}[]`, out)
        return
      case 'record':
        for (const x of Object.values(v)) dataPaths(d.valueType, x, `${at}{}`, out)
        return
      case 'object':
        for (const [k, sub] of Object.entries(d.shape)) {
          if (k in v) {
            out.add(`${at}.${k}`)
            dataPaths(sub, v[k], `${at}.${k}`, out)
          }
        }
    }
  }
  const want = new Set<string>()
  schemaPaths(specSchema(), '', want)
  const have = new Set<string>()
  dataPaths(specSchema(), fixture('valid/full.json'), '', have)
  t.ok(want.size > 150, `schema has many fields (${want.size})`)
  t.same(
    [...want].filter((p) => !have.has(p)),
    [],
    'fields missing from full.json',
  )
})

t.test('unknown properties are dropped at every level', async (t) => {
  const json = fixture('valid/unknown-properties.json')
  const spec = specSchema().parse(json) as any
  t.notOk('x-generator' in spec)
  t.notOk('windows' in spec)
  t.notOk('x-user-note' in spec.process.user)
  t.notOk('x-why' in spec.process.rlimits[0])
  t.notOk('x-future-controller' in spec.linux.resources)
  t.notOk('x-pids' in spec.linux.resources.pids)
  t.notOk('futureField' in spec.linux)
  t.same(spec.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }])
})

t.test('integers are integers within their C range', async (t) => {
  const cases: [string, unknown, string | null][] = [
    ['process.user.uid', 2147483647, null],
    // (uid_t)-1 is "no change" to setresuid: the process would keep root. runc's range.
    ['process.user.uid', 4294967295, 'uids and gids must be in range 0-2147483647, got 4294967295'],
    ['process.user.gid', 4294967295, 'uids and gids must be in range 0-2147483647, got 4294967295'],
    ['process.user.uid', 2147483648, 'uids and gids must be in range 0-2147483647, got 2147483648'],
    ['process.user.uid', -1, 'uids and gids must be in range 0-2147483647, got -1'],
    ['process.user.additionalGids', [5, 4294967295], 'uids and gids must be in range 0-2147483647, got 4294967295'],
    ['process.user.gid', 1.5, 'expected integer, got 1.5'],
    ['process.user.gid', '0', 'expected integer, got string'],
    ['process.user.umask', 18, null],
    ['process.oomScoreAdj', -1000, null],
    ['process.oomScoreAdj', 1000, null],
    ['process.oomScoreAdj', -1001, 'expected integer from -1000 to 1000, got -1001'],
    ['process.ioPriority', { class: 'IOPRIO_CLASS_RT', priority: 8 }, 'expected integer from 0 to 7, got 8'],
    [
      'process.scheduler',
      { policy: 'SCHED_OTHER', nice: 2147483648 },
      'expected int32 (-2147483648 to 2147483647), got 2147483648',
    ],
    ['process.rlimits', [{ type: 'RLIMIT_CORE', hard: 18446744073709551615, soft: 0 }], null],
    [
      'process.rlimits',
      [{ type: 'RLIMIT_CORE', hard: 2 ** 65, soft: 0 }],
      'expected uint64 (0 to 18446744073709551615), got 36893488147419103232',
    ],
    ['process.rlimits', [{ type: 'RLIMIT_CORE', hard: -1, soft: 0 }], 'expected uint64 (0 to 18446744073709551615), got -1'],
    ['linux.resources.memory.limit', -1, null],
    ['linux.resources.memory.limit', 9223372036854775807, null],
    ['linux.resources.memory.limit', -9223372036854775808, null],
    [
      'linux.resources.memory.limit',
      2 ** 64,
      'expected int64 (-9223372036854775808 to 9223372036854775807), got 18446744073709551616',
    ],
    [
      'linux.resources.memory.limit',
      1e300,
      'expected int64 (-9223372036854775808 to 9223372036854775807), got ' + BigInt(1e300).toString(),
    ],
    ['linux.resources.blockIO.weight', 65535, null],
    ['linux.resources.blockIO.weight', 65536, 'expected uint16 (0 to 65535), got 65536'],
    ['linux.devices', [{ type: 'c', path: '/dev/x', major: -1, minor: 2 ** 40 }], null],
    ['linux.devices', [{ type: 'c', path: '/dev/x', major: 1, minor: 1, fileMode: 0.5 }], 'expected integer, got 0.5'],
  ]
  for (const [field, value, message] of cases) {
    const got = issuesOf(set(base(), field, value))
    if (message === null) t.same(got, [], `${field} = ${JSON.stringify(value)} accepted`)
    else t.equal(got[0]?.message, message, `${field} = ${JSON.stringify(value)}`)
  }
  t.same(issuesOf(set(base(), 'hooks', { poststop: [{ path: '/x', timeout: 0 }] })), [
    { path: 'hooks.poststop[0].timeout', message: 'expected integer from 1 to 2147483647, got 0' },
  ])
})

t.test('values beyond 2^53 map to exact C values', async (t) => {
  t.equal(uint64ToBigInt(18446744073709551615), 18446744073709551615n)
  t.equal(uint64ToBigInt(2 ** 53 + 2), 9007199254740994n)
  t.equal(uint64ToBigInt(0), 0n)
  t.equal(int64ToBigInt(9223372036854775807), 9223372036854775807n)
  t.equal(int64ToBigInt(-9223372036854775808), -9223372036854775808n)
  t.equal(int64ToBigInt(-1), -1n)
  const full = specSchema().parse(fixture('valid/full.json'))
  t.equal(uint64ToBigInt(full.process!.rlimits![1]!.hard), 18446744073709551615n)
  t.equal(int64ToBigInt(full.linux!.resources!.memory!.limit!), 9223372036854775807n)
})

t.test('enumerations are checked', async (t) => {
  const cases: [string, unknown, string, string][] = [
    [
      'linux.namespaces',
      [{ type: 'net' }],
      'linux.namespaces[0].type',
      'expected one of pid, network, mount, ipc, uts, user, cgroup, time',
    ],
    [
      'linux.rootfsPropagation',
      'bogus',
      'linux.rootfsPropagation',
      'expected one of private, shared, slave, unbindable, rprivate, rshared, rslave, runbindable',
    ],
    ['linux.devices', [{ type: 'x', path: '/dev/x' }], 'linux.devices[0].type', 'expected one of c, b, u, p'],
    ['linux.personality', { domain: 'LINUX64' }, 'linux.personality.domain', 'expected one of LINUX, LINUX32'],
    [
      'linux.memoryPolicy',
      { mode: 'MPOL_X' },
      'linux.memoryPolicy.mode',
      'expected one of MPOL_DEFAULT, MPOL_BIND, MPOL_INTERLEAVE, MPOL_WEIGHTED_INTERLEAVE, MPOL_PREFERRED, MPOL_PREFERRED_MANY, MPOL_LOCAL',
    ],
    [
      'linux.memoryPolicy',
      { mode: 'MPOL_BIND', flags: ['MPOL_F_X'] },
      'linux.memoryPolicy.flags[0]',
      'expected one of MPOL_F_NUMA_BALANCING, MPOL_F_RELATIVE_NODES, MPOL_F_STATIC_NODES',
    ],
    [
      'process.ioPriority',
      { class: 'IOPRIO_CLASS_NONE', priority: 0 },
      'process.ioPriority.class',
      'expected one of IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE',
    ],
    [
      'process.scheduler',
      { policy: 'SCHED_NORMAL' },
      'process.scheduler.policy',
      'expected one of SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_ISO, SCHED_IDLE, SCHED_DEADLINE',
    ],
    [
      'linux.seccomp',
      { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_VAX'] },
      'linux.seccomp.architectures[0]',
      'expected one of ' +
        'SCMP_ARCH_X86, SCMP_ARCH_X86_64, SCMP_ARCH_X32, SCMP_ARCH_ARM, SCMP_ARCH_AARCH64, SCMP_ARCH_MIPS, SCMP_ARCH_MIPS64, SCMP_ARCH_MIPS64N32, SCMP_ARCH_MIPSEL, SCMP_ARCH_MIPSEL64, SCMP_ARCH_MIPSEL64N32, SCMP_ARCH_PPC, SCMP_ARCH_PPC64, SCMP_ARCH_PPC64LE, SCMP_ARCH_S390, SCMP_ARCH_S390X, SCMP_ARCH_PARISC, SCMP_ARCH_PARISC64, SCMP_ARCH_RISCV64, SCMP_ARCH_LOONGARCH64, SCMP_ARCH_M68K, SCMP_ARCH_SH, SCMP_ARCH_SHEB',
    ],
    [
      'linux.seccomp',
      { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_X'] },
      'linux.seccomp.flags[0]',
      'expected one of SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
    ],
    [
      'linux.seccomp',
      {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['x'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_XX' }] }],
      },
      'linux.seccomp.syscalls[0].args[0].op',
      'expected one of SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ',
    ],
    [
      'process.rlimits',
      [{ type: 'RLIMIT_FOO', hard: 1, soft: 1 }],
      'process.rlimits[0].type',
      'expected one of RLIMIT_AS, RLIMIT_CORE, RLIMIT_CPU, RLIMIT_DATA, RLIMIT_FSIZE, RLIMIT_LOCKS, RLIMIT_MEMLOCK, RLIMIT_MSGQUEUE, RLIMIT_NICE, RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_RSS, RLIMIT_RTPRIO, RLIMIT_RTTIME, RLIMIT_SIGPENDING, RLIMIT_STACK',
    ],
    ['linux.resources.devices', [{ allow: true, type: 'u' }], 'linux.resources.devices[0].type', 'expected one of a, c, b'],
    [
      'linux.resources.devices',
      [{ allow: true, access: 'rwx' }],
      'linux.resources.devices[0].access',
      'expected a combination of r, w and m, got "rwx"',
    ],
    [
      'linux.timeOffsets',
      { realtime: { secs: 1 } },
      'linux.timeOffsets.realtime',
      'unknown clock, expected one of monotonic, boottime',
    ],
  ]
  for (const [field, value, at, message] of cases) {
    t.same(issuesOf(set(base(), field, value)), [{ path: at, message }], field)
  }
  t.same(issuesOf(set(base(), 'linux.rootfsPropagation', 'rshared')), [], 'recursive propagation accepted, as runc does')
  t.same(issuesOf(set(base(), 'linux.namespaces', [{ type: 'time' }])), [], 'time namespace type')
})

t.test('types and required fields', async (t) => {
  t.same(issuesOf({ ...base(), ociVersion: undefined }), [{ path: 'ociVersion', message: 'required' }])
  t.same(issuesOf(set(base(), 'process.args', 'sh')), [
    { path: 'process.args', message: 'expected array of strings, got string' },
  ])
  t.same(issuesOf(set(base(), 'process.args', ['sh', 1])), [{ path: 'process.args[1]', message: 'expected string, got number' }])
  t.same(issuesOf(set(base(), 'process.env', null)), [{ path: 'process.env', message: 'expected array of strings, got null' }])
  t.same(issuesOf(set(base(), 'mounts', [{ type: 'proc' }])), [{ path: 'mounts[0].destination', message: 'required' }])
  t.same(issuesOf(set(base(), 'mounts', {})), [{ path: 'mounts', message: 'expected array of objects, got object' }])
  t.same(issuesOf(set(base(), 'annotations', { 'io.x': true })), [
    { path: 'annotations["io.x"]', message: 'expected string, got boolean' },
  ])
  t.same(issuesOf(set(base(), 'linux.sysctl', ['a'])), [
    { path: 'linux.sysctl', message: 'expected object of strings, got array' },
  ])
  t.same(
    issuesOf(
      set(base(), 'linux.seccomp', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [], action: 'SCMP_ACT_ALLOW' }] }),
    ),
    [{ path: 'linux.seccomp.syscalls[0].names', message: 'must contain at least one syscall name' }],
  )
  t.same(issuesOf(set(base(), 'process.user', undefined)), [{ path: 'process.user', message: 'required' }])
  t.same(issuesOf(set(base(), 'root', 'rootfs')), [{ path: 'root', message: 'expected object, got string' }])
  t.same(issuesOf([]), [{ path: '', message: 'expected object, got array' }])
  t.same(issuesOf(set(base(), 'linux.intelRdt', { schemata: 3 })), [
    { path: 'linux.intelRdt.schemata', message: 'expected array of strings, got number' },
  ])
})

t.test('intelRdt.schemata accepts the 1.2 string form and splits it into lines', async (t) => {
  const spec = specSchema().parse(set(base(), 'linux.intelRdt', { schemata: 'L3:0=7f0\nMB:0=20\n' }))
  t.same(spec.linux!.intelRdt!.schemata, ['L3:0=7f0', 'MB:0=20'])
  const arr = specSchema().parse(set(base(), 'linux.intelRdt', { schemata: ['L3:0=7f0'] }))
  t.same(arr.linux!.intelRdt!.schemata, ['L3:0=7f0'])
})

t.test('formatPath', async (t) => {
  t.equal(formatPath([]), '')
  t.equal(formatPath(['linux', 'namespaces', 2, 'type']), 'linux.namespaces[2].type')
  t.equal(formatPath(['process', 'args']), 'process.args')
  t.equal(formatPath(['annotations', 'io.kubernetes.cri.sandbox-id']), 'annotations["io.kubernetes.cri.sandbox-id"]')
  t.equal(formatPath(['linux', 'resources', 'rdma', 'mlx5_1', 'hcaHandles']), 'linux.resources.rdma.mlx5_1.hcaHandles')
  t.equal(formatPath([0, 'x']), '[0].x')
  t.equal(formatPath(['a b']), '["a b"]')
})

t.test('formatZodIssues on hand-made issues', async (t) => {
  const iss = (o: Partial<ZodIssueLike>): ZodIssueLike => ({ code: 'custom', path: [], message: '', ...o })
  const cases: [ZodIssueLike, string][] = [
    [
      iss({ code: 'invalid_type', expected: 'string', message: 'Invalid input: expected string, received undefined' }),
      'required',
    ],
    [
      iss({ code: 'invalid_type', expected: 'string', message: 'Invalid input: expected string, received number', input: 5 }),
      'expected string, got number',
    ],
    [iss({ code: 'invalid_type', expected: 'record', message: 'Invalid input', input: [] }), 'expected object, got array'],
    [
      iss({ code: 'invalid_type', expected: 'array', message: 'expected array of strings', input: 'x' }),
      'expected array of strings, got string',
    ],
    [iss({ code: 'invalid_type', expected: 'object', message: 'Invalid input', input: null }), 'expected object, got null'],
    [
      iss({ code: 'invalid_value', values: ['a', 'b'], message: 'Invalid option: expected one of "a"|"b"', input: 'c' }),
      'expected one of a, b',
    ],
    [
      iss({ code: 'too_small', origin: 'array', minimum: 1, message: 'Too small: expected array to have >=1 items', input: [] }),
      'must contain at least 1 item(s)',
    ],
    [iss({ code: 'too_big', origin: 'number', maximum: 7, message: 'Too big', input: 9 }), 'must be at most 7'],
    [iss({ code: 'unrecognized_keys', keys: ['x', 'y'], message: 'Unrecognized keys' }), 'unknown key(s) "x", "y"'],
    [iss({ code: 'invalid_union', message: 'Invalid input', input: 5 }), 'invalid value'],
    [iss({ code: 'invalid_format', message: 'Invalid string: must match pattern', input: 'x' }), 'invalid format'],
    [iss({ code: 'custom', message: 'expected integer, got 1.5', input: 1.5 }), 'expected integer, got 1.5'],
    [iss({ code: 'not_multiple_of', message: 'Invalid number: must be a multiple of 2', input: 3 }), 'invalid value'],
  ]
  for (const [i, want] of cases) {
    const [got] = formatZodIssues([{ ...i, path: ['a', 0] }])
    t.same(got, { path: 'a[0]', message: want }, want)
    t.notMatch(got!.message, /Invalid|received|[A-Z]{2,}.*\|/, 'no zod wording')
  }
  t.equal(jsonKind(undefined), 'undefined')
  t.equal(jsonKind(1), 'number')
})

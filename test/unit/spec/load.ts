import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { RuntimeError, SpecError, type SpecIssue } from '../../../src/errors.js'
import {
  dropNulls,
  loadSpec,
  locateJsonError,
  jsonDepth,
  parseJsonText,
  parseLinuxResources,
  parseProcess,
  parseSpec,
  unknownKeys,
} from '../../../src/spec/load.js'
import { uint64ToBigInt } from '../../../src/spec/schema.js'
import { assertValidSpec } from '../../../src/spec/validate.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const fixtures = path.resolve(here, '../../../spec-fixtures')
const text = (name: string) => fs.readFileSync(path.join(fixtures, name), 'utf8')

/** A bundle directory holding `config` as config.json. */
const bundle = (t: { testdir: (fixture: Record<string, string>) => string }, config: string) =>
  t.testdir({ 'config.json': config })

/** Run what `create` runs (load, then cross-field rules) and return the SpecError issues. */
const issuesOf = (dir: string): { stage: string; issues: SpecIssue[] } => {
  let stage = 'load'
  try {
    const spec = loadSpec(dir)
    stage = 'validate'
    assertValidSpec(spec)
    return { stage: 'ok', issues: [] }
  } catch (err) {
    if (!(err instanceof SpecError)) throw err
    return { stage, issues: err.issues }
  }
}

/** The issues of the SpecError `fn` throws. */
const thrownIssues = (fn: () => unknown): SpecIssue[] | string => {
  try {
    fn()
    return 'did not throw'
  } catch (err) {
    return err instanceof SpecError ? err.issues : String(err)
  }
}

t.test('loads a bundle config.json', async (t) => {
  const dir = bundle(t, text('valid/runc-spec.json'))
  t.strictSame(loadSpec(dir), JSON.parse(text('valid/runc-spec.json')))
})

t.test('missing config.json gives runc text, not a SpecError', async (t) => {
  const dir = t.testdir({})
  t.throws(() => loadSpec(dir), new RuntimeError('JSON specification file config.json not found'))
  try {
    loadSpec(dir)
  } catch (err) {
    t.notOk(err instanceof SpecError)
    t.equal((err as Error).message, 'JSON specification file config.json not found')
  }
})

t.test('an unreadable config.json names the file and the reason', async (t) => {
  const dir = t.testdir({ 'config.json': {} })
  t.throws(() => loadSpec(dir), { message: `read ${path.join(dir, 'config.json')}: is a directory` })
})

t.test('invalid JSON names line and column', async (t) => {
  const dir = bundle(t, text('invalid/not-json.json'))
  t.throws(() => loadSpec(dir), {
    name: 'SpecError',
    message: 'invalid config.json: invalid JSON at line 5, column 2: trailing comma before "}"',
  })
  t.throws(() => parseJsonText(''), { message: 'invalid config.json: invalid JSON at line 1, column 1: unexpected end of input' })
})

t.test('a byte-order mark is refused, as runc refuses it', async (t) => {
  const dir = bundle(t, '\ufeff' + text('valid/runc-spec.json'))
  t.throws(() => loadSpec(dir), { message: /^invalid config.json: invalid JSON at line 1, column 1: a byte-order mark/ })
})

t.test("nesting up to runc's 10000 levels is accepted, deeper is refused, without recursion", async (t) => {
  const nest = (n: number) => '['.repeat(n) + ']'.repeat(n)
  t.equal(jsonDepth(parseJsonText(nest(10000))), 10000)
  t.throws(() => parseJsonText(nest(10001)), { message: /nested deeper than 10000 levels/ })
  t.throws(() => parseJsonText(`{"a": ${nest(200000)}}`), { message: /nested deeper than 10000 levels/ })
  t.equal(jsonDepth({ a: [1, { b: [] }], c: 'x' }), 4)
  t.equal(jsonDepth(3), 0)
})

t.test('locateJsonError', async (t) => {
  const cases: [string, [number, number, string] | undefined][] = [
    ['{"a": 1}', undefined],
    [' [1, 2.5e3, -0, true, false, null, "x\\u00e9\\n"] ', undefined],
    ['', [1, 1, 'unexpected end of input']],
    ['{', [1, 2, 'expected string key, got end of input']],
    ['{"a" 1}', [1, 6, 'expected \':\' after key, got "1"']],
    ['{"a": 1 "b": 2}', [1, 9, "expected ',' or '}', got \"\\\"\""]],
    ['[1,]', [1, 4, 'trailing comma before "]"']],
    ['[1 2]', [1, 4, "expected ',' or ']', got \"2\""]],
    ['{a: 1}', [1, 2, 'expected string key, got "a"']],
    ['{\n  "a": tru\n}', [2, 11, 'unexpected character "\\n"']],
    ['{"a": "x', [1, 7, 'unterminated string']],
    ['"a\tb"', [1, 3, 'control character in string']],
    ['"\\x"', [1, 2, 'invalid escape in string']],
    ['"\\u12G4"', [1, 2, 'invalid unicode escape']],
    ['-', [1, 1, 'invalid number']],
    ['01', [1, 2, 'unexpected data after the JSON value: "1"']],
    ['{} x', [1, 4, 'unexpected data after the JSON value: "x"']],
    ["{'a': 1}", [1, 2, 'expected string key, got "\'"']],
    ['[NaN]', [1, 2, 'unexpected character "N"']],
  ]
  for (const [src, want] of cases) {
    const got = locateJsonError(src)
    if (want === undefined) {
      t.equal(got, undefined, `valid: ${src}`)
      t.doesNotThrow(() => JSON.parse(src))
    } else {
      t.same(got && [got.line, got.column, got.reason], want, JSON.stringify(src))
      t.throws(() => JSON.parse(src), `JSON.parse agrees ${JSON.stringify(src)} is invalid`)
    }
  }
})

// Every file in spec-fixtures/invalid has its expected outcome here.
const INVALID: Record<string, { stage: 'load' | 'validate'; issues: SpecIssue[] }> = {
  'wrong-type-args.json': { stage: 'load', issues: [{ path: 'process.args', message: 'expected array of strings, got string' }] },
  'missing-root.json': { stage: 'validate', issues: [{ path: 'root', message: 'required' }] },
  'duplicate-namespace.json': {
    stage: 'validate',
    issues: [{ path: 'linux.namespaces[5].type', message: 'duplicated ns "pid"' }],
  },
  'hostname-without-uts.json': {
    stage: 'validate',
    issues: [{ path: 'hostname', message: 'unable to set hostname without a private UTS namespace' }],
  },
  'namespace-type.json': {
    stage: 'load',
    issues: [{ path: 'linux.namespaces[2].type', message: 'expected one of pid, network, mount, ipc, uts, user, cgroup, time' }],
  },
  'negative-uid.json': {
    stage: 'load',
    issues: [{ path: 'process.user.uid', message: 'uids and gids must be in range 0-2147483647, got -1' }],
  },
  'non-integer.json': { stage: 'load', issues: [{ path: 'process.rlimits[0].soft', message: 'expected integer, got 1024.5' }] },
  'relative-cwd.json': { stage: 'validate', issues: [{ path: 'process.cwd', message: 'must be an absolute path' }] },
  'seccomp-action.json': {
    stage: 'load',
    issues: [
      {
        path: 'linux.seccomp.syscalls[0].action',
        message:
          'expected one of SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_NOTIFY',
      },
    ],
  },
  'duplicate-rlimit.json': {
    stage: 'validate',
    issues: [{ path: 'process.rlimits[1].type', message: 'duplicated rlimit "RLIMIT_NOFILE"' }],
  },
  'userns-without-mappings.json': {
    stage: 'validate',
    issues: [
      { path: 'linux.uidMappings', message: 'user namespace enabled, but no uid mappings specified' },
      { path: 'linux.gidMappings', message: 'user namespace enabled, but no gid mappings specified' },
    ],
  },
  'mappings-without-userns.json': {
    stage: 'validate',
    issues: [
      { path: 'linux.uidMappings', message: "user namespace mappings specified, but user namespace isn't enabled in the config" },
    ],
  },
  'time-offsets-without-timens.json': {
    stage: 'validate',
    issues: [
      { path: 'linux.timeOffsets', message: "time namespace offsets specified, but time namespace isn't enabled in the config" },
    ],
  },
  'missing-oci-version.json': { stage: 'load', issues: [{ path: 'ociVersion', message: 'required' }] },
  'null-cwd.json': { stage: 'load', issues: [{ path: 'process.cwd', message: 'required' }] },
  'top-level-array.json': { stage: 'load', issues: [{ path: '', message: 'expected object, got array' }] },
  'not-json.json': {
    stage: 'load',
    issues: [{ path: '', message: 'invalid JSON at line 5, column 2: trailing comma before "}"' }],
  },
  'several-errors.json': {
    stage: 'load',
    issues: [
      { path: 'process.user.uid', message: 'expected integer, got string' },
      { path: 'mounts[0].destination', message: 'required' },
      { path: 'linux.sysctl["net.ipv4.ip_forward"]', message: 'expected string, got number' },
      { path: 'linux.resources.memory.limit', message: 'expected integer, got string' },
    ],
  },
}

t.test('invalid fixtures fail with the expected issues', async (t) => {
  const files = fs.readdirSync(path.join(fixtures, 'invalid')).sort()
  t.same(files, Object.keys(INVALID).sort(), 'every invalid fixture has an expectation')
  for (const [file, want] of Object.entries(INVALID)) {
    const got = issuesOf(bundle(t, text(`invalid/${file}`)))
    t.same(got, want, file)
  }
})

t.test('valid fixtures load and pass the cross-field rules', async (t) => {
  for (const file of fs.readdirSync(path.join(fixtures, 'valid'))) {
    t.same(issuesOf(bundle(t, text(`valid/${file}`))), { stage: 'ok', issues: [] }, file)
  }
})

t.test('SpecError text is one line of path: reason, without zod output', async (t) => {
  const dir = bundle(t, text('invalid/several-errors.json'))
  try {
    loadSpec(dir)
    t.fail('should throw')
  } catch (err) {
    t.ok(err instanceof SpecError)
    const msg = (err as Error).message
    t.equal(
      msg,
      'invalid config.json: process.user.uid: expected integer, got string; mounts[0].destination: required; ' +
        'linux.sysctl["net.ipv4.ip_forward"]: expected string, got number; linux.resources.memory.limit: expected integer, got string',
    )
    t.notMatch(msg, /\n|Invalid input|"code"/)
  }
})

t.test('unknown properties are dropped and reported', async (t) => {
  const dir = bundle(t, text('valid/unknown-properties.json'))
  let reported: string[] = []
  const spec = loadSpec(dir, { onUnknownKeys: (p) => (reported = p) })
  t.same(reported, [
    '["x-generator"]',
    'process.user["x-user-note"]',
    'process["x-process-extra"]',
    'process.rlimits[0]["x-why"]',
    'root["x-root"]',
    'mounts[0]["x-mount-comment"]',
    'linux.resources["x-future-controller"]',
    'linux.resources.pids["x-pids"]',
    'linux.futureField',
    'windows',
    'solaris',
    'vm',
  ])
  t.strictSame(spec, {
    ociVersion: '1.3.0',
    process: {
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      cwd: '/',
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'extra',
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
    linux: { namespaces: [{ type: 'pid' }, { type: 'uts' }, { type: 'mount' }], resources: { pids: { limit: 100 } } },
  })
  let called = false
  loadSpec(bundle(t, text('valid/runc-spec.json')), { onUnknownKeys: () => (called = true) })
  t.notOk(called, 'not called when nothing was dropped')
})

t.test('null properties count as absent, as with Go encoding/json', async (t) => {
  t.same(dropNulls({ a: null, b: [null, { c: null, d: 1 }], e: { f: null } }), { b: [null, { d: 1 }], e: {} })
  const spec = parseSpec({
    ociVersion: '1.3.0',
    process: null,
    linux: { resources: null, namespaces: [{ type: 'pid', path: null }] },
  })
  t.strictSame(spec, { ociVersion: '1.3.0', linux: { namespaces: [{ type: 'pid' }] } })
  t.same(
    thrownIssues(() => parseSpec({ ociVersion: '1.3.0', mounts: [null] })),
    [{ path: 'mounts[0]', message: 'expected object, got null' }],
  )
})

t.test('unknownKeys', async (t) => {
  t.same(unknownKeys({ a: 1, b: { c: 2, d: 3 }, e: [{ f: 1, g: 2 }] }, { a: 1, b: { c: 2 }, e: [{ f: 1 }] }), ['b.d', 'e[0].g'])
  t.same(unknownKeys({ s: 'a\nb' }, { s: ['a', 'b'] }), [], 'a transformed value is not a dropped key')
})

t.test('big integers survive as the nearest double', async (t) => {
  const spec = loadSpec(bundle(t, text('valid/full.json')))
  const core = spec.process!.rlimits!.find((r) => r.type === 'RLIMIT_CORE')!
  t.equal(core.hard, 2 ** 64)
  t.equal(uint64ToBigInt(core.hard), 18446744073709551615n)
  t.equal(spec.linux!.timeOffsets!.monotonic!.secs, -(2 ** 63))
})

t.test('parseProcess and parseLinuxResources', async (t) => {
  const p = parseProcess({ user: { uid: 1, gid: 2 }, args: ['ls'], cwd: '/', extra: true })
  t.strictSame(p, { user: { uid: 1, gid: 2 }, args: ['ls'], cwd: '/' })
  t.same(
    thrownIssues(() => parseProcess({ user: { uid: 1, gid: 2 }, args: ['ls'] })),
    [{ path: 'cwd', message: 'required' }],
  )
  t.strictSame(parseLinuxResources({ pids: { limit: 10 }, memory: { limit: -1 } }), {
    pids: { limit: 10 },
    memory: { limit: -1 },
  })
  t.same(
    thrownIssues(() => parseLinuxResources({ cpu: { shares: -2 } })),
    [{ path: 'cpu.shares', message: 'expected uint64 (0 to 18446744073709551615), got -2' }],
  )
})

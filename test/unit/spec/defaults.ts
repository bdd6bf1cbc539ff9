import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { OCI_VERSION, defaultSpec, toRootless, type DefaultSpecOptions } from '../../../src/spec/defaults.js'
import { parseSpec } from '../../../src/spec/load.js'
import type { Spec } from '../../../src/spec/schema.js'
import { validateSpec } from '../../../src/spec/validate.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const fixtureText = (name: string) => fs.readFileSync(path.resolve(here, '../../../spec-fixtures/valid', name), 'utf8')

/** runc writes MarshalIndent(spec, "", "\t") without a trailing newline. */
const asRunc = (v: unknown) => JSON.stringify(v, null, '\t')

/**
 * What `runc spec` printed here (runc 1.1.5, a cgroup v1 host) turned into what runt writes:
 * our ociVersion and hostname; no ambient capabilities and /sys/devices/virtual/tpm masked, as in
 * current runc's example.go; a cgroup namespace, which runc adds on cgroup v2 hosts.
 */
function fromRunc115(name: string, cgroupNamespace: boolean) {
  const s = JSON.parse(fixtureText(name))
  s.ociVersion = '1.3.0'
  s.hostname = 'runt'
  delete s.process.capabilities.ambient
  s.linux.maskedPaths.push('/sys/devices/virtual/tpm')
  if (cgroupNamespace) {
    const nss = s.linux.namespaces as { type: string }[]
    const user = nss.findIndex((n) => n.type === 'user')
    nss.splice(user === -1 ? nss.length : user, 0, { type: 'cgroup' })
  }
  return s
}

t.test('the runc fixtures are runc MarshalIndent output', async (t) => {
  for (const name of ['runc-spec.json', 'runc-spec-rootless.json']) {
    const text = fixtureText(name)
    t.equal(asRunc(JSON.parse(text)), text, name)
  }
})

t.test('OCI_VERSION', async (t) => {
  t.equal(OCI_VERSION, '1.3.0')
  t.equal(defaultSpec().ociVersion, OCI_VERSION)
})

t.test('defaultSpec matches runc spec, field for field and in key order', async (t) => {
  t.equal(asRunc(defaultSpec()), asRunc(fromRunc115('runc-spec.json', true)))
  t.equal(asRunc(defaultSpec({ rootless: false })), asRunc(fromRunc115('runc-spec.json', true)))
  t.equal(asRunc(defaultSpec({ cgroupNamespace: false })), asRunc(fromRunc115('runc-spec.json', false)))
})

t.test('defaultSpec --rootless matches runc spec --rootless', async (t) => {
  // The fixture was made as root, so runc mapped hostID 0.
  t.equal(asRunc(defaultSpec({ rootless: true, euid: 0, egid: 0 })), asRunc(fromRunc115('runc-spec-rootless.json', true)))
  t.equal(
    asRunc(defaultSpec({ rootless: true, euid: 0, egid: 0, cgroupNamespace: false })),
    asRunc(fromRunc115('runc-spec-rootless.json', false)),
  )
})

t.test('rootless maps the given euid and egid', async (t) => {
  const s = defaultSpec({ rootless: true, euid: 1000, egid: 1001 })
  t.same(s.linux!.uidMappings, [{ containerID: 0, hostID: 1000, size: 1 }])
  t.same(s.linux!.gidMappings, [{ containerID: 0, hostID: 1001, size: 1 }])
  t.same(
    s.linux!.namespaces!.map((n) => n.type),
    ['pid', 'ipc', 'uts', 'mount', 'cgroup', 'user'],
  )
  t.equal(s.linux!.resources, undefined)
  t.notOk('resources' in s.linux!)
  t.same(
    s.mounts!.find((m) => m.destination === '/sys'),
    {
      destination: '/sys',
      type: 'none',
      source: '/sys',
      options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
    },
  )
  t.same(s.mounts!.find((m) => m.destination === '/dev/pts')!.options, [
    'nosuid',
    'noexec',
    'newinstance',
    'ptmxmode=0666',
    'mode=0620',
  ])
})

t.test('an options flag computed at run time type-checks', async (t) => {
  const make = (rootless: boolean): DefaultSpecOptions => ({ rootless, euid: 1000, egid: 1000 })
  t.equal(defaultSpec(make(false)).linux!.uidMappings, undefined)
  t.ok(defaultSpec(make(true)).linux!.uidMappings)
})

t.test('the default specs are valid and survive parseSpec unchanged', async (t) => {
  const variants: DefaultSpecOptions[] = [{}, { cgroupNamespace: false }, { rootless: true, euid: 1000, egid: 1000 }]
  for (const opts of variants) {
    const s = defaultSpec(opts)
    t.strictSame(parseSpec(JSON.parse(JSON.stringify(s))), s, JSON.stringify(opts))
    t.same(validateSpec(s), { errors: [], warnings: [] }, JSON.stringify(opts))
  }
})

t.test('each call returns a fresh object', async (t) => {
  const a = defaultSpec()
  a.process!.args!.push('-c')
  a.linux!.maskedPaths!.length = 0
  a.process!.capabilities!.bounding!.pop()
  const b = defaultSpec()
  t.same(b.process!.args, ['sh'])
  t.equal(b.linux!.maskedPaths!.length, 11)
  t.equal(b.process!.capabilities!.bounding!.length, 3)
  t.not(b.process!.capabilities!.bounding, b.process!.capabilities!.effective)
})

t.test('toRootless on an arbitrary spec', async (t) => {
  const spec: Spec = {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    mounts: [
      { destination: '/sys/', type: 'sysfs', source: 'sysfs' },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['gid=5', 'uid=0'] },
      { destination: '/data', type: 'bind', source: '/srv', options: ['rbind', 'uid=1000'] },
      { destination: 'sys', type: 'sysfs', source: 'sysfs' },
    ],
    linux: {
      sysctl: { 'kernel.shmmax': '1' },
      resources: { pids: { limit: 10 } },
      namespaces: [{ type: 'user', path: '/proc/1/ns/user' }, { type: 'network', path: '/run/netns/x' }, { type: 'pid' }],
      uidMappings: [{ containerID: 0, hostID: 5, size: 10 }],
    },
  }
  const before = structuredClone(spec)
  const out = toRootless(spec, { euid: 1234, egid: 4321 })
  t.strictSame(spec, before, 'input untouched')
  t.strictSame(out, {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    mounts: [
      { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue' },
      { destination: '/data', type: 'bind', source: '/srv', options: ['rbind'] },
      { destination: 'sys', type: 'sysfs', source: 'sysfs' },
    ],
    linux: {
      uidMappings: [{ containerID: 0, hostID: 1234, size: 1 }],
      gidMappings: [{ containerID: 0, hostID: 4321, size: 1 }],
      sysctl: { 'kernel.shmmax': '1' },
      namespaces: [{ type: 'pid' }, { type: 'user' }],
    },
  })
  t.same(Object.keys(out.linux!), ['uidMappings', 'gidMappings', 'sysctl', 'namespaces'], 'specs-go key order')
  t.same(toRootless({ ociVersion: '1.3.0' }, { euid: 1, egid: 2 }).linux!.namespaces, [{ type: 'user' }])
})

import t from 'tap'
import { featuresDocument, type FeatureProbes } from '../../../src/ops/features.js'
import { parseMountOptions, knownOptions } from '../../../src/plan/mount-options.js'
import { CAP_NAMES, capBit } from '../../../src/confine/capabilities.js'
import { MPOL_FLAGS, MPOL_MODES } from '../../../src/spec/schema.js'

const probes = (over: Partial<FeatureProbes> = {}): FeatureProbes => ({
  libseccompVersion: () => '2.5.4',
  archKnown: (n) => n === 'x86_64' || n === 'x86',
  flagSupported: (f) => f !== 32,
  ...over,
})

t.test('shape of the features document', async (t) => {
  const d = featuresDocument(probes()) as Record<string, any>
  t.equal(d.ociVersionMin, '1.0.0')
  t.equal(d.ociVersionMax, '1.3.0')
  t.same(d.hooks, ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'])
  t.same(d.linux.namespaces, ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'])
  t.same(d.linux.seccomp.archs, ['SCMP_ARCH_X86', 'SCMP_ARCH_X86_64'], 'only what libseccomp knows')
  t.notOk(d.linux.seccomp.supportedFlags.includes('SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'), 'only what the kernel accepts')
  t.ok(d.linux.seccomp.knownFlags.includes('SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'))
  t.equal(d.annotations['io.github.seccomp.libseccomp.version'], '2.5.4')
  t.same(d.potentiallyUnsafeConfigAnnotations, [])
  t.equal(d.linux.mountExtensions.idmap.enabled, true)
})

t.test('the checkpoint annotation says what runt has: checkpoint and restore commands', async (t) => {
  const { COMMANDS } = await import('../../../src/cli/commands/index.js')
  const names = COMMANDS.map((c) => c.command.split(' ')[0])
  const d = featuresDocument(probes()) as Record<string, any>
  t.equal(d.annotations['org.opencontainers.runt.checkpoint.enabled'], 'true')
  t.ok(names.includes('checkpoint') && names.includes('restore'))
})

t.test('without libseccomp, seccomp is reported disabled', async (t) => {
  const d = featuresDocument(probes({ libseccompVersion: () => null })) as Record<string, any>
  t.same(d.linux.seccomp, { enabled: false })
  t.notOk('io.github.seccomp.libseccomp.version' in d.annotations)
})

t.test('every mount option listed is one runt acts on, never passed through as data', async (t) => {
  const d = featuresDocument(probes()) as Record<string, any>
  t.same(d.mountOptions, knownOptions())
  for (const o of d.mountOptions as string[]) t.same(parseMountOptions([o]).data, [], o)
})

t.test('every capability listed is known by name', async (t) => {
  const d = featuresDocument(probes()) as Record<string, any>
  t.same(d.linux.capabilities, [...CAP_NAMES])
  for (const c of d.linux.capabilities as string[]) t.ok(capBit(c) >= 0, c)
})

t.test('memory policy: every mode and flag of the spec, each with its kernel number', async (t) => {
  const d = featuresDocument(probes()) as Record<string, any>
  t.same([...d.linux.memoryPolicy.modes].sort(), [...MPOL_MODES].sort())
  t.same([...d.linux.memoryPolicy.flags].sort(), [...MPOL_FLAGS].sort())
})

t.test('intelRdt: what runt implements, whatever the host has (features-linux.md)', async (t) => {
  const d = featuresDocument(probes()) as Record<string, any>
  t.same(d.linux.intelRdt, { enabled: true, schemata: true, monitoring: true })
})

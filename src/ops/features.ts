// `runt features`: the runtime-spec features document (features.md, features-linux.md). Every
// list comes from the table runt itself acts on (mount options, capabilities, seccomp names),
// so the document cannot claim what runt does not do; kernel and libseccomp support are probed.

import { knownOptions } from '../plan/mount-options.js'
import { CAP_NAMES } from '../confine/capabilities.js'
import { NAMESPACE_TYPES, SECCOMP_ACTIONS, SECCOMP_ARCHES, SECCOMP_OPERATORS } from '../spec/schema.js'
import { archName, FILTER_FLAG } from '../confine/seccomp.js'
import { MPOL_FLAG, MPOL_MODE } from '../confine/mempolicy.js'
import { OCI_VERSION } from '../spec/defaults.js'
import { COMMIT, VERSION } from './version.js'

const HOOKS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']

/** The spec names of the seccomp filter flags runt passes to the kernel. */
const SECCOMP_FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: FILTER_FLAG.TSYNC,
  SECCOMP_FILTER_FLAG_LOG: FILTER_FLAG.LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: FILTER_FLAG.SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: FILTER_FLAG.WAIT_KILLABLE_RECV,
}

export type FeatureProbes = {
  /** libseccomp's version, or null when it cannot be loaded. */
  libseccompVersion(): string | null
  /** Whether libseccomp knows an architecture ("x86_64"). */
  archKnown(name: string): boolean
  /** Whether the running kernel accepts a seccomp filter flag. */
  flagSupported(flag: number): boolean
}

export function featuresDocument(probe: FeatureProbes): Record<string, unknown> {
  const seccompVersion = probe.libseccompVersion()
  const seccomp =
    seccompVersion === null
      ? { enabled: false }
      : {
          enabled: true,
          actions: [...SECCOMP_ACTIONS],
          operators: [...SECCOMP_OPERATORS],
          archs: SECCOMP_ARCHES.filter((a) => probe.archKnown(archName(a))),
          knownFlags: Object.keys(SECCOMP_FLAGS),
          supportedFlags: Object.entries(SECCOMP_FLAGS)
            .filter(([, bit]) => probe.flagSupported(bit))
            .map(([name]) => name),
        }
  const annotations: Record<string, string> = {
    'org.opencontainers.runt.version': VERSION,
    'org.opencontainers.runt.commit': COMMIT,
    // runc 1.4's meaning: the runtime implements checkpoint and restore (with criu). Whether
    // this host's criu can dump is criu's to say (`criu check`), as runc leaves it.
    'org.opencontainers.runt.checkpoint.enabled': 'true',
  }
  if (seccompVersion !== null) annotations['io.github.seccomp.libseccomp.version'] = seccompVersion
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: HOOKS,
    mountOptions: knownOptions(),
    linux: {
      namespaces: [...NAMESPACE_TYPES],
      capabilities: [...CAP_NAMES],
      // The systemd driver starts system scopes through busctl (cgroups/systemd.ts); rootless
      // runt has no user-manager driver.
      cgroup: { v1: true, v2: true, systemd: true, systemdUser: false, rdma: true },
      seccomp,
      apparmor: { enabled: true },
      selinux: { enabled: true },
      // features-linux.md: what runt implements (cgroups/intelrdt.ts), "irrelevant to the
      // availability of Intel RDT on the host" (create refuses it where resctrl is missing).
      intelRdt: { enabled: true, schemata: true, monitoring: true },
      mountExtensions: { idmap: { enabled: true } },
      // What the kernel accepts is its own (MPOL_WEIGHTED_INTERLEAVE needs 6.9): recognized here.
      memoryPolicy: { modes: Object.keys(MPOL_MODE), flags: Object.keys(MPOL_FLAG) },
      netDevices: { enabled: true },
    },
    annotations,
    // runt reads no annotation as configuration.
    potentiallyUnsafeConfigAnnotations: [],
  }
}

/** The document for this host: its libseccomp and kernel asked (confine/probe.ts). */
export async function hostFeatures(): Promise<Record<string, unknown>> {
  const { hostFeatureProbes } = await import('../confine/probe.js')
  return featuresDocument(hostFeatureProbes())
}

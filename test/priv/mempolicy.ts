// linux.memoryPolicy on real containers: the task policy of the container's process, and of a
// process `runt exec` starts, read from the host in /proc/<pid>/numa_maps (the kernel prints
// the task's policy, mpol_to_str(), for every mapping without one of its own). This host has
// one NUMA node, node 0. Refusals name the field and leave no state behind.

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { makeBundle, priv, Runt } from '../fixtures/runt.js'
import type { LinuxMemoryPolicy, Spec } from '../../src/spec/schema.js'

t.setTimeout(300_000)

/** Force-deletes its containers at teardown while --root still exists (as test/priv/confine.ts). */
function newRunt(t: Test): Runt {
  const runt = new Runt(t)
  t.teardown(() => runt.cleanup())
  return runt
}

/** mpol_to_str()'s text: mode, "=" flags, ":" nodes ("bind=static:0", "prefer (many):0"). */
const POLICY =
  /^[0-9a-f]+ (default|local|(?:prefer \(many\)|weighted interleave|prefer|bind|interleave)(?:=[a-z|]+)?(?::[0-9,-]+)?)(?: |$)/

/** The policies /proc/<pid>/numa_maps shows, each once (one: the task's, for busybox). */
function policies(numaMaps: string): string[] {
  const seen = new Set<string>()
  for (const line of numaMaps.split('\n').filter(Boolean)) seen.add(POLICY.exec(line)?.[1] ?? `unparsed: ${line}`)
  return [...seen]
}

const policyOf = (pid: number) => policies(fs.readFileSync(`/proc/${pid}/numa_maps`, 'utf8'))

const memoryNodes = () => fs.readFileSync('/sys/devices/system/node/has_memory', 'utf8').trim()

const numa = (): { skip?: string } => {
  const p = priv()
  if (p.skip) return p
  if (!fs.existsSync('/sys/devices/system/node/has_memory')) return { skip: 'no NUMA support in this kernel' }
  return memoryNodes().split(/[,-]/)[0] === '0' ? {} : { skip: `node 0 has no memory here (${memoryNodes()})` }
}

/** A detached `sleep` container with `mp`; returns its host pid. */
function sleeper(t: Test, runt: Runt, mp: LinuxMemoryPolicy | undefined, edit?: (c: Spec) => void) {
  const b = makeBundle(t, ['sleep', '1000'], (c) => {
    if (mp) c.linux!.memoryPolicy = mp
    edit?.(c)
  })
  const id = runt.id()
  const r = runt.ok(['run', '-d', '--bundle', b.dir, id])
  return { id, pid: r.status === 0 ? runt.state(id).pid : 0 }
}

const cases: [string, LinuxMemoryPolicy | undefined, string][] = [
  ['no memoryPolicy', undefined, 'default'],
  ['MPOL_DEFAULT', { mode: 'MPOL_DEFAULT' }, 'default'],
  ['MPOL_BIND 0', { mode: 'MPOL_BIND', nodes: '0' }, 'bind:0'],
  ['MPOL_INTERLEAVE 0', { mode: 'MPOL_INTERLEAVE', nodes: '0' }, 'interleave:0'],
  ['MPOL_PREFERRED 0', { mode: 'MPOL_PREFERRED', nodes: '0' }, 'prefer:0'],
  ['MPOL_PREFERRED, no nodes (local allocation)', { mode: 'MPOL_PREFERRED' }, 'local'],
  ['MPOL_LOCAL', { mode: 'MPOL_LOCAL' }, 'local'],
  ['MPOL_PREFERRED_MANY 0', { mode: 'MPOL_PREFERRED_MANY', nodes: '0' }, 'prefer (many):0'],
  ['MPOL_WEIGHTED_INTERLEAVE 0', { mode: 'MPOL_WEIGHTED_INTERLEAVE', nodes: '0' }, 'weighted interleave:0'],
  ['MPOL_BIND 0 static', { mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] }, 'bind=static:0'],
  ['MPOL_PREFERRED 0 relative', { mode: 'MPOL_PREFERRED', nodes: '0', flags: ['MPOL_F_RELATIVE_NODES'] }, 'prefer=relative:0'],
  ['MPOL_BIND 0 balancing', { mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_NUMA_BALANCING'] }, 'bind=balancing:0'],
  // Relative node 5 is the 6th allowed node, counted round: node 0 here. Not refused.
  ['MPOL_BIND relative 5', { mode: 'MPOL_BIND', nodes: '5', flags: ['MPOL_F_RELATIVE_NODES'] }, 'bind=relative:0'],
]

t.test("the container process has the spec's policy (read from the host)", numa(), async (t) => {
  const runt = newRunt(t)
  for (const [name, mp, want] of cases) {
    const { id, pid } = sleeper(t, runt, mp)
    if (pid) t.same(policyOf(pid), [want], name)
    runt.run(['delete', '--force', id])
  }
})

t.test('and sees it from inside', numa(), async (t) => {
  const runt = newRunt(t)
  const b = makeBundle(t, ['sh', '-c', 'cat /proc/self/numa_maps'], (c) => {
    c.linux!.memoryPolicy = { mode: 'MPOL_INTERLEAVE', nodes: '0' }
  })
  const r = runt.ok(['run', '--bundle', b.dir, runt.id()])
  t.same(policies(r.stdout), ['interleave:0'], 'cat, a child of sh, inherits it')
})

t.test('exec gets the policy too, set before a seccomp filter that forbids set_mempolicy', numa(), async (t) => {
  const runt = newRunt(t)
  const { id, pid } = sleeper(t, runt, { mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] }, (c) => {
    c.linux!.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['set_mempolicy'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
    }
  })
  t.same(policyOf(pid), ['bind=static:0'], 'the init, filter loaded after the policy')
  const pidFile = path.join(runt.root, '..', 'exec.pid')
  runt.ok(['exec', '-d', '--pid-file', pidFile, id, 'sleep', '100'])
  const execPid = Number(fs.readFileSync(pidFile, 'utf8'))
  t.same(policyOf(execPid), ['bind=static:0'], 'a detached exec process, read from the host')
  const r = runt.ok(['exec', id, 'cat', '/proc/self/numa_maps'])
  t.same(policies(r.stdout), ['bind=static:0'], 'a foreground exec process, from inside')
  const plain = sleeper(t, runt, undefined)
  t.same(policies(runt.ok(['exec', plain.id, 'cat', '/proc/self/numa_maps']).stdout), ['default'], 'no policy: the default')
})

t.test('refusals name the field and leave nothing behind', numa(), async (t) => {
  const refusals: [string, LinuxMemoryPolicy, RegExp][] = [
    [
      'a node the host does not have',
      { mode: 'MPOL_BIND', nodes: '5' },
      /linux\.memoryPolicy\.nodes: node 5 does not exist or have no memory on this host \(this host's nodes with memory are 0\)/,
    ],
    [
      'static nodes, none of them here',
      { mode: 'MPOL_BIND', nodes: '5-6', flags: ['MPOL_F_STATIC_NODES'] },
      /linux\.memoryPolicy\.nodes: none of nodes 5-6 has memory on this host/,
    ],
    ['a malformed list', { mode: 'MPOL_INTERLEAVE', nodes: '0-x' }, /linux\.memoryPolicy\.nodes: invalid node list \\?"0-x\\?"/],
    [
      'nodes where the mode takes none',
      { mode: 'MPOL_DEFAULT', nodes: '0' },
      /linux\.memoryPolicy\.nodes: MPOL_DEFAULT takes no nodes/,
    ],
    [
      'no nodes where the mode needs some',
      { mode: 'MPOL_BIND' },
      /linux\.memoryPolicy\.nodes: MPOL_BIND needs at least one node/,
    ],
    [
      'balancing with interleave',
      { mode: 'MPOL_INTERLEAVE', nodes: '0', flags: ['MPOL_F_NUMA_BALANCING'] },
      /linux\.memoryPolicy\.flags: MPOL_F_NUMA_BALANCING is only valid with MPOL_BIND or MPOL_PREFERRED_MANY/,
    ],
  ]
  for (const [i, [name, mp, re]] of refusals.entries()) {
    const runt = newRunt(t)
    const b = makeBundle(t, ['true'], (c) => (c.linux!.memoryPolicy = mp))
    // Ids (and so cgroup names) apart: each Runt counts its own from 0.
    const id = runt.id(`refused${i}`)
    const r = runt.run(['create', '--bundle', b.dir, id])
    t.equal(r.status, 1, `${name}: create fails`)
    t.match(r.stderr, re, `${name}: the field and why`)
    t.notMatch(r.stderr, /\n\s+at /, `${name}: no stack trace`)
    t.same(runt.leftovers(), [], `${name}: no state directory`)
    t.not(runt.run(['state', id]).status, 0, `${name}: no container`)
  }
})

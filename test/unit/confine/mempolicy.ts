// linux.memoryPolicy: names -> kernel numbers, the node list, the nodemask, and the rules that
// stand in for set_mempolicy's EINVAL (each refusal below was tried against Linux 6.18).

import t from 'tap'
import {
  MAX_NODES,
  MPOL_FLAG,
  MPOL_MODE,
  formatNodeList,
  nodeMask,
  parseNodeList,
  planMemoryPolicy,
} from '../../../src/confine/mempolicy.js'
import { MPOL_FLAGS, MPOL_MODES, type LinuxMemoryPolicy } from '../../../src/spec/schema.js'

t.test('every mode and flag of the spec maps to its linux/mempolicy.h value', async (t) => {
  t.same([...Object.keys(MPOL_MODE)].sort(), [...MPOL_MODES].sort())
  t.same([...Object.keys(MPOL_FLAG)].sort(), [...MPOL_FLAGS].sort())
  t.same(MPOL_MODE, {
    MPOL_DEFAULT: 0,
    MPOL_PREFERRED: 1,
    MPOL_BIND: 2,
    MPOL_INTERLEAVE: 3,
    MPOL_LOCAL: 4,
    MPOL_PREFERRED_MANY: 5,
    MPOL_WEIGHTED_INTERLEAVE: 6,
  })
  t.same(MPOL_FLAG, { MPOL_F_STATIC_NODES: 0x8000, MPOL_F_RELATIVE_NODES: 0x4000, MPOL_F_NUMA_BALANCING: 0x2000 })
})

t.test('node lists as runc reads them', async (t) => {
  t.same(parseNodeList(''), [], 'empty: no nodes')
  t.same(parseNodeList('0'), [0])
  t.same(parseNodeList('0-3,7'), [0, 1, 2, 3, 7], "the spec's example")
  t.same(parseNodeList(' 7 , 2-3,,0 ,'), [0, 2, 3, 7], 'spaces around elements and empty elements, sorted')
  t.same(parseNodeList('1,1-2'), [1, 2], 'duplicates once')
  t.same(parseNodeList('1023'), [1023], 'the last node number')
  const bad: [string, RegExp][] = [
    ['a', /bad element "a"/],
    ['0-', /bad element "0-"/],
    ['-1', /bad element "-1"/],
    ['1 - 2', /bad element "1 - 2"/],
    ['0x1', /bad element "0x1"/],
    ['3-1', /range 3-1 is reversed/],
    ['1024', /node 1024 is beyond 1023/],
    ['0-9876543210', /node 9876543210 is beyond 1023/],
    [',', /no nodes in it/],
    [' ', /no nodes in it/],
  ]
  for (const [list, re] of bad) t.throws(() => parseNodeList(list), { message: re, code: 'EINVAL' }, JSON.stringify(list))
})

t.test('formatNodeList prints ranges as the kernel does', async (t) => {
  t.equal(formatNodeList([]), '')
  t.equal(formatNodeList([0]), '0')
  t.equal(formatNodeList([0, 1, 2, 3, 7, 9, 10]), '0-3,7,9-10')
})

t.test('the nodemask: MAX_NODES bits, little-endian words, maxnode one more', async (t) => {
  const { mask, maxnode } = nodeMask([0, 3, 64, 1023])
  t.equal(mask.length, MAX_NODES / 8)
  t.equal(maxnode, MAX_NODES + 1, 'get_nodes() reads maxnode - 1 bits')
  t.equal(mask.readBigUInt64LE(0), 0b1001n)
  t.equal(mask.readBigUInt64LE(8), 1n)
  t.equal(mask[127], 0x80)
  t.equal(
    mask.reduce((n, b) => n + b.toString(2).replace(/0/g, '').length, 0),
    4,
    'no other bit',
  )
  t.ok(
    nodeMask([]).mask.every((b) => b === 0),
    'no nodes: an empty mask',
  )
})

const plan = (mp: LinuxMemoryPolicy, nodes: number[] | null = [0]) => planMemoryPolicy(mp, nodes)
const errors = (mp: LinuxMemoryPolicy, nodes: number[] | null = [0]) => plan(mp, nodes).issues

t.test('each mode with node 0 and each flag where the kernel takes it', async (t) => {
  const ok: [LinuxMemoryPolicy, number][] = [
    [{ mode: 'MPOL_DEFAULT' }, 0],
    [{ mode: 'MPOL_DEFAULT', nodes: '' }, 0],
    [{ mode: 'MPOL_LOCAL' }, 4],
    [{ mode: 'MPOL_PREFERRED' }, 1],
    [{ mode: 'MPOL_PREFERRED', nodes: '0' }, 1],
    [{ mode: 'MPOL_PREFERRED', nodes: '0', flags: ['MPOL_F_RELATIVE_NODES'] }, 1 | 0x4000],
    [{ mode: 'MPOL_BIND', nodes: '0' }, 2],
    [{ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] }, 2 | 0x8000],
    [{ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_NUMA_BALANCING'] }, 2 | 0x2000],
    [{ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES', 'MPOL_F_NUMA_BALANCING'] }, 2 | 0x8000 | 0x2000],
    [{ mode: 'MPOL_INTERLEAVE', nodes: '0' }, 3],
    [{ mode: 'MPOL_PREFERRED_MANY', nodes: '0' }, 5],
    [{ mode: 'MPOL_PREFERRED_MANY', nodes: '0', flags: ['MPOL_F_NUMA_BALANCING'] }, 5 | 0x2000],
    [{ mode: 'MPOL_WEIGHTED_INTERLEAVE', nodes: '0' }, 6],
    // The kernel ignores these flags with MPOL_DEFAULT, and so does runc.
    [{ mode: 'MPOL_DEFAULT', flags: ['MPOL_F_STATIC_NODES'] }, 0x8000],
  ]
  for (const [mp, value] of ok) {
    const r = plan(mp)
    t.same(r.issues, [], JSON.stringify(mp))
    t.equal(r.plan?.value, value, `${JSON.stringify(mp)}: mode | flags`)
    t.same(r.plan?.nodes, mp.nodes ? parseNodeList(mp.nodes) : [])
  }
  t.same(plan({ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES', 'MPOL_F_STATIC_NODES'] }).plan?.flags, [
    'MPOL_F_STATIC_NODES',
  ])
})

t.test('what set_mempolicy refuses with EINVAL is refused first, the field named', async (t) => {
  const S = 'MPOL_F_STATIC_NODES' as const
  const R = 'MPOL_F_RELATIVE_NODES' as const
  const B = 'MPOL_F_NUMA_BALANCING' as const
  const cases: [LinuxMemoryPolicy, string, RegExp][] = [
    [
      { mode: 'MPOL_BIND', nodes: '0', flags: [S, R] },
      'flags',
      /MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES are mutually exclusive/,
    ],
    [
      { mode: 'MPOL_INTERLEAVE', nodes: '0', flags: [B] },
      'flags',
      /MPOL_F_NUMA_BALANCING is only valid with MPOL_BIND or MPOL_PREFERRED_MANY, not MPOL_INTERLEAVE/,
    ],
    [{ mode: 'MPOL_DEFAULT', flags: [B] }, 'flags', /only valid with MPOL_BIND/],
    [{ mode: 'MPOL_LOCAL', flags: [B] }, 'flags', /only valid with MPOL_BIND/],
    [{ mode: 'MPOL_LOCAL', flags: [S] }, 'flags', /MPOL_LOCAL takes neither/],
    [{ mode: 'MPOL_LOCAL', flags: [R] }, 'flags', /MPOL_LOCAL takes neither/],
    [{ mode: 'MPOL_DEFAULT', nodes: '0' }, 'nodes', /MPOL_DEFAULT takes no nodes, got "0"/],
    [{ mode: 'MPOL_LOCAL', nodes: '0' }, 'nodes', /MPOL_LOCAL takes no nodes/],
    [{ mode: 'MPOL_BIND' }, 'nodes', /MPOL_BIND needs at least one node/],
    [{ mode: 'MPOL_INTERLEAVE', nodes: '' }, 'nodes', /MPOL_INTERLEAVE needs at least one node/],
    [{ mode: 'MPOL_WEIGHTED_INTERLEAVE' }, 'nodes', /needs at least one node/],
    [{ mode: 'MPOL_PREFERRED_MANY' }, 'nodes', /needs at least one node/],
    [{ mode: 'MPOL_PREFERRED', flags: [S] }, 'nodes', /MPOL_PREFERRED with no nodes \(local allocation\) takes neither/],
    [{ mode: 'MPOL_PREFERRED', flags: [R] }, 'nodes', /MPOL_PREFERRED with no nodes/],
    [{ mode: 'MPOL_BIND', nodes: '0-x' }, 'nodes', /invalid node list "0-x": bad element "0-x"/],
    [{ mode: 'MPOL_BIND', nodes: '5000' }, 'nodes', /node 5000 is beyond 1023/],
  ]
  for (const [mp, field, re] of cases) {
    const r = plan(mp)
    t.equal(r.plan, undefined, `${JSON.stringify(mp)}: no plan`)
    t.equal(r.issues.length, 1, JSON.stringify(mp))
    t.equal(r.issues[0]?.path, `linux.memoryPolicy.${field}`, JSON.stringify(mp))
    t.match(r.issues[0]?.message, re, JSON.stringify(mp))
  }
})

t.test("nodes are checked against the host's memory nodes, as each flag means them", async (t) => {
  t.same(errors({ mode: 'MPOL_BIND', nodes: '5' }), [
    {
      path: 'linux.memoryPolicy.nodes',
      message: "node 5 does not exist or have no memory on this host (this host's nodes with memory are 0)",
    },
  ])
  t.same(errors({ mode: 'MPOL_INTERLEAVE', nodes: '0,2-4' }, [0, 1, 3]), [
    {
      path: 'linux.memoryPolicy.nodes',
      message: "nodes 2,4 do not exist or have no memory on this host (this host's nodes with memory are 0-1,3)",
    },
  ])
  t.same(errors({ mode: 'MPOL_PREFERRED', nodes: '5' }).length, 1, 'MPOL_PREFERRED too')
  // MPOL_F_STATIC_NODES: nodes that are not there now are kept for when they come; one must be.
  t.same(errors({ mode: 'MPOL_BIND', nodes: '0,5', flags: ['MPOL_F_STATIC_NODES'] }), [])
  t.same(errors({ mode: 'MPOL_BIND', nodes: '5-6', flags: ['MPOL_F_STATIC_NODES'] }), [
    {
      path: 'linux.memoryPolicy.nodes',
      message: "none of nodes 5-6 has memory on this host (this host's nodes with memory are 0)",
    },
  ])
  // MPOL_F_RELATIVE_NODES: positions in the allowed set, not node numbers.
  t.same(errors({ mode: 'MPOL_BIND', nodes: '5', flags: ['MPOL_F_RELATIVE_NODES'] }), [])
  t.same(errors({ mode: 'MPOL_DEFAULT' }, []), [], 'no nodes asked, none checked')
  t.same(errors({ mode: 'MPOL_BIND', nodes: '0' }, null), [
    { path: 'linux.memoryPolicy', message: 'this kernel has no NUMA support (no /sys/devices/system/node/has_memory)' },
  ])
})

t.test('MPOL_PREFERRED with several nodes: the kernel keeps the first, said as a warning', async (t) => {
  const r = plan({ mode: 'MPOL_PREFERRED', nodes: '1-2' }, [0, 1, 2])
  t.same(r.issues, [])
  t.same(r.warnings, ['linux.memoryPolicy.nodes: MPOL_PREFERRED prefers node 1 only; MPOL_PREFERRED_MANY takes several'])
  t.same(plan({ mode: 'MPOL_PREFERRED_MANY', nodes: '1-2' }, [0, 1, 2]).warnings, [])
})

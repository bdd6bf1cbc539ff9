import t from 'tap'
import * as C from '../../../src/sys/constants.js'
import { defaultSpec } from '../../../src/spec/defaults.js'
import { NS_INFO, planNamespaces, procNsName, type NamespacePlan } from '../../../src/plan/namespaces.js'
import { specError } from '../../fixtures/thrown.js'

const none: NamespacePlan = {
  types: [],
  created: [],
  joins: [],
  cloneFlags: 0x20000,
  unshareAfterUserJoin: 0,
  parentJoins: [],
  cgroupLate: false,
  timeEarly: false,
  pidViaChild: false,
  sharedMount: true,
}

t.test('NS_INFO: clone flags and /proc/<pid>/ns names', async (t) => {
  t.same(NS_INFO, {
    pid: { flag: 0x20000000, proc: 'pid' },
    network: { flag: 0x40000000, proc: 'net' },
    mount: { flag: 0x20000, proc: 'mnt' },
    ipc: { flag: 0x8000000, proc: 'ipc' },
    uts: { flag: 0x4000000, proc: 'uts' },
    user: { flag: 0x10000000, proc: 'user' },
    cgroup: { flag: 0x2000000, proc: 'cgroup' },
    time: { flag: 0x80, proc: 'time' },
  })
  t.equal(procNsName('network'), 'net')
  t.equal(procNsName('mount'), 'mnt')
  t.equal(procNsName('time'), 'time')
})

t.test('no namespaces: the clone still gets a mount namespace', async (t) => {
  t.same(planNamespaces(undefined), none)
  t.same(planNamespaces([]), none)
})

t.test("runc's default spec: everything created at clone, cgroup late", async (t) => {
  t.same(planNamespaces(defaultSpec().linux!.namespaces), {
    types: ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'],
    created: ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'],
    joins: [],
    cloneFlags: C.CLONE_NEWPID | C.CLONE_NEWNET | C.CLONE_NEWIPC | C.CLONE_NEWUTS | C.CLONE_NEWNS,
    unshareAfterUserJoin: 0,
    parentJoins: [],
    cgroupLate: true,
    timeEarly: false,
    pidViaChild: false,
    sharedMount: false,
  })
})

t.test('runc spec --rootless: the user namespace is created at clone', async (t) => {
  const p = planNamespaces(defaultSpec({ rootless: true, euid: 1000, egid: 1000 }).linux!.namespaces)
  t.same(p.created, ['pid', 'ipc', 'uts', 'mount', 'cgroup', 'user'])
  t.equal(p.cloneFlags, C.CLONE_NEWPID | C.CLONE_NEWIPC | C.CLONE_NEWUTS | C.CLONE_NEWNS | C.CLONE_NEWUSER)
  t.equal(p.cgroupLate, true)
  t.notOk('userJoin' in p)
})

t.test('time is created by stage 1 before the handshake, not at clone', async (t) => {
  t.same(planNamespaces([{ type: 'time' }, { type: 'uts' }]), {
    ...none,
    types: ['time', 'uts'],
    created: ['time', 'uts'],
    cloneFlags: C.CLONE_NEWUTS | C.CLONE_NEWNS,
    timeEarly: true,
  })
})

t.test('no mount namespace listed: shared with the runtime, whatever else is listed or joined', async (t) => {
  t.equal(planNamespaces([{ type: 'pid' }, { type: 'uts' }, { type: 'ipc' }, { type: 'network' }]).sharedMount, true)
  t.equal(planNamespaces([{ type: 'network', path: '/n' }]).sharedMount, true)
  t.equal(planNamespaces([{ type: 'mount' }]).sharedMount, false)
  t.equal(planNamespaces([{ type: 'mount', path: '/proc/10/ns/mnt' }]).sharedMount, false, 'joined by path is listed')
  const p = planNamespaces([{ type: 'pid' }])
  t.equal(p.cloneFlags, C.CLONE_NEWPID | C.CLONE_NEWNS, 'stage 1 still seals the binary in a mount namespace of its own')
  t.notOk('mountJoin' in p)
})

t.test('a path means join; the parent joins net, ipc, uts, cgroup, pid and time', async (t) => {
  const p = planNamespaces([
    { type: 'pid', path: '/proc/10/ns/pid' },
    { type: 'network', path: '/var/run/netns/cni-1' },
    { type: 'ipc', path: '/proc/10/ns/ipc' },
    { type: 'uts' },
    { type: 'mount' },
    { type: 'cgroup', path: '/proc/10/ns/cgroup' },
    { type: 'time', path: '/proc/10/ns/time' },
  ])
  const j = (type: string, path: string, i: number) => ({ type, path, field: `linux.namespaces[${i}]` })
  t.same(p, {
    types: ['uts', 'mount', 'pid', 'network', 'ipc', 'cgroup', 'time'],
    created: ['uts', 'mount'],
    joins: [
      j('pid', '/proc/10/ns/pid', 0),
      j('network', '/var/run/netns/cni-1', 1),
      j('ipc', '/proc/10/ns/ipc', 2),
      j('cgroup', '/proc/10/ns/cgroup', 5),
      j('time', '/proc/10/ns/time', 6),
    ],
    cloneFlags: C.CLONE_NEWUTS | C.CLONE_NEWNS,
    unshareAfterUserJoin: 0,
    parentJoins: [
      j('pid', '/proc/10/ns/pid', 0),
      j('network', '/var/run/netns/cni-1', 1),
      j('ipc', '/proc/10/ns/ipc', 2),
      j('cgroup', '/proc/10/ns/cgroup', 5),
      j('time', '/proc/10/ns/time', 6),
    ],
    cgroupLate: false,
    timeEarly: false,
    pidViaChild: false,
    sharedMount: false,
  })
})

t.test('a joined mount namespace is joined by the init; the clone still unshares one', async (t) => {
  const p = planNamespaces([{ type: 'mount', path: '/proc/10/ns/mnt' }, { type: 'pid' }])
  t.same(p.mountJoin, { type: 'mount', path: '/proc/10/ns/mnt', field: 'linux.namespaces[0]' })
  t.same(p.parentJoins, [])
  t.same(p.created, ['pid'])
  t.equal(p.cloneFlags, C.CLONE_NEWPID | C.CLONE_NEWNS)
  t.notOk('userJoin' in p)
})

t.test('joining a user namespace: clone with CLONE_NEWNS only, unshare the rest after setns', async (t) => {
  const p = planNamespaces([
    { type: 'pid' },
    { type: 'network', path: '/var/run/netns/x' },
    { type: 'ipc' },
    { type: 'uts' },
    { type: 'mount' },
    { type: 'cgroup' },
    { type: 'user', path: '/proc/20/ns/user' },
    { type: 'time' },
  ])
  const user = { type: 'user', path: '/proc/20/ns/user', field: 'linux.namespaces[6]' }
  const net = { type: 'network', path: '/var/run/netns/x', field: 'linux.namespaces[1]' }
  t.same(p, {
    types: ['pid', 'ipc', 'uts', 'mount', 'cgroup', 'time', 'network', 'user'],
    created: ['pid', 'ipc', 'uts', 'mount', 'cgroup', 'time'],
    joins: [user, net],
    cloneFlags: C.CLONE_NEWNS,
    unshareAfterUserJoin: C.CLONE_NEWPID | C.CLONE_NEWIPC | C.CLONE_NEWUTS | C.CLONE_NEWNS,
    userJoin: user,
    parentJoins: [net],
    cgroupLate: true,
    timeEarly: true,
    pidViaChild: true,
    sharedMount: false,
  })
})

t.test('joining a user namespace without a new pid namespace', async (t) => {
  const p = planNamespaces([{ type: 'user', path: '/proc/20/ns/user' }, { type: 'mount' }])
  t.equal(p.cloneFlags, C.CLONE_NEWNS)
  t.equal(p.unshareAfterUserJoin, C.CLONE_NEWNS, 'the mount namespace is re-created inside the joined user namespace')
  t.equal(p.pidViaChild, false)
  t.same(p.parentJoins, [], 'the user namespace is joined by stage 1, not the parent')
  const q = planNamespaces([{ type: 'user', path: '/u' }])
  t.equal(q.unshareAfterUserJoin, C.CLONE_NEWNS, 'always, even without a mount entry')
})

t.test('a created user namespace is a clone flag, not a join', async (t) => {
  const p = planNamespaces([{ type: 'user' }, { type: 'pid' }, { type: 'network', path: '/n' }])
  t.equal(p.cloneFlags, C.CLONE_NEWUSER | C.CLONE_NEWPID | C.CLONE_NEWNS)
  t.equal(p.unshareAfterUserJoin, 0)
  t.equal(p.pidViaChild, false)
  t.same(
    p.joins.map((j) => j.type),
    ['network'],
  )
})

t.test('the user namespace is joined first, whatever its place in the list', async (t) => {
  const p = planNamespaces([
    { type: 'ipc', path: '/i' },
    { type: 'uts', path: '/u' },
    { type: 'user', path: '/usr' },
  ])
  t.same(
    p.joins.map((j) => j.type),
    ['user', 'ipc', 'uts'],
  )
  t.same(
    p.parentJoins.map((j) => j.type),
    ['ipc', 'uts'],
  )
})

t.test('an empty path means create', async (t) => {
  const p = planNamespaces([{ type: 'network', path: '' }])
  t.same(p.created, ['network'])
  t.same(p.joins, [])
})

t.test('duplicates, unknown types and relative paths are SpecErrors with the field', async (t) => {
  const e = specError(t, () =>
    planNamespaces([
      { type: 'pid' },
      { type: 'net' },
      { type: 'pid', path: '/proc/1/ns/pid' },
      { type: 'network', path: 'proc/1/ns/net' },
      { type: 'PID' },
      { type: 'network' },
      { type: '' },
    ]),
  )
  t.same(e.issues, [
    { path: 'linux.namespaces[1].type', message: 'unknown namespace type "net"' },
    { path: 'linux.namespaces[2].type', message: 'duplicated namespace "pid" (also linux.namespaces[0])' },
    { path: 'linux.namespaces[3].path', message: 'namespace path must be absolute' },
    { path: 'linux.namespaces[4].type', message: 'unknown namespace type "PID"' },
    { path: 'linux.namespaces[5].type', message: 'duplicated namespace "network" (also linux.namespaces[3])' },
    { path: 'linux.namespaces[6].type', message: 'unknown namespace type ""' },
  ])
  t.equal(e.code, 'ESPEC')
  const one = specError(t, () => planNamespaces([{ type: 'uts' }, { type: 'uts' }]))
  t.equal(one.message, 'invalid config.json: linux.namespaces[1].type: duplicated namespace "uts" (also linux.namespaces[0])')
})

t.test('inherited object keys are not namespace types', async (t) => {
  const e = specError(t, () => planNamespaces([{ type: 'toString' }, { type: '__proto__' }, { type: 'constructor' }]))
  t.same(
    e.issues.map((i) => i.message),
    ['unknown namespace type "toString"', 'unknown namespace type "__proto__"', 'unknown namespace type "constructor"'],
  )
})

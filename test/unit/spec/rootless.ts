import t from 'tap'
import { defaultSpec } from '../../../src/spec/defaults.js'
import { isSelfMapping, planIdMaps, rootlessIssues, toolArgs } from '../../../src/spec/rootless.js'
import type { Spec } from '../../../src/spec/schema.js'

const me = { euid: 1001, egid: 1002 }
const tools = { ...me, newuidmap: '/usr/bin/newuidmap', newgidmap: '/usr/bin/newgidmap' }
const single = () => defaultSpec({ rootless: true, euid: 1001, egid: 1002 })
const ranged = (): Spec => {
  const s = single()
  s.linux!.uidMappings!.push({ containerID: 1, hostID: 100000, size: 65536 })
  s.linux!.gidMappings!.push({ containerID: 1, hostID: 100000, size: 65536 })
  return s
}

t.test('isSelfMapping: one line of the own id, size 1', async (t) => {
  t.ok(isSelfMapping([{ containerID: 0, hostID: 7, size: 1 }], 7))
  t.ok(isSelfMapping([{ containerID: 1000, hostID: 7, size: 1 }], 7), 'any container id')
  t.notOk(isSelfMapping([{ containerID: 0, hostID: 7, size: 2 }], 7))
  t.notOk(isSelfMapping([{ containerID: 0, hostID: 8, size: 1 }], 7))
  t.notOk(isSelfMapping([], 7))
})

t.test('planIdMaps: root writes the maps itself; a user denies setgroups for its own gid alone', async (t) => {
  t.same(planIdMaps(single(), { euid: 0, egid: 0 }), { denySetgroups: false })
  t.same(planIdMaps(single(), me), { denySetgroups: true })
  t.same(planIdMaps(single(), tools), { denySetgroups: true, uidTool: tools.newuidmap, gidTool: tools.newgidmap })
  t.same(planIdMaps(ranged(), tools), { denySetgroups: false, uidTool: tools.newuidmap, gidTool: tools.newgidmap })
})

t.test('toolArgs: the triples as words', async (t) => {
  t.same(toolArgs(ranged().linux!.uidMappings!), ['0', '1001', '1', '1', '100000', '65536'])
})

t.test('rootlessIssues: nothing for root or for runt spec --rootless', async (t) => {
  t.same(rootlessIssues({ ociVersion: '1.3.0' }, { euid: 0, egid: 0 }), [])
  t.same(rootlessIssues(single(), me), [])
  t.same(rootlessIssues(ranged(), tools), [])
})

t.test('rootlessIssues: runc texts, by field', async (t) => {
  const noUser = defaultSpec({})
  t.match(rootlessIssues(noUser, me), [{ path: 'linux.namespaces', message: /^rootless container requires user namespaces/ }])
  const none = single()
  delete none.linux!.uidMappings
  delete none.linux!.gidMappings
  t.same(
    rootlessIssues(none, me).map((i) => i.path),
    ['linux.uidMappings', 'linux.gidMappings'],
  )
  t.match(rootlessIssues(none, me)[0]!.message, 'rootless containers requires at least one UID mapping')
  const joined = single()
  joined.linux!.namespaces = joined.linux!.namespaces!.map((n) => (n.type === 'user' ? { ...n, path: '/proc/1/ns/user' } : n))
  delete joined.linux!.uidMappings
  t.same(rootlessIssues(joined, me), [], 'a joined user namespace needs no mappings')
})

t.test('rootlessIssues: ids of others without the tools', async (t) => {
  const issues = rootlessIssues(ranged(), me)
  t.same(
    issues.map((i) => i.path),
    ['linux.uidMappings', 'linux.gidMappings'],
  )
  t.match(issues[0]!.message, /runs as uid 1001 .*newuidmap on PATH .*\/etc\/subuid/)
  t.match(issues[1]!.message, /runs as gid 1002 .*newgidmap on PATH .*\/etc\/subgid/)
  t.same(
    rootlessIssues(ranged(), { ...me, newuidmap: '/x/newuidmap' }).map((i) => i.path),
    ['linux.gidMappings'],
    'each map wants its own tool',
  )
})

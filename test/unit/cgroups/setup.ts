import t from 'tap'
import { setupCgroups } from '../../../src/cgroups/setup.js'
import type { CgroupManager } from '../../../src/cgroups/manager.js'
import type { Spec } from '../../../src/spec/schema.js'

function fakeManager(fail?: 'apply' | 'addPid', kind = 'v2') {
  const calls: string[] = []
  const m = {
    kind,
    paths: () => ({ '': '/cg/c' }),
    create: (pid?: number) => (calls.push(pid === undefined ? 'create' : `create ${pid}`), true),
    removeCreated: () => void calls.push('removeCreated'),
    apply: (r: { pids?: unknown; cpu?: unknown; memory?: unknown }, o: { devices: unknown[] | null }) => {
      calls.push(`apply ${o.devices?.length}${r.pids ? ' pids' : ''}${r.cpu ? ' cpu' : ''}${r.memory ? ' memory' : ''}`)
      if (fail === 'apply') throw new Error('apply failed')
    },
    addPid: (pid: number) => {
      calls.push(`addPid ${pid}`)
      if (fail === 'addPid') throw new Error('addPid failed')
    },
    pids: () => [],
  } as unknown as CgroupManager
  return { m, calls }
}

const spec = (linux: Spec['linux'] = {}): Spec => ({ ociVersion: '1.3.0', linux })

t.test('create and apply with the device rules; join when the init asks', async (t) => {
  const { m, calls } = fakeManager()
  const s = setupCgroups({
    id: 'c',
    spec: spec({ resources: { devices: [{ allow: false, access: 'rwm' }] } }),
    systemd: false,
    pid: 99,
    manager: m,
  })
  t.same(calls, ['create', 'apply 12'], 'the init is not moved in while it boots')
  t.same(s.paths, { '': '/cg/c' })
  t.equal(s.owned, true)
  s.attach()
  s.attach()
  t.same(calls, ['create', 'apply 12', 'addPid 99'], 'moved in once')
  s.finish()
  t.equal(calls.length, 3, 'no pids limit: nothing more to apply')
  s.undo()
  t.equal(calls.at(-1), 'removeCreated')
})

t.test('the pids limit waits until the init is ready', async (t) => {
  const { m, calls } = fakeManager()
  const s = setupCgroups({
    id: 'c',
    spec: spec({ resources: { pids: { limit: 5 }, memory: { limit: 1 << 26 } } }),
    systemd: false,
    pid: 9,
    manager: m,
  })
  s.attach()
  t.same(calls, ['create', 'apply 11 memory', 'addPid 9'])
  s.finish()
  t.equal(calls.at(-1), 'apply undefined pids')
})

t.test('the cpu limits wait for the runtime hooks or the ready init, and are applied once', async (t) => {
  const { m, calls } = fakeManager()
  const s = setupCgroups({
    id: 'c',
    spec: spec({ resources: { cpu: { quota: 1000, period: 100000 }, memory: { limit: 1 << 26 } } }),
    systemd: false,
    pid: 9,
    manager: m,
  })
  s.attach()
  t.same(calls, ['create', 'apply 11 memory', 'addPid 9'], 'memory at once, cpu not yet')
  s.limitCpu()
  t.equal(calls.at(-1), 'apply undefined cpu', 'before the prestart hooks')
  s.finish()
  t.same(calls.slice(3), ['apply undefined cpu'], 'not again at ready')
  const other = fakeManager()
  const o = setupCgroups({ id: 'c', spec: spec({ resources: { cpu: { shares: 2 } } }), systemd: false, pid: 9, manager: other.m })
  o.attach()
  o.finish()
  t.same(other.calls, ['create', 'apply 11', 'addPid 9', 'apply undefined cpu'], 'no hooks: at ready')
})

t.test('the systemd driver starts its scope with the pid: all of it when the init asks', async (t) => {
  const { m, calls } = fakeManager(undefined, 'systemd')
  const s = setupCgroups({
    id: 'c',
    spec: spec({ resources: { memory: { limit: 1 << 26 } } }),
    systemd: true,
    pid: 7,
    manager: m,
  })
  t.same(calls, [])
  t.equal(s.owned, false, 'not known before')
  s.attach()
  t.same(calls, ['create 7', 'apply 11 memory', 'addPid 7'])
  t.equal(s.owned, true)
})

t.test('a failure removes what was created', async (t) => {
  {
    const { m, calls } = fakeManager('apply')
    t.throws(() => setupCgroups({ id: 'c', spec: spec(), systemd: false, pid: 1, manager: m }), { message: 'apply failed' })
    t.equal(calls.at(-1), 'removeCreated')
  }
  {
    const { m, calls } = fakeManager('addPid')
    const s = setupCgroups({ id: 'c', spec: spec(), systemd: false, pid: 1, manager: m })
    t.throws(() => s.attach(), { message: 'addPid failed' })
    s.undo()
    t.equal(calls.at(-1), 'removeCreated', "create's undo removes it")
  }
  const { m, calls } = fakeManager()
  t.throws(
    () =>
      setupCgroups({
        id: 'c',
        spec: spec({ resources: { devices: [{ allow: true, access: '' }] } }),
        systemd: false,
        pid: 1,
        manager: m,
      }),
    {
      message: 'linux.resources.devices[0].access: cannot be empty',
    },
  )
  t.same(calls, [], 'bad rules: nothing created')
})

t.test('rootless: no cgroup where none may be made, unless limits are set', async (t) => {
  const { m, calls } = fakeManager(undefined, 'v1')
  const s = setupCgroups({
    id: 'c',
    spec: spec({}),
    systemd: false,
    pid: 9,
    manager: m,
    rootless: true,
    unwritable: () => '/cg/c',
  })
  t.same(s.paths, {}, 'nothing recorded')
  s.attach()
  s.limitCpu()
  s.finish()
  s.undo()
  t.same(calls, [], 'nothing made, joined or removed')
  t.throws(
    () =>
      setupCgroups({
        id: 'c',
        spec: spec({ resources: { memory: { limit: 1 << 26 } } }),
        systemd: false,
        pid: 9,
        manager: m,
        rootless: true,
        unwritable: () => '/cg/c',
      }),
    { message: /^linux\.resources\.memory\.limit: cannot set memory limit: container could not join or create cgroup/ },
  )
  t.same(calls, [], 'still nothing made')
})

t.test('rootless: a delegated cgroup is used, without the device rules; a cgroupsPath is not skipped', async (t) => {
  const { m, calls } = fakeManager(undefined, 'v1')
  setupCgroups({
    id: 'c',
    spec: spec({ resources: { devices: [{ allow: false, access: 'rwm' }], memory: { limit: 1 << 26 } } }),
    systemd: false,
    pid: 9,
    manager: m,
    rootless: true,
    unwritable: () => null,
  })
  t.same(calls, ['create', 'apply undefined memory'], 'devices: null')
  const two = fakeManager(undefined, 'v1')
  setupCgroups({
    id: 'c',
    spec: spec({ cgroupsPath: '/mine/c' }),
    systemd: false,
    pid: 9,
    manager: two.m,
    rootless: true,
    unwritable: () => '/cg/c',
  })
  t.same(two.calls, ['create', 'apply undefined'], 'a named path is created (and fails with its own error)')
})

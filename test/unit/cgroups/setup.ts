import t from 'tap'
import { setupCgroups } from '../../../src/cgroups/setup.js'
import type { CgroupManager } from '../../../src/cgroups/manager.js'
import type { Spec } from '../../../src/spec/schema.js'

function fakeManager(fail?: 'apply' | 'addPid') {
  const calls: string[] = []
  const m = {
    kind: 'v2',
    paths: () => ({ '': '/cg/c' }),
    create: () => (calls.push('create'), true),
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

t.test('create, apply with the device rules, then join', async (t) => {
  const { m, calls } = fakeManager()
  const s = setupCgroups({
    id: 'c',
    spec: spec({ resources: { devices: [{ allow: false, access: 'rwm' }] } }),
    systemd: false,
    pid: 99,
    manager: m,
  })
  t.same(calls, ['create', 'apply 12', 'addPid 99'])
  t.same(s.paths, { '': '/cg/c' })
  t.equal(s.owned, true)
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
  t.same(calls, ['create', 'apply 11 memory', 'addPid 9'], 'memory at once, cpu not yet')
  s.limitCpu()
  t.equal(calls.at(-1), 'apply undefined cpu', 'before the prestart hooks')
  s.finish()
  t.same(calls.slice(3), ['apply undefined cpu'], 'not again at ready')
  const other = fakeManager()
  setupCgroups({ id: 'c', spec: spec({ resources: { cpu: { shares: 2 } } }), systemd: false, pid: 9, manager: other.m }).finish()
  t.same(other.calls, ['create', 'apply 11', 'addPid 9', 'apply undefined cpu'], 'no hooks: at ready')
})

t.test('a failure removes what was created', async (t) => {
  for (const step of ['apply', 'addPid'] as const) {
    const { m, calls } = fakeManager(step)
    t.throws(() => setupCgroups({ id: 'c', spec: spec(), systemd: false, pid: 1, manager: m }), { message: `${step} failed` })
    t.equal(calls.at(-1), 'removeCreated')
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

import t from 'tap'
import {
  cgroupString,
  DEFAULT_ALLOWED,
  DeviceEmulator,
  deviceRules,
  type DeviceRule,
} from '../../../../src/cgroups/devices/rules.js'

const r = (s: string, allow = true): DeviceRule => {
  const [type, mm, access] = s.split(' ') as [DeviceRule['type'], string, string]
  const [maj, min] = mm.split(':').map((x) => (x === '*' ? -1 : Number(x)))
  return { type, major: maj!, minor: min!, access, allow }
}

t.test('spec rules, then the built-in ones', async (t) => {
  const rules = deviceRules([
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
  ])
  t.same(rules.slice(0, 2).map(cgroupString), ['a *:* rwm', 'c 10:229 rw'])
  t.equal(rules.length, 2 + DEFAULT_ALLOWED.length)
  const dedup = deviceRules([], [{ path: '/dev/null' }, { path: '/dev/zero' }])
  t.equal(dedup.length, DEFAULT_ALLOWED.length - 2, 'linux.devices with a default path replaces that rule')
  t.notOk(dedup.some((x) => x.major === 1 && x.minor === 3))
  t.throws(() => deviceRules([{ allow: true, access: '' }]), { message: 'linux.resources.devices[0].access: cannot be empty' })
  t.throws(() => deviceRules([{ allow: true, type: 'x', access: 'r' }]), { message: /devices\[0\]\.type: invalid type "x"/ })
  t.throws(() => deviceRules([{ allow: true, type: 'c', major: -7, access: 'r' }]), { message: /devices\[0\]\.major/ })
})

t.test('the emulator reduces rules as cgroup v1 would', async (t) => {
  const e = DeviceEmulator.of([r('a *:* rwm', false), r('c 1:3 r'), r('c 1:3 w'), r('c 1:5 rwm'), r('c 1:5 m', false)])
  t.notOk(e.defaultAllow)
  t.same(e.reduced().map(cgroupString), ['c 1:3 rw', 'c 1:5 rw'])
  const b = DeviceEmulator.of([r('a *:* rwm'), r('b 8:0 w', false)])
  t.ok(b.defaultAllow)
  t.same(
    b.reduced().map((x) => [cgroupString(x), x.allow]),
    [
      ['a *:* rwm', true],
      ['b 8:0 w', false],
    ],
  )
  t.ok(DeviceEmulator.of([r('a *:* rwm')]).isAllowAll)
  t.throws(() => DeviceEmulator.of([r('a *:* rwm', false), r('c *:* m'), r('c 1:3 m', false)]), {
    message: 'linux.resources.devices: rule "c 1:3 m" cannot punch a hole in the wildcard rule "c *:* m"',
  })
})

t.test('transitions: what v1 writes', async (t) => {
  const target = DeviceEmulator.of([r('a *:* rwm', false), r('c 1:3 rwm'), r('c 136:* rw')])
  const fresh = DeviceEmulator.fromList('a *:* rwm\n')
  t.same(
    fresh.transition(target).map((x) => `${x.allow ? 'allow' : 'deny'} ${cgroupString(x)}`),
    ['deny a *:* rwm', 'allow c 1:3 rwm', 'allow c 136:* rw'],
    'a new (allow-all) cgroup: deny all, then the allow-list',
  )
  const current = DeviceEmulator.fromList('c 1:3 rwm\nc 1:5 rwm\nc 136:* r\n')
  t.same(
    current.transition(target).map((x) => `${x.allow ? 'allow' : 'deny'} ${cgroupString(x)}`),
    ['deny c 1:5 rwm', 'allow c 136:* w'],
    'an allow-list cgroup: only the difference, no disruptive rule',
  )
  t.same(target.transition(target), [], 'nothing to do')
  t.throws(() => DeviceEmulator.fromList('x 1:2 rwm'), { message: /unknown device type/ })
  t.throws(() => DeviceEmulator.fromList('c 1 rwm'), { message: /malformed/ })
})

t.test('a later rule overrides earlier ones for every device it matches', async (t) => {
  const reduced = (rules: DeviceRule[]) =>
    DeviceEmulator.of(rules)
      .reduced()
      .map((x) => `${x.allow ? '+' : '-'}${cgroupString(x)}`)
  t.same(
    reduced([r('a *:* rwm', false), r('c 4:1 rwm'), r('c 4:2 r'), r('c 4:* rwm', false)]),
    [],
    'a wildcard deny takes the exceptions it covers away',
  )
  t.same(reduced([r('a *:* rwm', false), r('c 4:7 rwm'), r('c *:7 w', false)]), ['+c 4:7 rm'], 'and only its bits')
  t.same(reduced([r('a *:* rwm'), r('b 8:1 rwm', false), r('b 8:* rwm')]), ['+a *:* rwm'], 'a wildcard allow on a black-list')
  t.throws(() => DeviceEmulator.of([r('a *:* rwm', false), r('c *:3 rwm'), r('c 1:* r', false)]), {
    message: 'linux.resources.devices: rule "c 1:* r" cannot punch a hole in the wildcard rule "c *:3 rwm"',
  })
})

t.test("an 'a' rule other than a *:* rwm is the same rule for both types", async (t) => {
  const e = DeviceEmulator.of([r('a *:* rwm', false), r('a *:* m')])
  t.notOk(e.defaultAllow, 'allowing mknod of everything is not allowing everything')
  t.same(e.reduced().map(cgroupString), ['b *:* m', 'c *:* m'])
  t.same(
    DeviceEmulator.of([r('a *:* rwm', false), r('a 4:* r')])
      .reduced()
      .map(cgroupString),
    ['b 4:* r', 'c 4:* r'],
  )
  const b = DeviceEmulator.of([r('a *:* rwm'), r('a 8:* w', false)])
  t.ok(b.defaultAllow)
  t.same(b.reduced().map(cgroupString), ['a *:* rwm', 'b 8:* w', 'c 8:* w'])
  t.ok(DeviceEmulator.of([r('a *:* rwm', false), r('a *:* rwm')]).isAllowAll, 'a *:* rwm still resets')
})

t.test('read and write granted by different rules end up on one exception', async (t) => {
  const reduced = (rules: DeviceRule[]) => DeviceEmulator.of(rules).reduced().map(cgroupString)
  t.same(reduced([r('a *:* rwm', false), r('c 4:* r'), r('c 4:1 w')]), ['c 4:* r', 'c 4:1 rw'], 'a device under a wildcard')
  t.same(reduced([r('a *:* rwm', false), r('c 4:1 w'), r('c 4:* r')]), ['c 4:* r', 'c 4:1 rw'], 'in either order')
  t.same(
    reduced([r('a *:* rwm', false), r('c 7:* w'), r('c *:0 r')]),
    ['c *:0 r', 'c 7:* w', 'c 7:0 rw'],
    'where two wildcards meet',
  )
  t.same(reduced([r('a *:* rwm', false), r('c *:* m'), r('c 10:229 rw')]), ['c *:* m', 'c 10:229 rw'], 'm is not folded')
  t.same(reduced([r('a *:* rwm', false), r('c 4:* rw'), r('c 4:1 r')]), ['c 4:* rw', 'c 4:1 r'], 'nothing to fold')
  t.same(
    reduced([r('a *:* rwm', false), r('c 4:* r'), r('c 4:1 w'), r('c 4:* r', false)]),
    ['c 4:1 w'],
    'a later deny takes the folded bit away too',
  )
})

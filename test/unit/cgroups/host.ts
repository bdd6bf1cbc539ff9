import t from 'tap'
import { ownPath, parseHost, v1Controllers } from '../../../src/cgroups/host.js'

// This project's machine: cgroup v1 plus an empty cgroup2 at /sys/fs/cgroup/unified.
const hybrid = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,release_agent=/x,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`
const self = `9:name=systemd:/
4:memory:/process_api/abc
1:cpu:/
0::/
`

t.test('modes', async (t) => {
  const h = parseHost(hybrid, self)
  t.equal(h.mode, 'hybrid')
  t.same(
    h.v1.map((x) => x.controllers),
    [['cpu'], ['cpuacct'], ['cpuset'], ['memory'], ['devices'], ['name=systemd']],
  )
  t.same(h.unified, { mountPoint: '/sys/fs/cgroup/unified', root: '/' })
  t.equal(ownPath(h, 'memory'), '/process_api/abc')
  t.equal(ownPath(h, 'cpu'), '/')
  t.equal(ownPath(h, ''), '/')
  t.equal(ownPath(h, 'pids'), '/', 'unknown controller: the root')

  const v1 = parseHost(
    hybrid
      .split('\n')
      .filter((l) => !l.includes('cgroup2'))
      .join('\n'),
    self,
  )
  t.equal(v1.mode, 'v1')
  t.equal(v1.unified, undefined)

  const unified = parseHost('30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n', '0::/user.slice/s.scope\n')
  t.equal(unified.mode, 'v2')
  t.same(unified.unified, { mountPoint: '/sys/fs/cgroup', root: '/' })
  t.equal(ownPath(unified, ''), '/user.slice/s.scope')

  t.equal(parseHost('', '').mode, 'none')
})

t.test('v1 controllers from super options', async (t) => {
  t.same(v1Controllers('rw,cpu,cpuacct'), ['cpu', 'cpuacct'])
  t.same(v1Controllers('rw,xattr,release_agent=/lib/x,name=systemd'), ['name=systemd'])
  t.same(v1Controllers('ro,clone_children,cpuset,noprefix'), ['cpuset'])
})

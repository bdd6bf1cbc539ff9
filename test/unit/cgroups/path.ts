import t from 'tap'
import { cleanPath, locate, v1Dir, v2Dir } from '../../../src/cgroups/path.js'
import { parseHost } from '../../../src/cgroups/host.js'

t.test('cleanPath as runc: relative paths never climb', async (t) => {
  t.equal(cleanPath(''), '')
  t.equal(cleanPath('/a/../b//c/'), '/b/c')
  t.equal(cleanPath('/../../x'), '/x')
  t.equal(cleanPath('../../x/y'), 'x/y')
  t.equal(cleanPath('a/./b'), 'a/b')
})

t.test('locate: absolute, relative, default', async (t) => {
  t.same(locate('/kubepods/pod1/c1', 'c1'), { inner: '/kubepods/pod1/c1', absolute: true })
  t.same(locate('mine/c1', 'c1'), { inner: 'mine/c1', absolute: false })
  t.same(locate(undefined, 'c1'), { inner: '/runt/c1', absolute: true })
  t.same(locate('', 'c1'), { inner: '/runt/c1', absolute: true })
  t.same(locate('../../../etc', 'c1'), { inner: 'etc', absolute: false }, 'cannot escape')
})

const mountinfo = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct',
  '35 31 0:32 /nested /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
  '41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
].join('\n')
const self = '2:cpu,cpuacct:/user/me\n4:memory:/nested/svc\n0::/user/me/session\n'

t.test('directories in each hierarchy', async (t) => {
  const host = parseHost(mountinfo, self)
  const [cpu, mem] = host.v1
  t.equal(v1Dir(host, cpu!, locate('/a/b', 'x')), '/sys/fs/cgroup/cpu,cpuacct/a/b')
  t.equal(v1Dir(host, cpu!, locate('a/b', 'x')), '/sys/fs/cgroup/cpu,cpuacct/user/me/a/b', 'relative: below our own cgroup')
  t.equal(v1Dir(host, mem!, locate('a', 'x')), '/sys/fs/cgroup/memory/svc/a', 'own path is taken relative to the mount root')
  t.equal(v2Dir(host, locate('/a', 'x')), '/sys/fs/cgroup/unified/a')
  t.equal(v2Dir(host, locate('a', 'x')), '/sys/fs/cgroup/unified/user/me/a', 'v2 relative: below the parent of our cgroup')
  const outside = parseHost(mountinfo, '2:cpu,cpuacct:/user/me\n4:memory:/elsewhere\n0::/x\n')
  t.equal(v1Dir(outside, outside.v1[1]!, locate('a', 'x')), '/sys/fs/cgroup/memory/a', 'never climbs out of a mount')
})

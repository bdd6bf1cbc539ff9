// --no-pivot leaves the host's mounts in the container's mount namespace (MS_MOVE + chroot,
// no pivot_root to detach the old root). The kernel lets a user namespace mount a new procfs
// or sysfs only where a full, uncovered mount of it is visible in the mount namespace, and
// the host's /proc is one: a process in the container could `unshare -mrpf` and mount a
// procfs with none of the container's masked paths. runc 1.1.5 hides the host's full procfs
// and sysfs mounts before the chroot (msMoveRoot), so the mount is refused; so must runt.

import t from 'tap'
import { makeBundle, priv, Runt, RUNC } from '../../fixtures/runt.js'

// The tmpfs mount shows the user namespace and its mount namespace work (the test would see a
// leak); only procfs and sysfs are refused. sysfs also needs a network namespace of its own.
const script = [
  'unshare -mrpf sh -c "mount -t tmpfs none /tmp && echo TMPFS-OK"',
  'unshare -mrpf sh -c "mount -t proc none /proc && echo PROC-MOUNTED"',
  'unshare -mrnf sh -c "mount -t sysfs none /sys && echo SYSFS-MOUNTED"',
  'echo done',
].join('; ')

const binaries = RUNC ? ['runt', 'runc'] : ['runt']
if (!RUNC) t.comment('runc is not installed: runt alone (apt-get install runc for the comparison)')
for (const binary of binaries) {
  t.test(`--no-pivot: a user namespace in the container cannot mount procfs or sysfs (${binary})`, priv(), async (t) => {
    const runner = binary === 'runt' ? new Runt(t) : new Runt(t, RUNC!)
    const b = makeBundle(t, ['sh', '-c', script], (c) => {
      // An unprivileged user, as a container user making its own user namespace would be.
      c.process!.user = { uid: 1000, gid: 1000 }
    })
    const r = runner.run(['run', '--no-pivot', '--bundle', b.dir, runner.id('nopivot')])
    t.equal(r.status, 0, r.stderr)
    t.match(r.stdout, /TMPFS-OK/, 'the user namespace can mount what it owns')
    t.notMatch(r.stdout, /PROC-MOUNTED/, 'no new procfs')
    t.notMatch(r.stdout, /SYSFS-MOUNTED/, 'no new sysfs')
    t.match(r.stdout, /done/)
  })
}

t.test('--no-pivot: the container still has its own /proc and /sys', priv(), async (t) => {
  const runt = new Runt(t)
  const b = makeBundle(t, ['sh', '-c', 'cat /proc/1/comm; ls /sys/kernel >/dev/null && echo SYS-OK'])
  const r = runt.run(['run', '--no-pivot', '--bundle', b.dir, runt.id('nopivot')])
  t.equal(r.status, 0, r.stderr)
  t.equal(r.stdout, 'sh\nSYS-OK\n')
})

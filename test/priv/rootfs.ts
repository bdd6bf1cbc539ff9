// The root filesystem as the spec describes it, checked from inside real containers: mounts in
// order with their options, bind mounts of files and directories, recursive read-only,
// tmpcopyup, devices and /dev links, masked and read-only paths, read-only root, --no-pivot.

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { makeBundle, priv, Runt, tempDir } from '../fixtures/runt.js'

function runIn(t: Test, script: string, edit?: Parameters<typeof makeBundle>[2], extra: string[] = []) {
  const runt = new Runt(t)
  const b = makeBundle(t, ['sh', '-c', script], edit)
  const r = runt.run(['run', ...extra, '--bundle', b.dir, runt.id()])
  return { ...r, b }
}

t.test('mounts, masks and read-only paths of the default spec', priv(), async (t) => {
  const r = runIn(
    t,
    [
      // mount point and filesystem type (the field after the "-" separator)
      `awk '{for(i=7;i<=NF;i++) if($i=="-"){print $5, $(i+1); break}}' /proc/self/mountinfo | grep -E "^/(proc|dev|dev/pts|dev/shm|dev/mqueue|sys|sys/fs/cgroup) "`,
      'echo ---',
      'wc -c < /proc/keys; wc -c < /proc/timer_list; ls /proc/acpi | wc -l',
      'echo 1 2>&1 > /proc/sys/vm/overcommit_memory | cut -d: -f3',
      'echo ---',
      'ls -l /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty | cut -c1',
      'for l in /dev/fd /dev/stdin /dev/stdout /dev/stderr /dev/ptmx; do readlink $l; done',
    ].join('; '),
  )
  t.equal(r.status, 0, r.stderr)
  const [mounts, masks, devs] = r.stdout.split('---\n')
  t.equal(
    mounts,
    '/proc proc\n/dev tmpfs\n/dev/pts devpts\n/dev/shm tmpfs\n/dev/mqueue mqueue\n/sys sysfs\n/sys/fs/cgroup ' +
      (fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'cgroup2' : 'tmpfs') +
      '\n',
    'the config mounts, in order',
  )
  t.equal(masks, '0\n0\n0\n Read-only file system\n', 'masked files read empty, masked dir is empty, /proc/sys is read-only')
  t.equal(devs, 'c\nc\nc\nc\nc\nc\n/proc/self/fd\n/proc/self/fd/0\n/proc/self/fd/1\n/proc/self/fd/2\npts/ptmx\n')
})

t.test('read-only root refuses writes; bind mounts of a file and a directory', priv(), async (t) => {
  const src = tempDir(t)
  fs.mkdirSync(path.join(src, 'dir'))
  fs.writeFileSync(path.join(src, 'dir/a.txt'), 'from host dir\n')
  fs.writeFileSync(path.join(src, 'file.txt'), 'from host file\n')
  const r = runIn(
    t,
    'touch /x 2>&1 | cut -d: -f3; cat /mnt/d/a.txt /etc/injected; touch /mnt/d/b 2>&1 | cut -d: -f3; echo w > /mnt/rw/c && echo rw-ok',
    (c) => {
      c.root!.readonly = true
      c.mounts!.push(
        { destination: '/mnt/d', type: 'bind', source: path.join(src, 'dir'), options: ['rbind', 'ro'] },
        { destination: '/etc/injected', type: 'bind', source: path.join(src, 'file.txt'), options: ['bind'] },
        { destination: '/mnt/rw', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
      )
    },
  )
  t.equal(r.status, 0, r.stderr)
  t.equal(r.stdout, ' Read-only file system\nfrom host dir\nfrom host file\n Read-only file system\nrw-ok\n')
  t.notOk(fs.existsSync(path.join(src, 'dir/b')), 'nothing written to the host directory')
})

t.test('rro makes submounts read-only too; propagation options', priv(), async (t) => {
  const host = tempDir(t)
  fs.mkdirSync(path.join(host, 'top/sub'), { recursive: true })
  // A shared source with a submount: rbind carries the submount, rro must make it read-only
  // too, and rslave must make the container's copy a slave of the host's peer group.
  const { execFileSync } = await import('node:child_process')
  execFileSync('mount', ['--bind', host, host])
  execFileSync('mount', ['--make-rshared', host])
  execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', path.join(host, 'top/sub')])
  t.teardown(() => execFileSync('umount', ['-R', '-l', host]))
  const r = runIn(
    t,
    'touch /m/x 2>&1 | cut -d: -f3; touch /m/sub/y 2>&1 | cut -d: -f3; grep " /m " /proc/self/mountinfo | grep -o "master:[0-9]*" | head -1',
    (c) => {
      c.mounts!.push({ destination: '/m', type: 'bind', source: path.join(host, 'top'), options: ['rbind', 'rro', 'rslave'] })
    },
  )
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /^ Read-only file system\n Read-only file system\nmaster:\d+\n$/)
})

t.test('tmpcopyup starts the tmpfs with what it covers', priv(), async (t) => {
  const r = runIn(t, 'cat /etc/passwd | head -1; ls -l /etc/passwd | cut -c1-10; touch /etc/new && echo writable', (c) => {
    c.root!.readonly = true
    c.mounts!.push({ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'mode=755'] })
  })
  t.equal(r.status, 0, r.stderr)
  t.equal(r.stdout, 'root:x:0:0:root:/root:/bin/sh\n-rw-r--r--\nwritable\n')
})

t.test('linux.devices: mknod with mode and owner', priv(), async (t) => {
  const r = runIn(t, 'stat -c "%F %t:%T %a %u:%g" /dev/mydev /dev/null', (c) => {
    c.linux!.devices = [{ path: '/dev/mydev', type: 'c', major: 1, minor: 5, fileMode: 0o640, uid: 1000, gid: 1000 }]
  })
  t.equal(r.status, 0, r.stderr)
  t.equal(r.stdout, 'character special file 1:5 640 1000:1000\ncharacter special file 1:3 666 0:0\n')
})

t.test('linux.devices in a user namespace: the host node is bound, with a warning when it differs', priv(), async (t) => {
  const maps = [{ containerID: 0, hostID: 500000, size: 65536 }]
  const r = runIn(t, 'stat -c "%F %t:%T" /dev/tty', (c) => {
    c.linux!.namespaces!.push({ type: 'user' })
    c.linux!.uidMappings = maps
    c.linux!.gidMappings = maps
    c.linux!.devices = [{ path: '/dev/tty', type: 'c', major: 4, minor: 1 }]
  })
  t.equal(r.status, 0, r.stderr)
  t.equal(r.stdout, 'character special file 5:0\n', "the host's /dev/tty (runc's rule)")
  t.match(
    r.stderr,
    /linux\.devices\[0\]: in a user namespace the host's \/dev\/tty is bind-mounted: it is c 5:0, not the c 4:1 asked for/,
  )
})

t.test('--no-pivot: MS_MOVE and chroot', priv(), async (t) => {
  const r = runIn(t, 'cat /etc/hostname 2>/dev/null; ls / | wc -l; echo $$', undefined, ['--no-pivot'])
  t.equal(r.status, 0, r.stderr)
  const [, pid] = r.stdout.trim().split('\n').slice(-2)
  t.equal(pid, '1')
})

t.test('mount destinations that are symlinks stay inside the rootfs', priv(), async (t) => {
  const outside = tempDir(t)
  fs.mkdirSync(path.join(outside, 'victim'))
  // An absolute symlink planted in the rootfs, pointing at a host directory.
  const runt = new Runt(t)
  const b = makeBundle(t, ['sh', '-c', 'ls -d /outside-target/inner && echo inside'])
  fs.symlinkSync(path.join(outside, 'victim'), path.join(b.rootfs, 'escape'))
  b.config.mounts!.push({ destination: '/escape/inner', type: 'tmpfs', source: 'tmpfs', options: [] })
  b.write()
  const out = runt.run(['run', '--bundle', b.dir, runt.id()])
  t.equal(out.status !== null, true)
  t.same(fs.readdirSync(path.join(outside, 'victim')), [], 'nothing was created or mounted in the host directory')
  t.ok(fs.existsSync(path.join(b.rootfs, path.join(outside, 'victim'), 'inner')), 'the symlink was resolved inside the rootfs')
})

t.test('idmapped bind mounts: host root files appear as container root', priv(), async (t) => {
  const src = tempDir(t)
  fs.writeFileSync(path.join(src, 'f'), 'x')
  fs.chmodSync(src, 0o777)
  const runt = new Runt(t)
  const b = makeBundle(
    t,
    ['sh', '-c', 'stat -c "%u:%g" /data/f; touch /data/g; stat -c "%u" /data/g; stat -c "%u" /etc/passwd'],
    (c) => {
      c.linux!.namespaces!.push({ type: 'user' })
      c.linux!.uidMappings = [{ containerID: 0, hostID: 500000, size: 65536 }]
      c.linux!.gidMappings = [{ containerID: 0, hostID: 500000, size: 65536 }]
      c.mounts!.push({ destination: '/data', type: 'bind', source: src, options: ['rbind', 'idmap'] })
    },
  )
  fs.mkdirSync(path.join(b.rootfs, 'data'))
  const r = runt.run(['run', '--bundle', b.dir, runt.id()])
  t.equal(r.status, 0, r.stderr)
  t.equal(r.stdout, '0:0\n0\n65534\n', 'idmapped files map to root; the unmapped rootfs shows the overflow id')
  t.equal(fs.statSync(path.join(src, 'g')).uid, 0, 'a file the container root creates belongs to host root on disk')

  b.config.linux!.namespaces = b.config.linux!.namespaces!.filter((n) => n.type !== 'user')
  delete b.config.linux!.uidMappings
  delete b.config.linux!.gidMappings
  b.write()
  const bad = runt.run(['run', '--bundle', b.dir, runt.id()])
  t.equal(bad.status, 1)
  t.match(bad.stderr, /mounts\[\d+\]\.options: idmapped mounts need a user namespace/)
})

t.test('a bind mount with mappings of its own is idmapped without the idmap option (runc)', priv(), async (t) => {
  const src = tempDir(t)
  fs.writeFileSync(path.join(src, 'f'), 'x')
  const maps = [{ containerID: 0, hostID: 500000, size: 65536 }]
  const runt = new Runt(t)
  const b = makeBundle(t, ['sh', '-c', 'stat -c "%u:%g" /data/f'], (c) => {
    c.linux!.namespaces!.push({ type: 'user' })
    c.linux!.uidMappings = maps
    c.linux!.gidMappings = maps
    c.mounts!.push({ destination: '/data', type: 'bind', source: src, options: ['rbind'], uidMappings: maps, gidMappings: maps })
  })
  fs.mkdirSync(path.join(b.rootfs, 'data'))
  const r = runt.run(['run', '--bundle', b.dir, runt.id()])
  t.equal(r.status, 0, r.stderr)
  t.equal(r.stdout, '0:0\n', 'host root files appear as container root (a plain bind shows 65534:65534)')

  // Without a user namespace of the container's: the mount's own mappings are enough.
  const one = [{ containerID: 0, hostID: 1234, size: 1 }]
  b.config.linux!.namespaces = b.config.linux!.namespaces!.filter((n) => n.type !== 'user')
  delete b.config.linux!.uidMappings
  delete b.config.linux!.gidMappings
  b.config.mounts![b.config.mounts!.length - 1] = {
    destination: '/data',
    type: 'bind',
    source: src,
    uidMappings: one,
    gidMappings: one,
  }
  b.write()
  const r2 = runt.run(['run', '--bundle', b.dir, runt.id()])
  t.equal(r2.status, 0, r2.stderr)
  t.equal(r2.stdout, '1234:1234\n', 'on-disk root shows as the mapped host id')

  b.config.mounts![b.config.mounts!.length - 1] = { destination: '/data', type: 'tmpfs', source: 'tmpfs', uidMappings: one }
  b.write()
  const bad = runt.run(['run', '--bundle', b.dir, runt.id()])
  t.equal(bad.status, 1)
  t.match(bad.stderr, /mounts\[\d+\]\.uidMappings: idmapped mounts are only supported on bind mounts/)
})

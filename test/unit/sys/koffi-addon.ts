import t from 'tap'
import { addonDirs } from '../../../src/sys/koffi-addon.js'

t.test('addonDirs: host root, an unprivileged user, root of a user namespace', async (t) => {
  t.same(addonDirs(0, {}, undefined), ['/run/runt-lib', '/var/lib/runt/lib', '/dev/shm/runt-lib'])
  t.same(addonDirs(1000, { XDG_RUNTIME_DIR: '/run/user/1000' }, '/home/u'), [
    '/run/user/1000/runt-lib',
    '/home/u/.cache/runt-lib',
    '/dev/shm/runt-lib-1000',
  ])
  // Rootless podman runs the runtime as root of its user namespace: the host root's
  // directories are not its own (they show up owned by the overflow uid).
  t.same(addonDirs(0, { XDG_RUNTIME_DIR: '/run/user/1001' }, '/home/u', false), [
    '/run/user/1001/runt-lib',
    '/home/u/.cache/runt-lib',
    '/dev/shm/runt-lib-0',
  ])
})

// Rootless podman with runt as its OCI runtime (issue 14): an unprivileged user of the test's
// own (useradd, removed with userdel -r; Debian's useradd gives it /etc/subuid and /etc/subgid
// ranges) runs `podman run --rm` of a busybox image it imported, with runt and with runc side
// by side. Rootless podman calls the runtime inside its own user namespace (kept by its
// catatonit pause process), with no user namespace in config.json: runt must see that it runs
// in one and bind the default device nodes instead of mknod. Before that fix every run failed
// with "default device /dev/null /dev/null: mknod /dev/null: operation not permitted".
// cgroup v1 and no user systemd here: cgroupfs, file events, vfs storage, no network
// (slirp4netns fails the same with runc and runt: "open("/dev/net/tun"): Permission denied").
// podman exec: runt's exec init used to join the container's pid namespace for one clone and
// setns back to its own, which needs CAP_SYS_ADMIN over the host's pid namespace that root of
// podman's user namespace lacks ("setns own pid namespace: operation not permitted"); in a
// user namespace stage 1 now joins it and forks the exec init into it, as runc's exec does.

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { makeRootfs, RUNC, RUNT } from '../../fixtures/runt.js'
import { engineSkipReason } from '../../fixtures/podman-engine.js'

t.setTimeout(300_000)
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
const IMAGE = 'localhost/runt-rl-busybox:latest'
const skip =
  engineSkipReason('podman', 'conmon', 'newuidmap', 'newgidmap', 'runuser', 'useradd') ??
  (fs.existsSync('/proc/sys/kernel/unprivileged_userns_clone') &&
  fs.readFileSync('/proc/sys/kernel/unprivileged_userns_clone', 'utf8').trim() === '0'
    ? 'unprivileged user namespaces are disabled'
    : null)
const BINS = RUNC ? [RUNT, RUNC] : [RUNT]
if (!RUNC) t.comment('runc is not installed: runt alone')

type User = { name: string; uid: number; gid: number; home: string; xdg: string }
type Out = { status: number | null; stdout: string; stderr: string; out: string }

/** A user with subordinate ranges and a runtime dir; its pause process, files and user gone at teardown. */
function makeUser(t: Test): User | string {
  const name = `runt-rlp-${process.pid}-${Math.random().toString(36).slice(2, 6)}`
  const r = spawnSync('useradd', ['-m', '-s', '/bin/sh', name], { encoding: 'utf8' })
  if (r.status !== 0) return `useradd ${name}: ${r.stderr}`
  const uid = Number(spawnSync('id', ['-u', name], { encoding: 'utf8' }).stdout.trim())
  const gid = Number(spawnSync('id', ['-g', name], { encoding: 'utf8' }).stdout.trim())
  const xdg = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-rlp-xdg-'))
  fs.chownSync(xdg, uid, gid)
  fs.chmodSync(xdg, 0o700)
  const u = { name, uid, gid, home: `/home/${name}`, xdg }
  t.teardown(() => {
    podman(u, ['rm', '--all', '--force', '--time', '0'])
    // The catatonit pause process that holds podman's user namespace, by its pid file.
    const pidFile = path.join(xdg, 'libpod/tmp/pause.pid')
    const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').trim()) : 0
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        /* already gone */
      }
    }
    spawnSync('userdel', ['-r', name], { encoding: 'utf8' })
    fs.rmSync(xdg, { recursive: true, force: true })
    // podman's lock file for the user's containers.
    fs.rmSync(`/dev/shm/libpod_rootless_lock_${uid}`, { force: true })
  })
  const has = (file: string) =>
    fs.existsSync(file) &&
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .some((l) => l.startsWith(name + ':'))
  if (!has('/etc/subuid') || !has('/etc/subgid')) return 'useradd gave the user no /etc/subuid or /etc/subgid range'
  return u
}

/** podman as the user, with a clean environment and its own XDG_RUNTIME_DIR. */
function podman(u: User, args: string[]): Out {
  const env = [`PATH=${PATH}`, `HOME=${u.home}`, `USER=${u.name}`, `LOGNAME=${u.name}`, `XDG_RUNTIME_DIR=${u.xdg}`]
  const argv = ['-u', u.name, '--', 'env', '-i', ...env, 'podman']
  argv.push('--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', ...args)
  const r = spawnSync('runuser', argv, { cwd: u.home, encoding: 'utf8', timeout: 120_000 })
  const stdout = r.stdout ?? ''
  const stderr = (r.stderr ?? '') + (r.error ? `\n(spawn: ${r.error.message})` : '')
  return { status: r.status, stdout, stderr, out: stdout + stderr }
}

t.test('rootless podman with runt as its OCI runtime', skip ? { skip } : {}, async (t) => {
  const u = makeUser(t)
  if (typeof u === 'string') return t.fail(u)
  // The image: a busybox rootfs tar, imported by the user into its own store.
  const rootfs = path.join(u.home, 'rootfs')
  makeRootfs(rootfs)
  const tar = path.join(u.home, 'rootfs.tar')
  const tr = spawnSync('tar', ['-C', rootfs, '-cf', tar, '.'], { encoding: 'utf8' })
  if (!t.equal(tr.status, 0, `tar: ${tr.stderr}`)) return
  fs.rmSync(rootfs, { recursive: true, force: true })
  fs.chownSync(tar, u.uid, u.gid)
  const imp = podman(u, ['import', '--change', 'CMD ["/bin/sh"]', tar, IMAGE])
  if (!t.equal(imp.status, 0, `podman import as the user: ${imp.out}`)) return

  for (const bin of BINS) {
    const name = path.basename(bin)
    const run = (args: string[]) => podman(u, ['run', '--rm', '--network', 'none', '--runtime', bin, IMAGE, ...args])

    t.test(`${name}: run --rm of echo, root of podman's user namespace`, async (t) => {
      const r = run(['sh', '-c', 'echo hello-$((6*7)); id -u; cat /proc/self/uid_map'])
      t.equal(r.status, 0, `podman run: ${r.out}`)
      const [hello, id, ...map] = r.stdout.trim().split('\n')
      t.equal(hello, 'hello-42', 'the output of echo')
      t.equal(id, '0', 'root inside')
      t.match(map[0]?.trim().split(/\s+/).join(' '), `0 ${u.uid} 1`, "uid 0 is the user's own uid")
      t.match(map[1]?.trim().split(/\s+/).join(' '), /^1 \d+ 65536$/, 'then its subordinate range')
    })

    t.test(`${name}: the exit code and stderr reach podman`, async (t) => {
      const r = run(['sh', '-c', 'echo err >&2; exit 7'])
      t.equal(r.status, 7, `exit code of the container: ${r.out}`)
      t.match(r.stderr, 'err\n')
    })

    t.test(`${name}: the default devices are usable`, async (t) => {
      const r = run(['sh', '-c', 'echo x > /dev/null && head -c 4 /dev/zero | wc -c && ls -l /dev/null'])
      t.equal(r.status, 0, `podman run: ${r.out}`)
      t.match(r.stdout, /^4\ncrw-rw-rw- +1 .*\/dev\/null\n$/, '/dev/null and /dev/zero, character devices')
    })

    t.test(`${name}: run -d, exec, rm`, async (t) => {
      const c = `rlp-${name}-${process.pid}`
      const d = podman(u, ['run', '-d', '--name', c, '--network', 'none', '--runtime', bin, IMAGE, 'sleep', '1000'])
      if (!t.equal(d.status, 0, `podman run -d: ${d.out}`)) return
      const x = podman(u, ['exec', c, 'sh', '-c', 'echo in-exec; exit 3'])
      t.equal(x.status, 3, `exec exit code: ${x.out}`)
      t.equal(x.stdout, 'in-exec\n', 'exec output')
      const rm = podman(u, ['rm', '--force', '--time', '0', c])
      t.equal(rm.status, 0, `podman rm --force: ${rm.out}`)
    })
  }
  const ps = podman(u, ['ps', '--all', '--quiet'])
  t.equal(ps.stdout, '', `no container left: ${ps.out}`)
})

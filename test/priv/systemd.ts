// System containers: systemd as PID 1 of a Debian 12 rootfs (debootstrap minbase + systemd,
// from this machine's apt mirror, cached by scripts/systemd-rootfs.sh in /var/cache/runt-test),
// under runt directly and under podman --systemd=always with runt as its runtime. Each
// container gets the cached rootfs through an overlay mount of its own (the cache is never
// written), boots to `systemctl is-system-running` = running (or degraded, with the failed
// units named), runs a service of ours, and stops cleanly on SIGRTMIN+3 (signal 37), the
// signal systemd takes as "halt": its journal, read afterwards from the overlay's upper dir,
// ends with "Shutting down." and nothing is left of the container.
//
// The runt container's config is what PROBES.md found systemd needs with runc 1.1.5: a
// writable root, /sbin/init, env container=oci, no_new_privileges off, a cgroup namespace
// with /sys/fs/cgroup mounted read-write, tmpfs on /run, /run/lock and /tmp, and the
// capabilities engines give by default (docker's set). With only `runt spec`'s three
// capabilities, systemd-journald fails with status 218/CAPABILITIES (it cannot drop
// capabilities from its bounding set without CAP_SETPCAP) and the system is "degraded" —
// with runc exactly as with runt.

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { spawn, spawnSync } from 'node:child_process'
import { cleanCommand, cleanEnv, priv, REPO, Runt, tempDir, waitFor } from '../fixtures/runt.js'
import { cgroupDirs } from '../fixtures/engine-daemon.js'
import { engineSkipReason, PodmanEnv } from '../fixtures/podman-engine.js'
import { defaultSpec } from '../../src/spec/defaults.js'

t.setTimeout(900_000)

/** The cached rootfs (built on first use: minutes), or why there is none. */
function systemdRootfs(): { dir?: string; skip?: string } {
  const p = priv()
  if (p.skip) return p
  const r = spawnSync(path.join(REPO, 'scripts/systemd-rootfs.sh'), [], {
    encoding: 'utf8',
    env: cleanEnv({ ...(process.env.RUNT_TEST_CACHE ? { RUNT_TEST_CACHE: process.env.RUNT_TEST_CACHE } : {}) }),
    timeout: 840_000,
  })
  const dir = r.stdout.trim()
  if (r.status === 0 && fs.existsSync(path.join(dir, 'sbin/init'))) return { dir }
  return { skip: `no systemd rootfs: scripts/systemd-rootfs.sh failed: ${(r.stderr || r.error?.message || '').trim()}` }
}
const rootfs = systemdRootfs()

/** The docker/podman default capability set. */
const CAPS = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_NET_BIND_SERVICE',
  'CAP_SETFCAP',
  'CAP_SETGID',
  'CAP_SETPCAP',
  'CAP_SETUID',
  'CAP_SYS_CHROOT',
  'CAP_AUDIT_WRITE',
  'CAP_MKNOD',
  'CAP_NET_RAW',
]

/**
 * An overlay of the cached rootfs at `<dir>/rootfs` (upper and work dirs beside it), with a
 * oneshot service of ours enabled in multi-user.target; unmounted at teardown. Call after
 * tempDir(dir) and before anything whose teardown must run while it is still mounted.
 */
function overlayRootfs(t: Test, dir: string): { merged: string; upper: string } {
  const upper = path.join(dir, 'upper')
  const work = path.join(dir, 'work')
  const merged = path.join(dir, 'rootfs')
  for (const d of [upper, work, merged]) fs.mkdirSync(d)
  const units = path.join(upper, 'etc/systemd/system')
  fs.mkdirSync(path.join(units, 'multi-user.target.wants'), { recursive: true })
  fs.writeFileSync(
    path.join(units, 'runt-e2e-probe.service'),
    [
      '[Unit]',
      'Description=runt e2e probe',
      '[Service]',
      'Type=oneshot',
      'RemainAfterExit=yes',
      'ExecStart=/bin/sh -c "echo probe ran as $$(id -u) > /run/runt-e2e-probe; echo runt-e2e-probe-output"',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n'),
  )
  fs.symlinkSync('../runt-e2e-probe.service', path.join(units, 'multi-user.target.wants/runt-e2e-probe.service'))
  const m = spawnSync(
    'mount',
    ['-t', 'overlay', 'overlay', '-o', `lowerdir=${rootfs.dir},upperdir=${upper},workdir=${work}`, merged],
    {
      encoding: 'utf8',
    },
  )
  if (m.status !== 0) throw new Error(`overlay mount: ${m.stderr}`)
  t.teardown(() => void spawnSync('umount', ['--lazy', merged]))
  return { merged, upper }
}

/** The journal of the stopped container, read with its own journalctl from the overlay. */
function journal(merged: string, dir = '/var/log/journal'): string {
  const r = spawnSync('chroot', [merged, 'journalctl', '--directory', dir, '--no-pager', '--quiet', '-o', 'cat'], {
    encoding: 'utf8',
    env: cleanEnv(),
  })
  return r.stdout + r.stderr
}

/** Poll `systemctl is-system-running` through `run` until it settles; the last answer. */
async function bootState(run: (argv: string[]) => { stdout: string; stderr: string }, ms = 180_000): Promise<string> {
  let state = ''
  await waitFor(
    () => {
      const r = run(['systemctl', 'is-system-running'])
      state = (r.stdout.trim() || r.stderr.trim()).split('\n').pop() ?? ''
      return ['running', 'degraded', 'maintenance', 'stopping'].includes(state)
    },
    ms,
    500,
  )
  return state
}

/** Boot checks shared by both ways of running it. */
async function checkBooted(
  t: Test,
  run: (argv: string[]) => { status: number | null; stdout: string; stderr: string },
  virt: string,
  /** where PID 1's name=systemd (or v2) cgroup ends up, as it sees it */
  initCgroup: RegExp,
): Promise<void> {
  const state = await bootState(run)
  const failed = run(['systemctl', 'list-units', '--failed', '--plain', '--no-legend', '--no-pager']).stdout.trim()
  t.equal(state, 'running', 'systemctl is-system-running: running', { failedUnits: failed })
  t.equal(failed, '', 'no failed units')
  t.equal(run(['cat', '/proc/1/comm']).stdout, 'systemd\n', 'PID 1 is systemd')
  t.equal(run(['systemd-detect-virt', '--container']).stdout.trim(), virt, `systemd sees a container (${virt})`)
  t.equal(
    run(['systemctl', 'is-active', 'systemd-journald', 'runt-e2e-probe']).stdout,
    'active\nactive\n',
    'journald and our service are active',
  )
  t.equal(run(['cat', '/run/runt-e2e-probe']).stdout, 'probe ran as 0\n', 'our service ran')
  const j = run(['journalctl', '--no-pager', '--quiet', '-o', 'cat', '-u', 'runt-e2e-probe'])
  t.match(j.stdout, 'runt-e2e-probe-output', "the service's output is in the journal")
  // systemd moved itself to an init.scope of its own under the container's cgroup.
  const cg = run(['cat', '/proc/1/cgroup']).stdout
  t.match(cg, initCgroup, 'PID 1 moved itself to init.scope', { cgroup: cg })
}

t.test('systemd as PID 1 under runt', rootfs.skip ? { skip: rootfs.skip } : {}, async (t) => {
  const dir = tempDir(t, 'runt-systemd-')
  const { merged, upper } = overlayRootfs(t, dir)
  const runt = new Runt(t)
  const id = runt.id('systemd')
  const v2 = fs.existsSync('/sys/fs/cgroup/cgroup.controllers')
  const cgroupsPath = `/runt-e2e-systemd-${process.pid}/${id}`
  const spec = defaultSpec({ cgroupNamespace: true })
  spec.root = { path: merged, readonly: false }
  spec.hostname = 'runt-systemd'
  spec.process!.terminal = false
  spec.process!.args = ['/sbin/init']
  spec.process!.env = [...(spec.process!.env ?? []), 'container=oci']
  spec.process!.noNewPrivileges = false
  spec.process!.capabilities = { bounding: CAPS, effective: CAPS, permitted: CAPS }
  spec.mounts = [
    ...spec.mounts!.map((m) =>
      m.destination === '/sys/fs/cgroup' ? { ...m, options: [...(m.options ?? []).filter((o) => o !== 'ro'), 'rw'] } : m,
    ),
    ...['/run', '/run/lock', '/tmp'].map((d) => ({
      destination: d,
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'nodev', d === '/tmp' ? 'mode=1777' : 'mode=755'],
    })),
  ]
  spec.linux!.cgroupsPath = cgroupsPath
  if (!spec.linux!.namespaces!.some((n) => n.type === 'cgroup')) spec.linux!.namespaces!.push({ type: 'cgroup' })
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec, null, 2))
  t.teardown(() => {
    for (const cg of cgroupDirs(cgroupsPath.split('/')[1]!).reverse())
      spawnSync('find', [cg, '-depth', '-type', 'd', '-exec', 'rmdir', '{}', ';'], { stdio: 'ignore' })
  })

  // Foreground `runt run`, as a supervisor would run it: its exit status is systemd's.
  const console = fs.openSync(path.join(dir, 'console.log'), 'w')
  const [c, argv] = cleanCommand(['--root', runt.root, 'run', '--bundle', dir, id])
  const proc = spawn(c, argv, { stdio: ['ignore', console, console] })
  fs.closeSync(console)
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) =>
    proc.on('exit', (code, signal) => r({ code, signal })),
  )
  t.teardown(() => void proc.kill('SIGKILL'))
  const run = (args: string[]) => runt.run(['exec', id, ...args], { timeout: 30_000 })

  t.ok(await waitFor(() => runt.run(['state', id]).stdout.includes('"running"'), 60_000, 200), 'runt state: running')
  // Through the cgroup namespace, the container's cgroup is the root systemd sees.
  await checkBooted(t, run, 'container-other', /^\d+:(name=systemd)?:\/init\.scope$/m)
  const hostCg = v2 ? `/sys/fs/cgroup${cgroupsPath}` : `/sys/fs/cgroup/systemd${cgroupsPath}`
  t.ok(fs.existsSync(path.join(hostCg, 'system.slice')), `systemd's system.slice under the container's cgroup (${hostCg})`)
  t.ok(fs.existsSync(path.join(hostCg, 'init.scope')), 'and its init.scope, where it moved itself')

  // SIGRTMIN+3: systemd runs halt.target and exits; runt run returns its status.
  const start = Date.now()
  const k = runt.run(['kill', id, '37'])
  t.equal(k.status, 0, 'runt kill ID 37', { stderr: k.stderr })
  let timer: NodeJS.Timeout | undefined
  const end = await Promise.race([exited, new Promise<null>((r) => (timer = setTimeout(() => r(null), 120_000)))])
  clearTimeout(timer)
  const took = Date.now() - start
  t.same(end, { code: 0, signal: null }, `systemd halted and runt run exited 0 (after ${took} ms)`)
  t.ok(took < 60_000, 'within a minute of the signal')
  const j = journal(merged)
  t.match(j, /Reached target final\.target[^]*Shutting down\.\n/, "the journal shows systemd's whole shutdown", {
    tail: j.slice(-1500),
  })
  t.notMatch(j, /Freezing execution|Caught <|crash/i, 'systemd did not crash')
  t.equal(runt.run(['state', id]).status, 1, 'the container is gone (runt run deletes it)')
  t.same(cgroupDirs(cgroupsPath.slice(1)), [], "the container's cgroups, systemd's sub-cgroups included, are removed")
  t.ok(fs.existsSync(path.join(upper, 'var/log/journal')), 'the writes went to the overlay, not the cache')
})

t.test(
  'podman --systemd=always with runt',
  rootfs.skip
    ? { skip: rootfs.skip }
    : engineSkipReason('podman', 'conmon')
      ? { skip: engineSkipReason('podman', 'conmon')! }
      : {},
  async (t) => {
    const dir = tempDir(t, 'runt-systemd-podman-')
    const { merged } = overlayRootfs(t, dir)
    const e = new PodmanEnv(t)
    const name = `systemd-${process.pid}`
    const journalDir = path.join(merged, 'var/lib/runt-e2e-journal')
    fs.mkdirSync(journalDir, { mode: 0o755 })
    // podman asks systemd containers for 1048576 open files; above this machine's hard limit
    // (20000 here), and raising it needs CAP_SYS_RESOURCE: runc fails the same way.
    const r = e.podman([
      'run',
      '--detach',
      '--name',
      name,
      '--systemd=always',
      '--ulimit',
      'nofile=20000:20000',
      '--ulimit',
      'nproc=32768:32768',
      '--hostname',
      'runt-podman-systemd',
      // podman puts a tmpfs on /var/log/journal; a volume instead keeps the journal for
      // after the stop, in a directory of the overlay that the chroot'd journalctl reads.
      '--volume',
      `${journalDir}:/var/log/journal`,
      '--rootfs',
      merged,
      '/sbin/init',
    ])
    if (!t.equal(r.status, 0, `podman run --systemd=always: ${r.out}`)) return
    const run = (args: string[]) => e.podman(['exec', name, ...args], { timeout: 30_000 })
    t.match(
      e.runtCalls().find((l) => / create /.test(l)),
      /create --bundle /,
      'podman created it with runt',
    )
    t.equal(
      e.podman(['inspect', '--format', '{{.Config.StopSignal}}', name]).stdout.trim(),
      '37',
      'podman stops it with SIGRTMIN+3',
    )
    // podman gives a v1 host no cgroup namespace (its default, with runc too): systemd sees
    // the full path.
    await checkBooted(t, run, 'podman', /^\d+:(name=systemd)?:\/\S*\/init\.scope$/m)

    const start = Date.now()
    const st = e.podman(['stop', '--time', '90', name], { timeout: 120_000 })
    const took = Date.now() - start
    t.equal(st.status, 0, `podman stop: ${st.out}`)
    t.ok(took < 60_000, `stopped by the signal, not the timeout (${took} ms)`)
    t.equal(
      e.podman(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', name]).stdout,
      'exited 0\n',
      'systemd exited 0',
    )
    const j = journal(merged, '/var/lib/runt-e2e-journal')
    t.match(j, /Reached target final\.target[^]*Shutting down\.\n/, "the journal shows systemd's whole shutdown", {
      tail: j.slice(-1500),
    })
    t.equal(e.podman(['rm', name]).status, 0, 'podman rm')
    t.same(fs.readdirSync(path.join(e.dir, 'runt-state')), [], "nothing left under runt's --root")
  },
)

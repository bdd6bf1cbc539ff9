// The LSM label of an exec'd process is written by the forked libc chain through the host's
// procfs (an fd of the exec init), never through the container's /proc, which a container
// with CAP_SYS_ADMIN in its user namespace can cover (CVE-2025-52881). No AppArmor or SELinux
// is needed to test that path: test/fixtures/drive-exec-process.ts gives spawnExecProcess a
// "label" file every host has, /proc/thread-self/oom_score_adj, whose value survives execve.

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { busyboxPath, cleanEnv, priv, REPO, waitFor } from '../fixtures/runt.js'

/** A chroot with busybox and no /proc; the driver's output on stderr. */
function drive(t: Test, value: string, mempolicy?: { value: number; nodes: number[] }) {
  const root = t.testdir({})
  fs.mkdirSync(path.join(root, 'bin'))
  fs.copyFileSync(busyboxPath()!, path.join(root, 'bin/busybox'))
  fs.chmodSync(path.join(root, 'bin/busybox'), 0o755)
  fs.symlinkSync('busybox', path.join(root, 'bin/sleep'))
  const args = [value, root, ...(mempolicy ? [JSON.stringify(mempolicy)] : [])]
  const r = spawnSync(process.execPath, ['--import=tsx', path.join(REPO, 'test/fixtures/drive-exec-process.ts'), ...args], {
    cwd: REPO,
    env: cleanEnv(),
    encoding: 'utf8',
    timeout: 30_000,
  })
  const pid = Number(/^pid (\d+)$/m.exec(r.stderr)?.[1] ?? 0)
  if (pid) t.teardown(() => process.kill(pid, 'SIGKILL'))
  return { ...r, pid }
}

t.test('the exec attr is written through the host procfs fd, before execve', priv(), async (t) => {
  const r = drive(t, '321')
  t.equal(r.status, 0, r.stderr)
  t.ok(r.pid, 'the process was started')
  t.ok(await waitFor(() => fs.readlinkSync(`/proc/${r.pid}/exe`).endsWith('busybox'), 5000), "it exec'd sleep")
  t.equal(
    fs.readFileSync(`/proc/${r.pid}/oom_score_adj`, 'utf8').trim(),
    '321',
    'the value written before execve stuck, with no /proc in its root',
  )
})

t.test('a write the kernel refuses fails the exec with its errno', priv(), async (t) => {
  const r = drive(t, 'not-a-number')
  t.equal(r.status, 1)
  t.match(r.stderr, /unable to set up the process .*: invalid argument/)
  t.equal(r.pid, 0, 'the program never ran')
})

t.test("the chain's set_mempolicy binds the process, and its refusal is the setup errno", priv(), async (t) => {
  const r = drive(t, '0', { value: 3 /* MPOL_INTERLEAVE */, nodes: [0] })
  t.equal(r.status, 0, r.stderr)
  t.ok(await waitFor(() => fs.readlinkSync(`/proc/${r.pid}/exe`).endsWith('busybox'), 5000), "it exec'd sleep")
  t.match(fs.readFileSync(`/proc/${r.pid}/numa_maps`, 'utf8'), /^[0-9a-f]+ interleave:0 /, 'the task policy, from the host')
  // MPOL_BIND with no node: the planner refuses it, the kernel too (EINVAL).
  const bad = drive(t, '0', { value: 2, nodes: [] })
  t.equal(bad.status, 1)
  t.match(bad.stderr, /unable to set up the process \(namespaces, memory policy, credentials or seccomp\): invalid argument/)
  t.equal(bad.pid, 0, 'the program never ran')
})

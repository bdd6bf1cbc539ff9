// A config that lists no mount namespace shares the runtime's (config-linux.md; issue 11):
// no namespaces at all, and pid+uts+ipc+net new without mount, run, exec'd, killed and
// deleted; masks refused with runc's text; delete leaves nothing mounted; the runtime's own
// propagation untouched. Every runtime command runs inside a throwaway `unshare -m
// --propagation private`, which the runtime then takes for its own: the mounts made there
// never reach this test's (the host's) mount namespace, checked after each case. runc 1.1.5
// runs the same cases side by side, where installed (docs/design.md "No mount namespace" lists
// where the two differ). Before the change runt refused these configs: "a mount namespace is
// required to set up the root filesystem".

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { cleanEnv, DROP_NSFS_COPIES, makeBundle, priv, RUNC, RUNT, spawnToFiles, tempDir, type Bundle } from '../fixtures/runt.js'
import type { LinuxNamespaceType, Spec } from '../../src/spec/schema.js'

const BINS = RUNC ? [RUNT, RUNC] : [RUNT]
if (!RUNC) t.comment('runc is not installed: runt alone (apt-get install runc for the comparison)')

type Out = { status: number | null; stdout: string; stderr: string; vars: Record<string, string>; root: string }

/**
 * `script` under sh in a fresh mount namespace (private propagation), with $RT the runtime
 * (clean environment, a private --root), $B the bundle and $ID a fresh id. Lines `@k=v` it
 * prints become `vars`. stdout and stderr go to files: a created container holds them open.
 */
function throwaway(
  t: Test,
  bin: string,
  b: Bundle,
  script: string,
  o: { outer?: string; vars?: Record<string, string> } = {},
): Out {
  const outer = o.outer ? `${DROP_NSFS_COPIES}\n${o.outer}` : ''
  const root = path.join(tempDir(t, 'runt-root-'), 'state')
  const id = `nomnt-${path.basename(bin)}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
  // A container a failed script left behind: deleted from the namespace it lives in at the end.
  const rt = ['/usr/bin/env', '-i', ...Object.entries(cleanEnv()).map(([k, v]) => `${k}=${v}`), bin, '--root', root].join(' ')
  const assign = Object.entries({ RT: rt, B: b.dir, ID: id, ...o.vars })
    .map(([k, v]) => `${k}="${v}"`)
    .join('; ')
  const full = `${assign}\n${script}\n$RT delete --force "$ID" >/dev/null 2>&1\n`
  // `outer` runs first in the throwaway namespace; the script then in a child one of it.
  const argv = outer
    ? [
        '-m',
        '--propagation',
        'private',
        '--',
        'sh',
        '-c',
        `${outer}\nunshare -m --propagation unchanged -- sh -c '${full.replace(/'/g, `'\\''`)}'`,
      ]
    : ['-m', '--propagation', 'private', '--', 'sh', '-c', `${DROP_NSFS_COPIES}\n${full}`]
  const r = spawnToFiles('unshare', argv, { timeout: 120_000, env: cleanEnv() })
  const vars: Record<string, string> = {}
  for (const line of r.stdout.split('\n')) {
    const m = /^@([\w-]+)=(.*)$/.exec(line)
    if (m) vars[m[1]!] = m[2]!
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, vars, root }
}

/** Mounts of this (the test's, the host's) mount namespace at or below `dir`. */
function hostMountsUnder(dir: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.split(' ')[4]?.startsWith(dir))
}

/** A bundle whose config lists `types` only: no mount namespace, no masks, no hostname. */
function sharedBundle(t: Test, args: string[], types: LinuxNamespaceType[], edit?: (c: Spec) => void): Bundle {
  return makeBundle(t, args, (c) => {
    c.linux!.namespaces = types.map((type) => ({ type }))
    c.linux!.maskedPaths = []
    c.linux!.readonlyPaths = []
    if (!types.includes('uts')) delete c.hostname
    edit?.(c)
  })
}

/** The mounts of the throwaway namespace under the bundle, counted by the script. */
const COUNT = (v: string) => `echo @${v}=$(grep -c " $B/" /proc/self/mountinfo)`

for (const bin of BINS) {
  const name = path.basename(bin)

  t.test(`no namespaces at all: busybox true runs, in the runtime's namespaces (${name})`, priv(), async (t) => {
    const b = sharedBundle(
      t,
      ['sh', '-c', 'echo @mnt=$(readlink /proc/self/ns/mnt); echo @pid=$(readlink /proc/self/ns/pid); cat /marker'],
      [],
    )
    fs.writeFileSync(path.join(b.rootfs, 'marker'), '@marker=bundle rootfs\n')
    const r = throwaway(
      t,
      bin,
      b,
      `echo @own=$(readlink /proc/self/ns/mnt)
$RT run --bundle "$B" "$ID"; echo @run=$?
$RT run --bundle "$B2" "$ID-true"; echo @true=$?
${COUNT('left')}`,
      { vars: { B2: sharedBundle(t, ['true'], []).dir } },
    )
    t.equal(r.vars.run, '0', r.stderr)
    t.equal(r.vars.true, '0', `busybox true: ${r.stderr}`)
    t.equal(r.vars.mnt, r.vars.own, "in the runtime's mount namespace (the throwaway one)")
    t.equal(r.vars.pid, fs.readlinkSync('/proc/self/ns/pid'), "in the runtime's pid namespace")
    t.equal(r.vars.marker, 'bundle rootfs', 'its root is the bundle rootfs')
    if (bin === RUNT) t.equal(r.vars.left, '0', 'run (delete) detached every mount it made')
    else t.not(r.vars.left, '0', `runc leaves its mounts behind (${r.vars.left})`)
    t.same(hostMountsUnder(b.dir), [], "nothing reached the test's mount namespace")
  })

  t.test(`pid, uts, ipc and net new, no mount: create, start, exec, kill, delete a sleep (${name})`, priv(), async (t) => {
    const b = sharedBundle(t, ['sleep', '300'], ['pid', 'uts', 'ipc', 'network'])
    fs.writeFileSync(path.join(b.rootfs, 'marker'), 'bundle rootfs\n')
    const r = throwaway(
      t,
      bin,
      b,
      `echo @own=$(readlink /proc/self/ns/mnt)
$RT create --bundle "$B" "$ID" </dev/null; echo @create=$?
${COUNT('created')}
ipid=$($RT state "$ID" | grep -o '"pid": *[0-9]*' | grep -o '[0-9]*$')
echo @exeRo=$(python3 -c "import os; print(bool(os.statvfs('/proc/$ipid/exe').f_flag & os.ST_RDONLY))")
$RT start "$ID"; echo @start=$?
echo @status=$($RT state "$ID" | grep -o '"status": *"[a-z]*"' | grep -o '[a-z]*"$' | tr -d '"')
pid=$($RT state "$ID" | grep -o '"pid": *[0-9]*' | grep -o '[0-9]*$')
echo @cmnt=$(readlink /proc/$pid/ns/mnt)
echo @cpid=$(readlink /proc/$pid/ns/pid)
echo @croot=$(readlink /proc/$pid/root)
echo @fds=$(ls /proc/$pid/fd | tr '\\n' ' ')
echo @exec=$($RT exec "$ID" sh -c 'readlink /proc/self/ns/mnt; cat /marker 2>&1' | tr '\\n' '|')
$RT kill "$ID" KILL; echo @kill=$?
for i in $(seq 50); do $RT state "$ID" | grep -q '"stopped"' && break; sleep 0.1; done
echo @stopped=$($RT state "$ID" | grep -c '"stopped"')
${COUNT('stoppedMounts')}
$RT delete "$ID"; echo @delete=$?
${COUNT('left')}`,
    )
    t.equal(r.vars.create, '0', r.stderr)
    t.equal(r.vars.start, '0', r.stderr)
    t.equal(r.vars.status, 'running')
    t.equal(r.vars.cmnt, r.vars.own, "the container is in the runtime's mount namespace")
    t.not(r.vars.cpid, fs.readlinkSync('/proc/self/ns/pid'), 'in a pid namespace of its own')
    t.equal(r.vars.croot, fs.realpathSync(b.rootfs), 'chrooted into the bundle rootfs')
    t.equal(r.vars.fds?.trim(), '0 1 2', 'stdio only: no runtime descriptor (the mount namespace fd included)')
    if (bin === RUNT) t.equal(r.vars.exeRo, 'True', "the waiting init's executable is still the read-only bind stage 1 sealed")
    t.equal(r.vars.kill, '0')
    t.equal(r.vars.stopped, '1', 'stopped after SIGKILL')
    t.equal(r.vars.delete, '0', r.stderr)
    t.ok(Number(r.vars.created) > 0, `the rootfs was built in the runtime's mount namespace (${r.vars.created} mounts)`)
    if (bin === RUNT) {
      t.equal(r.vars.exec, `${r.vars.own}|bundle rootfs|`, "exec: in the runtime's mount namespace, inside the container's root")
      t.equal(r.vars.stoppedMounts, r.vars.created, 'the mounts stay while the stopped container exists')
      t.equal(r.vars.left, '0', 'delete detached every mount the container made')
    } else {
      // runc's exec joins the (shared) mount namespace but never enters the container's root:
      // the host's sh and cat ran, and /marker is not the rootfs' (docs/design.md).
      t.equal(r.vars.exec?.split('|')[0], r.vars.own, 'runc exec: in the mount namespace')
      t.match(r.vars.exec?.split('|')[1], /^cat: .*\/marker/, `runc exec: outside the container's root (${r.vars.exec})`)
      t.equal(r.vars.left, r.vars.created, "runc's delete leaves every mount behind")
    }
    t.same(hostMountsUnder(b.dir), [], "nothing reached the test's mount namespace")
  })

  t.test(`masked and read-only paths are refused without a mount namespace, with runc's text (${name})`, priv(), async (t) => {
    const b = makeBundle(t, ['true'], (c) => {
      c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'mount')
    })
    t.ok(b.config.linux!.maskedPaths!.length > 0 && b.config.linux!.readonlyPaths!.length > 0, 'the default masks are there')
    const r = throwaway(t, bin, b, `$RT run --bundle "$B" "$ID"; echo @run=$?\n${COUNT('left')}`)
    t.not(r.vars.run, '0')
    t.match(r.stderr, /unable to restrict sys entries without a private MNT namespace/)
    t.equal(r.vars.left, '0', 'nothing mounted')
    t.same(fs.existsSync(r.root) ? fs.readdirSync(r.root) : [], [], 'no state directory')
    t.same(hostMountsUnder(b.dir), [])
  })

  t.test(`root.readonly without a mount namespace (${name})`, priv(), async (t) => {
    const b = sharedBundle(t, ['sh', '-c', 'touch /written 2>&1; echo @touch=$?'], ['pid'], (c) => (c.root!.readonly = true))
    const r = throwaway(t, bin, b, `$RT run --bundle "$B" "$ID"; echo @run=$?\n${COUNT('left')}`)
    t.equal(r.vars.run, '0', r.stderr)
    if (bin === RUNT) {
      t.not(r.vars.touch, '0', 'runt honours it: the bind of the rootfs is remounted read-only')
      t.notOk(fs.existsSync(path.join(b.rootfs, 'written')))
      t.equal(r.vars.left, '0')
    } else {
      t.equal(r.vars.touch, '0', 'runc skips finalizeRootfs without a mount namespace: the root stays writable')
    }
    t.same(hostMountsUnder(b.dir), [])
  })

  t.test(`the runtime's mount propagation is left alone (${name})`, priv(), async (t) => {
    const b = sharedBundle(t, ['sleep', '300'], ['pid'])
    // The throwaway namespace is made rshared (its own peer groups: it was made private first);
    // the runtime runs in a child namespace whose mounts are peers of its parent's.
    const r = throwaway(
      t,
      bin,
      b,
      `echo @before=$(awk '$5 == "/" { print $7 }' /proc/self/mountinfo)
$RT create --bundle "$B" "$ID" </dev/null; echo @create=$?
echo @after=$(awk '$5 == "/" { print $7 }' /proc/self/mountinfo)
echo @peer=$(grep -c " $B/" /proc/$PPID/mountinfo)
$RT delete --force "$ID"; echo @delete=$?
echo @peerLeft=$(grep -c " $B/" /proc/$PPID/mountinfo)
${COUNT('left')}`,
      { outer: 'mount --make-rshared /' },
    )
    t.equal(r.vars.create, '0', r.stderr)
    t.match(r.vars.before, /^shared:\d+$/, 'the runtime\'s "/" is shared')
    if (bin === RUNT) {
      t.equal(r.vars.after, r.vars.before, 'and stays shared: runt changes no propagation but its own mounts')
      t.equal(r.vars.peer, '1', 'only the bind of the rootfs reaches the peer namespace, nothing mounted in it')
      t.equal(r.vars.peerLeft, '0', "delete's detach takes the peer's copy too")
      t.equal(r.vars.left, '0')
    } else {
      t.match(r.vars.after, /^master:\d+$/, 'runc makes the runtime\'s "/" rslave')
      t.equal(r.vars.peer, '0', 'so nothing reaches the peer')
    }
    t.same(hostMountsUnder(b.dir), [])
  })

  t.test(`prestart and createRuntime hooks run once (${name})`, priv(), async (t) => {
    const log = path.join(tempDir(t, 'runt-hooks-'), 'log')
    const hook = (n: string) => ({ path: '/bin/sh', args: ['sh', '-c', `echo ${n} >> ${log}`] })
    const b = sharedBundle(
      t,
      ['true'],
      ['pid'],
      (c) => (c.hooks = { prestart: [hook('prestart')], createRuntime: [hook('createRuntime')] }),
    )
    const r = throwaway(t, bin, b, `$RT run --bundle "$B" "$ID"; echo @run=$?`)
    t.equal(r.vars.run, '0', r.stderr)
    const ran = fs.readFileSync(log, 'utf8').trim().split('\n')
    if (bin === RUNT) t.same(ran, ['prestart', 'createRuntime'])
    else if (/^runc version 1\.1\./m.test(spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout))
      t.same(ran, ['prestart', 'createRuntime', 'prestart', 'createRuntime'], 'runc 1.1: at procHooks and again at procReady')
    else t.comment(`runc ran: ${ran.join(', ')}`)
    t.same(hostMountsUnder(b.dir), [])
  })

  t.test(`a create that fails after its mounts (a createContainer hook) (${name})`, priv(), async (t) => {
    const b = sharedBundle(t, ['true'], ['pid'], (c) => (c.hooks = { createContainer: [{ path: '/bin/false' }] }))
    const r = throwaway(t, bin, b, `$RT create --bundle "$B" "$ID" </dev/null; echo @create=$?\n${COUNT('left')}`)
    t.not(r.vars.create, '0', 'create fails')
    if (bin === RUNT) {
      t.equal(r.vars.left, '0', "create's undo detached what the init had mounted")
      t.same(fs.existsSync(r.root) ? fs.readdirSync(r.root) : [], [], 'no state directory')
    } else t.comment(`runc leaves ${r.vars.left} mounts after the failed create`)
    t.same(hostMountsUnder(b.dir), [])
  })
}

for (const bin of BINS) {
  t.test(`a user namespace without a mount namespace (${path.basename(bin)})`, priv(), async (t) => {
    const b = sharedBundle(t, ['true'], ['user', 'pid'], (c) => {
      c.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }]
      c.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }]
    })
    const r = throwaway(t, bin, b, `$RT run --bundle "$B" "$ID"; echo @run=$?\n${COUNT('left')}`)
    t.equal(r.vars.run, '1')
    if (bin === RUNT) {
      t.match(
        r.stderr,
        /linux\.namespaces: a user namespace needs a mount namespace of its own/,
        'refused before anything is made',
      )
      t.same(fs.existsSync(r.root) ? fs.readdirSync(r.root) : [], [], 'no state directory')
    } else t.match(r.stderr, /error preparing rootfs: mount \/.*operation not permitted/, 'runc fails at its first mount')
    t.equal(r.vars.left, '0')
  })
}

t.test('runt: delete from another mount namespace detaches nothing there', priv(), async (t) => {
  const b = sharedBundle(t, ['sleep', '300'], ['pid'])
  // The outer namespace has a mount of its own on root.path; the container is made in a child
  // namespace (which its init keeps alive) and deleted from the outer one.
  const r = throwaway(
    t,
    RUNT,
    b,
    `mount --bind "$B/rootfs" "$B/rootfs"
export RT B ID
unshare -m --propagation private -- sh -c '$RT create --bundle "$B" "$ID" </dev/null; echo @create=$?; echo @inner=$(grep -c " $B/" /proc/self/mountinfo)'
${COUNT('before')}
$RT delete --force "$ID" 2>&1; echo @delete=$?
${COUNT('after')}
umount "$B/rootfs"`,
  )
  t.equal(r.vars.create, '0', r.stdout + r.stderr)
  t.ok(Number(r.vars.inner) > 1, `the container's mounts are in the child namespace (${r.vars.inner})`)
  t.equal(r.vars.delete, '0')
  t.match(r.stdout, /made in another mount namespace .*: left there/)
  t.equal(r.vars.before, '1')
  t.equal(r.vars.after, '1', "the outer namespace's own mount on root.path is left alone")
  t.same(hostMountsUnder(b.dir), [])
})

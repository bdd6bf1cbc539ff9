// apparmorProfile, selinuxLabel and mountLabel. Where the host has the LSM, the label is
// applied (these subtests run only there); where it has not, runc's behaviour: a profile or
// process label is an error at create (nothing is left), a mount label is ignored and the log
// says so.

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { makeBundle, priv, Runt } from '../fixtures/runt.js'
import type { Spec } from '../../src/spec/schema.js'
import { apparmorEnabled, selinuxEnabled } from '../../src/confine/lsm.js'

/**
 * A Runt whose containers are force-deleted at teardown while its --root still exists (tap
 * runs teardowns last-registered first, so Runt's own cleanup would come after the rm).
 */
function newRunt(t: Test): Runt {
  const runt = new Runt(t)
  t.teardown(() => runt.cleanup())
  return runt
}

const apparmor = apparmorEnabled()
const selinux = selinuxEnabled()
const which = (bin: string) => process.env.PATH?.split(':').find((d) => fs.existsSync(path.join(d, bin)))

const unless = (cond: boolean, why: string) => ({ ...priv(), skip: priv().skip ?? (cond && why) })

function create(t: Test, args: string[], edit: (c: Spec) => void) {
  const runt = newRunt(t)
  const b = makeBundle(t, args, edit)
  const id = runt.id()
  return { r: runt.run(['create', '--bundle', b.dir, id]), runt, id, b }
}

const unquote = (s: string) => s.replace(/\\"/g, '"')

t.test('apparmorProfile on a host without AppArmor fails create', unless(apparmor, 'AppArmor is enabled here'), async (t) => {
  const { r, runt, id } = create(t, ['true'], (c) => (c.process!.apparmorProfile = 'runt-test'))
  t.equal(r.status, 1)
  t.match(
    unquote(r.stderr),
    'process.apparmorProfile: AppArmor is not enabled on this host, so profile "runt-test" cannot be applied',
  )
  t.notMatch(r.stderr, /\n\s+at /)
  t.notOk(fs.existsSync(path.join(runt.root, id)), 'nothing left')
})

t.test(
  'apparmorProfile "unconfined" on a host without AppArmor is what the process gets',
  unless(apparmor, 'AppArmor is enabled here'),
  async (t) => {
    const runt = newRunt(t)
    const b = makeBundle(t, ['true'], (c) => (c.process!.apparmorProfile = 'unconfined'))
    const r = runt.run(['run', '--bundle', b.dir, runt.id()])
    t.equal(r.status, 0, r.stderr)
    t.match(unquote(r.stderr), /level=warning msg="process.apparmorProfile: AppArmor is not enabled on this host/)
  },
)

t.test('selinuxLabel on a host without SELinux fails create', unless(selinux, 'SELinux is enabled here'), async (t) => {
  const { r, runt, id } = create(t, ['true'], (c) => (c.process!.selinuxLabel = 'system_u:system_r:container_t:s0'))
  t.equal(r.status, 1)
  t.match(r.stderr, 'process.selinuxLabel: selinux label is specified in config, but selinux is disabled or not supported')
  t.notOk(fs.existsSync(path.join(runt.root, id)), 'nothing left')
})

t.test(
  'mountLabel on a host without SELinux is ignored, and the log says so',
  unless(selinux, 'SELinux is enabled here'),
  async (t) => {
    const runt = newRunt(t)
    const b = makeBundle(t, ['sh', '-c', 'grep -c context= /proc/self/mountinfo; ls /sys/firmware | wc -l'], (c) => {
      c.linux!.mountLabel = 'system_u:object_r:container_file_t:s0:c1,c2'
    })
    const r = runt.run(['run', '--bundle', b.dir, runt.id()])
    t.equal(r.status, 0, r.stderr)
    t.same(r.stdout.trim().split('\n'), ['0', '0'], 'no context= on any mount; the masked directory is still masked')
    t.match(
      unquote(r.stderr),
      'linux.mountLabel: SELinux is not enabled on this host; mount label "system_u:object_r:container_file_t:s0:c1,c2" not applied',
    )
  },
)

const PROFILE = 'runt-test-deny-tmp'
t.test(
  'an AppArmor profile is applied at execve',
  unless(!apparmor || !which('apparmor_parser'), 'needs AppArmor and apparmor_parser'),
  async (t) => {
    const policy = `#include <tunables/global>\nprofile ${PROFILE} flags=(attach_disconnected,mediate_deleted) {\n  #include <abstractions/base>\n  file,\n  capability,\n  deny /tmp/** w,\n}\n`
    const load = spawnSync('apparmor_parser', ['-r'], { input: policy, encoding: 'utf8' })
    t.equal(load.status, 0, load.stderr)
    t.teardown(() => void spawnSync('apparmor_parser', ['-R'], { input: policy }))
    const runt = newRunt(t)
    const b = makeBundle(t, ['sh', '-c', 'cat /proc/self/attr/current; touch /tmp/x && echo wrote || echo denied'], (c) => {
      c.process!.apparmorProfile = PROFILE
    })
    const r = runt.run(['run', '--bundle', b.dir, runt.id()])
    t.equal(r.status, 0, r.stderr)
    t.match(r.stdout, `${PROFILE} (enforce)`)
    t.match(r.stdout, 'denied')
    const missing = create(t, ['true'], (c) => (c.process!.apparmorProfile = 'runt-no-such-profile'))
    t.match(unquote(missing.r.stderr), 'apparmor profile "runt-no-such-profile": profile not loaded')
  },
)

t.test('an SELinux label is applied at execve', unless(!selinux, 'needs SELinux'), async (t) => {
  // Our own label: a transition to it is always allowed.
  const label = fs.readFileSync('/proc/self/attr/current', 'utf8').replace(/\0/g, '').trim()
  const runt = newRunt(t)
  const b = makeBundle(t, ['cat', '/proc/self/attr/current'], (c) => (c.process!.selinuxLabel = label))
  const r = runt.run(['run', '--bundle', b.dir, runt.id()])
  t.equal(r.status, 0, r.stderr)
  t.equal(r.stdout.replace(/\0/g, '').trim(), label)
})

t.test('mountLabel becomes context= on tmpfs mounts', unless(!selinux, 'needs SELinux'), async (t) => {
  const label = 'system_u:object_r:container_file_t:s0'
  const runt = newRunt(t)
  const b = makeBundle(t, ['grep', ' /dev/shm ', '/proc/self/mountinfo'], (c) => (c.linux!.mountLabel = label))
  const r = runt.run(['run', '--bundle', b.dir, runt.id()])
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, `context="${label}"`)
})

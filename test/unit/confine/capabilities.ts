// Capability names -> the five sets as masks, as /proc/<pid>/status prints them.

import t from 'tap'
import { CAP_NAMES, allCaps, capBit, capName, capNames, capSets } from '../../../src/confine/capabilities.js'
import { SpecError } from '../../../src/errors.js'

const hex = (m: bigint) => m.toString(16).padStart(16, '0')

t.test('names and bits follow linux/capability.h', async (t) => {
  t.equal(CAP_NAMES.length, 41, 'CAP_CHOWN .. CAP_CHECKPOINT_RESTORE')
  t.equal(capBit('CAP_CHOWN'), 0)
  t.equal(capBit('CAP_SYS_ADMIN'), 21)
  t.equal(capBit('sys_admin'), 21, 'the CAP_ prefix and case are optional, as in runc --cap')
  t.equal(capBit('CAP_CHECKPOINT_RESTORE'), 40)
  t.equal(capBit('CAP_NOPE'), -1)
  t.equal(capName(40), 'CAP_CHECKPOINT_RESTORE')
  t.equal(capName(41), 'CAP_41', 'a bit this runtime has no name for')
  t.same(capNames(0x20000420n), ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_AUDIT_WRITE'])
})

t.test('every capability the kernel knows, up to CAP_LAST_CAP', async (t) => {
  t.equal(hex(allCaps(40)), '000001ffffffffff')
  t.equal(hex(allCaps(37)), '0000003fffffffff')
})

t.test('runc spec defaults give the masks /proc/self/status shows', async (t) => {
  const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']
  const { sets, warnings } = capSets({ bounding: caps, effective: caps, permitted: caps }, 40)
  t.same(warnings, [])
  t.equal(hex(sets.bounding), '0000000020000420')
  t.equal(hex(sets.effective), '0000000020000420')
  t.equal(hex(sets.permitted), '0000000020000420')
  t.equal(sets.inheritable, 0n, 'absent means empty')
  t.equal(sets.ambient, 0n)
})

t.test('each set is read on its own', async (t) => {
  const { sets } = capSets(
    {
      bounding: ['CAP_SYS_ADMIN', 'CAP_NET_RAW'],
      effective: ['CAP_NET_RAW'],
      permitted: ['CAP_NET_RAW', 'CAP_SYS_ADMIN'],
      inheritable: ['CAP_NET_RAW'],
      ambient: ['CAP_NET_RAW'],
    },
    40,
  )
  t.equal(sets.bounding, (1n << 21n) | (1n << 13n))
  t.equal(sets.effective, 1n << 13n)
  t.equal(sets.permitted, (1n << 21n) | (1n << 13n))
  t.equal(sets.inheritable, 1n << 13n)
  t.equal(sets.ambient, 1n << 13n)
})

t.test('an unknown name is an error naming the field, never dropped', async (t) => {
  t.throws(() => capSets({ effective: ['CAP_KILL', 'CAP_FLY'], ambient: ['cap_nope'] }, 40), {
    name: 'SpecError',
    issues: [
      { path: 'process.capabilities.effective[1]', message: 'unknown capability "CAP_FLY"' },
      { path: 'process.capabilities.ambient[0]', message: 'unknown capability "cap_nope"' },
    ],
  })
  const e = (() => {
    try {
      capSets({ bounding: ['CAP_FLY'] }, 40)
    } catch (err) {
      return err
    }
  })()
  t.ok(e instanceof SpecError)
  t.equal((e as Error).message, 'invalid config.json: process.capabilities.bounding[0]: unknown capability "CAP_FLY"')
})

t.test('a name the running kernel lacks is a warning, as current runc has it', async (t) => {
  const { sets, warnings } = capSets({ bounding: ['CAP_BPF', 'CAP_CHECKPOINT_RESTORE', 'CAP_KILL'] }, 38)
  t.equal(sets.bounding, 1n << 5n, 'CAP_BPF (39) and CAP_CHECKPOINT_RESTORE (40) are beyond CAP_LAST_CAP 38')
  t.same(warnings, [
    'process.capabilities.bounding[0]: capability CAP_BPF is not supported by the running kernel; ignored',
    'process.capabilities.bounding[1]: capability CAP_CHECKPOINT_RESTORE is not supported by the running kernel; ignored',
  ])
})

import t from 'tap'
import { CgDir, type CgroupFs } from '../../../src/cgroups/fs.js'
import { freezeV1, isFrozenV1, setFrozenV2 } from '../../../src/cgroups/freeze.js'

/** A freezer.state that reads FREEZING `n` times before FROZEN. */
function slowFreezer(n: number) {
  const writes: string[] = []
  let state = 'THAWED'
  let reads = 0
  const io: CgroupFs = {
    read: () => {
      if (state === 'FROZEN' && reads++ < n) return 'FREEZING\n'
      return state + '\n'
    },
    write: (_f, d) => {
      writes.push(d)
      state = d
    },
    exists: () => true,
    mkdir: () => {},
    rmdir: () => {},
    subdirs: () => [],
  }
  return { d: new CgDir('/cg/freezer/c', io), writes }
}

t.test('v1: FREEZING is retried until FROZEN', async (t) => {
  const { d, writes } = slowFreezer(3)
  freezeV1(d)
  t.same(writes, ['FROZEN', 'FROZEN', 'FROZEN', 'FROZEN'])
  t.ok(isFrozenV1(d))
})

t.test('v1: a freeze that never settles is undone', async (t) => {
  const { d, writes } = slowFreezer(Infinity)
  t.throws(() => freezeV1(d), { message: 'unable to freeze /cg/freezer/c' })
  t.equal(writes.at(-1), 'THAWED', 'left thawed')
  t.ok(writes.filter((w) => w === 'THAWED').length >= 20, 'with periodic thaws on the way')
})

t.test('v2: no cgroup.freeze file', async (t) => {
  const io: CgroupFs = {
    read: () => '',
    write: () => {
      throw Object.assign(new Error('x'), { code: 'ENOENT' })
    },
    exists: () => false,
    mkdir: () => {},
    rmdir: () => {},
    subdirs: () => [],
  }
  const d = new CgDir('/cg/c', io)
  t.throws(() => setFrozenV2(d, true), { message: /freezer not supported: \/cg\/c\/cgroup.freeze does not exist/ })
  setFrozenV2(d, false)
  t.pass('thawing without a freezer is a no-op')
})

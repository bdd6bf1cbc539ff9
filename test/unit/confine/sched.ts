// Encoders for scheduler, I/O priority, CPU affinity and personality.

import t from 'tap'
import {
  allCpusMask,
  cpuMask,
  ioprioValue,
  parseCpuList,
  schedAttr,
  SCHED_POLICY,
  PERSONALITY,
} from '../../../src/confine/sched.js'

t.test('cpu lists', async (t) => {
  t.same(parseCpuList('0'), [0])
  t.same(parseCpuList('0-3,7'), [0, 1, 2, 3, 7])
  t.same(parseCpuList(' 3 , 1-2 ,2'), [1, 2, 3], 'sorted, no duplicates')
  t.throws(() => parseCpuList(''), { message: 'empty cpu list' })
  t.throws(() => parseCpuList('1-'), { message: 'invalid cpu list "1-": bad element "1-"' })
  t.throws(() => parseCpuList('a'), /bad element "a"/)
  t.throws(() => parseCpuList('3-1'), /range 3-1 is reversed/)
  t.throws(() => parseCpuList('0-9000'), /cpu 9000 is beyond 8191/)
})

t.test('cpu masks are cpu_set_t bitmaps', async (t) => {
  const m = cpuMask([0, 1, 9])
  t.equal(m.length, 128, "glibc's 1024-bit cpu_set_t at least")
  t.equal(m[0], 0b11)
  t.equal(m[1], 0b10)
  t.equal(cpuMask([2000]).length, 256, 'grows in 64-bit words')
  t.equal(
    allCpusMask().every((b) => b === 0xff),
    true,
  )
})

t.test('struct sched_attr', async (t) => {
  const b = schedAttr({
    policy: 'SCHED_DEADLINE',
    policyNumber: SCHED_POLICY.SCHED_DEADLINE!,
    flags: 0x1,
    nice: -5,
    priority: 0,
    runtime: '10000000',
    deadline: '30000000',
    period: '18446744073709551615',
  })
  t.equal(b.length, 56)
  t.equal(b.readUInt32LE(0), 56, 'size')
  t.equal(b.readUInt32LE(4), 6, 'SCHED_DEADLINE')
  t.equal(b.readBigUInt64LE(8), 1n, 'flags')
  t.equal(b.readInt32LE(16), -5, 'nice')
  t.equal(b.readBigUInt64LE(24), 10000000n)
  t.equal(b.readBigUInt64LE(32), 30000000n)
  t.equal(b.readBigUInt64LE(40), 18446744073709551615n, 'u64 max exact')
})

t.test('ioprio and personality values', async (t) => {
  t.equal(ioprioValue('IOPRIO_CLASS_RT', 0), 1 << 13)
  t.equal(ioprioValue('IOPRIO_CLASS_BE', 7), (2 << 13) | 7)
  t.equal(ioprioValue('IOPRIO_CLASS_IDLE', 0), 3 << 13)
  t.throws(() => ioprioValue('IOPRIO_CLASS_X', 0))
  t.equal(PERSONALITY.LINUX, 0)
  t.equal(PERSONALITY.LINUX32, 8)
})

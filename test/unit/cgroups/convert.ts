import t from 'tap'
import {
  blkioToIoWeight,
  cpuMax,
  hugePageSizes,
  numToStr,
  pidsMax,
  sharesToWeight,
  swapToV2,
} from '../../../src/cgroups/convert.js'

t.test('cpu shares to cpu.weight: the quadratic fit runc uses since 1.3.2', async (t) => {
  t.equal(sharesToWeight(0n), 0n, '0 stays unset')
  t.equal(sharesToWeight(1n), 1n)
  t.equal(sharesToWeight(2n), 1n, 'minimum')
  t.equal(sharesToWeight(1024n), 100n, 'the v1 default maps onto the v2 default')
  t.equal(sharesToWeight(262144n), 10000n, 'maximum')
  t.equal(sharesToWeight(1n << 20n), 10000n, 'clamped')
  // ceil(10^((l^2+125l)/612 - 7/34)), l = log2(shares)
  const f = (s: number) => {
    const l = Math.log2(s)
    return BigInt(Math.ceil(10 ** ((l * l + 125 * l) / 612 - 7 / 34)))
  }
  for (const s of [3, 100, 512, 2048, 4096, 100000]) t.equal(sharesToWeight(BigInt(s)), f(s), `${s} shares`)
  t.equal(sharesToWeight(512n), 59n)
  t.equal(sharesToWeight(2048n), 174n)
})

t.test('blkio weight to io.weight', async (t) => {
  t.equal(blkioToIoWeight(0), 0)
  t.equal(blkioToIoWeight(10), 1)
  t.equal(blkioToIoWeight(1000), 10000)
  t.equal(blkioToIoWeight(500), 1 + Math.floor((490 * 9999) / 990))
})

t.test('memory+swap to memory.swap.max', async (t) => {
  t.equal(swapToV2(0n, -1n), -1n, 'unlimited memory, swap unset: both unlimited')
  t.equal(swapToV2(-1n, 100n), -1n)
  t.equal(swapToV2(0n, 100n), 0n, 'unset stays unset')
  t.equal(swapToV2(300n, 100n), 200n, 'swap alone is the difference')
  t.equal(swapToV2(100n, 100n), 0n, 'equal: no swap')
  t.equal(swapToV2(500n, -1n), 500n, 'memory unlimited: swap as is')
  t.throws(() => swapToV2(300n, 0n), { message: 'linux.resources.memory.swap: unable to set swap limit without memory limit' })
  t.throws(() => swapToV2(50n, 100n), { message: 'linux.resources.memory.swap: memory+swap limit should be >= memory limit' })
  t.throws(() => swapToV2(50n, -5n), { message: 'linux.resources.memory.limit: invalid memory value: -5' })
})

t.test('file formats', async (t) => {
  t.equal(numToStr(0n), '')
  t.equal(numToStr(-1n), 'max')
  t.equal(numToStr(12n), '12')
  t.equal(pidsMax(-1n), 'max')
  t.equal(pidsMax(0n), '0', 'zero is a real limit')
  t.equal(pidsMax(20n), '20')
  t.equal(cpuMax(50000n, 100000n), '50000 100000')
  t.equal(cpuMax(0n, 100000n), 'max 100000')
  t.equal(cpuMax(-1n, 0n), 'max')
  t.equal(cpuMax(20000n, 0n), '20000')
  t.same(hugePageSizes(['hugepages-2048kB', 'hugepages-1048576kB', 'hugepages-64kB', 'other']), ['2MB', '1GB', '64KB'])
})

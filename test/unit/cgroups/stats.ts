import t from 'tap'
import {
  emptyStats,
  encodeJson,
  eventLine,
  parseCpuList,
  parseKeyValues,
  parsePSI,
  parseUint,
  statsJson,
} from '../../../src/cgroups/stats.js'

t.test('an empty stats event is byte for byte what runc prints', async (t) => {
  // runc's types.Stats with zero values: omitempty drops zero numbers and empty lists; structs
  // stay; intel_rdt is {}; network_interfaces is null.
  t.equal(
    eventLine('stats', 'c1', emptyStats()),
    '{"type":"stats","id":"c1","data":{"cpu":{"usage":{"kernel":0,"user":0},"throttling":{}},' +
      '"cpuset":{"cpu_exclusive":0,"mem_hardwall":0,"mem_exclusive":0,"memory_migrate":0,"memory_spread_page":0,' +
      '"memory_spread_slab":0,"memory_pressure":0,"memory_pressure_enabled":0,"sched_load_balance":0,"sched_relax_domain_level":0},' +
      '"memory":{"usage":{"limit":0,"failcnt":0},"swap":{"limit":0,"failcnt":0},"kernel":{"limit":0,"failcnt":0},"kernelTCP":{"limit":0,"failcnt":0}},' +
      '"pids":{},"blkio":{},"hugetlb":{},"intel_rdt":{},"network_interfaces":null}}\n',
  )
  t.equal(eventLine('oom', 'c1'), '{"type":"oom","id":"c1"}\n')
})

t.test('64-bit values are exact; raw and hugetlb keys sorted', async (t) => {
  const s = emptyStats()
  s.memory.usage.limit = 9223372036854771712n
  s.memory.raw = new Map([
    ['rss', 1n],
    ['cache', 2n],
  ])
  s.hugetlb.set('2MB', { usage: 0n, max: 0n, failcnt: 1n })
  s.pids = { current: 3n, limit: 0n }
  s.cpu.usage.percpu = [1n, 0n]
  s.blkio.ioServicedRecursive = [{ major: 8n, minor: 0n, op: 'Read', value: 0n }]
  const j = encodeJson(statsJson(s))
  t.match(j, '"usage":{"limit":9223372036854771712,"failcnt":0}')
  t.match(j, '"raw":{"cache":2,"rss":1}')
  t.match(j, '"hugetlb":{"2MB":{"failcnt":1}}')
  t.match(j, '"pids":{"current":3}')
  t.match(j, '"percpu":[1,0]', 'a list keeps its zeros')
  t.match(j, '"ioServicedRecursive":[{"major":8,"op":"Read"}]')
})

t.test('parsers', async (t) => {
  t.equal(parseUint('max\n'), (1n << 64n) - 1n)
  t.equal(parseUint('42\n'), 42n)
  t.equal(parseUint('-1'), 0n)
  t.equal(parseUint('x'), null)
  t.equal(parseUint(null), null)
  t.same(
    [...parseKeyValues('a 1\nb 2\nbad\nc x\n')],
    [
      ['a', 1n],
      ['b', 2n],
    ],
  )
  t.same(parseCpuList('0-2,5\n'), [0, 1, 2, 5])
  t.same(parseCpuList(''), [])
  t.same(parsePSI('some avg10=1.50 avg60=0.25 avg300=0.00 total=9\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=1\n'), {
    some: { avg10: 1.5, avg60: 0.25, avg300: 0, total: 9n },
    full: { avg10: 0, avg60: 0, avg300: 0, total: 1n },
  })
  t.equal(parsePSI(null), undefined)
})

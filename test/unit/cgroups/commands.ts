// The pure parts of pause/ps/events/update (src/ops/{ps,events,update}.ts): argv splitting,
// output filtering, flag parsing with runc's messages, and the merge of an update.

import t from 'tap'
import { filterPsOutput, psJson, splitPsArgv } from '../../../src/ops/ps.js'
import { parseInterval } from '../../../src/ops/events.js'
import { mergeResources, resourcesFromFile, resourcesFromFlags } from '../../../src/ops/update.js'

t.test('ps: options stop at the container id', async (t) => {
  t.same(splitPsArgv(['ps', 'c1']), { format: 'table', id: 'c1', psArgs: [] })
  t.same(splitPsArgv(['--root', '/r', 'ps', '--format', 'table', 'c1', '-ef']), { format: 'table', id: 'c1', psArgs: ['-ef'] })
  t.same(splitPsArgv(['--root=/r', '--debug', 'ps', '-f', 'json', 'c1']), { format: 'json', id: 'c1', psArgs: [] })
  t.same(splitPsArgv(['ps', '--format=json', 'c1', '-o', 'pid,comm', '-f']), {
    format: 'json',
    id: 'c1',
    psArgs: ['-o', 'pid,comm', '-f'],
  })
  t.same(
    splitPsArgv(['ps', '-format', 'json', 'c1', '-aux']),
    { format: 'json', id: 'c1', psArgs: ['-aux'] },
    'one-dash long flag (urfave)',
  )
  t.equal(splitPsArgv(['state', 'c1']), null)
  t.equal(splitPsArgv(['ps']), null)
  t.equal(splitPsArgv(['ps', '--bogus', 'c1']), null)
})

t.test('ps: output', async (t) => {
  t.equal(psJson([]), 'null\n', 'runc encodes a nil slice')
  t.equal(psJson([3, 1]), '[3,1]\n')
  const out =
    'UID        PID  PPID  C STIME TTY          TIME CMD\nroot         1     0  0 10:00 ?        00:00:01 init\nroot       42     1  0 10:00 ?        00:00:00 sleep 1000\n'
  t.equal(
    filterPsOutput(out, [42]),
    'UID        PID  PPID  C STIME TTY          TIME CMD\nroot       42     1  0 10:00 ?        00:00:00 sleep 1000\n',
  )
  t.throws(() => filterPsOutput('USER COMMAND\nroot init\n', [1]), { message: "couldn't find PID field in ps output" })
  t.throws(() => filterPsOutput('PID CMD\nx y\n', [1]), { message: /unable to parse pid/ })
})

t.test('events --interval', async (t) => {
  t.equal(parseInterval('5s'), 5000)
  t.equal(parseInterval('1m30s'), 90000)
  t.throws(() => parseInterval('0s'), { message: 'duration interval must be greater than 0' })
  t.throws(() => parseInterval('-1s'), { message: 'duration interval must be greater than 0' })
  t.throws(() => parseInterval('5'), { message: 'invalid value "5" for flag -interval: time: missing unit in duration "5"' })
})

t.test('update flags, as runc parses them', async (t) => {
  t.same(
    resourcesFromFlags({
      memory: '512m',
      'memory-swap': '-1',
      'memory-reservation': '1g',
      'cpu-share': '512',
      'cpu-quota': '-1',
      'cpu-period': '100000',
      'cpu-rt-runtime': '1000',
      'cpu-rt-period': '2000',
      'cpu-burst': '10',
      'cpu-idle': '1',
      'cpuset-cpus': '0-1',
      'cpuset-mems': '0',
      'blkio-weight': '300',
      'pids-limit': '20',
    }),
    {
      blockIO: { weight: 300 },
      pids: { limit: 20 },
      cpu: {
        cpus: '0-1',
        mems: '0',
        idle: 1,
        burst: 10,
        period: 100000,
        realtimePeriod: 2000,
        shares: 512,
        quota: -1,
        realtimeRuntime: 1000,
      },
      memory: { limit: 536870912, swap: -1, reservation: 1073741824 },
    },
  )
  t.same(
    resourcesFromFlags({ 'blkio-weight': '0', 'pids-limit': '0' }),
    { pids: { limit: 0 } },
    'weight 0 is unset; pids 0 is a limit',
  )
  t.throws(() => resourcesFromFlags({ 'cpu-period': 'x' }), {
    message: 'invalid value for cpu-period: strconv.ParseUint: parsing "x": invalid syntax',
  })
  t.throws(() => resourcesFromFlags({ 'cpu-quota': '1.5' }), {
    message: 'invalid value for cpu-quota: strconv.ParseInt: parsing "1.5": invalid syntax',
  })
  t.throws(() => resourcesFromFlags({ memory: '12q' }), { message: "invalid value for memory: invalid suffix: 'q'" })
  t.throws(() => resourcesFromFlags({ 'pids-limit': 'ten' }), {
    message: 'invalid value "ten" for flag -pids-limit: parse error',
  })
  t.same(resourcesFromFlags({ 'l3-cache-schema': 'L3:0=f', 'mem-bw-schema': 'MB:0=20' }), {}, 'not resources')
})

t.test('update -r', async (t) => {
  t.same(
    resourcesFromFile('-', () => '{"memory":{"limit":1024},"unknown":1}'),
    { memory: { limit: 1024 } },
  )
  t.throws(() => resourcesFromFile('-', () => '{"pids":{"limit":"x"}}'), {
    message: 'invalid resources in standard input: pids.limit: expected integer, got string',
  })
  t.throws(() => resourcesFromFile('-', () => '{'), { message: /^invalid resources in standard input: / })
  t.throws(() => resourcesFromFile('/nonexistent/r.json'), { message: 'open /nonexistent/r.json: no such file or directory' })
})

t.test('update merges into the recorded resources', async (t) => {
  const old = {
    devices: [{ allow: false, access: 'rwm' }],
    memory: { limit: 100, swap: 200 },
    cpu: { quota: 5000, period: 10000, cpus: '0' },
    unified: { 'a.b': '1' },
  }
  t.same(mergeResources(old, { cpu: { quota: 7000 } }).cpu, { quota: 7000, period: 10000, cpus: '0' }, 'period kept')
  t.same(mergeResources(old, { memory: { limit: -1 } }).memory, { limit: -1, swap: -1 }, 'unlimited memory: unlimited swap')
  t.same(mergeResources(old, { memory: { limit: 300 } }).memory, { limit: 300, swap: 200 })
  t.same(mergeResources(old, { unified: { 'c.d': '2' } }).unified, { 'a.b': '1', 'c.d': '2' })
  t.same(mergeResources(old, {}).devices, old.devices, 'devices untouched')
  t.same(old.memory, { limit: 100, swap: 200 }, 'the old value is not modified')
})

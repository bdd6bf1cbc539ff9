import t from 'tap'
import { parseSignal } from '../../../src/ops/lifecycle.js'

t.test('signals by name, SIG name, lower case, number, realtime', async (t) => {
  for (const s of ['KILL', 'SIGKILL', 'kill', '9']) t.equal(parseSignal(s), 9, s)
  t.equal(parseSignal('TERM'), 15)
  t.equal(parseSignal('0'), 0, '0: is it running? (runc accepts it)')
  t.equal(parseSignal('64'), 64)
  t.equal(parseSignal('RTMIN'), 34)
  t.equal(parseSignal('SIGRTMIN+3'), 37)
  t.equal(parseSignal('RTMAX-1'), 63)
})

t.test('bad signals are errors naming what was given', async (t) => {
  t.throws(() => parseSignal('65'), { message: 'invalid signal number 65' })
  t.throws(() => parseSignal('NOPE'), { message: 'unknown signal "NOPE"' })
  t.throws(() => parseSignal('RTMIN+40'), { message: 'unknown signal "RTMIN+40"' })
})

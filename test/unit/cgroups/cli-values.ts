import t from 'tap'
import { parseGoDuration, parseInt64, parseUint64, ramInBytes } from '../../../src/cgroups/cli-values.js'

t.test('Go durations', async (t) => {
  t.equal(parseGoDuration('5s'), 5000)
  t.equal(parseGoDuration('500ms'), 500)
  t.equal(parseGoDuration('1m30s'), 90_000)
  t.equal(parseGoDuration('1.5h'), 5_400_000)
  t.equal(parseGoDuration('.5s'), 500)
  t.equal(parseGoDuration('300us'), 0.3)
  t.equal(parseGoDuration('300µs'), 0.3)
  t.equal(parseGoDuration('1000000ns'), 1)
  t.equal(parseGoDuration('0'), 0)
  t.equal(parseGoDuration('-2s'), -2000)
  t.equal(parseGoDuration('+2s'), 2000)
  t.throws(() => parseGoDuration('5'), { message: 'time: missing unit in duration "5"' })
  t.throws(() => parseGoDuration('5x'), { message: 'time: unknown unit "x" in duration "5x"' })
  t.throws(() => parseGoDuration('abc'), { message: 'time: invalid duration "abc"' })
  t.throws(() => parseGoDuration(''), { message: 'time: invalid duration ""' })
  t.throws(() => parseGoDuration('.s'), { message: 'time: invalid duration ".s"' })
})

t.test('RAM sizes as go-units reads them', async (t) => {
  t.equal(ramInBytes('1024'), 1024n)
  t.equal(ramInBytes('512m'), 512n * 1024n * 1024n)
  t.equal(ramInBytes('512M'), 512n * 1024n * 1024n)
  t.equal(ramInBytes('1g'), 1n << 30n)
  t.equal(ramInBytes('1GiB'), 1n << 30n)
  t.equal(ramInBytes('1gb'), 1n << 30n)
  t.equal(ramInBytes('1.5k'), 1536n)
  t.equal(ramInBytes('10 kb'), 10240n)
  t.equal(ramInBytes('64b'), 64n)
  t.throws(() => ramInBytes('1x'), { message: "invalid suffix: 'x'" })
  t.throws(() => ramInBytes('1kx'), { message: "invalid suffix: 'kx'" })
  t.throws(() => ramInBytes('abc'), { message: "invalid size: 'abc'" })
  t.throws(() => ramInBytes('-1'), { message: "invalid size: '-1'" })
})

t.test('strconv integers', async (t) => {
  t.equal(parseUint64('18446744073709551615'), (1n << 64n) - 1n)
  t.throws(() => parseUint64('18446744073709551616'), {
    message: 'strconv.ParseUint: parsing "18446744073709551616": value out of range',
  })
  t.throws(() => parseUint64('-1'), { message: 'strconv.ParseUint: parsing "-1": invalid syntax' })
  t.equal(parseInt64('-5'), -5n)
  t.throws(() => parseInt64('1.5'), { message: 'strconv.ParseInt: parsing "1.5": invalid syntax' })
  t.throws(() => parseInt64('9223372036854775808'), { message: /value out of range/ })
})

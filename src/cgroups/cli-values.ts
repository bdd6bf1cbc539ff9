// Command-line values of the cgroup commands, parsed as runc's Go code parses them: durations
// (time.ParseDuration, for `events --interval`), sizes (go-units RAMInBytes, for `update
// --memory`), and integers (strconv, with its error texts). Pure.

import { UsageError } from '../errors.js'

/** time.ParseDuration, in milliseconds; throws Go's error text. */
export function parseGoDuration(s: string): number {
  const orig = s
  const bad = (msg: string) => new UsageError(`time: ${msg} ${JSON.stringify(orig)}`)
  let neg = false
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s[0] === '-'
    s = s.slice(1)
  }
  if (s === '0') return 0
  if (s === '') throw bad('invalid duration')
  const units: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3, // U+00B5
    μs: 1e-3, // U+03BC
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  }
  let total = 0
  while (s !== '') {
    const num = /^(\d*)(\.(\d*))?/.exec(s)!
    if (num[0] === '' || num[0] === '.' || (num[1] === '' && (num[3] ?? '') === '')) throw bad('invalid duration')
    s = s.slice(num[0].length)
    const unit = /^[^\d.]*/.exec(s)![0]
    if (unit === '') throw bad('missing unit in duration')
    const mult = units[unit]
    if (mult === undefined) throw new UsageError(`time: unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(orig)}`)
    s = s.slice(unit.length)
    total += Number(num[0]) * mult
  }
  return neg ? -total : total
}

const BINARY: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }

/** go-units RAMInBytes: "512m", "1.5GiB", "100 kb", "1024" (binary multiples); throws its text. */
export function ramInBytes(size: string): bigint {
  let sep = -1
  for (let i = size.length - 1; i >= 0; i--) {
    if ('0123456789. '.includes(size[i]!)) {
      sep = i
      break
    }
  }
  if (sep === -1) throw new UsageError(`invalid size: '${size}'`)
  let num: string
  let sfx: string
  if (size[sep] !== ' ') {
    num = size.slice(0, sep + 1)
    sfx = size.slice(sep + 1)
  } else {
    num = size.slice(0, sep)
    sfx = size.slice(sep + 1)
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(num))
    throw new UsageError(`strconv.ParseFloat: parsing ${JSON.stringify(num)}: invalid syntax`)
  let n = Number(num)
  if (n < 0) throw new UsageError(`invalid size: '${size}'`)
  if (sfx !== '') {
    const badSuffix = () => new UsageError(`invalid suffix: '${sfx.toLowerCase()}'`)
    if (sfx.length > 3) throw new UsageError(`invalid suffix: '${sfx}'`)
    const l = sfx.toLowerCase()
    if (l[0] === 'b') {
      if (l.length > 1) throw badSuffix()
    } else {
      const mul = BINARY[l[0]!]
      if (mul === undefined) throw badSuffix()
      if ((l.length === 2 && l[1] !== 'b') || (l.length === 3 && l.slice(1) !== 'ib')) throw badSuffix()
      n *= mul
    }
  }
  return BigInt(Math.trunc(n))
}

const U64_MAX = (1n << 64n) - 1n
const I64_MAX = (1n << 63n) - 1n

/** strconv.ParseUint(s, 10, 64), with Go's error text. */
export function parseUint64(s: string): bigint {
  if (!/^\d+$/.test(s)) throw new UsageError(`strconv.ParseUint: parsing ${JSON.stringify(s)}: invalid syntax`)
  const v = BigInt(s)
  if (v > U64_MAX) throw new UsageError(`strconv.ParseUint: parsing ${JSON.stringify(s)}: value out of range`)
  return v
}

/** strconv.ParseInt(s, 10, 64), with Go's error text. */
export function parseInt64(s: string): bigint {
  if (!/^[+-]?\d+$/.test(s)) throw new UsageError(`strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`)
  const v = BigInt(s)
  if (v > I64_MAX || v < -I64_MAX - 1n) throw new UsageError(`strconv.ParseInt: parsing ${JSON.stringify(s)}: value out of range`)
  return v
}

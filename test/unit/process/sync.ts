import t from 'tap'
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Channel, type Message } from '../../../src/process/sync.js'
import { linux } from '../../../src/sys/linux.js'
import * as C from '../../../src/sys/constants.js'
import { channelPair } from '../../fixtures/channel-pair.js'

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src')

/** Exactly `n` bytes from `fd`. */
function readN(fd: number, n: number): Buffer {
  const b = Buffer.alloc(n)
  let off = 0
  while (off < n) {
    const r = fs.readSync(fd, b, off, n - off, null)
    if (r === 0) throw new Error('EOF')
    off += r
  }
  return b
}

function frame(body: string): Buffer {
  const b = Buffer.from(body, 'utf8')
  const h = Buffer.alloc(4)
  h.writeUInt32BE(b.length)
  return Buffer.concat([h, b])
}

t.test('a message round trip', async (t) => {
  const [a, b] = channelPair(t)
  const msgs: Message[] = [
    { type: 'ready', pid: 4242 },
    { type: 'start' },
    { type: 'log', level: 'warning', msg: 'ünïcödé \u2028 "quoted"\n' },
    { type: 'error', error: { name: 'SysError', message: 'mount: EPERM', code: 'EPERM', errno: 1 } },
    { type: 'hooks', state: { id: 'x', nested: [1, null, { a: true }] } },
  ]
  for (const m of msgs) a.send(m)
  for (const m of msgs) t.same(b.recv(), m)
  b.send({ type: 'hooks-done' })
  t.same(a.recv(), { type: 'hooks-done' }, 'both directions')
})

t.test('framing: a 4-byte big-endian length, then the JSON', async (t) => {
  const [a, b] = channelPair(t)
  a.send({ type: 'ready', pid: 42 })
  const body = '{"type":"ready","pid":42}'
  t.same(readN(b.fd, 4 + body.length), frame(body))
  a.send({ type: 'log', level: 'info', msg: 'é' })
  const head = readN(b.fd, 4)
  t.equal(
    head.readUInt32BE(0),
    Buffer.byteLength('{"type":"log","level":"info","msg":"é"}'),
    'the length counts bytes, not characters',
  )
  t.equal(readN(b.fd, head.readUInt32BE(0)).toString(), '{"type":"log","level":"info","msg":"é"}')
})

t.test('recv reads frames written in pieces', async (t) => {
  const [a, b] = channelPair(t)
  const f = Buffer.concat([frame('{"type":"start"}'), frame('{"type":"exec"}')])
  for (let i = 0; i < f.length; i += 3) fs.writeSync(a.fd, f.subarray(i, Math.min(i + 3, f.length)))
  t.same(b.recv(), { type: 'start' })
  t.same(b.recv(), { type: 'exec' })
})

t.test('BigInts travel as {"$bigint": "..."}', async (t) => {
  const [a, b] = channelPair(t)
  const caps = { effective: 0x1ffffffffffn, bounding: (1n << 63n) | 5n, zero: 0n, neg: -12n, n: 7 }
  a.send({ type: 'bootstrap', config: { caps }, hostPid: 1 })
  const raw = b.recv() as Extract<Message, { type: 'bootstrap' }>
  t.same(raw, { type: 'bootstrap', config: { caps }, hostPid: 1 })
  const got = (raw.config as { caps: typeof caps }).caps
  t.equal(typeof got.effective, 'bigint')
  t.equal(got.bounding, 9223372036854775813n)
  t.equal(got.neg, -12n)
  t.equal(got.n, 7, 'plain numbers stay numbers')

  a.send({ type: 'bootstrap', config: 5n, hostPid: 2 })
  const len = readN(b.fd, 4).readUInt32BE(0)
  t.equal(readN(b.fd, len).toString(), '{"type":"bootstrap","config":{"$bigint":"5"},"hostPid":2}')

  // Only a string $bigint is revived.
  fs.writeSync(a.fd, frame('{"type":"bootstrap","config":{"$bigint":5,"x":{"$bigint":"10"}},"hostPid":1}'))
  t.same(b.recv(), { type: 'bootstrap', config: { $bigint: 5, x: 10n }, hostPid: 1 })
})

t.test('close twice does not close a file that reused the fd number', async (t) => {
  const [a] = channelPair(t)
  a.close()
  const fd = fs.openSync('/dev/null', 'r')
  t.teardown(() => fs.closeSync(fd))
  t.equal(fd, a.fd, 'the kernel reuses the lowest free number')
  a.close()
  t.doesNotThrow(() => fs.fstatSync(fd), 'still open')
})

t.test('EOF between messages is null', async (t) => {
  const [a, b] = channelPair(t)
  a.send({ type: 'start' })
  a.close()
  t.same(b.recv(), { type: 'start' })
  t.equal(b.recv(), null)
  t.equal(b.recv(), null, 'and stays so')
  t.equal(b.recvByte(), null)
  t.doesNotThrow(() => a.close(), 'closing twice is harmless')
})

t.test('EOF inside a message is an error', async (t) => {
  const [a, b] = channelPair(t)
  fs.writeSync(a.fd, frame('{"type":"start"}').subarray(0, 10))
  a.close()
  t.throws(() => b.recv(), { message: 'sync socket closed mid-message' })
  const [c, d] = channelPair(t)
  fs.writeSync(c.fd, Buffer.from([0, 0]))
  c.close()
  t.throws(() => d.recv(), { message: 'sync socket closed mid-message' }, 'inside the length')
})

t.test('a length above 64 MiB is refused', async (t) => {
  const [a, b] = channelPair(t)
  const h = Buffer.alloc(4)
  h.writeUInt32BE(64 * 1024 * 1024 + 1)
  fs.writeSync(a.fd, h)
  t.throws(() => b.recv(), { message: 'sync message too large (67108865 bytes)' })
})

t.test('a frame that is not JSON throws', async (t) => {
  const [a, b] = channelPair(t)
  fs.writeSync(a.fd, frame('{"type":'))
  t.throws(() => b.recv(), SyntaxError)
})

t.test('raw bytes: the stage-1 handshake', async (t) => {
  const [a, b] = channelPair(t)
  a.sendByte(0x53) // 'S'
  t.equal(b.recvByte(), 0x53)
  b.sendByte(0x47) // 'G'
  b.sendByte(0)
  b.sendByte(255)
  t.equal(a.recvByte(), 0x47)
  t.equal(a.recvByte(), 0)
  t.equal(a.recvByte(), 255)
  a.sendByte(0x53)
  a.send({ type: 'ready', pid: 1 })
  t.equal(b.recvByte(), 0x53, 'a byte, then a frame')
  t.same(b.recv(), { type: 'ready', pid: 1 })
  fs.writeSync(a.fd, Buffer.from('S'))
  t.equal(b.recvByte(), 'S'.charCodeAt(0))
})

t.test('messages larger than the socket buffer (> 1 MiB) through another process', async (t) => {
  // The peer must read while we write, so it is a child process echoing every message back.
  const dir = t.testdir({
    'echo.mts': `
      import { Channel } from ${JSON.stringify(SRC + '/process/sync.ts')}
      const ch = new Channel(3)
      for (;;) {
        const m = ch.recv()
        if (m === null) break
        ch.send(m)
      }
    `,
  })
  const [mine, theirs] = linux.socketpair(C.SOCK_STREAM)
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(dir, 'echo.mts')], {
    stdio: ['ignore', 'inherit', 'inherit', theirs],
  })
  linux.close(theirs)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const ch = new Channel(mine)
  t.teardown(() => {
    ch.close()
    child.kill('SIGKILL')
  })
  const big = 'x'.repeat(3 * 1024 * 1024) + 'é'.repeat(1024)
  const msg: Message = {
    type: 'hooks',
    state: { big, caps: 0xffffffffffffffffn, list: Array.from({ length: 50000 }, (_, i) => i) },
  }
  ch.send(msg)
  const back = ch.recv() as Extract<Message, { type: 'hooks' }>
  const state = back.state as { big: string; caps: bigint; list: number[] }
  t.equal(state.big.length, big.length)
  t.equal(state.big, big)
  t.equal(state.caps, 0xffffffffffffffffn)
  t.equal(state.list.length, 50000)
  t.equal(state.list[49999], 49999)
  ch.send({ type: 'start' })
  t.same(ch.recv(), { type: 'start' }, 'the stream stays in step after a large frame')
  ch.close()
  t.equal(await exited, 0, 'the peer saw EOF as null and exited')
})

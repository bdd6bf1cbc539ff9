import t from 'tap'
import * as fs from 'node:fs'
import { devName, executableMappings, readOnlyMappings } from '../../../src/process/shed.js'

// The layout of dist/runt's init (a non-PIE ELF: R, R E, then RW segments; JavaScriptCore's
// frozen configuration is a read-only mapping after the first writable one).
const MAPS = [
  '00200000-01a39000 r--p 00000000 fe:00 2146405                            /',
  '01a40000-0684a000 r-xp 01838000 fe:00 2146405                            /',
  '0684a000-0685f000 rw-p 06641000 fe:00 2146405                            /',
  '0685f000-06867000 r--p 06656000 fe:00 2146405                            /',
  '06867000-06fa9000 rw-p 0665e000 fe:00 2146405                            /',
  '38b3a800000-38b7a800000 rw-p 00000000 00:00 0 ',
  '7f67ae0bb000-7f67ae211000 r-xp 00026000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6',
  '7f67ae3bb000-7f67ae3c0000 r--p 00026000 fe:01 2146405                    /elsewhere',
].join('\n')

t.test('the executable segments before its first writable mapping, nothing else', async (t) => {
  t.same(readOnlyMappings(MAPS, 'fe:00', 2146405), [
    { start: 0x200000n, length: 0x1a39000 - 0x200000 },
    { start: 0x1a40000n, length: 0x684a000 - 0x1a40000 },
  ])
  t.same(readOnlyMappings(MAPS, 'fe:00', 1), [])
})

t.test('dev_t as /proc/<pid>/maps prints it', async (t) => {
  t.equal(devName(0xfe00), 'fe:00')
  t.equal(devName(0x803), '08:03')
  // major 259, minor 1 (nvme): the new encoding's high bits.
  t.equal(devName((259 << 8) | 1), '103:01')
})

t.test("this process's own executable is found", async (t) => {
  const ranges = executableMappings()
  t.ok(ranges.length >= 1, 'node maps its text read-only')
  const st = fs.statSync('/proc/self/exe')
  t.same(readOnlyMappings(fs.readFileSync('/proc/self/maps', 'utf8'), devName(st.dev), st.ino), ranges)
})

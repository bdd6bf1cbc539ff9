// The device filter, instruction for instruction against runc's own expected listings
// (opencontainers/cgroups devices/devicefilter_test.go), compared as 8-byte encodings.

import t, { type Test } from 'tap'
import { assemble, deviceFilter } from '../../../../src/cgroups/devices/ebpf.js'
import { DEFAULT_ALLOWED, type DeviceRule } from '../../../../src/cgroups/devices/rules.js'

// struct bpf_insn opcodes, from linux/bpf.h, written out independently of the generator.
const OPCODES: Record<string, number> = {
  LdXMemW: 0x61, // BPF_LDX | BPF_MEM | BPF_W
  AndImm32: 0x54, // BPF_ALU | BPF_AND | BPF_K
  RShImm32: 0x74, // BPF_ALU | BPF_RSH | BPF_K
  JNEImm: 0x55, // BPF_JMP | BPF_JNE | BPF_K
  JEqImm: 0x15, // BPF_JMP | BPF_JEQ | BPF_K
  JNEReg: 0x5d, // BPF_JMP | BPF_JNE | BPF_X
  MovReg32: 0xbc, // BPF_ALU | BPF_MOV | BPF_X
  MovImm32: 0xb4, // BPF_ALU | BPF_MOV | BPF_K
  Exit: 0x95, // BPF_JMP | BPF_EXIT
}

/** Encode a listing in cilium/ebpf's text form ("6: JNEImm dst: r2 off: -1 imm: 1 <block-1>"). */
function encodeListing(text: string): Buffer {
  const insns: { op: string; f: Record<string, number>; target?: string }[] = []
  const labels = new Map<string, number>()
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('//')) continue
    const label = /^(block-\d+):$/.exec(line)
    if (label) {
      labels.set(label[1]!, insns.length)
      continue
    }
    const m = /^\d+: (\w+)(.*)$/.exec(line)
    if (!m) throw new Error(`bad listing line ${line}`)
    const f: Record<string, number> = {}
    for (const kv of m[2]!.matchAll(/(\w+): (r?)(-?\d+)/g)) f[kv[1]!] = Number(kv[3])
    const target = /<(block-\d+)>/.exec(m[2]!)?.[1]
    insns.push(target ? { op: m[1]!, f, target } : { op: m[1]!, f })
  }
  const b = Buffer.alloc(insns.length * 8)
  insns.forEach((ins, i) => {
    const code = OPCODES[ins.op]
    if (code === undefined) throw new Error(`unknown op ${ins.op}`)
    const off = ins.target ? labels.get(ins.target)! - (i + 1) : (ins.f.off ?? 0)
    b[i * 8] = code
    b[i * 8 + 1] = (ins.f.dst ?? 0) | ((ins.f.src ?? 0) << 4)
    b.writeInt16LE(off, i * 8 + 2)
    b.writeInt32LE(ins.f.imm ?? 0, i * 8 + 4)
  })
  return b
}

const PROLOGUE = `
        0: LdXMemW dst: r2 src: r1 off: 0 imm: 0
        1: AndImm32 dst: r2 imm: 65535
        2: LdXMemW dst: r3 src: r1 off: 0 imm: 0
        3: RShImm32 dst: r3 imm: 16
        4: LdXMemW dst: r4 src: r1 off: 4 imm: 0
        5: LdXMemW dst: r5 src: r1 off: 8 imm: 0`

const check = (t: Test, rules: DeviceRule[], listing: string) => {
  const got = assemble(deviceFilter(rules))
  const want = encodeListing(listing)
  t.equal(got.length, want.length, 'instruction count')
  t.same([...got], [...want], 'encodings')
}

t.test('no rules: deny everything', async (t) => {
  check(
    t,
    [],
    `${PROLOGUE}
block-0:
        6: MovImm32 dst: r0 imm: 0
        7: Exit`,
  )
})

t.test("runc's built-in allow-list", async (t) => {
  check(
    t,
    DEFAULT_ALLOWED.map((d) => d.rule),
    `${PROLOGUE}
block-0:
        6: JNEImm dst: r2 off: -1 imm: 1 <block-1>
        7: MovReg32 dst: r1 src: r3
        8: AndImm32 dst: r1 imm: 1
        9: JNEReg dst: r1 off: -1 src: r3 <block-1>
        10: MovImm32 dst: r0 imm: 1
        11: Exit
block-1:
        12: JNEImm dst: r2 off: -1 imm: 2 <block-2>
        13: MovReg32 dst: r1 src: r3
        14: AndImm32 dst: r1 imm: 1
        15: JNEReg dst: r1 off: -1 src: r3 <block-2>
        16: MovImm32 dst: r0 imm: 1
        17: Exit
block-2:
        18: JNEImm dst: r2 off: -1 imm: 2 <block-3>
        19: JNEImm dst: r4 off: -1 imm: 1 <block-3>
        20: JNEImm dst: r5 off: -1 imm: 3 <block-3>
        21: MovImm32 dst: r0 imm: 1
        22: Exit
block-3:
        23: JNEImm dst: r2 off: -1 imm: 2 <block-4>
        24: JNEImm dst: r4 off: -1 imm: 1 <block-4>
        25: JNEImm dst: r5 off: -1 imm: 5 <block-4>
        26: MovImm32 dst: r0 imm: 1
        27: Exit
block-4:
        28: JNEImm dst: r2 off: -1 imm: 2 <block-5>
        29: JNEImm dst: r4 off: -1 imm: 1 <block-5>
        30: JNEImm dst: r5 off: -1 imm: 7 <block-5>
        31: MovImm32 dst: r0 imm: 1
        32: Exit
block-5:
        33: JNEImm dst: r2 off: -1 imm: 2 <block-6>
        34: JNEImm dst: r4 off: -1 imm: 1 <block-6>
        35: JNEImm dst: r5 off: -1 imm: 8 <block-6>
        36: MovImm32 dst: r0 imm: 1
        37: Exit
block-6:
        38: JNEImm dst: r2 off: -1 imm: 2 <block-7>
        39: JNEImm dst: r4 off: -1 imm: 1 <block-7>
        40: JNEImm dst: r5 off: -1 imm: 9 <block-7>
        41: MovImm32 dst: r0 imm: 1
        42: Exit
block-7:
        43: JNEImm dst: r2 off: -1 imm: 2 <block-8>
        44: JNEImm dst: r4 off: -1 imm: 5 <block-8>
        45: JNEImm dst: r5 off: -1 imm: 0 <block-8>
        46: MovImm32 dst: r0 imm: 1
        47: Exit
block-8:
        48: JNEImm dst: r2 off: -1 imm: 2 <block-9>
        49: JNEImm dst: r4 off: -1 imm: 5 <block-9>
        50: JNEImm dst: r5 off: -1 imm: 2 <block-9>
        51: MovImm32 dst: r0 imm: 1
        52: Exit
block-9:
        53: JNEImm dst: r2 off: -1 imm: 2 <block-10>
        54: JNEImm dst: r4 off: -1 imm: 10 <block-10>
        55: JNEImm dst: r5 off: -1 imm: 200 <block-10>
        56: MovImm32 dst: r0 imm: 1
        57: Exit
block-10:
        58: JNEImm dst: r2 off: -1 imm: 2 <block-11>
        59: JNEImm dst: r4 off: -1 imm: 136 <block-11>
        60: MovImm32 dst: r0 imm: 1
        61: Exit
block-11:
        62: MovImm32 dst: r0 imm: 0
        63: Exit`,
  )
})

t.test('privileged: allow everything', async (t) => {
  check(
    t,
    [{ type: 'a', major: -1, minor: -1, access: 'rwm', allow: true }],
    `${PROLOGUE}
block-0:
        6: MovImm32 dst: r0 imm: 1
        7: Exit`,
  )
})

t.test('privileged except one device', async (t) => {
  check(
    t,
    [
      { type: 'a', major: -1, minor: -1, access: 'rwm', allow: true },
      { type: 'b', major: 8, minor: 0, access: 'rwm', allow: false },
    ],
    `${PROLOGUE}
block-0:
         6: JNEImm dst: r2 off: -1 imm: 1 <block-1>
         7: JNEImm dst: r4 off: -1 imm: 8 <block-1>
         8: JNEImm dst: r5 off: -1 imm: 0 <block-1>
         9: MovImm32 dst: r0 imm: 0
        10: Exit
block-1:
        11: MovImm32 dst: r0 imm: 1
        12: Exit`,
  )
})

t.test('a rule before the wildcard is reset by it (v1 semantics)', async (t) => {
  check(
    t,
    [
      { type: 'b', major: 8, minor: 1, access: 'rwm', allow: false },
      { type: 'a', major: -1, minor: -1, access: 'rwm', allow: true },
      { type: 'b', major: 8, minor: 2, access: 'rwm', allow: false },
    ],
    `${PROLOGUE}
block-0:
         6: JNEImm dst: r2 off: -1 imm: 1 <block-1>
         7: JNEImm dst: r4 off: -1 imm: 8 <block-1>
         8: JNEImm dst: r5 off: -1 imm: 2 <block-1>
         9: MovImm32 dst: r0 imm: 0
        10: Exit
block-1:
        11: MovImm32 dst: r0 imm: 1
        12: Exit`,
  )
})

t.test('access subsets: rw is read|write (2|4)', async (t) => {
  check(
    t,
    [{ type: 'c', major: 4, minor: -1, access: 'rw', allow: true }],
    `${PROLOGUE}
block-0:
         6: JNEImm dst: r2 off: -1 imm: 2 <block-1>
         7: MovReg32 dst: r1 src: r3
         8: AndImm32 dst: r1 imm: 6
         9: JNEReg dst: r1 off: -1 src: r3 <block-1>
        10: JNEImm dst: r4 off: -1 imm: 4 <block-1>
        11: MovImm32 dst: r0 imm: 1
        12: Exit
block-1:
        13: MovImm32 dst: r0 imm: 0
        14: Exit`,
  )
})

t.test('a deny rule with partial access refuses any request that asks for some of it', async (t) => {
  // runc emits the allow rules' subset test here (JNEReg), which lets "rw" through "deny w".
  check(
    t,
    [
      { type: 'a', major: -1, minor: -1, access: 'rwm', allow: true },
      { type: 'c', major: 1, minor: 5, access: 'w', allow: false },
    ],
    `${PROLOGUE}
block-0:
         6: JNEImm dst: r2 off: -1 imm: 2 <block-1>
         7: MovReg32 dst: r1 src: r3
         8: AndImm32 dst: r1 imm: 4
         9: JEqImm dst: r1 off: -1 imm: 0 <block-1>
        10: JNEImm dst: r4 off: -1 imm: 1 <block-1>
        11: JNEImm dst: r5 off: -1 imm: 5 <block-1>
        12: MovImm32 dst: r0 imm: 0
        13: Exit
block-1:
        14: MovImm32 dst: r0 imm: 1
        15: Exit`,
  )
})

t.test('encoding of single instructions', async (t) => {
  // ldxw r2, [r1+4]: 61 12 04 00 00 00 00 00
  t.same([...assemble([{ code: 0x61, dst: 2, src: 1, off: 4, imm: 0 }])], [0x61, 0x12, 4, 0, 0, 0, 0, 0])
  // a major above 2^31 is an int32 immediate, as runc's int32(rule.Major)
  const prog = deviceFilter([{ type: 'c', major: 0xfffffffe, minor: -1, access: 'rwm', allow: true }])
  t.equal(assemble(prog).readInt32LE(7 * 8 + 4), -2)
})

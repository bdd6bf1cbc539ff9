// CRIU's RPC messages (images/rpc.proto, proto2) for the subset runc sends and reads:
// criu_req, criu_resp, criu_opts and what they hold. A small schema-driven protobuf encoder
// and decoder, pure (no FFI): fields are written in field-number order, as Go's proto.Marshal
// writes them; unknown fields are skipped when decoding, whatever their wire type.

import { CriuError } from '../errors.js'
import { CRIU_REQ, CRIU_CG_MODE } from './constants.js'

export { CRIU_REQ, CRIU_CG_MODE }

export const reqTypeName = (t: number): string => Object.entries(CRIU_REQ).find(([, v]) => v === t)?.[0] ?? String(t)

export type ExtMountMap = { key: string; val: string }
export type JoinNamespace = { ns: string; nsFile: string; extraOpt?: string }
export type InheritFd = { key: string; fd: number }
export type CgroupRoot = { ctrl?: string; path: string }
export type CriuFeatures = { memTrack?: boolean; lazyPages?: boolean; pidfdStore?: boolean }

export type CriuOpts = {
  imagesDirFd: number
  pid?: number
  leaveRunning?: boolean
  extUnixSk?: boolean
  tcpEstablished?: boolean
  evasiveDevices?: boolean
  shellJob?: boolean
  fileLocks?: boolean
  logLevel?: number
  logFile?: string
  notifyScripts?: boolean
  root?: string
  parentImg?: string
  trackMem?: boolean
  autoDedup?: boolean
  workDirFd?: number
  linkRemap?: boolean
  extMnt?: ExtMountMap[]
  manageCgroups?: boolean
  cgRoot?: CgroupRoot[]
  rstSibling?: boolean
  inheritFd?: InheritFd[]
  manageCgroupsMode?: number
  external?: string[]
  emptyNs?: number
  joinNs?: JoinNamespace[]
  freezeCgroup?: string
  tcpSkipInFlight?: boolean
  lazyPages?: boolean
  statusFd?: number
  orphanPtsMaster?: boolean
  configFile?: string
  lsmProfile?: string
  lsmMountContext?: string
}

export type CriuReq = {
  type: number
  opts?: CriuOpts
  notifySuccess?: boolean
  keepOpen?: boolean
  features?: CriuFeatures
  pid?: number
}

export type CriuVersion = {
  majorNumber: number
  minorNumber: number
  gitid?: string
  sublevel?: number
  extra?: number
  name?: string
}

export type CriuResp = {
  type: number
  success: boolean
  dump?: { restored?: boolean }
  restore?: { pid: number }
  notify?: { script?: string; pid?: number }
  crErrno?: number
  features?: CriuFeatures
  crErrmsg?: string
  version?: CriuVersion
  status?: number
}

type Scalar = 'int32' | 'uint32' | 'bool' | 'string' | 'enum'
type Field = { num: number; type: Scalar | Schema; repeated?: boolean }
/** A message: its fields by their TypeScript name, in field-number order. */
export type Schema = Readonly<Record<string, Field>>

const EXT_MOUNT_MAP: Schema = { key: { num: 1, type: 'string' }, val: { num: 2, type: 'string' } }
const JOIN_NAMESPACE: Schema = {
  ns: { num: 1, type: 'string' },
  nsFile: { num: 2, type: 'string' },
  extraOpt: { num: 3, type: 'string' },
}
const INHERIT_FD: Schema = { key: { num: 1, type: 'string' }, fd: { num: 2, type: 'int32' } }
const CGROUP_ROOT: Schema = { ctrl: { num: 1, type: 'string' }, path: { num: 2, type: 'string' } }
const FEATURES: Schema = {
  memTrack: { num: 1, type: 'bool' },
  lazyPages: { num: 2, type: 'bool' },
  pidfdStore: { num: 3, type: 'bool' },
}

export const OPTS_SCHEMA: Schema = {
  imagesDirFd: { num: 1, type: 'int32' },
  pid: { num: 2, type: 'int32' },
  leaveRunning: { num: 3, type: 'bool' },
  extUnixSk: { num: 4, type: 'bool' },
  tcpEstablished: { num: 5, type: 'bool' },
  evasiveDevices: { num: 6, type: 'bool' },
  shellJob: { num: 7, type: 'bool' },
  fileLocks: { num: 8, type: 'bool' },
  logLevel: { num: 9, type: 'int32' },
  logFile: { num: 10, type: 'string' },
  notifyScripts: { num: 12, type: 'bool' },
  root: { num: 13, type: 'string' },
  parentImg: { num: 14, type: 'string' },
  trackMem: { num: 15, type: 'bool' },
  autoDedup: { num: 16, type: 'bool' },
  workDirFd: { num: 17, type: 'int32' },
  linkRemap: { num: 18, type: 'bool' },
  extMnt: { num: 23, type: EXT_MOUNT_MAP, repeated: true },
  manageCgroups: { num: 24, type: 'bool' },
  cgRoot: { num: 25, type: CGROUP_ROOT, repeated: true },
  rstSibling: { num: 26, type: 'bool' },
  inheritFd: { num: 27, type: INHERIT_FD, repeated: true },
  manageCgroupsMode: { num: 34, type: 'enum' },
  external: { num: 37, type: 'string', repeated: true },
  emptyNs: { num: 38, type: 'uint32' },
  joinNs: { num: 39, type: JOIN_NAMESPACE, repeated: true },
  freezeCgroup: { num: 44, type: 'string' },
  tcpSkipInFlight: { num: 46, type: 'bool' },
  lazyPages: { num: 48, type: 'bool' },
  statusFd: { num: 49, type: 'int32' },
  orphanPtsMaster: { num: 50, type: 'bool' },
  configFile: { num: 51, type: 'string' },
  lsmProfile: { num: 53, type: 'string' },
  lsmMountContext: { num: 63, type: 'string' },
}

export const REQ_SCHEMA: Schema = {
  type: { num: 1, type: 'enum' },
  opts: { num: 2, type: OPTS_SCHEMA },
  notifySuccess: { num: 3, type: 'bool' },
  keepOpen: { num: 4, type: 'bool' },
  features: { num: 5, type: FEATURES },
  pid: { num: 6, type: 'uint32' },
}

export const RESP_SCHEMA: Schema = {
  type: { num: 1, type: 'enum' },
  success: { num: 2, type: 'bool' },
  dump: { num: 3, type: { restored: { num: 1, type: 'bool' } } },
  restore: { num: 4, type: { pid: { num: 1, type: 'int32' } } },
  notify: { num: 5, type: { script: { num: 1, type: 'string' }, pid: { num: 2, type: 'int32' } } },
  crErrno: { num: 7, type: 'int32' },
  features: { num: 8, type: FEATURES },
  crErrmsg: { num: 9, type: 'string' },
  version: {
    num: 10,
    type: {
      majorNumber: { num: 1, type: 'int32' },
      minorNumber: { num: 2, type: 'int32' },
      gitid: { num: 3, type: 'string' },
      sublevel: { num: 4, type: 'int32' },
      extra: { num: 5, type: 'int32' },
      name: { num: 6, type: 'string' },
    },
  },
  status: { num: 11, type: 'int32' },
}

const VARINT = 0
const FIXED64 = 1
const LEN = 2
const FIXED32 = 5

function varint(out: number[], v: bigint): void {
  // int32 negatives are sign-extended to 64 bits (ten bytes), as protobuf encodes them.
  let x = BigInt.asUintN(64, v)
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80)
    x >>= 7n
  }
  out.push(Number(x))
}

function encodeInto(out: number[], schema: Schema, msg: Record<string, unknown>): void {
  const fields = Object.entries(schema).sort(([, a], [, b]) => a.num - b.num)
  for (const [name, f] of fields) {
    const v = msg[name]
    if (v === undefined) continue
    for (const item of f.repeated ? (v as unknown[]) : [v]) {
      if (typeof f.type === 'object') {
        const sub: number[] = []
        encodeInto(sub, f.type, item as Record<string, unknown>)
        varint(out, BigInt((f.num << 3) | LEN))
        varint(out, BigInt(sub.length))
        out.push(...sub)
      } else if (f.type === 'string') {
        const b = Buffer.from(item as string)
        varint(out, BigInt((f.num << 3) | LEN))
        varint(out, BigInt(b.length))
        out.push(...b)
      } else {
        varint(out, BigInt((f.num << 3) | VARINT))
        varint(
          out,
          f.type === 'bool' ? (item ? 1n : 0n) : f.type === 'uint32' ? BigInt((item as number) >>> 0) : BigInt(item as number),
        )
      }
    }
  }
}

/** Encode `msg` as the message `schema` describes. */
export function encode(schema: Schema, msg: object): Buffer {
  const out: number[] = []
  encodeInto(out, schema, msg as Record<string, unknown>)
  return Buffer.from(out)
}

const bad = (what: string) => new CriuError(`criu rpc: ${what}`)

function readVarint(b: Buffer, pos: { at: number }): bigint {
  let x = 0n
  let shift = 0n
  for (;;) {
    if (pos.at >= b.length) throw bad('truncated varint')
    const byte = b[pos.at++]!
    x |= BigInt(byte & 0x7f) << shift
    if (!(byte & 0x80)) return x
    shift += 7n
    if (shift > 63n) throw bad('varint too long')
  }
}

/** Decode a message of `schema`; fields it does not name are skipped. */
export function decode<T>(schema: Schema, b: Buffer): T {
  const byNum = new Map(Object.entries(schema).map(([name, f]) => [f.num, { name, f }]))
  const out: Record<string, unknown> = {}
  const pos = { at: 0 }
  while (pos.at < b.length) {
    const key = readVarint(b, pos)
    const num = Number(key >> 3n)
    const wire = Number(key & 7n)
    let raw: bigint | Buffer
    if (wire === VARINT) raw = readVarint(b, pos)
    else if (wire === LEN) {
      const len = Number(readVarint(b, pos))
      if (pos.at + len > b.length) throw bad('truncated field')
      raw = b.subarray(pos.at, pos.at + len)
      pos.at += len
    } else if (wire === FIXED64 || wire === FIXED32) {
      const len = wire === FIXED64 ? 8 : 4
      if (pos.at + len > b.length) throw bad('truncated field')
      raw = b.subarray(pos.at, pos.at + len)
      pos.at += len
    } else throw bad(`unsupported wire type ${wire}`)
    const known = byNum.get(num)
    if (!known) continue
    const { name, f } = known
    let v: unknown
    const lengthDelimited = typeof f.type === 'object' || f.type === 'string'
    if (wire !== (lengthDelimited ? LEN : VARINT)) throw bad(`field ${num}: wire type ${wire}`)
    if (typeof f.type === 'object') v = decode(f.type, raw as Buffer)
    else if (f.type === 'string') v = (raw as Buffer).toString()
    else {
      if (typeof raw !== 'bigint') throw bad(`field ${num}: expected a varint`)
      v = f.type === 'bool' ? raw !== 0n : f.type === 'uint32' ? Number(BigInt.asUintN(32, raw)) : Number(BigInt.asIntN(32, raw))
    }
    if (f.repeated) ((out[name] ??= []) as unknown[]).push(v)
    else out[name] = v
  }
  return out as T
}

export const encodeReq = (r: CriuReq): Buffer => encode(REQ_SCHEMA, r)
export const decodeReq = (b: Buffer): CriuReq => decode<CriuReq>(REQ_SCHEMA, b)
export const encodeResp = (r: CriuResp): Buffer => encode(RESP_SCHEMA, r)
export const decodeResp = (b: Buffer): CriuResp => decode<CriuResp>(RESP_SCHEMA, b)

import t from 'tap'
import * as R from '../../../src/sys/criu-rpc.js'
import { CriuError } from '../../../src/errors.js'

/** Hex bytes, one group per line, each line's annotation after two or more spaces. */
const hex = (s: string) =>
  Buffer.from(
    s
      .split('\n')
      .map((l) =>
        l
          .trim()
          .split(/\s{2,}/)[0]!
          .replace(/\s+/g, ''),
      )
      .join(''),
    'hex',
  )

t.test('a dump request encodes byte for byte (checked by hand against rpc.proto)', async (t) => {
  const b = R.encodeReq({
    type: R.CRIU_REQ.DUMP,
    opts: {
      imagesDirFd: 5,
      // Written in field-number order, whatever the order here.
      manageCgroupsMode: R.CRIU_CG_MODE.DEFAULT,
      extMnt: [{ key: '/a', val: '/a' }],
      logFile: 'dump.log',
      leaveRunning: true,
    },
  })
  t.same(
    b,
    hex(`
      08 01                                  type = DUMP
      12 1c                                  opts, 28 bytes
        08 05                                images_dir_fd = 5
        18 01                                leave_running = true
        52 08 64756d702e6c6f67               log_file = "dump.log"
        ba01 08 0a022f61 12022f61            ext_mnt {key "/a", val "/a"} (field 23)
        9002 06                              manage_cgroups_mode = DEFAULT (field 34)
    `),
  )
})

t.test('negative int32 is ten bytes, uint32 and false bools are written', async (t) => {
  t.same(R.encode(R.OPTS_SCHEMA, { imagesDirFd: -1 }), hex('08 ffffffffffffffffff01'))
  t.same(R.encode(R.OPTS_SCHEMA, { imagesDirFd: 3, emptyNs: 0x40000000, shellJob: false }), hex('08 03 38 00 b002 8080808004'))
  t.same(R.decode(R.OPTS_SCHEMA, hex('08 ffffffffffffffffff01')), { imagesDirFd: -1 })
})

t.test('a notification decodes, unknown fields of every wire type skipped', async (t) => {
  const b = hex(`
    08 06                                    type = NOTIFY
    10 01                                    success = true
    9d06 01020304                            field 99, fixed32: unknown
    60 9601                                  field 12, varint: unknown
    32 02 0801                               field 6 (ps), not in our subset
    2a 0d 0a09706f73742d64756d70 102a        notify {script "post-dump", pid 42}
    19 0102030405060708                      field 3 (dump) as a fixed64
  `)
  // The last line gives a known field a wire type its schema does not have.
  t.throws(() => R.decodeResp(b), CriuError)
  const ok = b.subarray(0, b.length - 9)
  t.same(R.decodeResp(ok), { type: 6, success: true, notify: { script: 'post-dump', pid: 42 } })
})

t.test('round trips', async (t) => {
  const req: R.CriuReq = {
    type: R.CRIU_REQ.RESTORE,
    opts: {
      imagesDirFd: 7,
      workDirFd: 8,
      logLevel: 4,
      logFile: 'restore.log',
      root: '/run/runt/c/criu-root',
      rstSibling: true,
      manageCgroups: true,
      manageCgroupsMode: R.CRIU_CG_MODE.SOFT,
      notifyScripts: true,
      evasiveDevices: true,
      orphanPtsMaster: true,
      emptyNs: 0x40000000,
      extMnt: [
        { key: '/etc/hosts', val: '/tmp/hosts' },
        { key: '/dev/null', val: '/dev/null' },
      ],
      inheritFd: [{ key: 'extRootNetNS', fd: 4 }],
      joinNs: [{ ns: 'uts', nsFile: '/proc/1/ns/uts' }],
      cgRoot: [{ ctrl: 'memory', path: '/runt/c' }, { path: '/' }],
      external: ['net[4026531840]:extRootNetNS'],
      configFile: '/etc/criu/runc.conf',
    },
    notifySuccess: true,
  }
  t.same(R.decodeReq(R.encodeReq(req)), req)
  const resp: R.CriuResp = {
    type: R.CRIU_REQ.VERSION,
    success: false,
    crErrno: 2,
    crErrmsg: 'no such file',
    version: { majorNumber: 3, minorNumber: 17, gitid: 'v3.17.1', sublevel: 1 },
    features: { memTrack: true, lazyPages: false },
    restore: { pid: 1234 },
    dump: { restored: true },
  }
  t.same(R.decodeResp(R.encodeResp(resp)), resp)
})

t.test('truncated input is a CriuError', async (t) => {
  t.throws(() => R.decodeResp(hex('08')), CriuError)
  t.throws(() => R.decodeResp(hex('2a 05 0a')), CriuError)
  t.throws(() => R.decodeResp(hex('0b')), CriuError) // wire type 3 (group start)
  t.equal(R.reqTypeName(1), 'DUMP')
  t.equal(R.reqTypeName(99), '99')
})

t.test('the same bytes as protobufjs (a dev dependency of @grpc/proto-loader) for the same messages', async (t) => {
  const { default: protobuf } = await import('protobufjs')
  // The subset, written from images/rpc.proto's field numbers.
  const root = protobuf.parse(`
    syntax = "proto2";
    message ext_mount_map { required string key = 1; required string val = 2; }
    message inherit_fd { required string key = 1; required int32 fd = 2; }
    message criu_opts {
      required int32 images_dir_fd = 1; optional int32 pid = 2; optional bool leave_running = 3;
      optional int32 log_level = 9; optional string log_file = 10; optional string root = 13;
      repeated ext_mount_map ext_mnt = 23; repeated inherit_fd inherit_fd = 27;
      optional int32 manage_cgroups_mode = 34; repeated string external = 37; optional uint32 empty_ns = 38;
    }
    message criu_notify { optional string script = 1; optional int32 pid = 2; }
    message criu_req { required int32 type = 1; optional criu_opts opts = 2; optional bool notify_success = 3; }
    message criu_resp { required int32 type = 1; required bool success = 2; optional criu_notify notify = 5;
      optional int32 cr_errno = 7; optional string cr_errmsg = 9; }
  `).root
  const Req = root.lookupType('criu_req')
  const Resp = root.lookupType('criu_resp')
  const req: R.CriuReq = {
    type: R.CRIU_REQ.DUMP,
    opts: {
      imagesDirFd: -1,
      pid: 4242,
      leaveRunning: true,
      logLevel: 4,
      logFile: 'dump.log',
      root: '/run/r\u00e9',
      extMnt: [{ key: '/a', val: '/b' }],
      inheritFd: [{ key: 'pipe:[1]', fd: 2 }],
      manageCgroupsMode: 6,
      external: ['net[4026531840]:extRootNetNS', 'pid[1]:extRootPidNS'],
      emptyNs: 0x40000000,
    },
  }
  const theirs = Buffer.from(Req.encode(Req.fromObject(req)).finish())
  t.same(R.encodeReq(req), theirs, 'our encoding is theirs')
  const resp = { type: R.CRIU_REQ.NOTIFY, success: true, notify: { script: 'post-restore', pid: 77 }, crErrno: -3, crErrmsg: 'x' }
  t.same(R.decodeResp(Buffer.from(Resp.encode(Resp.fromObject(resp)).finish())), resp, 'their encoding decodes to the same')
})

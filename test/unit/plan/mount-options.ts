import t from 'tap'
import * as C from '../../../src/sys/constants.js'
import {
  EXTENSIONS,
  MOUNT_FLAGS,
  PROPAGATION_FLAGS,
  RECURSIVE_ATTRS,
  isBind,
  knownOptions,
  parseMountOptions,
  type ParsedOptions,
} from '../../../src/plan/mount-options.js'

const empty: ParsedOptions = { flags: 0, cleared: 0, propagation: [], attrSet: 0, attrClr: 0, extensions: [], data: [] }
const parsed = (o: Partial<ParsedOptions>): ParsedOptions => ({ ...empty, ...o })

// [option, set?, flag] written out from mount(8) and runc's specconv, not from the table.
const FLAG_CASES: [string, boolean, number][] = [
  ['acl', true, 0x10000],
  ['async', false, 0x10],
  ['atime', false, 0x400],
  ['bind', true, 0x1000],
  ['dev', false, 0x4],
  ['diratime', false, 0x800],
  ['dirsync', true, 0x80],
  ['exec', false, 0x8],
  ['iversion', true, 0x800000],
  ['lazytime', true, 0x2000000],
  ['loud', false, 0x8000],
  ['mand', true, 0x40],
  ['noacl', false, 0x10000],
  ['noatime', true, 0x400],
  ['nodev', true, 0x4],
  ['nodiratime', true, 0x800],
  ['noexec', true, 0x8],
  ['noiversion', false, 0x800000],
  ['nolazytime', false, 0x2000000],
  ['nomand', false, 0x40],
  ['norelatime', false, 0x200000],
  ['nostrictatime', false, 0x1000000],
  ['nosuid', true, 0x2],
  ['nosymfollow', true, 0x100],
  ['rbind', true, 0x1000 | 0x4000],
  ['relatime', true, 0x200000],
  ['remount', true, 0x20],
  ['ro', true, 0x1],
  ['rw', false, 0x1],
  ['silent', true, 0x8000],
  ['strictatime', true, 0x1000000],
  ['suid', false, 0x2],
  ['sync', true, 0x10],
  ['symfollow', false, 0x100],
]

t.test('every mount(2) flag option sets or clears its flag', async (t) => {
  t.equal(Object.keys(MOUNT_FLAGS).length, FLAG_CASES.length + 1, 'the table has these and `defaults`')
  for (const [opt, set, flag] of FLAG_CASES) {
    t.same(MOUNT_FLAGS[opt], { set, flag }, `table: ${opt}`)
    t.same(parseMountOptions([opt]), set ? parsed({ flags: flag }) : parsed({ cleared: flag }), opt)
  }
})

t.test('`defaults` changes nothing', async (t) => {
  t.same(parseMountOptions(['defaults']), empty)
  t.same(parseMountOptions(['nosuid', 'defaults', 'ro']), parsed({ flags: C.MS_NOSUID | C.MS_RDONLY }))
})

t.test('no options at all', async (t) => {
  t.same(parseMountOptions(undefined), empty)
  t.same(parseMountOptions([]), empty)
})

t.test('later options override earlier ones', async (t) => {
  t.same(parseMountOptions(['ro', 'rw']), parsed({ cleared: C.MS_RDONLY }), 'ro then rw')
  t.same(parseMountOptions(['rw', 'ro']), parsed({ flags: C.MS_RDONLY }), 'rw then ro')
  t.same(parseMountOptions(['nosuid', 'suid', 'nosuid']), parsed({ flags: C.MS_NOSUID }))
  t.same(parseMountOptions(['noexec', 'exec', 'nodev']), parsed({ flags: C.MS_NODEV, cleared: C.MS_NOEXEC }))
  // rbind sets MS_BIND|MS_REC; nothing clears MS_BIND by name, so a later bind keeps MS_REC.
  t.same(parseMountOptions(['rbind', 'bind']), parsed({ flags: C.MS_BIND | C.MS_REC }))
})

t.test("runc's default spec mounts", async (t) => {
  t.same(
    parseMountOptions(['nosuid', 'strictatime', 'mode=755', 'size=65536k']),
    parsed({ flags: C.MS_NOSUID | C.MS_STRICTATIME, data: ['mode=755', 'size=65536k'] }),
  )
  t.same(
    parseMountOptions(['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']),
    parsed({ flags: 0xa, data: ['newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] }),
  )
  t.same(parseMountOptions(['nosuid', 'noexec', 'nodev', 'relatime', 'ro']), parsed({ flags: 0x20000f }))
  t.same(parseMountOptions(['rbind', 'nosuid', 'noexec', 'nodev', 'ro']), parsed({ flags: 0x500f }))
})

t.test('propagation options are kept apart, in order, and repeated', async (t) => {
  const cases: [string, number][] = [
    ['private', 0x40000],
    ['rprivate', 0x40000 | 0x4000],
    ['shared', 0x100000],
    ['rshared', 0x100000 | 0x4000],
    ['slave', 0x80000],
    ['rslave', 0x80000 | 0x4000],
    ['unbindable', 0x20000],
    ['runbindable', 0x20000 | 0x4000],
  ]
  t.equal(Object.keys(PROPAGATION_FLAGS).length, cases.length)
  for (const [opt, flag] of cases) t.same(parseMountOptions([opt]), parsed({ propagation: [flag] }), opt)
  t.same(
    parseMountOptions(['rshared', 'bind', 'rslave', 'rshared']),
    parsed({ flags: C.MS_BIND, propagation: [0x104000, 0x84000, 0x104000] }),
  )
})

t.test('recursive attributes', async (t) => {
  // Plain bits: set clears a pending clear, clear drops a pending set.
  const bits: [string, string, number][] = [
    ['rro', 'rrw', 0x1],
    ['rnosuid', 'rsuid', 0x2],
    ['rnodev', 'rdev', 0x4],
    ['rnoexec', 'rexec', 0x8],
    ['rnodiratime', 'rdiratime', 0x80],
    ['rnosymfollow', 'rsymfollow', 0x200000],
  ]
  for (const [on, off, bit] of bits) {
    t.same(parseMountOptions([on]), parsed({ attrSet: bit }), on)
    t.same(parseMountOptions([off]), parsed({ attrClr: bit }), off)
    t.same(parseMountOptions([on, off]), parsed({ attrClr: bit }), `${on} then ${off}`)
    t.same(parseMountOptions([off, on]), parsed({ attrSet: bit }), `${off} then ${on}`)
  }
  t.same(parseMountOptions(['rro', 'rnosuid', 'rexec']), parsed({ attrSet: 0x3, attrClr: 0x8 }))
  t.equal(Object.keys(RECURSIVE_ATTRS).length, 18)
})

t.test('the access-time attributes are one field (MOUNT_ATTR__ATIME)', async (t) => {
  // mount_setattr(2): an atime setting in attr_set needs all of MOUNT_ATTR__ATIME in attr_clr,
  // and the kernel refuses a partial MOUNT_ATTR__ATIME in attr_clr.
  t.same(parseMountOptions(['rnoatime']), parsed({ attrSet: 0x10, attrClr: 0x70 }))
  t.same(parseMountOptions(['rstrictatime']), parsed({ attrSet: 0x20, attrClr: 0x70 }))
  t.same(parseMountOptions(['rrelatime']), parsed({ attrSet: 0, attrClr: 0x70 }), 'relatime is the value 0')
  t.same(parseMountOptions(['ratime']), parsed({ attrClr: 0x70 }))
  t.same(parseMountOptions(['rnostrictatime']), parsed({ attrClr: 0x70 }))
  t.same(parseMountOptions(['rnorelatime']), parsed({ attrClr: 0x70 }))
  t.same(parseMountOptions(['rnoatime', 'rstrictatime']), parsed({ attrSet: 0x20, attrClr: 0x70 }), 'last one wins')
  t.same(parseMountOptions(['rstrictatime', 'rrelatime']), parsed({ attrSet: 0, attrClr: 0x70 }))
  t.same(parseMountOptions(['rnoatime', 'ratime']), parsed({ attrSet: 0, attrClr: 0x70 }))
  t.same(parseMountOptions(['rnoatime', 'rnostrictatime']), parsed({ attrSet: 0x10, attrClr: 0x70 }), 'clearing another keeps it')
  // nodiratime is not part of the field.
  t.same(parseMountOptions(['rnodiratime', 'rnoatime']), parsed({ attrSet: 0x90, attrClr: 0x70 }))
  t.same(parseMountOptions(['rnoatime', 'rdiratime']), parsed({ attrSet: 0x10, attrClr: 0xf0 }))
})

t.test('extensions are listed once, in order', async (t) => {
  t.same(EXTENSIONS, ['tmpcopyup', 'idmap', 'ridmap'])
  t.same(parseMountOptions(['ridmap', 'tmpcopyup', 'ridmap', 'idmap']), parsed({ extensions: ['ridmap', 'tmpcopyup', 'idmap'] }))
})

t.test('everything else is filesystem data, passed through verbatim', async (t) => {
  t.same(
    parseMountOptions(['size=1m', 'ro', 'uid=1000', 'x-gvfs-hide', 'lowerdir=/a:/b', 'mode=1777', 'size=1m']),
    parsed({ flags: C.MS_RDONLY, data: ['size=1m', 'uid=1000', 'x-gvfs-hide', 'lowerdir=/a:/b', 'mode=1777', 'size=1m'] }),
  )
  t.same(parseMountOptions(['RO', 'Bind', '']), parsed({ data: ['RO', 'Bind', ''] }), 'names are case-sensitive')
})

t.test('names inherited from Object.prototype are data, not options', async (t) => {
  const names = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']
  t.same(parseMountOptions(names), parsed({ data: names }))
})

t.test('knownOptions: every option name, sorted', async (t) => {
  t.same(knownOptions(), [
    'acl',
    'async',
    'atime',
    'bind',
    'defaults',
    'dev',
    'diratime',
    'dirsync',
    'exec',
    'idmap',
    'iversion',
    'lazytime',
    'loud',
    'mand',
    'noacl',
    'noatime',
    'nodev',
    'nodiratime',
    'noexec',
    'noiversion',
    'nolazytime',
    'nomand',
    'norelatime',
    'nostrictatime',
    'nosuid',
    'nosymfollow',
    'private',
    'ratime',
    'rbind',
    'rdev',
    'rdiratime',
    'relatime',
    'remount',
    'rexec',
    'ridmap',
    'rnoatime',
    'rnodev',
    'rnodiratime',
    'rnoexec',
    'rnorelatime',
    'rnostrictatime',
    'rnosuid',
    'rnosymfollow',
    'ro',
    'rprivate',
    'rrelatime',
    'rro',
    'rrw',
    'rshared',
    'rslave',
    'rstrictatime',
    'rsuid',
    'rsymfollow',
    'runbindable',
    'rw',
    'shared',
    'silent',
    'slave',
    'strictatime',
    'suid',
    'symfollow',
    'sync',
    'tmpcopyup',
    'unbindable',
  ])
  t.not(knownOptions(), knownOptions(), 'a fresh array each time')
})

t.test('isBind: by type or by option', async (t) => {
  t.equal(isBind('bind', parseMountOptions([])), true)
  t.equal(isBind('none', parseMountOptions(['bind'])), true)
  t.equal(isBind(undefined, parseMountOptions(['rbind'])), true)
  t.equal(isBind('tmpfs', parseMountOptions(['rbind', 'ro'])), true)
  t.equal(isBind('tmpfs', parseMountOptions(['ro', 'nosuid'])), false)
  t.equal(isBind(undefined, parseMountOptions(undefined)), false)
  t.equal(isBind('rbind', parseMountOptions([])), false, 'only the type "bind" counts')
})

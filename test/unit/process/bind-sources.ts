// The fd hand-over of bind sources over a real socketpair (no root: openBindSources, which
// joins a mount namespace, is covered by test/priv/bind-sources.ts).

import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as C from '../../../src/sys/constants.js'
import { linux } from '../../../src/sys/linux.js'
import { receiveBindSources, sendBindSources } from '../../../src/process/bind-sources.js'
import { channelPair } from '../../fixtures/channel-pair.js'

const isOpen = (fd: number) => {
  try {
    linux.fcntl(fd, C.F_GETFD, 0)
    return true
  } catch {
    return false
  }
}

t.test('sent after a message, received in order by field, close-on-exec; ours are closed', async (t) => {
  const dir = t.testdir({ a: 'A', b: 'B' })
  const [parent, init] = channelPair(t)
  const fds = ['a', 'b'].map((n) => linux.openat(C.AT_FDCWD, path.join(dir, n), C.O_PATH))
  const opened = { fields: ['mounts[2]', 'mounts[5]'], fds: [...fds], skipped: [] }
  parent.send({ type: 'cgroup-done' })
  sendBindSources(parent, opened)
  t.same(opened.fds, [], 'the parent forgets them')
  t.notOk(fds.some(isOpen), "the parent's copies are closed")
  t.same(init.recv(), { type: 'cgroup-done' }, 'the framed message before them reads as ever')
  const got = receiveBindSources(init, ['mounts[2]', 'mounts[5]'])
  t.same([...got.keys()], ['mounts[2]', 'mounts[5]'])
  for (const [field, fd] of got) {
    t.ok(linux.fcntl(fd, C.F_GETFD, 0) & C.FD_CLOEXEC, `${field}: close-on-exec`)
    t.equal(fs.readlinkSync(`/proc/self/fd/${fd}`), path.join(dir, field === 'mounts[2]' ? 'a' : 'b'))
    linux.close(fd)
  }
})

t.test('more than one message holds: 300 fds in two batches', async (t) => {
  const [parent, init] = channelPair(t)
  const fds = Array.from({ length: 300 }, () => linux.openat(C.AT_FDCWD, '/dev/null', C.O_PATH))
  const fields = fds.map((_, i) => `mounts[${i}]`)
  sendBindSources(parent, { fields, fds, skipped: [] })
  const got = receiveBindSources(init, fields)
  t.equal(got.size, 300)
  for (const fd of got.values()) linux.close(fd)
})

t.test('fewer fds than fields: a protocol error, and what came is closed', async (t) => {
  const [parent, init] = channelPair(t)
  const fd = linux.openat(C.AT_FDCWD, '/dev/null', C.O_PATH)
  sendBindSources(parent, { fields: ['mounts[0]'], fds: [fd], skipped: [] })
  const before = fs.readdirSync('/proc/self/fd').length
  t.throws(() => receiveBindSources(init, ['mounts[0]', 'mounts[1]']), {
    code: 'EPROTO',
    message: 'bind sources: expected 2 descriptors from the parent, got 1',
  })
  t.equal(fs.readdirSync('/proc/self/fd').length, before, 'the one received is closed again')
})

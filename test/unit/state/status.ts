import t from 'tap'
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import { isAlive, ociState, parseProcStat, readProcStat, statusOf, type StatusProbe } from '../../../src/state/status.js'
import type { ContainerRecord } from '../../../src/state/store.js'

const rec = (extra: Partial<ContainerRecord> = {}): ContainerRecord => ({
  ociVersion: '1.3.0',
  id: 'abc',
  pid: 4242,
  pidStartTime: '987654',
  bundle: '/run/b',
  rootfs: '/run/b/rootfs',
  created: '2026-11-23T21:00:00.123456789Z',
  config: {},
  namespacePaths: {},
  cgroupPaths: {},
  ...extra,
})

// Fields 3..22 of proc(5)'s stat: state, ppid, pgrp, session, tty_nr, tpgid, flags, minflt,
// cminflt, majflt, cmajflt, utime, stime, cutime, cstime, priority, nice, num_threads,
// itrealvalue, starttime; then the rest.
const TAIL =
  'S 1 4242 4242 0 -1 4194560 1200 0 3 0 10 5 0 0 20 0 1 0 987654 12345678 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0'

t.test('parseProcStat', async (t) => {
  t.same(parseProcStat(`4242 (sleep) ${TAIL}\n`), { state: 'S', ppid: 1, startTime: '987654' })
  t.same(parseProcStat(`4242 (my (weird) cmd) ${TAIL}`), { state: 'S', ppid: 1, startTime: '987654' }, 'parens in comm')
  t.same(parseProcStat(`4242 (a) R 7 8 9) ${TAIL}`), { state: 'S', ppid: 1, startTime: '987654' }, '") R 7" inside comm')
  t.same(parseProcStat(`4242 (two  spaces ) ${TAIL.replace(/^S 1/, 'Z 99')}`), { state: 'Z', ppid: 99, startTime: '987654' })
  t.same(parseProcStat(`4242 () ${TAIL}`), { state: 'S', ppid: 1, startTime: '987654' }, 'empty comm')
  t.equal(parseProcStat(''), null)
  t.equal(parseProcStat('4242 sleep S 1'), null, 'no parenthesis')
  t.equal(parseProcStat('4242 (sleep) S 1 2 3'), null, 'truncated before the start time')
  t.equal(parseProcStat('4242 (sleep)'), null)
})

t.test('readProcStat and isAlive on real processes', async (t) => {
  const me = readProcStat(process.pid)
  t.ok(me)
  t.equal(me!.state, 'R')
  t.equal(me!.ppid, process.ppid)
  t.match(me!.startTime, /^\d+$/)
  t.equal(isAlive(process.pid, me!.startTime), true)
  t.equal(isAlive(process.pid, String(Number(me!.startTime) + 1)), false, 'a reused pid has another start time')
  t.equal(isAlive(0, me!.startTime), false)
  t.equal(isAlive(-1, me!.startTime), false)
  const unused = Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1
  t.equal(readProcStat(unused), null)
  t.equal(isAlive(unused, '1'), false)
})

t.test('a zombie is not alive', async (t) => {
  // sh forks a short sleep, prints its pid, then becomes a long sleep, which never reaps it. The
  // short one outlives the exec, so sh cannot have reaped it first.
  const child = spawn('/bin/sh', ['-c', 'sleep 0.3 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => void child.kill('SIGKILL'))
  const pid = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString()))))
  let st = readProcStat(pid)
  for (let i = 0; i < 500 && st?.state !== 'Z'; i++) {
    await new Promise((r) => setTimeout(r, 10))
    st = readProcStat(pid)
  }
  t.equal(st?.state, 'Z')
  t.equal(st?.ppid, child.pid)
  t.equal(isAlive(pid, st!.startTime), false)
  t.equal(isAlive(child.pid!, readProcStat(child.pid!)!.startTime), true, 'its parent is')
})

t.test('statusOf: stopped, then paused, then created, then running', async (t) => {
  const calls: string[] = []
  const probe = (alive: boolean, frozen: boolean, fifo: boolean): StatusProbe => ({
    alive(pid, start) {
      calls.push(`alive ${pid} ${start}`)
      return alive
    },
    frozen(r) {
      calls.push(`frozen ${r.id}`)
      return frozen
    },
    fifoExists(p) {
      calls.push(`fifo ${p}`)
      return fifo
    },
  })
  const r = rec()
  const fifo = '/run/runt/abc/exec.fifo'
  t.equal(statusOf(r, fifo, probe(false, true, true)), 'stopped')
  t.same(calls, ['alive 4242 987654'], 'a dead init is stopped whatever else holds')
  calls.length = 0
  t.equal(statusOf(r, fifo, probe(true, true, true)), 'paused')
  t.same(calls, ['alive 4242 987654', 'frozen abc'], 'frozen wins over the fifo')
  calls.length = 0
  t.equal(statusOf(r, fifo, probe(true, false, true)), 'created')
  t.same(calls, ['alive 4242 987654', 'frozen abc', `fifo ${fifo}`])
  t.equal(statusOf(r, fifo, probe(true, false, false)), 'running')
})

t.test('ociState: runc key order, pid 0 when stopped', async (t) => {
  const s = ociState(rec(), 'running')
  t.equal(
    JSON.stringify(s),
    '{"ociVersion":"1.3.0","id":"abc","pid":4242,"status":"running","bundle":"/run/b","rootfs":"/run/b/rootfs",' +
      '"created":"2026-11-23T21:00:00.123456789Z","owner":""}',
  )
  t.equal(ociState(rec(), 'stopped').pid, 0)
  t.equal(ociState(rec(), 'created').pid, 4242)
  t.equal(ociState(rec(), 'paused').pid, 4242)
  t.equal(ociState(rec(), 'running', 'root').owner, 'root')
  t.same(Object.keys(ociState(rec({ annotations: { a: '1', b: '2' } }), 'created', 'me')), [
    'ociVersion',
    'id',
    'pid',
    'status',
    'bundle',
    'rootfs',
    'created',
    'owner',
    'annotations',
  ])
  t.same(ociState(rec({ annotations: { a: '1' } }), 'created').annotations, { a: '1' })
  t.notOk('annotations' in ociState(rec({ annotations: {} }), 'created'), 'empty annotations are left out')
  t.notOk('config' in ociState(rec(), 'created'), 'only the OCI fields')
})

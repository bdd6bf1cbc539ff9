// runc's checkTerminal, shared by create, run and exec; and the undo stack's error keeping.

import t from 'tap'
import { checkTerminal, Undo } from '../../../src/process/launch.js'
import { RuntimeError } from '../../../src/errors.js'

t.test('a terminal needs a console socket when runt detaches, and a console socket needs both', async (t) => {
  const ok = (terminal: boolean, detach: boolean, sock?: string) => t.doesNotThrow(() => checkTerminal(terminal, detach, sock))
  const bad = (terminal: boolean, detach: boolean, sock: string | undefined, msg: RegExp) =>
    t.throws(() => checkTerminal(terminal, detach, sock), { message: msg, code: 'ETTY' })
  ok(false, false)
  ok(false, true)
  ok(true, false)
  ok(true, true, '/run/sock')
  bad(true, true, undefined, /^cannot allocate tty if runt will detach without setting console socket$/)
  bad(false, true, '/run/sock', /^cannot use console socket if runt will not detach or allocate tty$/)
  bad(true, false, '/run/sock', /^cannot use console socket if runt will not detach or allocate tty$/)
  bad(false, false, '/run/sock', /^cannot use console socket if runt will not detach or allocate tty$/)
})

t.test('undo runs last first and keeps its failures on the first error', async (t) => {
  const order: string[] = []
  const undo = new Undo()
  undo.push(() => order.push('first'))
  undo.push(() => {
    order.push('second')
    throw new RuntimeError('cannot remove the cgroup')
  })
  undo.push(() => order.push('third'))
  const cause = new RuntimeError('mount failed')
  undo.run(cause)
  t.same(order, ['third', 'second', 'first'], 'every step ran, last pushed first')
  t.equal(cause.message, 'mount failed', 'the first error is kept')
  t.same(
    cause.cleanup?.map((e) => e.message),
    ['cannot remove the cgroup'],
    'the failed step is attached to it',
  )
  undo.run(new RuntimeError('again'))
  t.same(order.length, 3, 'a run empties the stack')
  const cleared = new Undo()
  cleared.push(() => order.push('never'))
  cleared.clear()
  cleared.run(cause)
  t.same(order.length, 3, 'clear() forgets the steps')
})

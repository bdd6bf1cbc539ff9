import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { criuLogErrors, logPathOf, waitText } from '../../../src/process/criu.js'

t.test('the log path the error names: the work directory, else the images', async (t) => {
  t.equal(logPathOf('/img', '', 'dump.log'), '/img/dump.log')
  t.equal(logPathOf('/img', '/work', 'restore.log'), '/work/restore.log')
})

t.test("criuLogErrors quotes each Error line with up to five before it, as runc's logCriuErrors", async (t) => {
  const dir = t.testdir({})
  const file = path.join(dir, 'dump.log')
  fs.writeFileSync(file, ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'Error (x.c:1): one', 'h', 'Error (y.c:2): two'].join('\n'))
  t.equal(
    criuLogErrors(file),
    ['3:c', '4:d', '5:e', '6:f', '7:g', '8:Error (x.c:1): one', '9:h', '10:Error (y.c:2): two'].join('\n'),
  )
  t.equal(criuLogErrors(path.join(dir, 'none')), '', 'no log: nothing to quote')
})

t.test('waitText: the exit status, or the signal by number', async (t) => {
  t.equal(waitText(1 << 8), 'exit status 1')
  t.equal(waitText(9), 'signal: 9')
})

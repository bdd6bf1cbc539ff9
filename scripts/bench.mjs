// runt against runc, side by side on one busybox bundle (docs/performance.md explains the
// numbers). Rounds interleave the two runtimes, alternating which goes first, so load on the
// machine hits both alike. Reports medians, runt/runc ratios and runt minus two floors
// measured in the same run: a trivial Bun executable (what any command of the single binary
// costs at least) and `node -e 0`; peak RSS per command (GNU time, in a pass of its own so it
// does not disturb the timings); the memory a created-but-not-started container holds; a
// start-up breakdown; and 100 containers through create/start/delete, 4 at a time. Run as
// root: scripts/bench [--rounds N] [--containers N] [--jobs N] [--runt PATH] [--runc PATH]
// [--json FILE] [--only small] [--small-rounds N] (--only small: just the small-limits table).
// Never NODE_OPTIONS, NODE_EXTRA_CA_CERTS or BUN_* in anything measured.

import { execFileSync, spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' }

function options(argv) {
  const o = {
    rounds: 20,
    containers: 100,
    jobs: 4,
    runt: path.join(ROOT, 'dist/runt'),
    runc: which('runc'),
    json: undefined,
    only: undefined,
    smallRounds: 3,
  }
  for (let i = 0; i < argv.length; i++) {
    const [k, v] = [argv[i], argv[i + 1]]
    if (k === '--rounds') o.rounds = Number(v)
    else if (k === '--containers') o.containers = Number(v)
    else if (k === '--jobs') o.jobs = Number(v)
    else if (k === '--runt') o.runt = path.resolve(v)
    else if (k === '--runc') o.runc = v
    else if (k === '--json') o.json = v
    else if (k === '--only' && v === 'small') o.only = v
    else if (k === '--small-rounds') o.smallRounds = Number(v)
    else {
      console.error(`unknown option ${k}`)
      process.exit(2)
    }
    i++
  }
  return o
}

function which(cmd) {
  for (const d of ENV.PATH.split(':')) if (fs.existsSync(path.join(d, cmd))) return path.join(d, cmd)
  return undefined
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

let errFd = -1
let errFile = ''

/**
 * Run to completion; wall time in ms. stderr goes to a file, not a pipe: a created container
 * keeps the stdio of `create` open (as with runc), and spawnSync would wait for it to close.
 */
function timed(cmd, args) {
  if (errFd < 0) {
    errFile = path.join(os.tmpdir(), `runt-bench-err-${process.pid}`)
    errFd = fs.openSync(errFile, 'w+')
  }
  fs.ftruncateSync(errFd, 0)
  const t0 = process.hrtime.bigint()
  const r = spawnSync(cmd, args, { env: ENV, stdio: ['ignore', 'ignore', errFd] })
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  const stderr = r.status === 0 ? '' : fs.readFileSync(errFile, 'utf8').trim()
  return { ms, ok: r.status === 0, status: r.status, stderr }
}

/** Peak RSS in KiB of one run, through GNU time (in a pass of its own). */
function peakRss(cmd, args) {
  const out = path.join(os.tmpdir(), `runt-bench-rss-${process.pid}`)
  spawnSync('/usr/bin/time', ['-o', out, '-f', '%M', cmd, ...args], { env: ENV, stdio: 'ignore' })
  try {
    return Number(fs.readFileSync(out, 'utf8').trim().split('\n').pop())
  } catch {
    return NaN
  } finally {
    fs.rmSync(out, { force: true })
  }
}

function makeBundle(dir, args) {
  execFileSync(path.join(ROOT, 'scripts/make-bundle.sh'), [dir, ...args], {
    env: { ...ENV, RUNT: rt.runt },
    stdio: 'ignore',
  })
}

function waitStopped(bin, root, id) {
  for (let i = 0; i < 500; i++) {
    const r = spawnSync(bin, ['--root', root, 'state', id], { env: ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    if (r.status !== 0 || /"status": "stopped"/.test(r.stdout)) return
    spawnSync('sleep', ['0.01'])
  }
}

/** Kilobytes of VmRSS and Pss of a process (Pss splits shared pages among their users). */
function memOf(pid) {
  const read = (f, key) => {
    try {
      const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/${f}`, 'utf8'))
      return m ? Number(m[1]) : NaN
    } catch {
      return NaN
    }
  }
  return { rss: read('status', 'VmRSS'), pss: read('smaps_rollup', 'Pss') }
}

/** The pid `state` reports: the init of a created container (`runc init` for runc). */
function statePid(bin, root, id) {
  const r = spawnSync(bin, ['--root', root, 'state', id], { env: ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  try {
    return JSON.parse(r.stdout).pid
  } catch {
    return 0
  }
}

const LIFECYCLE = ['run', 'create', 'state', 'list', 'start', 'exec', 'kill', 'delete']
const o = options(process.argv.slice(2))
const rt = { runt: o.runt, runc: o.runc }

if (process.getuid() !== 0) {
  console.error('scripts/bench runs containers: run it as root')
  process.exit(2)
}
/** Drop a file's pages from the page cache (posix_fadvise DONTNEED, through GNU dd). */
function evictFromPageCache(file) {
  const r = spawnSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none'], { env: ENV, stdio: 'ignore' })
  if (r.status !== 0) console.error(`could not evict ${file} from the page cache: RSS and faults may read low or high`)
}

/** A Bun executable that prints one line, built as dist/runt is: the floor of the binary. */
function bunFloor(dir) {
  const src = path.join(dir, 'hello.js')
  const out = path.join(dir, 'bun-hello')
  fs.writeFileSync(src, "console.log('hello')\n")
  execFileSync(
    path.join(ROOT, 'node_modules/.bin/bun'),
    [
      'build',
      '--compile',
      '--minify',
      '--bytecode',
      '--format=esm',
      '--no-compile-autoload-dotenv',
      '--no-compile-autoload-bunfig',
      src,
      '--outfile',
      out,
    ],
    { env: { ...ENV, HOME: os.homedir() }, stdio: 'ignore' },
  )
  return out
}

if (!fs.existsSync(o.runt)) {
  console.error(`building ${o.runt} (npm run build)`)
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], {
    stdio: 'inherit',
    env: { ...ENV, HOME: os.homedir() },
  })
}
if (!o.runc) console.error('runc not found: runt only, no ratios')
const names = o.runc ? ['runt', 'runc'] : ['runt']

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-bench-'))
const bTrue = path.join(work, 'bundle-true')
const bSleep = path.join(work, 'bundle-sleep')
makeBundle(bTrue, ['true'])
makeBundle(bSleep, ['sleep', '3600'])
// exec as engines send it (containerd, podman, docker: always --process FILE): the bundle's
// process with `true` as its command.
const procFile = path.join(work, 'process.json')
const procSpec = JSON.parse(fs.readFileSync(path.join(bSleep, 'config.json'), 'utf8')).process
fs.writeFileSync(procFile, JSON.stringify({ ...procSpec, args: ['true'], terminal: false }))
const bunHello = bunFloor(work)
// Each binary from the disk, as an engine meets an installed runtime: a file just written (a
// fresh build, the floor built above) sits in the page cache in large folios, which map more
// of it per fault: runt's peak RSS then reads 4-5 MiB higher and its faults 70-80 fewer than
// once the same file has been evicted and read back (measured: `kill` 37.9 vs 32.3 MiB).
for (const f of [o.runt, o.runc, bunHello]) if (f) evictFromPageCache(f)
const roots = Object.fromEntries(names.map((n) => [n, path.join(work, `root-${n}`)]))
const failures = []
const times = Object.fromEntries(names.map((n) => [n, Object.fromEntries(LIFECYCLE.map((c) => [c, []]))]))
const floor = []
const bunFloorTimes = []
const cleanup = []

function step(n, cmd, args) {
  const r = timed(rt[n], ['--root', roots[n], ...args])
  if (!r.ok) failures.push(`${n} ${args.join(' ')}: exit ${r.status}: ${r.stderr.split('\n').pop()}`)
  times[n][cmd].push(r.ms)
  return r
}

try {
  if (o.only === 'small') printSmall(smallLimits())
  else await fullRun()
} finally {
  if (errFd >= 0) {
    fs.closeSync(errFd)
    fs.rmSync(errFile, { force: true })
  }
  for (const [n, id] of cleanup) spawnSync(rt[n], ['--root', roots[n], 'delete', '--force', id], { env: ENV, stdio: 'ignore' })
  fs.rmSync(work, { recursive: true, force: true })
}

/** The lifecycle rounds, peak RSS, start-up probes, churn, then the small limits. */
async function fullRun() {
  console.error(`${o.rounds} rounds: ${names.join(' and ')}, interleaved`)
  for (let round = 0; round < o.rounds; round++) {
    floor.push(timed(process.execPath, ['-e', '0']).ms)
    bunFloorTimes.push(timed(bunHello, []).ms)
    for (const n of round % 2 ? [...names].reverse() : names) {
      const id = `b${process.pid}-${round}`
      cleanup.push([n, id], [n, `r${process.pid}-${round}`])
      step(n, 'run', ['run', '--bundle', bTrue, `r${process.pid}-${round}`])
      step(n, 'create', ['create', '--bundle', bSleep, id])
      step(n, 'state', ['state', id])
      step(n, 'list', ['list'])
      step(n, 'start', ['start', id])
      step(n, 'exec', ['exec', '--process', procFile, id])
      step(n, 'kill', ['kill', id, 'KILL'])
      waitStopped(rt[n], roots[n], id)
      step(n, 'delete', ['delete', id])
    }
  }
  floor.push(timed(process.execPath, ['-e', '0']).ms)
  bunFloorTimes.push(timed(bunHello, []).ms)

  // Peak RSS per command, and what a created container holds, in a pass of their own.
  const rss = Object.fromEntries(names.map((n) => [n, {}]))
  const held = {}
  const hasTime = fs.existsSync('/usr/bin/time')
  for (const n of names) {
    const id = `rss-${process.pid}`
    cleanup.push([n, id])
    const r = (args) => ['--root', roots[n], ...args]
    if (hasTime) rss[n].run = peakRss(rt[n], r(['run', '--bundle', bTrue, `rssrun-${process.pid}`]))
    const c = hasTime ? peakRss(rt[n], r(['create', '--bundle', bSleep, id])) : NaN
    if (!hasTime) timed(rt[n], r(['create', '--bundle', bSleep, id]))
    rss[n].create = c
    held[n] = memOf(statePid(rt[n], roots[n], id))
    if (hasTime) {
      rss[n].state = peakRss(rt[n], r(['state', id]))
      rss[n].list = peakRss(rt[n], r(['list']))
      rss[n].start = peakRss(rt[n], r(['start', id]))
      rss[n].exec = peakRss(rt[n], r(['exec', '--process', procFile, id]))
      rss[n].kill = peakRss(rt[n], r(['kill', id, 'KILL']))
      waitStopped(rt[n], roots[n], id)
      rss[n].delete = peakRss(rt[n], r(['delete', id]))
    } else {
      timed(rt[n], r(['delete', '--force', id]))
    }
  }

  // Where runt's start-up goes: commands that stop after loading successively more.
  const bNoRoot = path.join(work, 'bundle-norootfs')
  fs.mkdirSync(bNoRoot)
  fs.copyFileSync(path.join(bSleep, 'config.json'), path.join(bNoRoot, 'config.json'))
  const empty = path.join(work, 'root-empty')
  const probes = [
    ['a Bun executable printing a line (the floor)', bunHello, []],
    ['runt list (CLI fast path, Bun file API)', o.runt, ['--root', empty, 'list']],
    ['runt kill (+ koffi and libc bindings)', o.runt, ['--root', empty, 'kill', 'nope']],
    ['runt create, no rootfs (+ zod, spec, plan)', o.runt, ['--root', empty, 'create', '--bundle', bNoRoot, 'x']],
    ['runt --help (+ yargs)', o.runt, ['--help']],
  ]
  const probeTimes = probes.map(() => [])
  for (let i = 0; i < Math.max(10, o.rounds); i++) probes.forEach(([, cmd, args], j) => probeTimes[j].push(timed(cmd, args).ms))

  // Many containers through create/start/delete, a few at a time.
  const many = {}
  for (const n of names) many[n] = await churn(n, o.containers, o.jobs)

  const small = smallLimits()

  report({ floor, bunFloorTimes, times, rss, held, probes, probeTimes, many, hasTime })
  printSmall(small)
}

/** A bundle like bSleep/bTrue with linux.resources merged in. */
function limitedBundle(name, args, resources) {
  const dir = path.join(work, name)
  fs.cpSync(bSleep, dir, { recursive: true, verbatimSymlinks: true })
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'))
  cfg.process.args = args
  cfg.linux.resources = { ...cfg.linux.resources, ...resources }
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg))
  return dir
}

/** What the container's own cgroup was charged: CPU (ms) and memory peak (KiB), v1 or v2. */
function charged(pid) {
  const lines = fs
    .readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(':'))
  const v1 = (ctrl) => lines.find((l) => l[1].split(',').includes(ctrl))?.[2]
  const read = (f) => {
    try {
      return fs.readFileSync(f, 'utf8')
    } catch {
      return null
    }
  }
  const cpuacct = v1('cpuacct'),
    memory = v1('memory')
  if (cpuacct !== undefined && memory !== undefined) {
    const dir = (c) => fs.readdirSync('/sys/fs/cgroup').find((d) => d.split(',').includes(c))
    const cpu = read(`/sys/fs/cgroup/${dir('cpuacct')}${cpuacct}/cpuacct.usage`)
    const mem = read(`/sys/fs/cgroup/${dir('memory')}${memory}/memory.max_usage_in_bytes`)
    return { cpu: cpu === null ? NaN : Number(cpu) / 1e6, mem: mem === null ? NaN : Number(mem) / 1024 }
  }
  const unified = lines.find((l) => l[0] === '0')?.[2]
  const stat = read(`/sys/fs/cgroup${unified}/cpu.stat`)
  const peak = read(`/sys/fs/cgroup${unified}/memory.peak`)
  const usec = stat && /^usage_usec (\d+)/m.exec(stat)
  return { cpu: usec ? Number(usec[1]) / 1e3 : NaN, mem: peak === null ? NaN : Number(peak) / 1024 }
}

/**
 * Issue 19: Kubernetes-sized limits. `run true` under a 1 ms / 100 ms cpu quota and a 6 MiB
 * memory limit, `exec true` into a container under that quota, and what create + start of a
 * plain sleep container charge to its cgroup (medians of 3).
 */
function smallLimits() {
  const bCpu = limitedBundle('bundle-cpu', ['true'], { cpu: { quota: 1000, period: 100000 } })
  const bMem = limitedBundle('bundle-mem', ['true'], { memory: { limit: 6 << 20 } })
  const bCpuSleep = limitedBundle('bundle-cpu-sleep', ['sleep', '3600'], { cpu: { quota: 1000, period: 100000 } })
  const res = Object.fromEntries(
    names.map((n) => [n, { cpuRun: [], memRun: [], cpuExec: [], chargeCpu: [], chargeMem: [], execCpu: [], failed: [] }]),
  )
  for (let round = 0; round < o.smallRounds; round++) {
    for (const n of round % 2 ? [...names].reverse() : names) {
      const r = res[n]
      const t = (args) => {
        const x = timed(rt[n], ['--root', roots[n], ...args])
        if (!x.ok) r.failed.push(`${args.slice(0, 3).join(' ')}: exit ${x.status}`)
        return x.ms
      }
      const ids = [
        `sq${process.pid}-${round}`,
        `sm${process.pid}-${round}`,
        `se${process.pid}-${round}`,
        `sc${process.pid}-${round}`,
      ]
      for (const id of ids) cleanup.push([n, id])
      r.cpuRun.push(t(['run', '--bundle', bCpu, ids[0]]))
      r.memRun.push(t(['run', '--bundle', bMem, ids[1]]))
      t(['run', '-d', '--bundle', bCpuSleep, ids[2]])
      r.cpuExec.push(t(['exec', '--process', procFile, ids[2]]))
      t(['delete', '--force', ids[2]])
      t(['create', '--bundle', bSleep, ids[3]])
      t(['start', ids[3]])
      const pid = statePid(rt[n], roots[n], ids[3])
      spawnSync('sleep', ['0.2'])
      const c = pid ? charged(pid) : { cpu: NaN, mem: NaN }
      r.chargeCpu.push(c.cpu)
      r.chargeMem.push(c.mem)
      // What one `exec` of true charges: the exec init's work in the cgroup and the process.
      t(['exec', '--process', procFile, ids[3]])
      spawnSync('sleep', ['0.1'])
      r.execCpu.push(pid ? charged(pid).cpu - c.cpu : NaN)
      t(['delete', '--force', ids[3]])
    }
  }
  return res
}

/** The lines of a Markdown table, columns padded to their widest cell. */
function markdownTable(head, rows) {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)))
  const fmt = (r) => '| ' + r.map((c, i) => String(c).padEnd(w[i])).join(' | ') + ' |'
  return [fmt(head), '|' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|', ...rows.map(fmt)]
}

function printSmall(res) {
  const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a')
  const rows = [
    ['run true, cpu quota 1000/100000 (ms)', 'cpuRun'],
    ['run true, memory limit 6 MiB (ms)', 'memRun'],
    ['exec true, cpu quota 1000/100000 (ms)', 'cpuExec'],
    ['create + start: CPU charged to the cgroup (ms)', 'chargeCpu'],
    ['create + start: memory peak of the cgroup (MiB)', 'chargeMem'],
    ['exec true: CPU charged to the cgroup (ms)', 'execCpu'],
  ]
  console.log(`\nsmall limits (issue 19; medians of ${o.smallRounds}):`)
  const head = ['case', ...names, ...(names.length > 1 ? ['runt/runc'] : [])]
  const body = rows.map(([label, k]) => {
    const m = names.map((n) => median(res[n][k].filter(Number.isFinite)) / (k === 'chargeMem' ? 1024 : 1))
    return [label, ...m.map((x) => f(x, k === 'chargeMem' ? 2 : 1)), ...(m.length > 1 ? [f(m[0] / m[1], 2)] : [])]
  })
  markdownTable(head, body).forEach((l) => console.log(l))
  for (const n of names) if (res[n].failed.length) console.log(`${n}: ${res[n].failed.length} failed; first: ${res[n].failed[0]}`)
}

async function churn(n, count, jobs) {
  // stdio to /dev/null: the created container would hold pipes open.
  const run = (args) =>
    new Promise((resolve) =>
      spawn(rt[n], ['--root', roots[n], ...args], { env: ENV, stdio: 'ignore' }).on('exit', (code, sig) =>
        resolve(code === 0 ? null : `${args[0]}: exit ${code ?? sig}`),
      ),
    )
  let next = 0
  const errors = []
  const t0 = process.hrtime.bigint()
  await Promise.all(
    Array.from({ length: jobs }, async () => {
      while (next < count) {
        const id = `c${process.pid}-${next++}`
        cleanup.push([n, id])
        for (const args of [
          ['create', '--bundle', bTrue, id],
          ['start', id],
          ['delete', '--force', id],
        ]) {
          const e = await run(args)
          if (e) {
            errors.push(`${id} ${e}`)
            break
          }
        }
      }
    }),
  )
  return { count, jobs, seconds: Number(process.hrtime.bigint() - t0) / 1e9, errors }
}

function report({ floor, bunFloorTimes, times, rss, held, probes, probeTimes, many, hasTime }) {
  const nodeFloor = median(floor)
  const f = median(bunFloorTimes)
  const ms = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a')
  const mib = (kb) => (Number.isFinite(kb) ? (kb / 1024).toFixed(1) : 'n/a')
  const lines = []
  const out = (s = '') => lines.push(s)
  const table = (head, rows) => markdownTable(head, rows).forEach((l) => out(l))
  const has = names.includes('runc')
  out(
    `runt ${spawnSync(o.runt, ['--version'], { env: ENV, encoding: 'utf8' }).stdout.split('\n')[0]}; ` +
      (has ? `${spawnSync(o.runc, ['--version'], { env: ENV, encoding: 'utf8' }).stdout.split('\n')[0]}; ` : '') +
      `${os.cpus().length} CPUs; ${o.rounds} rounds; floors (medians of ${floor.length}): ` +
      `Bun executable ${ms(f)} ms, node -e 0 ${ms(nodeFloor)} ms; load average ${os.loadavg()[0].toFixed(2)}`,
  )
  out()
  // docs/performance.md: the targets of the single binary, as ratios to runc in this run.
  const targets = { run: 2.0, create: 2.0, exec: 2.0, state: 1.3, list: 1.3, start: 1.5, kill: 1.5, delete: 1.5 }
  const rows = LIFECYCLE.map((c) => {
    const a = median(times.runt[c])
    const b = has ? median(times.runc[c]) : NaN
    const ratio = a / b
    const over = a - f
    const met = ratio <= targets[c]
    return [
      c,
      ms(a),
      ms(b),
      Number.isFinite(ratio) ? ratio.toFixed(2) : 'n/a',
      (over >= 0 ? '+' : '') + ms(over),
      hasTime ? mib(rss.runt[c]) : 'n/a',
      hasTime && has ? mib(rss.runc[c]) : 'n/a',
      `ratio <= ${targets[c].toFixed(1)}`,
      has ? (met ? 'yes' : 'NO') : 'n/a',
    ]
  })
  table(['command', 'runt ms', 'runc ms', 'runt/runc', 'runt - floor', 'runt peak MiB', 'runc peak MiB', 'target', 'met'], rows)
  out()
  const peak = Math.max(...LIFECYCLE.map((c) => rss.runt[c] ?? NaN).filter(Number.isFinite))
  out(`peak RSS of any runt invocation: ${mib(peak)} MiB (target <= 32 MiB: ${peak <= 32 * 1024 ? 'met' : 'NOT met'})`)
  for (const n of names) {
    const target = n === 'runt' ? ` (target <= 20 MiB RSS: ${held[n].rss <= 20 * 1024 ? 'met' : 'NOT met'})` : ''
    out(`created, not started (${n} init waiting for start): RSS ${mib(held[n].rss)} MiB, PSS ${mib(held[n].pss)} MiB${target}`)
  }
  out()
  out('start-up breakdown (medians; each line loads more than the one before):')
  table(
    ['probe', 'ms', 'over previous'],
    probes.map(([label], j) => {
      const m = median(probeTimes[j])
      const prev = j > 0 ? median(probeTimes[j - 1]) : NaN
      return [label, ms(m), j > 0 ? (m - prev >= 0 ? '+' : '') + ms(m - prev) : '']
    }),
  )
  out()
  if (has) {
    const rate = (n) => many[n].count / many[n].seconds
    const r = rate('runt') / rate('runc')
    out(`throughput runt/runc: ${r.toFixed(2)} (target >= 0.6: ${r >= 0.6 && !many.runt.errors.length ? 'met' : 'NOT met'})`)
  }
  for (const n of names) {
    const m = many[n]
    out(
      `${m.count} containers through create/start/delete, ${m.jobs} at a time, ${n}: ${m.errors.length} failures, ` +
        `${m.seconds.toFixed(1)} s (${(m.count / m.seconds).toFixed(1)}/s)` +
        (m.errors.length ? `; first: ${m.errors[0]}` : ''),
    )
  }
  if (failures.length) {
    out()
    out(`${failures.length} timed commands failed; first: ${failures[0]}`)
  }
  console.log(lines.join('\n'))
  if (o.json)
    fs.writeFileSync(o.json, JSON.stringify({ floor, bunFloorTimes, times, rss, held, probeTimes, many, failures }, null, 2))
}

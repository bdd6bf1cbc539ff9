// Kubernetes through CRI: containerd 1.6's CRI plugin running pods with runt, driven over the
// CRI v1 gRPC API the way the kubelet drives it (test/fixtures/cri-client.ts, a hand-written
// subset of runtime.v1 in test/fixtures/cri-v1.proto; Debian 12 has no crictl). A private
// containerd in a temp dir (root, state, sockets, config, CNI config, pod logs, runt's
// --root) with the runtime handler `runt`: io.containerd.runc.v2 with BinaryName = dist/runt.
// The pause (sandbox) image and a busybox image are built here and imported with
// `ctr -n k8s.io images import`: no registry. Pods get cgroup parents under a private
// /runt-e2e-cri-<pid> on every hierarchy, removed at teardown.
//
// Why these settings (checked with runc 1.1.5 on the same machine, which needs them too):
// - restrict_oom_score_adj = true: the pause container asks for oomScoreAdj -998, and
//   lowering it needs CAP_SYS_RESOURCE, which root here lacks; every RunPodSandbox fails
//   without it, with runc as with runt.
// - stream_server_port = "0": a free port, not the fixed 10010 another containerd may hold.

import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { cleanEnv, priv, RUNT, waitFor } from '../../fixtures/runt.js'
import { makeImageArchive } from '../../fixtures/image-archive.js'
import { cmd, cgroupDirs, Daemon, leftovers, mountsUnder, teardownEngine, which } from '../../fixtures/engine-daemon.js'
import { CriClient, type Reply } from '../../fixtures/cri-client.js'

t.setTimeout(600_000)

const CONTAINERD = which('containerd')
const CTR = which('ctr')
const CNI_BIN = '/usr/lib/cni'
const missing = !CONTAINERD || !CTR ? 'needs containerd and ctr (apt-get install containerd)' : null
const opts = priv().skip ? priv() : missing ? { skip: missing } : {}
const v2 = fs.existsSync('/sys/fs/cgroup/cgroup.controllers')
/** The runtime's name as it appears in containerd's errors ("runt create failed: ..."). */
const RT = path.basename(RUNT)

t.test('containerd CRI with runtime handler runt', opts, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runt-cri-'))
  fs.chmodSync(dir, 0o755)
  const ns = 'k8s.io' // the CRI plugin's containerd namespace
  const cgroupRoot = `runt-e2e-cri-${process.pid}`
  const daemon = new Daemon('containerd', dir)
  // The CNI case's bridge, made on the host by the bridge plugin: deleted at teardown.
  const bridge = `rntcri${process.pid % 100000}`
  t.teardown(() => void spawnSync('ip', ['link', 'del', bridge], { stdio: 'ignore' }))
  teardownEngine(t, dir, () => [daemon], [cgroupRoot], ['/run/containerd', '/run/containerd/s', '/var/run/netns'])

  const sock = path.join(dir, 'containerd.sock')
  const runtRoot = path.join(dir, 'runt-root')
  const podLogs = path.join(dir, 'pods')
  const cniConf = path.join(dir, 'cni')
  fs.mkdirSync(podLogs)
  fs.mkdirSync(cniConf)
  const cni = fs.existsSync(path.join(CNI_BIN, 'bridge')) && fs.existsSync(path.join(CNI_BIN, 'loopback'))
  // A /24 of 10.200.0.0/13 (picked by pid) that no route of the host's covers yet.
  const routes = cmd(['ip', '-4', 'route', 'show', 'table', 'all']).stdout
  let subnet = ''
  for (let i = 0; i < 2000 && !subnet; i++) {
    const n = (process.pid + i) % 2000
    const s = `10.${200 + Math.floor(n / 250)}.${n % 250}`
    if (!routes.includes(`${s}.`)) subnet = s
  }
  if (cni)
    fs.writeFileSync(
      path.join(cniConf, '10-runt.conflist'),
      JSON.stringify({
        cniVersion: '1.0.0',
        name: 'runt-cri',
        plugins: [
          {
            type: 'bridge',
            bridge,
            isGateway: true,
            ipMasq: false,
            ipam: {
              type: 'host-local',
              dataDir: path.join(dir, 'cni-ipam'),
              ranges: [[{ subnet: `${subnet}.0/24` }]],
              routes: [{ dst: '0.0.0.0/0' }],
            },
          },
        ],
      }),
    )

  const images = {
    pause: makeImageArchive(path.join(dir, 'pause-image'), { name: 'docker.io/runt-test/pause:cri', cmd: ['sleep', 'inf'] }),
    busybox: makeImageArchive(path.join(dir, 'busybox-image'), { name: 'docker.io/runt-test/busybox:cri' }),
  }
  const cri = 'plugins."io.containerd.grpc.v1.cri"'
  fs.writeFileSync(
    path.join(dir, 'config.toml'),
    [
      'version = 2',
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      '[grpc]',
      `  address = "${sock}"`,
      '[ttrpc]',
      `  address = "${sock}.ttrpc"`,
      '[debug]',
      `  address = "${dir}/debug.sock"`,
      '  level = "debug"',
      `[${cri}]`,
      `  sandbox_image = "${images.pause.name}"`,
      '  restrict_oom_score_adj = true',
      '  stream_server_address = "127.0.0.1"',
      '  stream_server_port = "0"',
      `[${cri}.containerd]`,
      '  default_runtime_name = "runt"',
      `[${cri}.containerd.runtimes.runt]`,
      '  runtime_type = "io.containerd.runc.v2"',
      `[${cri}.containerd.runtimes.runt.options]`,
      `  BinaryName = "${RUNT}"`,
      `  Root = "${runtRoot}"`,
      `[${cri}.cni]`,
      `  bin_dir = "${CNI_BIN}"`,
      `  conf_dir = "${cniConf}"`,
      '',
    ].join('\n'),
  )
  await daemon.start([CONTAINERD!, '--config', path.join(dir, 'config.toml')], () => fs.existsSync(sock))
  const client = new CriClient(sock)
  t.teardown(() => client.close())

  const ctr = (args: string[], o: { timeout?: number } = {}) =>
    cmd([CTR!, '--address', sock, '--namespace', ns, ...args], { env: cleanEnv(), ...o })
  for (const img of Object.values(images)) {
    const r = ctr(['images', 'import', img.file], { timeout: 120_000 })
    t.equal(r.status, 0, `ctr -n k8s.io images import ${img.name}`, { output: r.out })
  }
  // The CRI plugin's image store learns of the imports from containerd's events.
  t.ok(
    await waitFor(() => (ctr(['images', 'ls', '--quiet']).stdout.match(/runt-test/g) ?? []).length >= 2, 30_000, 200),
    'both images in k8s.io',
  )

  /** A CRI call that must succeed; on failure the daemon's log is attached. */
  const rt = async (t: Test, method: string, req: object = {}): Promise<Reply> => {
    try {
      return await client.rt(method, req)
    } catch (e) {
      t.fail(`${method} failed: ${(e as Error).message}`, { daemonLog: daemon.tail(20) })
      throw e
    }
  }
  /** `runt --root <runtRoot>/k8s.io list`: the containers runt itself knows of. */
  const runtList = (): { id: string; status: string; pid: number }[] => {
    const r = cmd([RUNT, '--root', path.join(runtRoot, ns), 'list', '--format', 'json'])
    return r.status === 0 && r.stdout.trim() ? (JSON.parse(r.stdout) ?? []) : []
  }
  const cstatus = async (t: Test, id: string) => (await rt(t, 'ContainerStatus', { container_id: id, verbose: true })).status
  const pidOf = async (t: Test, id: string): Promise<number> =>
    JSON.parse((await rt(t, 'ContainerStatus', { container_id: id, verbose: true })).info.info).pid
  const exec = (t: Test, id: string, argv: string[], timeout = 30) =>
    rt(t, 'ExecSync', { container_id: id, cmd: argv, timeout }).then((r) => ({
      stdout: Buffer.from(r.stdout).toString(),
      stderr: Buffer.from(r.stderr).toString(),
      exit_code: r.exit_code as number,
    }))
  const waitState = async (t: Test, id: string, state: string, ms = 60_000) => {
    let s: Reply = {}
    const ok = await (async () => {
      const end = Date.now() + ms
      while (Date.now() < end) {
        s = await cstatus(t, id)
        if (s.state === state) return true
        await new Promise((r) => setTimeout(r, 200))
      }
      return false
    })()
    t.ok(ok, `container ${s.metadata?.name} reaches ${state}`, { status: s })
    return s
  }
  /** The CRI log file's lines as [stream, text]: "<RFC 3339 time> <stream> <F|P> <text>". */
  const logLines = (file: string): [string, string][] =>
    fs.existsSync(file)
      ? fs
          .readFileSync(file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => {
            const m = /^\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:\d\d) (stdout|stderr) [FP] (.*)$/.exec(l)
            return m ? [m[1]!, m[2]!] : ['?', l]
          })
      : []

  /** The sandbox config the kubelet would send for a pod, here with a private cgroup parent. */
  const podConfig = (name: string, o: { hostNetwork?: boolean } = {}) => ({
    metadata: { name, uid: `uid-${name}-${process.pid}`, namespace: 'runt-e2e', attempt: 0 },
    // As the kubelet does: no hostname for a host-network pod (it keeps the host's UTS
    // namespace, where runc and runt refuse to set one).
    hostname: o.hostNetwork === false ? name : '',
    log_directory: path.join(podLogs, name),
    labels: { app: name, 'runt-e2e': String(process.pid) },
    linux: {
      cgroup_parent: `/${cgroupRoot}/pod-${name}`,
      security_context: {
        namespace_options: { network: o.hostNetwork === false ? 'POD' : 'NODE', pid: 'CONTAINER', ipc: 'POD' },
      },
    },
  })
  const containerConfig = (name: string, argv: string[], resources: object = {}, securityContext: object = {}) => ({
    metadata: { name, attempt: 0 },
    image: { image: images.busybox.name },
    command: argv.slice(0, 1),
    args: argv.slice(1),
    envs: [{ key: 'CONTAINER_NAME', value: name }],
    log_path: `${name}/0.log`,
    labels: { container: name },
    linux: {
      resources: { cpu_period: 100000, cpu_quota: 0, cpu_shares: 2, memory_limit_in_bytes: 0, ...resources },
      security_context: securityContext,
    },
  })
  type Pod = { name: string; id: string; config: ReturnType<typeof podConfig> }
  const runPod = async (t: Test, name: string, o: { hostNetwork?: boolean } = {}): Promise<Pod> => {
    const config = podConfig(name, o)
    const r = await rt(t, 'RunPodSandbox', { config, runtime_handler: 'runt' })
    return { name, id: r.pod_sandbox_id, config }
  }
  /** CreateContainer as the kubelet sends it: the pod's namespace options repeated for the container. */
  const create = async (t: Test, pod: Pod, c: ReturnType<typeof containerConfig>): Promise<string> => {
    const security_context = { ...c.linux.security_context, ...pod.config.linux.security_context }
    const config = { ...c, linux: { ...c.linux, security_context } }
    return (await rt(t, 'CreateContainer', { pod_sandbox_id: pod.id, config, sandbox_config: pod.config })).container_id
  }
  const createStart = async (t: Test, pod: Pod, c: ReturnType<typeof containerConfig>): Promise<string> => {
    const id = await create(t, pod, c)
    await rt(t, 'StartContainer', { container_id: id })
    return id
  }
  const removePod = async (t: Test, pod: Pod) => {
    await rt(t, 'StopPodSandbox', { pod_sandbox_id: pod.id })
    const st = await rt(t, 'PodSandboxStatus', { pod_sandbox_id: pod.id })
    t.equal(st.status.state, 'SANDBOX_NOTREADY', `pod ${pod.name} not ready after StopPodSandbox`)
    await rt(t, 'RemovePodSandbox', { pod_sandbox_id: pod.id })
    t.notOk(fs.existsSync(path.join(runtRoot, ns, pod.id)), `runt state of pod ${pod.name}'s sandbox removed`)
    t.same(
      cgroupDirs(`${cgroupRoot}/pod-${pod.name}`).flatMap((d) =>
        fs.readdirSync(d).filter((e) => fs.statSync(path.join(d, e)).isDirectory()),
      ),
      [],
      `no cgroup left under pod ${pod.name}'s parent`,
    )
  }
  /** A v1 controller's (or the v2) file of a container's cgroup, read on the host. */
  const cgroupFile = (pod: Pod, id: string, v1: [string, string], v2file: string): string => {
    const p = v2
      ? `/sys/fs/cgroup/${cgroupRoot}/pod-${pod.name}/${id}/${v2file}`
      : `/sys/fs/cgroup/${v1[0]}/${cgroupRoot}/pod-${pod.name}/${id}/${v1[1]}`
    return fs.readFileSync(p, 'utf8').trim()
  }

  t.test('Version, Status and the images', async (t) => {
    const v = await rt(t, 'Version', { version: 'v1' })
    t.equal(v.runtime_name, 'containerd')
    t.equal(v.runtime_api_version, 'v1', 'CRI v1')
    const st = await rt(t, 'Status', { verbose: false })
    const cond = Object.fromEntries(st.status.conditions.map((c: Reply) => [c.type, c.status]))
    t.equal(cond.RuntimeReady, true, 'RuntimeReady')
    if (cni) t.equal(cond.NetworkReady, true, 'NetworkReady: the CNI config was loaded', { status: st })
    for (const img of Object.values(images)) {
      const s = await client.img('ImageStatus', { image: { image: img.name } })
      t.equal(s.image?.id, img.configDigest, `ImageStatus ${img.name}: the image id is its config digest`)
    }
  })

  t.test('two pods of two containers each, at once: namespaces, resources, exec, logs, stop', async (t) => {
    // Both pods and all four containers created and started concurrently, as a kubelet
    // syncing two new pods does.
    const limits = {
      web: { memory_limit_in_bytes: 64 << 20, cpu_quota: 50000, cpu_period: 100000, cpu_shares: 512 },
      side: { memory_limit_in_bytes: 32 << 20, cpu_quota: 20000, cpu_period: 100000, cpu_shares: 256 },
    }
    const web = [
      'sh',
      '-c',
      'echo "started $CONTAINER_NAME"; echo "err $CONTAINER_NAME" >&2; trap "echo got TERM; exit 0" TERM; while :; do sleep 0.2; done',
    ]
    const side = ['sleep', '100000'] // pid 1 without a SIGTERM handler: StopContainer must kill it
    const pods = await Promise.all(['alpha', 'beta'].map((n) => runPod(t, n)))
    const ids = await Promise.all(
      pods.map(async (pod) => ({
        pod,
        web: await createStart(t, pod, containerConfig('web', web, limits.web)),
        side: await createStart(t, pod, containerConfig('side', side, limits.side)),
      })),
    )

    for (const { pod, web, side } of ids) {
      const ps = await rt(t, 'PodSandboxStatus', { pod_sandbox_id: pod.id })
      t.equal(ps.status.state, 'SANDBOX_READY', `pod ${pod.name} ready`)
      t.equal(ps.status.runtime_handler, 'runt', 'the pod runs with handler runt')
      for (const id of [web, side]) {
        const s = await cstatus(t, id)
        t.equal(s.state, 'CONTAINER_RUNNING', `${pod.name}/${s.metadata.name} running`)
        t.ok(s.started_at > s.created_at, 'started after created')
      }
    }
    // runt made them: its own `list` under the handler's Root shows the sandboxes and the
    // containers, running, with the pids containerd reports.
    const listed = runtList()
    for (const { pod, web, side } of ids)
      for (const id of [pod.id, web, side]) {
        const l = listed.find((c) => c.id === id)
        t.equal(l?.status, 'running', `runt list: ${id.slice(0, 12)} (${pod.name}) running`)
      }
    t.equal(listed.find((c) => c.id === ids[0]!.web)?.pid, await pidOf(t, ids[0]!.web), "the pid runt reports is containerd's")

    t.test('namespaces as the pod spec asks: host network, pod IPC, own pid namespace', async (t) => {
      const hostNet = fs.readlinkSync('/proc/self/ns/net')
      const ipc: Record<string, string> = {}
      for (const { pod, web, side } of ids)
        for (const [name, id] of [
          ['web', web],
          ['side', side],
        ] as const) {
          const r = await exec(t, id, [
            'sh',
            '-c',
            'readlink /proc/self/ns/net; readlink /proc/self/ns/ipc; cat /proc/1/cmdline | tr "\\0" " "',
          ])
          t.equal(r.exit_code, 0, `exec in ${pod.name}/${name}`, { stderr: r.stderr })
          const [n, i, cmdline] = r.stdout.split('\n')
          t.equal(n, hostNet, `${pod.name}/${name}: the host's network namespace`)
          t.match(
            cmdline,
            name === 'web' ? /^sh -c echo "started/ : /^sleep 100000 $/,
            `${pod.name}/${name}: pid 1 is its own command`,
          )
          ipc[`${pod.name}/${name}`] = i!
        }
      t.equal(ipc['alpha/web'], ipc['alpha/side'], "alpha's containers share the pod's IPC namespace")
      t.equal(ipc['beta/web'], ipc['beta/side'], "beta's containers share the pod's IPC namespace")
      t.not(ipc['alpha/web'], ipc['beta/web'], 'the two pods have different IPC namespaces')
    })

    t.test('resource limits from the pod spec reach the cgroup', async (t) => {
      for (const { pod, web, side } of ids)
        for (const [name, id] of [
          ['web', web],
          ['side', side],
        ] as const) {
          const l = limits[name]
          const where = `${pod.name}/${name}`
          if (v2) {
            t.equal(cgroupFile(pod, id, ['', ''], 'memory.max'), String(l.memory_limit_in_bytes), `${where}: memory.max`)
            t.equal(cgroupFile(pod, id, ['', ''], 'cpu.max'), `${l.cpu_quota} ${l.cpu_period}`, `${where}: cpu.max`)
          } else {
            t.equal(
              cgroupFile(pod, id, ['memory', 'memory.limit_in_bytes'], ''),
              String(l.memory_limit_in_bytes),
              `${where}: memory.limit_in_bytes`,
            )
            t.equal(cgroupFile(pod, id, ['cpu', 'cpu.cfs_quota_us'], ''), String(l.cpu_quota), `${where}: cpu.cfs_quota_us`)
            t.equal(cgroupFile(pod, id, ['cpu', 'cpu.cfs_period_us'], ''), String(l.cpu_period), `${where}: cpu.cfs_period_us`)
            t.equal(cgroupFile(pod, id, ['cpu', 'cpu.shares'], ''), String(l.cpu_shares), `${where}: cpu.shares`)
            // The container sees its own memory cgroup, with the same limit.
            const r = await exec(t, id, ['cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes'])
            t.equal(r.stdout.trim(), String(l.memory_limit_in_bytes), `${where}: the limit seen inside`)
          }
          // The container's processes are in that cgroup (not only the directory made).
          const pid = await pidOf(t, id)
          t.match(
            fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'),
            `/${cgroupRoot}/pod-${pod.name}/${id}`,
            `${where}: its pid is in the cgroup`,
          )
        }
      // In-place resize: UpdateContainerResources -> `runt update`.
      const { pod, web } = ids[0]!
      await rt(t, 'UpdateContainerResources', {
        container_id: web,
        linux: { memory_limit_in_bytes: 128 << 20, cpu_quota: 30000, cpu_period: 100000, cpu_shares: 512 },
      })
      if (v2) t.equal(cgroupFile(pod, web, ['', ''], 'memory.max'), String(128 << 20), 'updated memory.max')
      else {
        t.equal(cgroupFile(pod, web, ['memory', 'memory.limit_in_bytes'], ''), String(128 << 20), 'updated memory.limit_in_bytes')
        t.equal(cgroupFile(pod, web, ['cpu', 'cpu.cfs_quota_us'], ''), '30000', 'updated cpu.cfs_quota_us')
      }
      const s = await cstatus(t, web)
      t.equal(s.resources?.linux?.memory_limit_in_bytes, 128 << 20, 'ContainerStatus reports the new limit')
    })

    t.test('ExecSync: output, exit code, a missing command, a timeout', async (t) => {
      const { web } = ids[1]!
      const r = await exec(t, web, ['sh', '-c', 'echo out; echo err >&2; echo $CONTAINER_NAME; exit 3'])
      t.equal(r.exit_code, 3, 'the exit code of the exec')
      t.equal(r.stdout, 'out\nweb\n', 'stdout, with the container env')
      t.equal(r.stderr, 'err\n', 'stderr')
      // A command that does not exist: the runtime's exec fails and containerd passes its
      // message on (runc 1.1.5 says the same, without runt's "process.args: " prefix).
      const bad = await client.rt('ExecSync', { container_id: web, cmd: ['/no/such/cmd'], timeout: 30 }).then(
        (r) => `succeeded: exit ${r.exit_code}`,
        (e: Error) => e.message,
      )
      t.match(
        bad,
        /OCI runtime exec failed: exec failed: unable to start container process: .*\/no\/such\/cmd.*no such file or directory/,
        "the runtime's error names the missing command",
      )
      // An exec past its timeout: containerd kills it and the call fails with the timeout.
      const start = Date.now()
      const slow = await client.rt('ExecSync', { container_id: web, cmd: ['sleep', '60'], timeout: 2 }).then(
        (r) => `exit ${r.exit_code}`,
        (e: Error) => e.message,
      )
      t.match(slow, 'timeout 2s exceeded', 'the exec times out')
      t.ok(Date.now() - start < 30_000, 'and the call returns long before the command would have ended')
      let ps = ''
      const killed = await (async () => {
        for (let i = 0; i < 100; i++) {
          ps = (await exec(t, web, ['ps', '-o', 'args'])).stdout
          if (!ps.includes('sleep 60')) return true
          await new Promise((r) => setTimeout(r, 200))
        }
        return false
      })()
      t.ok(killed, 'the timed-out exec process was killed', { ps })
    })

    t.test('container logs in the CRI log file', async (t) => {
      for (const { pod } of ids) {
        const file = path.join(podLogs, pod.name, 'web/0.log')
        t.ok(await waitFor(() => logLines(file).length >= 2, 20_000, 100), `${pod.name}/web wrote its log`)
        const lines = logLines(file)
        t.same(
          lines.slice().sort(),
          [
            ['stderr', 'err web'],
            ['stdout', 'started web'],
          ],
          `${file}: stdout and stderr lines in the CRI format`,
        )
        const s = await cstatus(t, ids.find((i) => i.pod === pod)!.web)
        t.equal(s.log_path, file, 'ContainerStatus names the log file')
      }
    })

    t.test('StopContainer: SIGTERM, and SIGKILL after the grace period', async (t) => {
      for (const { pod, web, side } of ids) {
        let start = Date.now()
        await rt(t, 'StopContainer', { container_id: web, timeout: 30 })
        t.ok(Date.now() - start < 25_000, `${pod.name}/web stopped by SIGTERM, before the grace period`)
        let s = await cstatus(t, web)
        t.equal(s.state, 'CONTAINER_EXITED')
        t.equal(s.exit_code, 0, 'the SIGTERM handler exited 0')
        t.equal(s.reason, 'Completed')
        const log = logLines(path.join(podLogs, pod.name, 'web/0.log'))
        t.ok(
          log.some(([s, l]) => s === 'stdout' && l === 'got TERM'),
          'the handler ran',
          { log },
        )
        start = Date.now()
        await rt(t, 'StopContainer', { container_id: side, timeout: 2 })
        s = await cstatus(t, side)
        t.equal(s.state, 'CONTAINER_EXITED')
        t.equal(s.exit_code, 137, `${pod.name}/side killed after the grace period: 137`)
        t.equal(s.reason, 'Error')
        t.ok(Date.now() - start >= 1500, 'not before the grace period')
        for (const id of [web, side]) await rt(t, 'RemoveContainer', { container_id: id })
        const left = await rt(t, 'ListContainers', { filter: { pod_sandbox_id: pod.id } })
        t.same(left.containers, [], `no container left in pod ${pod.name}`)
        for (const id of [web, side]) t.notOk(fs.existsSync(path.join(runtRoot, ns, id)), 'runt state removed')
      }
      for (const { pod } of ids) await removePod(t, pod)
    })
  })

  t.test("a container's securityContext: user, group, read-only root, no_new_privs, capabilities", async (t) => {
    const pod = await runPod(t, 'epsilon')
    const id = await createStart(
      t,
      pod,
      containerConfig(
        'locked',
        ['sleep', '100000'],
        {},
        {
          run_as_user: { value: 1000 },
          run_as_group: { value: 1000 },
          supplemental_groups: [5],
          readonly_rootfs: true,
          no_new_privs: true,
          capabilities: { drop_capabilities: ['ALL'], add_capabilities: ['NET_BIND_SERVICE'] },
        },
      ),
    )
    const r = await exec(t, id, [
      'sh',
      '-c',
      'id -u; id -g; id -G; grep -E "^(NoNewPrivs|CapEff|CapBnd):" /proc/self/status; touch /x 2>&1; touch /tmp/x 2>&1; echo end',
    ])
    t.equal(r.exit_code, 0, 'exec', { stderr: r.stderr })
    const lines = r.stdout.split('\n')
    t.same(lines.slice(0, 3), ['1000', '1000', '1000 5'], 'uid, gid and the supplementary group')
    // CAP_NET_BIND_SERVICE is bit 10: 0x400, in the bounding set; the effective set of a
    // non-root process is empty (no ambient capabilities).
    t.match(r.stdout, /NoNewPrivs:\s+1\n/, 'no_new_privs set')
    t.match(r.stdout, /CapEff:\s+0000000000000000\n/, 'no effective capabilities')
    t.match(r.stdout, /CapBnd:\s+0000000000000400\n/, 'bounding set: only NET_BIND_SERVICE')
    t.match(r.stdout, /touch: \/x: Read-only file system/, 'the root is read-only')
    t.match(r.stdout, /touch: \/tmp\/x: Read-only file system/, 'all of it (no tmpfs was asked for)')
    await rt(t, 'StopContainer', { container_id: id, timeout: 0 })
    await rt(t, 'RemoveContainer', { container_id: id })
    await removePod(t, pod)
  })

  t.test('a container that exits non-zero, one that completes, one that cannot start', async (t) => {
    const pod = await runPod(t, 'gamma')
    const fail = await createStart(t, pod, containerConfig('fail', ['sh', '-c', 'echo bye; exit 7']))
    const done = await createStart(t, pod, containerConfig('done', ['true']))
    let s = await waitState(t, fail, 'CONTAINER_EXITED')
    t.equal(s.exit_code, 7, 'exit code 7 reported')
    t.equal(s.reason, 'Error', 'reason Error')
    // (Not finished_at >= started_at: containerd stamps started_at when the start call
    // returns, and a process this short may have exited before that.)
    t.ok(s.started_at > 0 && s.finished_at > s.created_at, 'started and finished times', { status: s })
    t.ok(await waitFor(() => logLines(path.join(podLogs, 'gamma/fail/0.log')).length > 0, 10_000, 100), 'log written')
    t.same(logLines(path.join(podLogs, 'gamma/fail/0.log')), [['stdout', 'bye']], 'its output in the log')
    s = await waitState(t, done, 'CONTAINER_EXITED')
    t.equal(s.exit_code, 0)
    t.equal(s.reason, 'Completed')

    // The kubelet's CreateContainer succeeds (containerd only writes the spec); the runtime
    // runs at StartContainer, and its error comes back through the shim.
    const noBin = await create(t, pod, containerConfig('missing', ['/no/such/binary']))
    const err = await client.rt('StartContainer', { container_id: noBin }).then(
      () => '',
      (e: Error) => e.message,
    )
    t.match(
      err,
      new RegExp(`${RT} create failed: .*/no/such/binary.*no such file or directory`),
      "runt's error reaches the CRI caller",
    )
    s = await cstatus(t, noBin)
    t.not(s.state, 'CONTAINER_RUNNING', 'the container is not running')
    t.notOk(
      runtList().some((l) => l.id === noBin),
      'runt kept no state for it',
    )
    for (const id of [fail, done, noBin]) await rt(t, 'RemoveContainer', { container_id: id })
    await removePod(t, pod)
  })

  t.test(
    'a pod on a CNI bridge network: its own network namespace and IP, reachable from the host',
    { skip: !cni && `needs the bridge and loopback CNI plugins in ${CNI_BIN} (apt-get install containernetworking-plugins)` },
    async (t) => {
      const netnsBefore = fs.existsSync('/var/run/netns') ? fs.readdirSync('/var/run/netns') : []
      const pod = await runPod(t, 'delta', { hostNetwork: false })
      const ps = await rt(t, 'PodSandboxStatus', { pod_sandbox_id: pod.id })
      const ip = ps.status.network?.ip as string
      t.match(ip, new RegExp(`^${subnet.replace(/\./g, '\\.')}\\.\\d+$`), `the pod has an IP from the CNI range (${ip})`)
      const srv = await createStart(
        t,
        pod,
        containerConfig('srv', ['sh', '-c', 'echo "hello from $(hostname)" > /tmp/msg; exec nc -ll -p 8080 -e cat /tmp/msg']),
      )
      const peer = await createStart(t, pod, containerConfig('peer', ['sleep', '100000']))
      const r = await exec(t, peer, ['sh', '-c', 'ip -o -4 addr show eth0; readlink /proc/self/ns/net; nc 127.0.0.1 8080'])
      t.equal(r.exit_code, 0, 'exec in the pod', { stderr: r.stderr })
      t.match(r.stdout, ` ${ip}/24 `, "eth0 carries the pod's IP")
      t.not(r.stdout.split('\n')[1], fs.readlinkSync('/proc/self/ns/net'), 'not the host network namespace')
      t.match(r.stdout, 'hello from delta', 'the pod containers share the network (localhost) and the hostname')
      // From the host, through the bridge, to the pod's IP.
      const got = await new Promise<string>((resolve) => {
        let data = ''
        const s = net.connect({ host: ip, port: 8080, timeout: 10_000 })
        s.on('data', (d) => (data += d))
        s.on('end', () => resolve(data))
        s.on('timeout', () => (s.destroy(), resolve(`timeout after ${data}`)))
        s.on('error', (e) => resolve(`error ${e.message}`))
      })
      t.equal(got, 'hello from delta\n', 'the host reaches the pod on its IP')
      for (const id of [srv, peer]) {
        await rt(t, 'StopContainer', { container_id: id, timeout: 2 })
        await rt(t, 'RemoveContainer', { container_id: id })
      }
      await removePod(t, pod)
      const netnsAfter = fs.existsSync('/var/run/netns') ? fs.readdirSync('/var/run/netns') : []
      t.same(
        netnsAfter.filter((n) => !netnsBefore.includes(n)),
        [],
        "the pod's network namespace is removed",
      )
    },
  )

  t.test('stopping containerd leaves nothing behind', async (t) => {
    const pods = await rt(t, 'ListPodSandbox', { filter: { label_selector: { 'runt-e2e': String(process.pid) } } })
    t.same(pods.items, [], 'no pod left')
    t.same(runtList(), [], 'runt knows of no container')
    client.close()
    await daemon.stop()
    t.same(leftovers(dir, [cgroupRoot]), [], 'no process, mount or populated cgroup left')
    t.same(mountsUnder(path.join(dir, 'root')), [], 'no snapshot mounted')
  })
})

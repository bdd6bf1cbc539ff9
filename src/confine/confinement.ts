// Confinement of the container process, applied by the init stage on its main thread, in
// runc's order except that seccomp comes last (so the runtime's own calls are never filtered):
//
//   preload     host paths still visible, full privilege: libseccomp builds the BPF, the
//               seccomp agent's socket is connected, the LSM attr files are opened on the
//               host's procfs, oom_score_adj and the initial CPU affinity are set
//   memoryPolicy  set_mempolicy(2) on this thread, the one that execs: the policy survives
//               execve. runc 1.4's place: after the rootfs and hostname, before the user switch
//               and seccomp (a filter may forbid set_mempolicy), at create so a refusal fails it
//   privileged  the session keyring; rlimit hard limits raised (needs CAP_SYS_RESOURCE)
//   switchUser  bounding set, cwd as root, keep-caps + groups/gid/uid, cwd as the user, the
//               cwd proven inside the root, capset, ambient (credentials.ts)
//   -- init.ts: ready, wait for start, startContainer hooks: each runs in a libc-forked child
//      that takes the container's rlimits, umask, no_new_privs and seccomp filter before its
//      execve, as runc's hooks run bound by them (process/hook-process.ts) --
//   late        umask, final CPU affinity, scheduler, I/O priority, personality, the LSM exec
//               label, no_new_privs: all per-thread or inherited by execve, so they bind the
//               container's process and not the runtime (little JavaScript work follows)
//   -- init.ts: fds close-on-exec, signals reset, "exec" to `start` --
//   lockdown    the rlimits, the final capset, the seccomp filter, the listener fd to the agent
//   -- init.ts: execve --
//
// Without no_new_privs, seccomp(2) needs CAP_SYS_ADMIN. runc loads the filter before dropping
// capabilities; we instead keep CAP_SYS_ADMIN in the effective and permitted sets from the
// user switch until the filter is loaded, then capset the configured sets: the filter then
// has to allow capset(2), besides execve(2). With no_new_privs (the common case) the final
// capset comes first and execve is the only call the filter sees. CAP_SYS_NICE is kept the
// same way for a scheduler or a realtime I/O priority; it is dropped before the filter loads.

import * as fs from 'node:fs'
import * as C from '../sys/constants.js'
import type { Sys } from '../sys/linux.js'
import { confineCalls, type ConfineCalls } from '../sys/ffi-confine.js'
import { libseccomp } from '../sys/libseccomp-ffi.js'
import { connectUnix } from '../sys/scm.js'
import { InternalError, RuntimeError, step, StepError, SysError, TEXT } from '../errors.js'
import type { InitConfig } from '../process/init-config.js'
import type { ConfinePlan } from './plan.js'
import { chownStdio, runCredSteps, setgroupsAllowed } from './credentials.js'
import { credentialSteps, type CredStep, type CredSteps } from './steps.js'
import { chdirAsRoot, chdirAsUser, verifyCwdInside } from './cwd.js'
import { allCpusMask, cpuMask, IOPRIO_WHO_PROCESS, schedAttr } from './sched.js'
import { formatNodeList, nodeMask } from './mempolicy.js'
import { attrPath, execAttrValue } from './lsm.js'
import { compileFilter, loadFilter, sendListenerFd, type CompiledFilter } from './seccomp-filter.js'
import { timed, trace } from '../log.js'

export type { ConfinePlan } from './plan.js'

export type ConfineSys = Sys & ConfineCalls
export type ConfineLog = (level: 'debug' | 'warning', msg: string) => void

/** The checked syscalls of sys/linux.ts with the confinement extras. */
export function confineSys(sys: Sys): ConfineSys {
  return { ...sys, ...confineCalls }
}

const CAP_SYS_ADMIN = 21n
const CAP_SYS_NICE = 23n
const bit = (n: bigint) => 1n << n

/** KEY_{USR,OTH}_SEARCH: let the container user find the keyring runc-style. */
const KEY_USR_SEARCH = 0x00080000
const KEY_OTH_SEARCH = 0x00000008

export class Confinement {
  readonly plan: ConfinePlan
  /** The kernel calls of the user switch and the lockdown, in their order (steps.ts). */
  private steps: CredSteps | null = null
  private filter: CompiledFilter | null = null
  private listener = -1
  private execAttr = -1
  private keyAttr = -1
  /** Capabilities held beyond the configured sets until lockdown (see the header). */
  private readonly extra: bigint

  constructor(
    private readonly cfg: InitConfig,
    private readonly sys: ConfineSys,
    private readonly log: ConfineLog,
  ) {
    this.plan = (cfg.process.confine as ConfinePlan | undefined) ?? { rlimits: [], warnings: [] }
    const p = cfg.process
    let need = 0n
    if (this.plan.seccomp && !p.noNewPrivileges) need |= bit(CAP_SYS_ADMIN)
    if (this.plan.scheduler || this.plan.ioPriority?.class === 'IOPRIO_CLASS_RT') need |= bit(CAP_SYS_NICE)
    const held = p.caps.effective & p.caps.permitted
    this.extra = need & ~held
  }

  /** The compiled seccomp filter, for a process the exec init forks (process/exec-process.ts). */
  get compiledFilter(): CompiledFilter | null {
    return this.filter
  }

  // --- preload -------------------------------------------------------------------------------

  /** While host paths are visible and the init holds every privilege it will have. */
  preload(): void {
    const { plan, sys, cfg } = this
    for (const w of plan.warnings) this.log('warning', w)
    if (plan.oomScoreAdj !== undefined) {
      // The host's procfs, as runc's parent writes /proc/<pid>/oom_score_adj.
      step('process.oomScoreAdj', () => fs.writeFileSync('/proc/self/oom_score_adj', String(plan.oomScoreAdj)))
    }
    if (plan.cpuAffinity?.initial)
      step('process.execCPUAffinity.initial', () => sys.schedSetaffinity(cpuMask(plan.cpuAffinity!.initial!)))
    if (plan.apparmorProfile) this.execAttr = this.openAttr('apparmor', 'exec', 'process.apparmorProfile')
    if (plan.selinuxLabel) {
      this.execAttr = this.openAttr('selinux', 'exec', 'process.selinuxLabel')
      if (!cfg.noNewKeyring) this.keyAttr = this.openAttr('selinux', 'keycreate', 'process.selinuxLabel')
    }
    if (plan.seccomp) {
      const sc = plan.seccomp
      timed(
        () => `seccomp: compile the filter (${(this.filter?.bytes ?? 0) / 8} BPF instructions)`,
        () =>
          step('linux.seccomp', () => {
            libseccomp.load()
            this.filter = compileFilter(sc, sys, this.log)
          }),
      )
      if (sc.notify && sc.listenerPath) {
        const at = 'linux.seccomp.listenerPath'
        try {
          this.listener = connectUnix(sc.listenerPath)
        } catch (e) {
          throw new StepError(at, e as Error, TEXT.seccompAgent)
        }
      }
    }
  }

  private openAttr(lsm: 'apparmor' | 'selinux', name: 'exec' | 'keycreate', field: string): number {
    return step(field, () => this.sys.openat(C.AT_FDCWD, attrPath(lsm, name), C.O_WRONLY))
  }

  // --- memory policy -------------------------------------------------------------------------

  /**
   * linux.memoryPolicy on this (main) thread: execve keeps it, and so do the startContainer
   * hooks forked after it, as with runc. It binds the init's own allocations from here on too.
   */
  memoryPolicy(): void {
    const mp = this.plan.memoryPolicy
    if (!mp) return
    const { mask, maxnode } = nodeMask(mp.nodes)
    const detail = { mode: [mp.mode, ...mp.flags].join('|'), nodes: formatNodeList(mp.nodes) }
    step('linux.memoryPolicy', () => this.sys.setMempolicy(mp.value, mask, maxnode, detail))
  }

  // --- privileged ----------------------------------------------------------------------------

  /** Still root with every capability: the session keyring and rlimit hard limits. */
  privileged(): void {
    const { cfg, sys, plan } = this
    if (!cfg.noNewKeyring) step('process', () => this.joinKeyring())
    // A hard limit above the current one needs CAP_SYS_RESOURCE: raise it now, keep the soft
    // limit; late() then sets both exactly, which only lowers.
    for (const r of plan.rlimits) {
      step(r.field, () => {
        const [soft, hard] = sys.prlimitGet(r.resource, r.type)
        const want = BigInt(r.hard)
        if (want > hard) sys.prlimit(r.resource, soft, want, r.type)
      })
    }
  }

  /** A fresh session keyring named _ses.<id>, so the host's keys are out of reach (runc). */
  private joinKeyring(): void {
    const { sys, cfg } = this
    if (this.keyAttr >= 0) sys.write(this.keyAttr, Buffer.from(this.plan.selinuxLabel!))
    let id: number
    try {
      id = sys.joinSessionKeyring(`_ses.${cfg.id}`)
    } catch (e) {
      // No keyrings in this kernel: runc carries on, and so do we, saying so.
      if (e instanceof SysError && e.errnoName === 'ENOSYS') {
        this.log('warning', 'session keyring not created: the kernel has no keyrings (ENOSYS)')
        return
      }
      throw new RuntimeError(`unable to join session keyring: ${(e as Error).message}`, 'EKEYRING')
    } finally {
      if (this.keyAttr >= 0) {
        sys.write(this.keyAttr, Buffer.alloc(0))
        sys.close(this.keyAttr)
        this.keyAttr = -1
      }
    }
    const userns = [...cfg.created, ...cfg.joined].some((e) => e.type === 'user')
    const desc = sys.describeKey(id).split(';')
    const perm = Number.parseInt(desc[3] ?? '', 16)
    if (!Number.isFinite(perm)) throw new RuntimeError(`unable to read session keyring permissions: "${desc.join(';')}"`)
    sys.setKeyPerm(id, perm | (userns ? KEY_OTH_SEARCH : KEY_USR_SEARCH))
  }

  // --- the user switch -----------------------------------------------------------------------

  switchUser(): void {
    const { sys, cfg, plan } = this
    const p = cfg.process
    const steps = step('process.user', () =>
      credentialSteps({
        uid: p.uid,
        gid: p.gid,
        additionalGids: p.additionalGids,
        setgroups: setgroupsAllowed(),
        caps: p.caps,
        extra: this.extra,
        lastCap: cfg.lastCap,
        ...(plan.personality ? { personality: plan.personality.persona } : {}),
        lsmExec: this.execAttr >= 0,
        noNewPrivileges: p.noNewPrivileges,
        seccomp: this.filter !== null,
      }),
    )
    this.steps = steps
    for (const n of steps.notes) trace(n)
    const warn = (msg: string) => this.log('warning', msg)
    step('process.capabilities.bounding', () => runCredSteps(sys, steps.bounding, warn))
    // runc: chdir first as root, which may reach a directory the user cannot; retry as the
    // user when root was refused (a root-squashing network filesystem).
    const cwd = p.cwd
    const early = step('process.cwd', () => chdirAsRoot(sys, cwd))
    if (early) step('process.cwd', () => verifyCwdInside(sys, cwd))
    step('process.user', () => chownStdio(sys, p.uid))
    step('process.user', () => runCredSteps(sys, steps.ids, warn))
    if (!early) {
      step('process.cwd', () => chdirAsUser(sys, cwd))
      step('process.cwd', () => verifyCwdInside(sys, cwd))
    }
    step('process.capabilities', () => runCredSteps(sys, steps.caps, warn))
  }

  /** The calls lock() makes, in order ('capset', 'seccomp'), for the --debug record of the exec. */
  get lockdownSteps(): string[] {
    return this.steps?.final.filter((s) => s.op !== 'seccomp' || this.filter).map((s) => s.op) ?? []
  }

  /** The steps switchUser() computed; late() and lock() run their last two parts. */
  private get credSteps(): CredSteps {
    if (!this.steps) throw new InternalError('confinement: the user switch has not run')
    return this.steps
  }

  // --- late ----------------------------------------------------------------------------------

  /** After the startContainer hooks: what binds the process that execve will run. */
  late(): void {
    const { sys, plan, cfg } = this
    const p = cfg.process
    if (p.umask !== undefined) process.umask(p.umask)
    const aff = plan.cpuAffinity
    if (aff?.final) step('process.execCPUAffinity.final', () => sys.schedSetaffinity(cpuMask(aff.final!)))
    // runc 1.4: with only an initial affinity, the process gets its cgroup's CPUs back.
    else if (aff?.initial) step('process.execCPUAffinity.initial', () => sys.schedSetaffinity(allCpusMask()))
    if (plan.scheduler) step('process.scheduler', () => sys.schedSetattr(schedAttr(plan.scheduler!)))
    if (plan.ioPriority) step('process.ioPriority', () => sys.ioprioSet(IOPRIO_WHO_PROCESS, plan.ioPriority!.value))
    for (const s of this.credSteps.binds) this.bind(s)
  }

  /** One step of what binds the program execve runs: personality, LSM exec label, NNP. */
  private bind(s: CredStep): void {
    const { sys, plan } = this
    if (s.op === 'personality') step('linux.personality', () => sys.personality(s.persona))
    else if (s.op === 'no-new-privs') step('process.noNewPrivileges', () => sys.prctl(C.PR_SET_NO_NEW_PRIVS, 1))
    else if (s.op === 'lsm-exec') {
      const lsm = plan.apparmorProfile ? 'apparmor' : 'selinux'
      const label = (plan.apparmorProfile ?? plan.selinuxLabel)!
      step(lsm === 'apparmor' ? 'process.apparmorProfile' : 'process.selinuxLabel', () => {
        try {
          sys.write(this.execAttr, Buffer.from(execAttrValue(lsm, label)))
        } catch (e) {
          // AppArmor answers ENOENT for a profile it has not loaded.
          if (lsm === 'apparmor' && e instanceof SysError && e.errnoName === 'ENOENT')
            throw new RuntimeError(`apparmor profile "${label}": profile not loaded`, 'EAPPARMOR')
          throw e
        } finally {
          sys.close(this.execAttr)
          this.execAttr = -1
        }
      })
    } else throw new InternalError(`${s.op} does not bind the program`)
  }

  // --- lockdown ------------------------------------------------------------------------------

  /**
   * The last calls before execve: the configured capability sets and the seccomp filter, in
   * the order the header explains, then the listener fd to the agent. `pid` is this
   * process's pid as the host sees it.
   */
  lockdown(pid: number): void {
    const fd = this.lock()
    if (fd >= 0) this.handOver(fd, pid)
  }

  /**
   * The final capset and the seccomp filter, on this (main) thread; returns the notify fd
   * (SCMP_ACT_NOTIFY with a listener) or -1. Without no_new_privs the capset follows the load.
   */
  lock(): number {
    const { sys, plan } = this
    // The rlimits first, as close to execve as they can be and before the filter (which may
    // forbid prlimit64): they are meant for the container's program, and a JavaScript runtime
    // whose GC and JIT threads map memory at any time crashes under some of them (RLIMIT_AS of
    // 64 MiB: SIGSEGV between start and execve, seen on a loaded host). Only lowering here:
    // privileged() raised the hard limits that needed it.
    for (const r of plan.rlimits) step(r.field, () => sys.prlimit(r.resource, BigInt(r.soft), BigInt(r.hard), r.type))
    let fd = -1
    for (const s of this.credSteps.final) {
      if (s.op === 'capset')
        step('process.capabilities', () => sys.capset(s.sets.effective, s.sets.permitted, s.sets.inheritable))
      else if (s.op === 'seccomp' && this.filter) {
        const f = this.filter
        fd = step('linux.seccomp', () => loadFilter(f, sys))
      } else throw new InternalError(`${s.op} is no lockdown step`)
    }
    return fd
  }

  /** Send the notify fd to the agent with the seccomp state of `pid`, the filtered process. */
  handOver(fd: number, pid: number): void {
    const { cfg } = this
    const sc = this.plan.seccomp!
    step('linux.seccomp.listenerPath', () =>
      sendListenerFd(
        this.listener,
        {
          ociVersion: cfg.state.ociVersion,
          fds: ['seccompFd'],
          pid,
          ...(sc.listenerMetadata !== undefined ? { metadata: sc.listenerMetadata } : {}),
          state: {
            ociVersion: cfg.state.ociVersion,
            id: cfg.id,
            status: 'running',
            pid: cfg.mode === 'create' ? pid : (cfg.state.pid ?? 0),
            bundle: cfg.bundle,
            ...(cfg.state.annotations ? { annotations: cfg.state.annotations } : {}),
          },
        },
        fd,
      ),
    )
  }
}

/** Everything confinement needs from the host, loaded before the init leaves the host's mounts. */
export function preload(cfg: InitConfig, sys: Sys, log: ConfineLog): Confinement {
  const c = new Confinement(cfg, confineSys(sys), log)
  c.preload()
  return c
}

// linux.namespaces -> which namespaces are created (and when) and which are joined (and by
// whom). Pure. The order is runc's: namespaces given by path are joined before new ones are
// created, the user namespace first, because a process born in a new user namespace has no
// privilege over namespaces the host's user namespace owns.
//
//   user    create: CLONE_NEWUSER at clone.  join: stage 1 setns(), then unshare() the rest.
//   mount   create: CLONE_NEWNS at clone.    join: the init setns()es once Node has loaded.
//           not listed: shared with the runtime's (the init joins create's; chroot, no
//           pivot_root: docs/design.md "No mount namespace").
//   pid     create: CLONE_NEWPID at clone.   join: the parent's main thread (for children).
//   net, ipc, uts   create at clone; join from the parent's main thread before clone.
//   cgroup  create: stage 1 unshare()s after the parent put it in its cgroup; join: parent.
//   time    create: stage 1 unshare()s before the handshake (the parent writes the offsets);
//           join: parent (time_for_children).

import * as C from '../sys/constants.js'
import { SpecError, type SpecIssue } from '../errors.js'

export type NsType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup' | 'time'

export const NS_INFO: Readonly<Record<NsType, { flag: number; proc: string }>> = {
  pid: { flag: C.CLONE_NEWPID, proc: 'pid' },
  network: { flag: C.CLONE_NEWNET, proc: 'net' },
  mount: { flag: C.CLONE_NEWNS, proc: 'mnt' },
  ipc: { flag: C.CLONE_NEWIPC, proc: 'ipc' },
  uts: { flag: C.CLONE_NEWUTS, proc: 'uts' },
  user: { flag: C.CLONE_NEWUSER, proc: 'user' },
  cgroup: { flag: C.CLONE_NEWCGROUP, proc: 'cgroup' },
  time: { flag: C.CLONE_NEWTIME, proc: 'time' },
}

export type NsJoin = { type: NsType; path: string; field: string }

export type NamespacePlan = {
  /** Types the container has, created or joined. */
  types: NsType[]
  /** Types created anew. */
  created: NsType[]
  /** Namespaces joined by path, in the order they are joined (user first). */
  joins: NsJoin[]
  /** Flags for clone(2): namespaces created at birth. Always has CLONE_NEWNS (see below: stage 1 seals the binary in it). */
  cloneFlags: number
  /** Flags stage 1 passes to unshare(2) after setns() into a joined user namespace. */
  unshareAfterUserJoin: number
  /** A user namespace to join by path (stage 1), or undefined. */
  userJoin?: NsJoin
  /** A mount namespace to join by path (the init, after Node has loaded). */
  mountJoin?: NsJoin
  /**
   * No mount namespace listed: the container shares the runtime's (config-linux.md: a type
   * not listed is the runtime's). Stage 1 still gets a private one to seal the binary in; the
   * init then joins create's and builds the rootfs there, entering it with chroot(2).
   */
  sharedMount: boolean
  /** Joined by the parent's main thread before the clone, then the parent returns. */
  parentJoins: NsJoin[]
  /** The init unshares CLONE_NEWCGROUP once the parent has put it in its cgroup. */
  cgroupLate: boolean
  /** Stage 1 unshares CLONE_NEWTIME before the handshake so the parent can set offsets. */
  timeEarly: boolean
  /**
   * A user namespace is joined while a pid namespace is created: unshare(CLONE_NEWPID) only
   * moves children, so the init stage must re-create itself once to become pid 1.
   */
  pidViaChild: boolean
}

const PARENT_JOINABLE: NsType[] = ['network', 'ipc', 'uts', 'cgroup', 'pid', 'time']

export function planNamespaces(namespaces: { type: string; path?: string }[] | undefined): NamespacePlan {
  const issues: SpecIssue[] = []
  const seen = new Map<string, number>()
  const created: NsType[] = []
  const joins: NsJoin[] = []
  ;(namespaces ?? []).forEach((ns, i) => {
    const field = `linux.namespaces[${i}]`
    if (!Object.hasOwn(NS_INFO, ns.type)) {
      issues.push({ path: field + '.type', message: `unknown namespace type "${ns.type}"` })
      return
    }
    const prev = seen.get(ns.type)
    if (prev !== undefined) {
      issues.push({ path: field + '.type', message: `duplicated namespace "${ns.type}" (also linux.namespaces[${prev}])` })
      return
    }
    seen.set(ns.type, i)
    const type = ns.type as NsType
    if (ns.path) {
      if (!ns.path.startsWith('/')) issues.push({ path: field + '.path', message: 'namespace path must be absolute' })
      joins.push({ type, path: ns.path, field })
    } else created.push(type)
  })
  if (issues.length) throw new SpecError(issues)

  const userJoin = joins.find((j) => j.type === 'user')
  const mountJoin = joins.find((j) => j.type === 'mount')
  const parentJoins = joins.filter((j) => PARENT_JOINABLE.includes(j.type))
  const atBirth = created.filter((t) => t !== 'cgroup' && t !== 'time')

  let cloneFlags = 0
  let unshareAfterUserJoin = 0
  if (userJoin) {
    // Born only in a private mount namespace (to seal the runtime binary); everything else
    // is created after setns() into the user namespace so that it owns them.
    cloneFlags = C.CLONE_NEWNS
    for (const t of atBirth) unshareAfterUserJoin |= NS_INFO[t].flag
    unshareAfterUserJoin |= C.CLONE_NEWNS
  } else {
    for (const t of atBirth) cloneFlags |= NS_INFO[t].flag
    cloneFlags |= C.CLONE_NEWNS
  }
  const plan: NamespacePlan = {
    types: [...created, ...joins.map((j) => j.type)],
    created,
    joins: [...(userJoin ? [userJoin] : []), ...joins.filter((j) => j.type !== 'user')],
    cloneFlags,
    unshareAfterUserJoin,
    parentJoins,
    cgroupLate: created.includes('cgroup'),
    timeEarly: created.includes('time'),
    pidViaChild: userJoin !== undefined && created.includes('pid'),
    sharedMount: !seen.has('mount'),
  }
  if (userJoin) plan.userJoin = userJoin
  if (mountJoin) plan.mountJoin = mountJoin
  return plan
}

/** The /proc/<pid>/ns file name of a spec namespace type. */
export function procNsName(type: NsType): string {
  return NS_INFO[type].proc
}

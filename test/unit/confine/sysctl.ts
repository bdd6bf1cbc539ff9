// linux.sysctl: only keys of a namespace the container owns, never the host's.

import t from 'tap'
import { checkSysctl, dotForm, owningNamespace, sysctlKeyProblem, sysctlPath } from '../../../src/confine/sysctl.js'

const own = [{ type: 'ipc' }, { type: 'network' }, { type: 'uts' }, { type: 'mount' }]
const never = () => false

t.test('keys in either separator form', async (t) => {
  t.equal(dotForm('net.ipv4.ip_forward'), 'net.ipv4.ip_forward')
  t.equal(dotForm('net/ipv4/conf/eno2.100/rp_filter'), 'net.ipv4.conf.eno2/100.rp_filter')
  t.equal(sysctlPath('net.ipv4.ip_forward'), 'net/ipv4/ip_forward')
  t.equal(sysctlPath('net/ipv4/conf/eno2.100/rp_filter'), 'net/ipv4/conf/eno2.100/rp_filter')
  t.equal(sysctlPath('net.ipv4.conf.eno2/100.rp_filter'), 'net/ipv4/conf/eno2.100/rp_filter')
})

t.test('which namespace owns a key', async (t) => {
  t.equal(owningNamespace('kernel.shmmax'), 'ipc')
  t.equal(owningNamespace('kernel.shm_rmid_forced'), 'ipc')
  t.equal(owningNamespace('fs.mqueue.msg_max'), 'ipc')
  t.equal(owningNamespace('net.core.somaxconn'), 'network')
  t.equal(owningNamespace('net/ipv4/ip_forward'), 'network')
  t.equal(owningNamespace('kernel.domainname'), 'uts')
  t.equal(owningNamespace('user.max_user_namespaces'), 'user')
  t.equal(owningNamespace('kernel.core_pattern'), null)
  t.equal(owningNamespace('vm.overcommit_memory'), null)
  t.equal(owningNamespace('kernel.shmmaxx'), null, 'exact names only')
})

t.test('namespaced keys in namespaces of the container are allowed', async (t) => {
  const sysctl = {
    'kernel.shmmax': '1',
    'fs.mqueue.queues_max': '2',
    'net.ipv4.ip_forward': '1',
    'net/ipv4/conf/all/forwarding': '1',
    'kernel.domainname': 'example.com',
  }
  t.same(checkSysctl({ sysctl, namespaces: own }, never), [])
  t.same(checkSysctl({ sysctl: {}, namespaces: [] }, never), [])
  t.same(checkSysctl({}, never), [])
})

t.test('a key of a namespace the container does not have is refused', async (t) => {
  t.same(checkSysctl({ sysctl: { 'net.ipv4.ip_forward': '1', 'kernel.msgmax': '9' }, namespaces: [{ type: 'mount' }] }, never), [
    {
      path: 'linux.sysctl["net.ipv4.ip_forward"]',
      message: `sysctl "net.ipv4.ip_forward" is not allowed in the host's network namespace (linux.namespaces has no network namespace)`,
    },
    {
      path: 'linux.sysctl["kernel.msgmax"]',
      message: `sysctl "kernel.msgmax" is not allowed in the host's ipc namespace (linux.namespaces has no ipc namespace)`,
    },
  ])
})

t.test("joining the runtime's own namespace by path is the host", async (t) => {
  const ns = [
    { type: 'network', path: '/proc/1/ns/net' },
    { type: 'ipc', path: '/run/other-ipc' },
  ]
  const isHost = (type: string, p: string) => type === 'network' && p === '/proc/1/ns/net'
  t.same(checkSysctl({ sysctl: { 'net.core.somaxconn': '1', 'kernel.sem': '1 2 3 4' }, namespaces: ns }, isHost), [
    {
      path: 'linux.sysctl["net.core.somaxconn"]',
      message: `sysctl "net.core.somaxconn" is not allowed in the host's network namespace (/proc/1/ns/net is the runtime's own)`,
    },
  ])
})

t.test('keys that are not namespaced, and kernel.hostname', async (t) => {
  t.same(checkSysctl({ sysctl: { 'kernel.core_pattern': '|/x', 'kernel.hostname': 'h' }, namespaces: own }, never), [
    {
      path: 'linux.sysctl["kernel.core_pattern"]',
      message: 'sysctl "kernel.core_pattern" is not in a separate kernel namespace',
    },
    {
      path: 'linux.sysctl["kernel.hostname"]',
      message: 'sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field',
    },
  ])
})

t.test('user.* needs a user namespace', async (t) => {
  t.same(checkSysctl({ sysctl: { 'user.max_user_namespaces': '5' }, namespaces: [...own, { type: 'user' }] }, never), [])
  t.equal(checkSysctl({ sysctl: { 'user.max_user_namespaces': '5' }, namespaces: own }, never).length, 1)
})

t.test('a key names a file below /proc/sys, never outside it', async (t) => {
  for (const ok of [
    'net.ipv4.ip_forward',
    'net/ipv4/conf/eno2.100/rp_filter',
    'kernel.shmmax',
    'net.ipv4.conf.eno2/100.rp_filter',
  ])
    t.equal(sysctlKeyProblem(ok), null, ok)
  for (const bad of [
    '',
    'net/ipv4/../../../../tmp/victim',
    'net/..',
    '/net/ipv4/ip_forward',
    '/tmp/victim',
    'net//ipv4',
    'net/ipv4/',
    'net..ipv4',
    '.net.ipv4',
    'net.ipv4.',
    'net/./ipv4',
    'net.ipv4\0x',
  ])
    t.not(sysctlKeyProblem(bad), null, JSON.stringify(bad))
  t.same(checkSysctl({ sysctl: { 'net/ipv4/../../../../tmp/victim': 'x' }, namespaces: own }, never), [
    {
      path: 'linux.sysctl["net/ipv4/../../../../tmp/victim"]',
      message: 'a sysctl key names a file below /proc/sys: no leading "/" or ".", and no empty, "." or ".." component',
    },
  ])
})

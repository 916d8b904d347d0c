/**
 * FQDN egress on real traffic (docs/fqdn.md), on every backend: a real DNS server (Debian's
 * dnsmasq) in pod kube-system/dns behind Service kube-system/kube-dns and its EndpointSlice,
 * a client pod that resolves with dig (UDP and TCP), outside servers in the topology's external
 * namespace, a policy that allows DNS, some names, and denies the rest of 10.244.0.0/16.
 * Checked per backend: denied before lookup; allowed after lookup (the first connection right
 * after the answer, with the kernel write slowed down: no race); names not in the policy denied; wildcard; CNAME chain; TCP DNS;
 * 1,000 addresses in one answer; scope (another pod of the same subject is denied); a forged
 * answer from another pod teaches nothing; TTL expiry denies new connections while an
 * established one stays open; the learner down (steering left in place, --queue-bypass): the
 * answer still arrives, unlearned (denied), and after a restart the next lookup is learned.
 * Every process this file starts is killed by pid in `finally`; namespaces are deleted in afterAll.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../backends/registry.js';
import { NftablesBackend } from '../../backends/nftables/backend.js';
import { BACKEND_NAMES, type BackendName } from '../../src/enforce/backend.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import { FqdnNode, type LearnTarget } from '../../src/fqdn/node.js';
import { startEnforce } from '../../src/cli/enforce.js';
import type { Io } from '../../src/cli/io.js';
import { safeParseCluster } from '../../src/manifests/cluster.js';
import { parseIp, type IpAddr } from '../../src/model/ip.js';
import type { Cluster } from '../../src/model/types.js';
import { nsExec } from '../../src/topology/netns.js';
import { ProbeFleet } from '../../src/topology/probe.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { TEST_PIN_ROOT } from '../ebpf/backend.js';
import { requires } from '../harness/prerequisites.js';
import { dnsResponse } from './message.js';

const ip = (t: string): IpAddr => parseIp(t)!;
const DNS = '10.244.1.53';
const CLIENT = '10.244.1.10';
const OTHER = '10.244.1.11';
const FORGER = '10.244.1.12';
const DB = '10.244.200.1';
const EDGE = '10.244.200.2';
const NOT_ALLOWED = '10.244.200.3';
const SHORT = '10.244.200.4';
const MANY_FIRST = '10.244.210.0';
const MANY_LAST = '10.244.213.231'; // the 1,000th
const manyAddress = (i: number): string => `10.244.${210 + (i >> 8)}.${i & 0xff}`;
const ECHO_PORT = 7777;
/** backends whose learned elements time out in the kernel (docs/fqdn.md §6) */
const KERNEL_EXPIRY_BACKENDS: readonly BackendName[] = ['nftables', 'ebpf', 'nfqueue'];

const YAML = `apiVersion: v1
kind: Namespace
metadata: { name: kube-system }
---
apiVersion: v1
kind: Namespace
metadata: { name: app }
---
apiVersion: v1
kind: Node
metadata: { name: node-a }
status: { addresses: [ { type: InternalIP, address: 10.244.100.1 } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: dns, namespace: kube-system, labels: { k8s-app: kube-dns } }
spec: { nodeName: node-a }
status: { podIPs: [ { ip: ${DNS} } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: client, namespace: app, labels: { app: client } }
spec: { nodeName: node-a }
status: { podIPs: [ { ip: ${CLIENT} } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: other, namespace: app, labels: { app: other } }
spec: { nodeName: node-a }
status: { podIPs: [ { ip: ${OTHER} } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: forger, namespace: kube-system, labels: { app: forger } }
spec: { nodeName: node-a }
status: { podIPs: [ { ip: ${FORGER} } ] }
---
apiVersion: v1
kind: Service
metadata: { name: kube-dns, namespace: kube-system }
spec: { clusterIP: 10.244.250.10, selector: { k8s-app: kube-dns }, ports: [ { name: dns, port: 53, protocol: UDP }, { name: dns-tcp, port: 53, protocol: TCP } ] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: kube-dns-abcde, namespace: kube-system, labels: { kubernetes.io/service-name: kube-dns } }
addressType: IPv4
endpoints: [ { addresses: [ ${DNS} ] } ]
ports: [ { name: dns, port: 53, protocol: UDP }, { name: dns-tcp, port: 53, protocol: TCP } ]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: { name: fqdn-egress }
spec:
  tier: Admin
  priority: 10
  subject: { namespaces: { matchLabels: { kubernetes.io/metadata.name: app } } }
  egress:
  - name: dns
    action: Accept
    to: [ { pods: { namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: kube-system } }, podSelector: { matchLabels: { k8s-app: kube-dns } } } } ]
  - name: names
    action: Accept
    to: [ { domainNames: [ db.example.test, "*.cdn.example.test", many.example.test, short.example.test ] } ]
  - name: rest
    action: Deny
    to: [ { networks: [ 10.244.0.0/16 ] } ]
`;

function cluster(): Cluster {
  const r = safeParseCluster(YAML, 'fqdn-traffic.yaml');
  if (!r.cluster) throw new Error(r.problems.map((p) => `${p.code} ${p.message}`).join('\n'));
  return r.cluster;
}

const EXTERNALS = [DB, EDGE, NOT_ALLOWED, SHORT, MANY_FIRST, MANY_LAST].map(ip);

/** Start a process in a namespace; resolves once `ready` says so (bounded). */
async function startIn(ns: string, argv: string[], ready: () => Promise<boolean>): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null) throw new Error(`${argv[0]} exited: ${err}`);
    if (await ready()) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${argv[0]} not ready: ${err}`);
}

const stopChild = (c: ChildProcess | undefined): void => {
  if (c && c.exitCode === null && c.pid !== undefined) c.kill('SIGKILL');
};

describe.skipIf(requires('root', 'netns', 'addon', 'nft', 'bpffs', 'bpf', 'nfqueue', 'iptables-nft', 'cni-plugins', 'dnsmasq'))('FQDN egress learned from DNS answers, on real traffic', () => {
  let topo: Topology | undefined;
  let dir = '';
  const nsOf = (who: string): string => topo!.hosts.find((h) => h.name === who)!.netns;
  const extNs = (): string => topo!.hosts.find((h) => h.kind === 'external')!.netns;
  let dnsmasq: ChildProcess | undefined;
  let echo: ChildProcess | undefined;

  const dig = async (name: string, tcp = false, from = 'app/client'): Promise<string[]> => {
    const r = await nsExec(nsOf(from), ['dig', `@${DNS}`, '+short', '+tries=1', '+time=3', ...(tcp ? ['+tcp'] : ['+notcp', '+ignore']), name], { timeoutMs: 10_000, allowFailure: true });
    return r.stdout.split('\n').filter((l) => /^\d+\.\d+\.\d+\.\d+$/.test(l.trim()));
  };

  beforeAll(async () => {
    topo = await buildTopology(cluster(), { tag: 'fqdn', externals: EXTERNALS });
    dir = await mkdtemp(join(tmpdir(), 'palisade-fqdn-'));
    const hosts = Array.from({ length: 1000 }, (_, i) => `${manyAddress(i)} many.example.test`).join('\n');
    await writeFile(join(dir, 'many.hosts'), `${hosts}\n`);
    const dnsNs = nsOf('kube-system/dns');
    dnsmasq = await startIn(
      dnsNs,
      [
        'dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--pid-file=', '--user=root',
        `--listen-address=${DNS}`, '--bind-interfaces', '--port=53', `--addn-hosts=${join(dir, 'many.hosts')}`,
        `--host-record=db.example.test,${DB},30`, `--host-record=other.test,${NOT_ALLOWED},30`, `--host-record=edge.cdn.example.test,${EDGE},30`,
        `--host-record=short.example.test,${SHORT},1`, '--cname=www.shop.test,edge.cdn.example.test,30', '--local-ttl=30',
      ],
      async () => (await nsExec(dnsNs, ['dig', `@${DNS}`, '+short', '+tries=1', '+time=1', 'db.example.test'], { timeoutMs: 5000, allowFailure: true }).catch(() => ({ stdout: '' }))).stdout.includes(DB),
    );
    // an echo server for the long-lived connection (outside: the external namespace)
    const script = `import socket,threading\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('${SHORT}',${ECHO_PORT}));s.listen(8)\ndef h(c):\n  while True:\n    d=c.recv(64)\n    if not d: break\n    c.sendall(d)\nwhile True:\n  c,_=s.accept();threading.Thread(target=h,args=(c,),daemon=True).start()\n`;
    echo = await startIn(extNs(), ['python3', '-c', script], async () => (await nsExec(extNs(), ['ss', '-ltn'], { timeoutMs: 3000, allowFailure: true })).stdout.includes(`:${ECHO_PORT}`));
  }, 180_000);

  afterAll(async () => {
    stopChild(dnsmasq);
    stopChild(echo);
    await topo?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const name of BACKEND_NAMES) {
    it(`${name}: learned names are allowed, everything else is denied`, async () => {
      await runBackend(name);
    }, 180_000);
  }
  // the form before pair rules (backends/nftables/pairs.ts): one rule and two sets per subject pod;
  // the same traffic must get the same verdicts (the run above is the pair form)
  it('nftables, per-pod rules (pairRules: false): the same verdicts as the pair form', async () => {
    await runBackend('nftables', false);
  }, 180_000);

  for (const name of BACKEND_NAMES) {
    it(`${name}: palisade enforce -f DIR learns with no extra flag (kube-dns Service + EndpointSlice in DIR)`, async () => {
      const manifests = await mkdtemp(join(tmpdir(), 'palisade-fqdn-enforce-'));
      await writeFile(join(manifests, 'all.yaml'), YAML);
      const backend = await createBackend(name, {
        netnsPath: topo!.nodeNetnsPath,
        ...(name === 'ebpf' ? { tag: `fqdncli-${process.pid}`, pinRoot: TEST_PIN_ROOT } : {}),
      });
      const errors: string[] = [];
      const session = startEnforce({ backend, paths: [manifests], netnsPath: topo!.nodeNetnsPath, stopAction: 'remove' }, { out: () => undefined, err: (t: string) => void errors.push(t) } satisfies Io);
      const fleet = await ProbeFleet.start(topo!, { TCP: [80], UDP: [], SCTP: [] });
      try {
        expect(await session.ready).toBe('applied');
        for (let i = 0; i < 50 && !errors.some((e) => e.includes('learning domainNames')); i++) await new Promise((r) => setTimeout(r, 100));
        expect(errors.join('')).toContain('learning domainNames addresses from DNS answers (kube-system/kube-dns endpoints)');
        const probe = async (dst: string) => (await fleet.probe([{ protocol: 'TCP', src: ip(CLIENT), dst: ip(dst), dstPort: 80 }], { timeoutMs: 500 }))[0]!.outcome;
        expect(await probe(DB)).toBe('dropped');
        expect(await dig('db.example.test')).toEqual([DB]);
        expect(await probe(DB)).toBe('open');
        expect(await probe(NOT_ALLOWED)).toBe('dropped');
      } finally {
        await fleet.stop();
        await session.stop();
        await rm(manifests, { recursive: true, force: true });
      }
    }, 120_000);
  }

  // kernel-side expiry (docs/fqdn.md §6): the learner's own expiry is off (a learner stopped or
  // late), so only the kernel's element timeout can deny; a refresh before expiry keeps it live
  for (const name of KERNEL_EXPIRY_BACKENDS) {
    it(`${name}: the kernel expires a learned address by itself; a refresh extends it; an established connection stays`, async () => {
      await runKernelExpiry(name);
    }, 120_000);
  }

  async function runKernelExpiry(name: BackendName): Promise<void> {
    const { enforcement, fleet, target, teardown } = await learningSetup(name, `fqdnexp-${process.pid}`, 0);
    let node: FqdnNode | undefined;
    let holder: ChildProcess | undefined;
    const tcp = async (dst: string, port: number): Promise<string> =>
      (await fleet.probe([{ protocol: 'TCP', src: ip(CLIENT), dst: ip(dst), dstPort: port }], { timeoutMs: 400 }))[0]!.outcome;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    try {
      await enforcement.apply(cluster());
      // floor 2 s over dnsmasq's TTL of 1 s: every answer for short.example.test lives 2 s
      node = await FqdnNode.start(target, { netnsPath: topo!.nodeNetnsPath, queueNum: 4242, cache: { minTtlS: 2 }, expiryTimer: false });
      expect(await tcp(SHORT, ECHO_PORT)).toBe('dropped');

      // a refresh before expiry extends the kernel's timeout: 2.6 s after the first answer
      // (past its 2 s) but 1.4 s after the second one, a new connection is still allowed
      const t0 = Date.now();
      expect(await dig('short.example.test')).toEqual([SHORT]);
      await sleep(1200 - (Date.now() - t0));
      expect(await dig('short.example.test')).toEqual([SHORT]);
      await sleep(2600 - (Date.now() - t0));
      expect(await tcp(SHORT, ECHO_PORT)).toBe('open');

      // an established connection opened now stays up past the expiry
      const py = `import socket,time\nc=socket.create_connection(('${SHORT}',${ECHO_PORT}),timeout=2)\nc.sendall(b'a');assert c.recv(1)==b'a'\nprint('up',flush=True)\ntime.sleep(3)\nc.sendall(b'b');print('after',c.recv(1).decode(),flush=True)\n`;
      let out = '';
      holder = spawn('ip', ['netns', 'exec', nsOf('app/client'), 'python3', '-c', py], { stdio: ['ignore', 'pipe', 'pipe'] });
      holder.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
      for (let i = 0; i < 40 && !out.includes('up'); i++) await sleep(50);
      expect(out).toContain('up');

      // past the second answer's expiry (t0 + 1.2 s + 2 s, plus margin): denied by the kernel
      // alone: the learner still holds the entry (its expiry timer is off), nothing retracted it
      await sleep(3700 - (Date.now() - t0));
      expect(node.stats().entries.some((e) => e.name === 'short.example.test')).toBe(true);
      expect(await tcp(SHORT, ECHO_PORT)).toBe('dropped');
      const exited = new Promise<number | null>((r) => holder!.on('exit', r));
      expect(await exited).toBe(0);
      expect(out).toContain('after b');
      // the learner's late retraction (a delete of an element the kernel already timed out) is no error
      await node.learner.expireNow();
      expect(node.learner.counters.applyErrors).toBe(0);
    } finally {
      await teardown(node, holder);
    }
  }

  /**
   * A backend in the node namespace under an Enforcement, the probe fleet, and the learn target
   * (its kernel write delayed by `slowWriteMs`: an answer must still reach the pod only after it).
   */
  async function learningSetup(name: BackendName, tag: string, slowWriteMs: number, pairRules?: false) {
    const backend =
      pairRules === false
        ? new NftablesBackend({ netnsPath: topo!.nodeNetnsPath, pairRules })
        : await createBackend(name, {
            netnsPath: topo!.nodeNetnsPath,
            ...(name === 'ebpf' ? { tag, pinRoot: TEST_PIN_ROOT } : {}),
          });
    const enforcement = new Enforcement(backend);
    const fleet = await ProbeFleet.start(topo!, { TCP: [80], UDP: [], SCTP: [] });
    let cached: { gen: number; c: Cluster } | undefined;
    const target: LearnTarget = {
      learn: async (a, r) => {
        if (slowWriteMs > 0) await new Promise((res) => setTimeout(res, slowWriteMs));
        return enforcement.learn(a, r);
      },
      cluster: () => {
        const p = enforcement.current();
        if (!p) return undefined;
        if (cached?.gen !== p.generation) cached = { gen: p.generation, c: p.cluster() };
        return cached.c;
      },
    };
    /** every process and kernel object of one run, by pid and by owner, even after a failure */
    const teardown = async (node: FqdnNode | undefined, holder: ChildProcess | undefined): Promise<void> => {
      stopChild(holder);
      await node?.stop().catch(() => undefined);
      await fleet.stop();
      await enforcement.remove().catch(() => undefined);
      await backend.close().catch(() => undefined);
    };
    return { backend, enforcement, fleet, target, teardown };
  }

  async function runBackend(name: BackendName, pairRules?: false): Promise<void> {
    const c = cluster();
    // a slow kernel write (300 ms): the answer must still reach the pod only after it, so
    // the connection right after dig is open (releasing before the write fails this test)
    const { backend, enforcement, fleet, target, teardown } = await learningSetup(name, `fqdn-${process.pid}`, 300, pairRules);
    let node: FqdnNode | undefined;
    let holder: ChildProcess | undefined;
    const tcp = async (src: string, dst: string, port = 80): Promise<string> =>
      (await fleet.probe([{ protocol: 'TCP', src: ip(src), dst: ip(dst), dstPort: port }], { timeoutMs: 500 }))[0]!.outcome;
    try {
      await enforcement.apply(c);
      node = await FqdnNode.start(target, { netnsPath: topo!.nodeNetnsPath, queueNum: 4242, cache: { minTtlS: 1 } });

      // denied before any lookup; DNS itself allowed
      expect(await tcp(CLIENT, DB)).toBe('dropped');
      // allowed right after the answer (UDP): the first connection, no retry
      expect(await dig('db.example.test')).toEqual([DB]);
      expect(await tcp(CLIENT, DB)).toBe('open');
      if (backend instanceof NftablesBackend) {
        // the form in force: the learned address as a (client . db) pair, or in the client's own learned set
        const sets = (backend.listTable() as { nftables: { set?: { name: string; elem?: unknown[] } }[] }).nftables.flatMap((x) => (x.set ? [x.set] : []));
        const pairs = sets.filter((x) => /^c\d+v4$/.test(x.name)).flatMap((x) => (x.elem ?? []).map((e) => JSON.stringify(e)));
        if (pairRules === false) expect(pairs).toEqual([]);
        else expect(pairs.some((e) => e.includes(`"concat":["${CLIENT}","${DB}"]`))).toBe(true);
        expect(sets.some((x) => /^t\d+v4$/.test(x.name))).toBe(pairRules === false);
      }
      // scope: another subject pod that did not ask is denied
      expect(await tcp(OTHER, DB)).toBe('dropped');
      // a name not in the policy
      expect(await dig('other.test')).toEqual([NOT_ALLOWED]);
      expect(await tcp(CLIENT, NOT_ALLOWED)).toBe('dropped');
      // CNAME chain to a wildcard-matching target, over TCP DNS
      expect(await dig('www.shop.test', true)).toEqual([EDGE]);
      expect(await tcp(CLIENT, EDGE)).toBe('open');
      // 1,000 addresses in one answer (TCP)
      const many = await dig('many.example.test', true);
      expect(many.length).toBe(1000);
      expect(await tcp(CLIENT, MANY_LAST)).toBe('open');
      expect(await tcp(CLIENT, MANY_FIRST)).toBe('open');
      expect(node.stats().entries.filter((e) => e.name === 'many.example.test' && e.pod === 'app/client').length).toBe(1000);

      // a forged answer (source port 53, another pod) teaches nothing
      const forged = Buffer.from(dnsResponse({ question: 'db.example.test', answers: [{ name: 'db.example.test', type: 'A', ttl: 300, address: NOT_ALLOWED }] })).toString('hex');
      const before = node.stats().untrusted;
      await nsExec(nsOf('kube-system/forger'), ['python3', '-c', `import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(('${FORGER}',53));s.sendto(bytes.fromhex('${forged}'),('${CLIENT}',33333))`], { timeoutMs: 5000 });
      for (let i = 0; i < 20 && node.stats().untrusted === before; i++) await new Promise((r) => setTimeout(r, 50));
      expect(node.stats().untrusted).toBeGreaterThan(before);
      expect(await tcp(CLIENT, NOT_ALLOWED)).toBe('dropped');

      // TTL expiry (TTL 1 s, floor 1 s here): an established connection stays, new ones are denied
      expect(await dig('short.example.test')).toEqual([SHORT]);
      const py = `import socket,time\nc=socket.create_connection(('${SHORT}',${ECHO_PORT}),timeout=2)\nc.sendall(b'a');assert c.recv(1)==b'a'\nprint('up',flush=True)\ntime.sleep(4.5)\nc.sendall(b'b');print('after',c.recv(1).decode(),flush=True)\n`;
      let out = '';
      holder = spawn('ip', ['netns', 'exec', nsOf('app/client'), 'python3', '-c', py], { stdio: ['ignore', 'pipe', 'pipe'] });
      holder.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
      for (let i = 0; i < 40 && !out.includes('up'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(out).toContain('up');
      // past the expiry (1 s + the timer + the slowed write): bounded wait for the learner to retract it
      for (let i = 0; i < 60 && node.stats().entries.some((e) => e.name === 'short.example.test'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(node.stats().entries.some((e) => e.name === 'short.example.test')).toBe(false);
      await new Promise((r) => setTimeout(r, 400)); // the retraction's (slowed) kernel write
      expect(await tcp(CLIENT, SHORT, ECHO_PORT)).toBe('dropped');
      const exited = new Promise<number | null>((r) => holder!.on('exit', r));
      expect(await exited).toBe(0);
      expect(out).toContain('after b');

      // the learner down, steering left in place: the answer still arrives (--queue-bypass),
      // unlearned, so the connection is denied; restarted, the next lookup is learned again
      await node.stop({ keepSteering: true });
      node = undefined;
      expect(await dig('short.example.test')).toEqual([SHORT]);
      expect(await tcp(CLIENT, SHORT, ECHO_PORT)).toBe('dropped');
      const snapshotFile = join(dir, `learned-${name}.json`);
      node = await FqdnNode.start(target, { netnsPath: topo!.nodeNetnsPath, queueNum: 4242, cache: { minTtlS: 30 }, snapshotFile });
      expect(await dig('short.example.test')).toEqual([SHORT]);
      expect(await tcp(CLIENT, SHORT, ECHO_PORT)).toBe('open');
      const st = node.stats();
      // persisted across a restart (docs/fqdn.md §6): stopping retracts the learned addresses from
      // the kernel; the next process puts the snapshot's live entries back before it reads an
      // answer, so the first connection after the restart is allowed with no new lookup
      await node.stop({ keepSteering: true });
      node = undefined;
      expect(await tcp(CLIENT, SHORT, ECHO_PORT)).toBe('dropped');
      node = await FqdnNode.start(target, { netnsPath: topo!.nodeNetnsPath, queueNum: 4242, cache: { minTtlS: 30 }, snapshotFile });
      expect(await tcp(CLIENT, SHORT, ECHO_PORT)).toBe('open');
      expect(node.stats().entries.map((e) => e.name)).toContain('short.example.test');
      expect(st.held).toBeGreaterThan(0);
      console.log(`[fqdn ${name}] hold p50 ${st.holdP50Us.toFixed(0)} us p99 ${st.holdP99Us.toFixed(0)} us over ${st.released} answers`);
    } finally {
      await teardown(node, holder);
    }
  }
});

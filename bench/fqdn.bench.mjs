#!/usr/bin/env node
/**
 * FQDN learner benchmarks (issue 13; docs/fqdn.md), run by `npm run bench` as root:
 *   - answer-to-kernel hold per backend: a DNS answer (IPv4/UDP from the kube-dns pod to a pod,
 *     one new A record each) handed to the learner (src/fqdn/learner.ts) until the learned
 *     address is in the kernel through Enforcement.learn -> Backend.applyDeltas, on nftables,
 *     eBPF and nfqueue in a real node namespace (src/topology); p50/p99 over 300 answers. The
 *     queue's own receive and verdict (addon/napi/dnsqueue.cc, one recv + one sendmsg) are not in
 *     this figure; the traffic test prints the hold measured from the queue (test/fqdn).
 *   - answers learned per second on one core: parse + chain walk + cache, kernel write excluded
 *     (apply resolves at once), batches of 64 answers, pinned to CPU 1 when taskset exists.
 *   - bytes per learned address: heap growth of the learner's cache for 100,000 entries (gc'd).
 * Last stdout line: one JSON object (dnsHoldP50Us / dnsHoldP99Us (worst backend), per-backend
 * holds, answersPerSecond, bytesPerAddress).
 * Not root: says so and exits 0.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const dist = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);

if (process.getuid?.() !== 0) {
  console.log('fqdn bench: needs root (network namespaces, kernel tables); skipped');
  console.log(JSON.stringify({ skipped: 'not root' }));
  process.exit(0);
}

const { DnsLearner } = await dist('src/fqdn/learner.js');
const { Enforcement } = await dist('src/enforce/enforcement.js');
const { createBackend } = await dist('backends/registry.js');
const { safeParseCluster } = await dist('src/manifests/cluster.js');
const { buildTopology } = await dist('src/topology/topology.js');
const { parseIp } = await dist('src/model/ip.js');

const DNS = '10.244.1.53';
const CLIENT = '10.244.1.10';
const YAML = `apiVersion: v1
kind: Namespace
metadata: { name: kube-system }
---
apiVersion: v1
kind: Namespace
metadata: { name: app }
---
apiVersion: v1
kind: Pod
metadata: { name: dns, namespace: kube-system, labels: { k8s-app: kube-dns } }
status: { podIPs: [ { ip: ${DNS} } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: client, namespace: app, labels: { app: client } }
status: { podIPs: [ { ip: ${CLIENT} } ] }
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: { name: fqdn-egress }
spec:
  tier: Admin
  priority: 10
  subject: { namespaces: { matchLabels: { kubernetes.io/metadata.name: app } } }
  egress:
  - { name: names, action: Accept, to: [ { domainNames: [ "*.example.test" ] } ] }
  - { name: rest, action: Deny, to: [ { networks: [ 10.244.0.0/16 ] } ] }
`;

/** An IPv4/UDP packet from DNS:53 to CLIENT carrying an answer `name A address` (TTL 300). */
export function answerPacket(name, address) {
  const enc = [];
  for (const l of name.split('.')) enc.push(l.length, ...Buffer.from(l));
  enc.push(0);
  const dns = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, ...enc, 0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, ...address.split('.').map(Number)];
  const udpLen = 8 + dns.length;
  const total = 20 + udpLen;
  const ip4 = (t) => t.split('.').map(Number);
  return Uint8Array.from([0x45, 0, total >> 8, total & 255, 0, 0, 0, 0, 64, 17, 0, 0, ...ip4(DNS), ...ip4(CLIENT), 0, 53, 0x9c, 0x40, udpLen >> 8, udpLen & 255, 0, 0, ...dns]);
}

const addr = (i) => `10.${100 + ((i >> 16) & 0x7f)}.${(i >> 8) & 255}.${i & 255}`;
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

if (process.argv[2] === '--child-rate') {
  await childRate();
  process.exit(0);
}

async function holdFor(name, topo, cluster) {
  const backend = await createBackend(name, { netnsPath: topo.nodeNetnsPath, ...(name === 'ebpf' ? { tag: `fqdnbench-${process.pid}` } : {}) });
  const enforcement = new Enforcement(backend);
  try {
    await enforcement.apply(cluster);
    const pods = new Map([[CLIENT, 'app/client']]);
    const learner = new DnsLearner({
      trustedResolvers: () => new Set([DNS]),
      podOf: (ip) => pods.get(ip.text),
      apply: async (a, r) => void (await enforcement.learn(a, r)),
      expiryTimer: false,
    });
    const samples = [];
    for (let i = 0; i < 330; i++) {
      const p = answerPacket(`h${i}.example.test`, addr(i));
      const t0 = performance.now();
      await learner.handle([p]);
      if (i >= 30) samples.push((performance.now() - t0) * 1000);
    }
    if (learner.cache.size !== 330) throw new Error(`learned ${learner.cache.size} of 330`);
    return { p50: pct(samples, 0.5), p99: pct(samples, 0.99) };
  } finally {
    await enforcement.remove().catch(() => undefined);
    await backend.close().catch(() => undefined);
  }
}

async function childRate() {
  const { DnsLearner } = await dist('src/fqdn/learner.js');
  const { LearnedCache } = await dist('src/fqdn/cache.js');
  const { learnedFacts, parseDnsResponse } = await dist('src/fqdn/dns.js');
  const pods = new Map([[CLIENT, 'app/client']]);
  const learner = new DnsLearner({ trustedResolvers: () => new Set([DNS]), podOf: (ip) => pods.get(ip.text), apply: async () => undefined, expiryTimer: false, cache: { maxEntries: 1 << 22 } });
  const N = 200_000;
  const packets = Array.from({ length: N }, (_, i) => answerPacket(`h${i}.example.test`, addr(i)));
  for (let i = 0; i < 20_000; i += 64) await learner.handle(packets.slice(i, i + 64)); // warm-up
  const t0 = performance.now();
  for (let i = 20_000; i < N; i += 64) await learner.handle(packets.slice(i, i + 64));
  const answersPerSecond = (N - 20_000) / ((performance.now() - t0) / 1000);
  // bytes per learned address: the cache alone, 100,000 entries
  const facts = [];
  for (let i = 0; i < 100_000; i++) {
    const p = parseDnsResponse(packets[i].subarray(28));
    facts.push(...learnedFacts(p.response));
  }
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  const cache = new LearnedCache({ maxEntries: 1 << 20 });
  for (let i = 0; i < facts.length; i += 64) cache.learn('app/client', 'q', facts.slice(i, i + 64), 0);
  globalThis.gc();
  const bytesPerAddress = (process.memoryUsage().heapUsed - before) / cache.size;
  console.log(JSON.stringify({ answersPerSecond: Math.round(answersPerSecond), bytesPerAddress: Math.round(bytesPerAddress) }));
}

// ---- one core: the learner without the kernel --------------------------------------------------
const taskset = spawnSync('taskset', ['--version']).status === 0;
const argv = ['--expose-gc', fileURLToPath(import.meta.url), '--child-rate'];
const rateRun = taskset ? spawnSync('taskset', ['-c', '1', process.execPath, ...argv], { encoding: 'utf8' }) : spawnSync(process.execPath, argv, { encoding: 'utf8' });
if (rateRun.status !== 0) throw new Error(`rate child failed: ${rateRun.stderr}`);
const rate = JSON.parse(rateRun.stdout.trim().split('\n').pop());
console.log(`learner on one core${taskset ? ' (CPU 1)' : ''}: ${rate.answersPerSecond} answers/s; cache: ${rate.bytesPerAddress} bytes per learned address (100,000 entries)`);

// ---- per backend: answer to kernel ---------------------------------------------------------------
const parsed = safeParseCluster(YAML, 'fqdn.bench.yaml');
if (!parsed.cluster) throw new Error('bench cluster rejected');
const topo = await buildTopology(parsed.cluster, { tag: 'fqdnb', externals: [parseIp('10.244.200.1')] });
const holds = {};
try {
  for (const name of ['nftables', 'ebpf', 'nfqueue']) {
    holds[name] = await holdFor(name, topo, parsed.cluster);
    console.log(`${name}: answer to kernel p50 ${holds[name].p50.toFixed(0)} us, p99 ${holds[name].p99.toFixed(0)} us (300 answers, one new address each)`);
  }
} finally {
  await topo.destroy();
}
const worst = Math.max(...Object.values(holds).map((h) => h.p99));
console.log(
  JSON.stringify({
    dnsHoldP99Us: Math.round(worst),
    dnsHoldP50Us: Math.round(Math.max(...Object.values(holds).map((h) => h.p50))),
    ...Object.fromEntries(Object.entries(holds).flatMap(([k, h]) => [[`${k}HoldP50Us`, Math.round(h.p50)], [`${k}HoldP99Us`, Math.round(h.p99)]])),
    answersPerSecond: rate.answersPerSecond,
    bytesPerAddress: rate.bytesPerAddress,
  }),
);

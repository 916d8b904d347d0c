#!/usr/bin/env node
/**
 * FQDN learner benchmarks (issue 13; docs/fqdn.md), run by `npm run bench` as root:
 *   - the whole hold of a DNS answer per backend, on real packets: a helper process (python3,
 *     one socket in the kube-dns pod's namespace, one in the client pod's, setns(2)) sends
 *     IPv4/UDP answers from DNS:53 to the client (one new A record each; the client sends a
 *     query first, so the answers are replies of an established flow) through the node
 *     namespace, where the learner (src/fqdn/node.ts: steering, the native queue, the learner,
 *     Enforcement.learn -> Backend.applyDeltas on nftables, eBPF and nfqueue) holds each until its
 *     address is in the kernel. Two figures per backend:
 *       * delivery: send -> the client's recv, measured by the helper (CLOCK_MONOTONIC), the
 *         answer's whole delay as the pod sees it; and the same path with no learner (no
 *         steering) as the floor;
 *       * hold, measured in the queue code (src/fqdn/queue.ts): the kernel's timestamp of the
 *         packet (NFQA_TIMESTAMP) -> the verdict sent, split into queue / recv / dispatch / wait /
 *         learn / write / verdict; paced (one answer every 2 ms, 330, 30 warm-up) and in bursts
 *         (10 x 32 back to back: the merged batches);
 *     and what the tails are: every hold over 1 ms is listed with its largest stage and whether a
 *     GC (perf_hooks 'gc' entries) or an event-loop stall overlapped it; the load average.
 *   - answers learned per second on one core: parse + chain walk + cache, kernel write excluded
 *     (apply resolves at once), batches of 64 answers, pinned to CPU 1 when taskset exists.
 *   - bytes per learned address: heap growth of the learner's cache for 100,000 entries (gc'd).
 * Last stdout line: one JSON object (dnsHoldP50Us / dnsHoldP99Us: the worst backend's paced
 * hold; per backend <b>HoldP50Us/<b>HoldP99Us, <b>DeliveryP50Us/<b>DeliveryP99Us, burst p99;
 * answersPerSecond, bytesPerAddress).
 * PALISADE_ROOT=DIR runs the same bench over another checkout's dist/ (A/B); a dist without the
 * queue's stage split (FqdnNode.holdSamples) reports delivery and its own stats() hold only.
 * FQDN_BENCH_BACKENDS=nfqueue[,...] runs only those backends' holds; FQDN_BENCH_PRELEARN=N first
 * learns N other names for the client (Enforcement.learn, one call, expiring in 10 minutes), so
 * every held answer is written next to at least N learned members.
 * Not root: says so and exits 0.
 */
import { spawn, spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';

const ROOT = process.env.PALISADE_ROOT ?? fileURLToPath(new URL('../', import.meta.url));
const dist = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);

if (process.getuid?.() !== 0) {
  console.log('fqdn bench: needs root (network namespaces, kernel tables); skipped');
  console.log(JSON.stringify({ skipped: 'not root' }));
  process.exit(0);
}

const { FqdnNode } = await dist('src/fqdn/node.js');
const { learnTarget } = await dist('src/fqdn/start.js');
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
  - name: dns
    action: Accept
    to: [ { pods: { namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: kube-system } }, podSelector: { matchLabels: { k8s-app: kube-dns } } } } ]
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

// one process, two namespaces: the sender in the kube-dns pod's, the receiver in the client's
const HELPER = String.raw`
import ctypes, json, os, socket, sys, time
cfg = json.load(sys.stdin)
libc = ctypes.CDLL(None, use_errno=True)
def enter(ns):
    fd = os.open('/run/netns/' + ns, os.O_RDONLY)
    if libc.setns(fd, 0x40000000) != 0: raise OSError(ctypes.get_errno(), 'setns ' + ns)
    os.close(fd)
enter(cfg['clientNs'])
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); rx.bind((cfg['client'], cfg['port'])); rx.settimeout(2.0)
enter(cfg['dnsNs'])
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); tx.bind((cfg['dns'], 53))
payloads = [bytes.fromhex(h) for h in cfg['payloads']]
index = {p: i for i, p in enumerate(payloads)}
lat = [-1.0] * len(payloads)
size = cfg['burst']
tx.settimeout(2.0)
for k in range(0, len(payloads), size):
    sent = {}
    # the client asks first (one query per batch): the answers are replies of a known flow
    # (conntrack ESTABLISHED), as real DNS answers are, not new flows the policy classifies
    rx.sendto(b'q', (cfg['dns'], 53))
    _, peer = tx.recvfrom(64)
    for i in range(k, min(k + size, len(payloads))):
        sent[i] = time.monotonic_ns(); tx.sendto(payloads[i], peer)
    for _ in range(len(sent)):
        try: d, _ = rx.recvfrom(70000)
        except socket.timeout: break
        t = time.monotonic_ns(); i = index.get(d)
        if i is not None and i in sent: lat[i] = (t - sent[i]) / 1000.0
    time.sleep(cfg['gapMs'] / 1000.0)
print(json.dumps(lat))
`;

/** Send the answers' DNS payloads from DNS:53 to CLIENT, `burst` at a time; microseconds each (-1: lost). */
function deliver(topo, payloads, burst, gapMs) {
  const ns = (who) => topo.hosts.find((h) => h.name === who).netns;
  const cfg = { dnsNs: ns('kube-system/dns'), clientNs: ns('app/client'), dns: DNS, client: CLIENT, port: 40000, burst, gapMs, payloads: payloads.map((p) => Buffer.from(p.subarray(28)).toString('hex')) };
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', HELPER], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`helper failed (${code}): ${err}`));
      else resolve(JSON.parse(out.trim()));
    });
    child.stdin.end(JSON.stringify(cfg));
  });
}

const PACED = 330;
const BACKENDS = (process.env.FQDN_BENCH_BACKENDS ?? 'nftables,ebpf,nfqueue').split(',').filter(Boolean);
const PRELEARN = Number(process.env.FQDN_BENCH_PRELEARN ?? 0);
const WARM = 30;
const BURSTS = 10;
const BURST = 32;
const STAGES = ['queue', 'recv', 'dispatch', 'wait', 'learn', 'write', 'verdict'];
const gcs = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push({ startMs: e.startTime, durMs: e.duration, kind: e.detail?.kind ?? e.kind });
}).observe({ entryTypes: ['gc'] });
/** CLOCK_MONOTONIC ns -> performance.now() ms */
const perfOffsetNs = Number(process.hrtime.bigint()) - performance.now() * 1e6;
const stageStats = (xs) => Object.fromEntries(STAGES.map((k) => [k, { p50: pct(xs.map((x) => x[k]), 0.5), p99: pct(xs.map((x) => x[k]), 0.99) }]));

/** The tails: every hold over 1 ms, its largest stage, and whether a GC overlapped it. */
function tailsOf(samples) {
  return samples
    .filter((x) => x.totalUs > 1000)
    .map((x) => {
      const endMs = (x.verdictNs - perfOffsetNs) / 1e6;
      const startMs = endMs - x.totalUs / 1000;
      const gc = gcs.filter((g) => g.startMs < endMs && g.startMs + g.durMs > startMs);
      const stage = STAGES.reduce((m, k) => (x[k] > x[m] ? k : m), STAGES[0]);
      return { totalUs: Math.round(x.totalUs), stage, stageUs: Math.round(x[stage]), gcMs: +gc.reduce((t, g) => t + g.durMs, 0).toFixed(2) };
    });
}

async function holdFor(name, topo, cluster) {
  const backend = await createBackend(name, { netnsPath: topo.nodeNetnsPath, ...(name === 'ebpf' ? { tag: `fqdnbench-${process.pid}` } : {}) });
  const enforcement = new Enforcement(backend);
  let node;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  try {
    await enforcement.apply(cluster);
    if (PRELEARN > 0) {
      const expiresAtMs = Date.now() + 600_000;
      await enforcement.learn(Array.from({ length: PRELEARN }, (_, i) => ({ pod: 'app/client', name: `p${i}.example.test`, address: parseIp(addr(100_000 + i)), expiresAtMs })));
    }
    node = await FqdnNode.start(learnTarget(enforcement), { netnsPath: topo.nodeNetnsPath, queueNum: 4242, dnsServers: [DNS] });
    loop.enable();
    const paced = await deliver(topo, Array.from({ length: PACED }, (_, i) => answerPacket(`h${i}.example.test`, addr(i))), 1, 2);
    const stages = typeof node.holdSamples === 'function';
    const pacedSamples = stages ? node.holdSamples().slice(WARM) : [];
    const mainStats = node.stats(); // a dist without holdSamples: its own hold figure (recv -> verdict)
    const burst = await deliver(topo, Array.from({ length: BURSTS * BURST }, (_, i) => answerPacket(`b${i}.example.test`, addr(PACED + i))), BURST, 20);
    loop.disable();
    const burstSamples = stages ? node.holdSamples().slice(PACED) : [];
    const learned = node.stats().addresses;
    const st = node.stats();
    const delivered = paced.slice(WARM).filter((x) => x >= 0);
    const burstDelivered = burst.filter((x) => x >= 0);
    return {
      learned,
      lost: paced.filter((x) => x < 0).length + burst.filter((x) => x < 0).length,
      deliveryP50: pct(delivered, 0.5),
      deliveryP99: pct(delivered, 0.99),
      burstDeliveryP99: pct(burstDelivered, 0.99),
      holdP50: stages ? pct(pacedSamples.map((x) => x.totalUs), 0.5) : mainStats.holdP50Us,
      holdP99: stages ? pct(pacedSamples.map((x) => x.totalUs), 0.99) : mainStats.holdP99Us,
      burstHoldP99: stages ? pct(burstSamples.map((x) => x.totalUs), 0.99) : undefined,
      stages: stages ? stageStats(pacedSamples) : undefined,
      burstStages: stages ? stageStats(burstSamples) : undefined,
      kernelStamped: st.kernelStamped,
      verdictMessages: st.verdictMessages,
      released: st.released,
      tails: stages ? tailsOf(pacedSamples) : [],
      burstTails: stages ? tailsOf(burstSamples).length : undefined,
      loopP99Us: loop.percentile(99) / 1000,
      loopMaxUs: loop.max / 1000,
    };
  } finally {
    loop.disable();
    await node?.stop().catch(() => undefined);
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

// ---- per backend: the whole hold, on real packets -------------------------------------------------
const parsed = safeParseCluster(YAML, 'fqdn.bench.yaml');
if (!parsed.cluster) throw new Error('bench cluster rejected');
const fmt = (us) => (us === undefined ? '-' : us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${Math.round(us)} us`);
const load0 = loadavg();
const topo = await buildTopology(parsed.cluster, { tag: 'fqdnb', externals: [parseIp('10.244.200.1')] });
const holds = {};
const tailSummary = {};
let floor;
try {
  // the floor: the same path with no learner and no policy (no steering: nothing is held)
  const bare = await deliver(topo, Array.from({ length: PACED }, (_, i) => answerPacket(`f${i}.example.test`, addr(i))), 1, 2);
  floor = { p50: pct(bare.slice(WARM), 0.5), p99: pct(bare.slice(WARM), 0.99) };
  console.log(`no learner (floor): delivery p50 ${fmt(floor.p50)}, p99 ${fmt(floor.p99)}`);
  if (PRELEARN > 0) console.log(`${PRELEARN} names learned before each backend's answers`);
  for (const name of BACKENDS) {
    const gc0 = gcs.length;
    const h = await holdFor(name, topo, parsed.cluster);
    holds[name] = h;
    if (h.learned !== PACED + BURSTS * BURST) throw new Error(`${name}: learned ${h.learned} of ${PACED + BURSTS * BURST}`);
    console.log(`${name}: hold (kernel stamp -> verdict) p50 ${fmt(h.holdP50)}, p99 ${fmt(h.holdP99)}; burst p99 ${fmt(h.burstHoldP99)}; delivery p50 ${fmt(h.deliveryP50)}, p99 ${fmt(h.deliveryP99)}, burst p99 ${fmt(h.burstDeliveryP99)}; lost ${h.lost}`);
    if (h.stages) console.log(`  stages p50/p99: ${STAGES.map((k) => `${k} ${fmt(h.stages[k].p50)}/${fmt(h.stages[k].p99)}`).join(', ')}`);
    if (h.burstStages) console.log(`  burst stages p99: ${STAGES.map((k) => `${k} ${fmt(h.burstStages[k].p99)}`).join(', ')}; verdict messages ${h.verdictMessages} for ${h.released} answers; kernel-stamped ${h.kernelStamped}`);
    const byStage = {};
    for (const t of h.tails) byStage[t.stage] = (byStage[t.stage] ?? 0) + 1;
    const worst = [...h.tails].sort((a, b) => b.totalUs - a.totalUs).slice(0, 5);
    console.log(`  event loop delay p99 ${fmt(h.loopP99Us)} max ${fmt(h.loopMaxUs)}; GCs ${gcs.length - gc0} (${gcs.slice(gc0).reduce((t, g) => t + g.durMs, 0).toFixed(1)} ms)`);
    console.log(`  paced holds > 1 ms: ${h.tails.length} of ${PACED - WARM}; largest stage: ${Object.entries(byStage).map(([k, n]) => `${k} ${n}`).join(', ') || '-'}; with a GC overlapping: ${h.tails.filter((t) => t.gcMs > 0).length}; burst holds > 1 ms: ${h.burstTails ?? '-'} of ${BURSTS * BURST}`);
    if (worst.length) console.log(`  worst: ${worst.map((t) => `${fmt(t.totalUs)} (${t.stage} ${fmt(t.stageUs)}${t.gcMs ? `, gc ${t.gcMs} ms` : ''})`).join('; ')}`);
    tailSummary[name] = { over1ms: h.tails.length, byStage, withGc: h.tails.filter((t) => t.gcMs > 0).length };
  }
} finally {
  await topo.destroy();
}
const load1 = loadavg();
console.log(`load average ${load0.map((x) => x.toFixed(2)).join(' ')} at start, ${load1.map((x) => x.toFixed(2)).join(' ')} at end`);
const round = (x) => (x === undefined ? undefined : Math.round(x));
console.log(
  JSON.stringify({
    dnsHoldP99Us: round(Math.max(...Object.values(holds).map((h) => h.holdP99))),
    dnsHoldP50Us: round(Math.max(...Object.values(holds).map((h) => h.holdP50))),
    ...Object.fromEntries(
      Object.entries(holds).flatMap(([k, h]) => [
        [`${k}HoldP50Us`, round(h.holdP50)],
        [`${k}HoldP99Us`, round(h.holdP99)],
        [`${k}BurstHoldP99Us`, round(h.burstHoldP99)],
        [`${k}DeliveryP50Us`, round(h.deliveryP50)],
        [`${k}DeliveryP99Us`, round(h.deliveryP99)],
      ]),
    ),
    floorDeliveryP50Us: round(floor.p50),
    floorDeliveryP99Us: round(floor.p99),
    answersPerSecond: rate.answersPerSecond,
    bytesPerAddress: rate.bytesPerAddress,
    loadAverage1m: +load1[0].toFixed(2),
    tails: tailSummary,
  }),
);

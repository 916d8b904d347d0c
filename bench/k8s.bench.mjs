#!/usr/bin/env node
/**
 * Kubernetes-shaped benchmark (issue 6 build point 7): a generated cluster of 5,000 pods in 500
 * namespaces with 1,000 policies (70% NetworkPolicy, 30% ClusterNetworkPolicy):
 *   - compile time (normalized Cluster -> Engine: resolution + lowering + classifier build),
 *   - lookup ns per flow (engine batch over the native classifier, both directions + Pass;
 *     engine single lookup; the reference evaluator for scale),
 *   - one pod add and one pod relabel applied to the classifier (Engine.update: resolution
 *     deltas + one published set-edit batch per direction).
 * Every answer of a sample is first checked against the reference evaluator.
 * Reads dist/ (run `npm run build` first; `npm run bench` does). Prints a markdown table, then as
 * its last line one JSON object of the headline figures (keys in bench/RESULTS.md).
 * Usage: node bench/k8s.bench.mjs [--namespaces N] [--pods-per-namespace P] [--policies K]
 */
import { Bench } from 'tinybench';
import os from 'node:os';
import { generateCluster, podObject, rng, APPS } from './generate-cluster.mjs';

const dist = new URL('../dist/src/', import.meta.url);
const { compile, encodeFlows, parseIp, ReferenceEvaluator, nativeAvailable } = await import(new URL('index.js', dist).href);
const { buildCluster } = await import(new URL('manifests/cluster.js', dist).href);
const { toPod } = await import(new URL('manifests/normalize.js', dist).href);

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const shape = { namespaces: arg('namespaces', 500), podsPerNamespace: arg('pods-per-namespace', 10), nodes: 50, policies: arg('policies', 1000), seed: 42 };

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
};
const nowNs = () => process.hrtime.bigint();
/** JSON with sorted keys and bigints as text: equal values print equal. */
const canon = (v) =>
  JSON.stringify(v, (_k, x) =>
    typeof x === 'bigint' ? x.toString() : x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x,
  );

// ---- the cluster ----------------------------------------------------------------------------
const gen = generateCluster(shape);
let t0 = nowNs();
const built = buildCluster(gen.objects.map((obj) => ({ obj, file: '<generated>' })));
const loadMs = Number(nowNs() - t0) / 1e6;
if (!built.cluster) {
  console.error(built.problems.filter((p) => p.severity === 'error').slice(0, 5));
  throw new Error('generated cluster rejected');
}
const cluster = built.cluster;
const classifier = nativeAvailable() ? 'native' : 'ts';

// ---- compile ----------------------------------------------------------------------------------
// the first compile runs cold (a fresh process, as the CLI does); the rest warm (as an agent
// recompiling on a policy change). Wall and CPU time both: this 2-core machine is shared.
const compileMs = [];
const compileCpuMs = [];
let engine;
for (let k = 0; k < 8; k++) {
  const c0 = process.cpuUsage();
  t0 = nowNs();
  engine = compile(cluster, { classifier });
  compileMs.push(Number(nowNs() - t0) / 1e6);
  const c1 = process.cpuUsage(c0);
  compileCpuMs.push((c1.user + c1.system) / 1000);
}
const coldMs = compileMs.shift();
const coldCpuMs = compileCpuMs.shift();
const rs = engine.ruleSet;

// ---- flows ------------------------------------------------------------------------------------
const r = rng(7);
const podIps = cluster.pods.map((p) => p.ips.find((i) => i.family === 4));
const nodeIps = cluster.nodes.map((n) => n.addresses[0]);
const externals = ['8.8.8.8', '169.254.169.254', '1.1.1.1', '10.20.0.5'].map(parseIp);
const PORTS = [80, 8080, 9090, 5432, 443, 10250, 8445, 31000];
const N = 1 << 16;
const flows = [];
for (let k = 0; k < N; k++) {
  const x = r.next();
  const src = x < 0.9 ? r.pick(podIps) : r.pick(nodeIps);
  const y = r.next();
  const dst = y < 0.85 ? r.pick(podIps) : y < 0.92 ? r.pick(externals) : r.pick(nodeIps);
  const udp = r.next() < 0.1;
  flows.push({ src, dst, protocol: udp ? 'UDP' : 'TCP', dstPort: udp ? 53 : r.pick(PORTS), srcPort: 40000 + (k & 0x3fff) });
}
const batch = encodeFlows(4, flows);
const out = { verdict: new Uint8Array(N), egressRule: new Int32Array(N), ingressRule: new Int32Array(N) };

// correctness first: a sample against the reference evaluator (verdict and deciding rule)
const ref = new ReferenceEvaluator(cluster);
engine.lookupBatch(batch, out);
let sampleChecked = 0;
let refNs = 0;
for (let k = 0; k < N; k += 16) {
  const t = nowNs();
  const v = ref.evaluate(flows[k]);
  refNs += Number(nowNs() - t);
  const e = engine.explain(flows[k]);
  const same = canon(e) === canon(v) && (out.verdict[k] === 1) === (v.verdict === 'allow');
  if (!same) throw new Error(`engine and reference disagree on flow ${k}: ${canon(flows[k])}`);
  sampleChecked++;
}
refNs /= sampleChecked;
let allowed = 0;
for (let k = 0; k < N; k++) allowed += out.verdict[k];

// ---- lookups (tinybench) ----------------------------------------------------------------------
const bench = new Bench({ time: 1500, warmupTime: 300 });
let single = 0;
bench
  .add(`engine.lookupBatch (${N} IPv4 flows)`, () => {
    engine.lookupBatch(batch, out);
  })
  .add('engine.lookup (single flow)', () => {
    engine.lookup(flows[single++ & (N - 1)]);
  });
await bench.run();
const lat = (name) => bench.tasks.find((t) => t.name === name).result.latency.p50; // ms
const batchNs = (lat(`engine.lookupBatch (${N} IPv4 flows)`) * 1e6) / N;
// CPU time too (the machine is shared): 10 batches
const cpuBatch = (() => {
  const c0 = process.cpuUsage();
  for (let k = 0; k < 10; k++) engine.lookupBatch(batch, out);
  const c1 = process.cpuUsage(c0);
  return ((c1.user + c1.system) * 1000) / (10 * N);
})();
const singleNs = lat('engine.lookup (single flow)') * 1e6;

// Where the classifier's time goes: the egress classifier alone, with its full membership loaded
// and (a) all its rules, (b) a single rule: (b) is the cost of the two set-membership lookups.
let split = null;
if (classifier === 'native') {
  const { NativeDirectionClassifier } = await import(new URL('engine/native-classifier.js', dist).href);
  const res = engine.resolution;
  const egress = rs.egress;
  const used = new Set(egress.rules.flatMap((x) => (x.peer === null ? [x.subject] : [x.subject, x.peer])));
  const sets = new Map([...used].map((id) => [id, res.prefixes(id)]));
  const ids = new Int32Array(N);
  const hostsOnly = new Map([...sets].map(([id, cs]) => [id, cs.filter((c) => c.prefixLen === (c.family === 4 ? 32 : 128))]));
  const time = (rules, members = sets) => {
    const b = new NativeDirectionClassifier();
    b.loadSets(members);
    b.publishRules({ ...egress, rules });
    b.lookupBatch(batch, 0, ids);
    const runs = [];
    const c0 = process.cpuUsage();
    for (let k = 0; k < 5; k++) {
      const t = nowNs();
      b.lookupBatch(batch, 0, ids);
      runs.push(Number(nowNs() - t) / N);
    }
    const c1 = process.cpuUsage(c0);
    return { wall: median(runs), cpu: ((c1.user + c1.system) * 1000) / (5 * N) };
  };
  split = { all: time(egress.rules), one: time(egress.rules.slice(0, 1)), hostsOne: time(egress.rules.slice(0, 1), hostsOnly), v4Lengths: new Set([...sets.values()].flat().filter((c) => c.family === 4 && c.prefixLen < 32).map((c) => c.prefixLen)).size };
}

// ---- updates: one pod add, one pod relabel (applied to the classifier) --------------------------
// Collect the garbage of the compiles and lookups above first, so that their collection is not
// billed to the updates (garbage the updates make themselves still is).
{
  const v8 = await import('node:v8');
  const vm = await import('node:vm');
  v8.setFlagsFromString('--expose-gc');
  vm.runInNewContext('gc')();
}
const ADDS = 300;
const addUs = [];
const removeUs = [];
const relabelUs = [];
const addCpuUs = [];
const relabelCpuUs = [];
const cpuNow = () => {
  const c = process.cpuUsage();
  return c.user + c.system;
};
let addDeltas = 0;
let rebuilds = 0;
const ur = rng(99);
// The first updates in a process run cold code (p99 of a cold loop is JIT warm-up, not the
// update): the first one is reported on its own, then 50 untimed add/remove cycles warm up.
let firstAddUs;
{
  const obj = podObject(ur, 'ns-001', 'warm-first', 19000, shape.nodes);
  const pod = toPod(obj, { file: '<bench>' });
  const t = nowNs();
  const u = engine.update({ kind: 'pod', pod });
  firstAddUs = Number(nowNs() - t) / 1e3;
  if (u.rebuilt) throw new Error('the first pod add rebuilt the rule set');
  engine.update({ kind: 'pod-removed', namespace: pod.namespace, name: pod.name });
  for (let k = 0; k < 50; k++) {
    const w = toPod(podObject(ur, `ns-${String(ur.int(0, shape.namespaces - 1)).padStart(3, '0')}`, `warm-${k}`, 19001 + k, shape.nodes), { file: '<bench>' });
    engine.update({ kind: 'pod', pod: w });
    const victim = cluster.pods[ur.int(0, cluster.pods.length - 1)];
    engine.update({ kind: 'pod', pod: { ...victim, labels: { ...victim.labels, app: 'warm' } } });
    engine.update({ kind: 'pod', pod: victim });
    engine.update({ kind: 'pod-removed', namespace: w.namespace, name: w.name });
  }
}
for (let k = 0; k < ADDS; k++) {
  const ns = `ns-${String(ur.int(0, shape.namespaces - 1)).padStart(3, '0')}`;
  const obj = podObject(ur, ns, `bench-${k}`, 20000 + k, shape.nodes);
  const pod = toPod(obj, { file: '<bench>' });
  let c = cpuNow();
  let t = nowNs();
  const u = engine.update({ kind: 'pod', pod });
  addUs.push(Number(nowNs() - t) / 1e3);
  addCpuUs.push(cpuNow() - c);
  addDeltas += u.deltas.length;
  if (u.rebuilt) rebuilds++;
  // relabel an existing pod to another app, then back
  const victim = cluster.pods[ur.int(0, cluster.pods.length - 1)];
  const relabelled = { ...victim, labels: { ...victim.labels, app: APPS[(APPS.indexOf(victim.labels.app) + 1) % APPS.length] } };
  c = cpuNow();
  t = nowNs();
  const u2 = engine.update({ kind: 'pod', pod: relabelled });
  relabelUs.push(Number(nowNs() - t) / 1e3);
  relabelCpuUs.push(cpuNow() - c);
  if (u2.rebuilt) rebuilds++;
  engine.update({ kind: 'pod', pod: victim });
  t = nowNs();
  engine.update({ kind: 'pod-removed', namespace: pod.namespace, name: pod.name });
  removeUs.push(Number(nowNs() - t) / 1e3);
}
// after all that churn the engine still answers like the reference on the same cluster
const after = new ReferenceEvaluator(engine.cluster());
for (let k = 0; k < N; k += 64) {
  if (canon(engine.explain(flows[k])) !== canon(after.evaluate(flows[k]))) throw new Error(`mismatch after updates on flow ${k}`);
}

// ---- report -------------------------------------------------------------------------------------
const fmt = (x, d = 1) => x.toFixed(d);
const lines = [
  `### Kubernetes-shaped (bench/k8s.bench.mjs)`,
  ``,
  `Machine: ${os.cpus()[0].model}, ${os.cpus().length} cores, Node ${process.version}; classifier: ${classifier}; load average at the end ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}. ` +
    `Command: \`node bench/run.mjs k8s\` (or \`node bench/k8s.bench.mjs\` after \`npm run build\`).`,
  `Cluster: ${cluster.namespaces.length} namespaces, ${cluster.pods.length} pods (dual-stack), ${cluster.nodes.length} nodes, ${cluster.networkPolicies.length} NetworkPolicies + ${cluster.clusterPolicies.length} ClusterNetworkPolicies ` +
    `-> ${rs.egress.rules.length} egress + ${rs.ingress.rules.length} ingress rules over ${engine.resolution.setCount} address sets.`,
  `Checked first: ${sampleChecked} flows explain-equal to the reference evaluator (and again after the update churn); ${((100 * allowed) / N).toFixed(1)}% of the flows are allowed.`,
  ``,
  `| measure | median | target |`,
  `|---|---|---|`,
  `| compile, cold (first in the process) | ${fmt(coldMs)} ms wall, ${fmt(coldCpuMs)} ms CPU | <= 500 ms |`,
  `| compile, warm (median of ${compileMs.length}) | ${fmt(median(compileMs))} ms wall, ${fmt(median(compileCpuMs))} ms CPU | <= 500 ms |`,
  `| manifests -> validated Cluster (once, for scale) | ${fmt(loadMs)} ms | - |`,
  `| lookup, engine batch of ${N} IPv4 flows (both directions) | ${fmt(batchNs)} ns/flow wall, ${fmt(cpuBatch)} ns/flow CPU | - |`,
  `| lookup, engine single flow | ${fmt(singleNs)} ns | - |`,
  ...(split
    ? [
        `| native egress classifier alone, batch, all ${rs.egress.rules.length} rules | ${fmt(split.all.wall)} ns/flow wall, ${fmt(split.all.cpu)} CPU | - |`,
        `| native egress classifier alone, batch, 1 rule, same membership | ${fmt(split.one.wall)} ns/flow wall, ${fmt(split.one.cpu)} CPU | - |`,
        `| native egress classifier alone, batch, 1 rule, host members only (CIDR members dropped) | ${fmt(split.hostsOne.wall)} ns/flow wall, ${fmt(split.hostsOne.cpu)} CPU | - |`,
      ]
    : []),
  `| reference evaluator (for scale) | ${fmt(refNs / 1000)} µs/flow | - |`,
  `| one pod add applied to the classifier | ${fmt(median(addUs))} µs wall (p99 ${fmt(pct(addUs, 0.99))}), CPU p50 ${fmt(median(addCpuUs), 0)} µs / p99 ${fmt(pct(addCpuUs, 0.99), 0)} µs | <= 1 ms |`,
  `| one pod relabel applied to the classifier | ${fmt(median(relabelUs))} µs wall (p99 ${fmt(pct(relabelUs, 0.99))}), CPU p50 ${fmt(median(relabelCpuUs), 0)} µs / p99 ${fmt(pct(relabelCpuUs, 0.99), 0)} µs | <= 1 ms |`,
  `| one pod removal | ${fmt(median(removeUs))} µs | - |`,
  `| the first pod add in the process (cold code) | ${fmt(firstAddUs)} µs | - |`,
  ``,
  ...(split ? [`Membership: the egress classifier holds IPv4 CIDR members of ${split.v4Lengths} distinct prefix lengths (ipBlock except expansion, networks) besides the pod /32s.`] : []),
  `Updates: after 50 untimed warm-up cycles, ${ADDS} adds (${fmt(addDeltas / ADDS)} set deltas each on average), ${ADDS} relabels, ${rebuilds} rebuilds.`,
];
console.log(lines.join('\n'));
// the headline figures, machine-readable, as the last line (bench/run.mjs collects it)
console.log(
  JSON.stringify({
    engineBatchNsPerFlow: batchNs,
    classifierNsPerFlow: split ? split.all.wall : null,
    podAddUs: median(addUs),
    compileColdMs: coldMs,
  }),
);

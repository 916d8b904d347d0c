#!/usr/bin/env node
/**
 * `palisade agent` benchmarks (run by `npm run bench`, as root): the agent core (src/agent/agent.ts
 * over the nftables backend in a fresh network namespace, kernel included) fed watch events as an
 * informer delivers them, on the generated cluster of bench/generate-cluster.mjs.
 *   - at 5,000 pods / 1,000 policies: event to kernel (the event handed to the agent -> the batch
 *     committed in the kernel), p50 / p99 over 200 events each: one pod added, one pod relabelled,
 *     one policy changed;
 *   - time to ready (first list handed over -> first full state in the kernel) and the process RSS
 *     after ready, at 5,000 and at 50,000 pods, each size in its own process.
 * Not measured here: the wire (list/watch over HTTP), which src/agent/kube owns.
 * Last stdout line: one JSON object (podEventP50Ms, podEventP99Ms, relabelP99Ms, policyEventP50Ms,
 * policyEventP99Ms, readyMs5000, rssMb5000, readyMs50000, rssMb50000, peakRssMb5000, peakRssMb50000: the
 * process's high-water RSS, which the first install's transient memory reaches).
 * Not root: says so and exits 0.
 */
import { spawnSync } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { generateCluster, podObject, rng } from './generate-cluster.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const self = fileURLToPath(import.meta.url);

const RESOURCE = { Namespace: 'namespaces', Pod: 'pods', Node: 'nodes', Service: 'services', EndpointSlice: 'endpointslices', NetworkPolicy: 'networkpolicies', ClusterNetworkPolicy: 'clusternetworkpolicies', AdminNetworkPolicy: 'adminnetworkpolicies', BaselineAdminNetworkPolicy: 'baselineadminnetworkpolicies' };

async function child(pods, withEvents) {
  const ns = `palbench-agent-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const { Agent } = await import(pathToFileURL(join(root, 'dist/src/agent/agent.js')).href);
    const { createBackend } = await import(pathToFileURL(join(root, 'dist/backends/registry.js')).href);
    const { WATCHED_RESOURCES } = await import(pathToFileURL(join(root, 'dist/src/agent/objects.js')).href);
    const perNs = 10;
    const { objects } = generateCluster({ namespaces: pods / perNs, podsPerNamespace: perNs, nodes: 50, policies: 1000 });
    const sinks = new Map();
    const source = {
      resources: WATCHED_RESOURCES,
      watch(resource, onEvents, transform) {
        sinks.set(resource, { onEvents, transform });
        return { stop: async () => {}, stats: () => ({ restarts: 0, relists: 0, events: 0, installed: true, synced: true }), healthy: () => true };
      },
    };
    let rv = 1;
    const send = (type, o) => {
      const s = sinks.get(RESOURCE[o.kind]);
      s.onEvents([{ type, resource: RESOURCE[o.kind], object: s.transform({ ...o, metadata: { ...o.metadata, resourceVersion: String(++rv) } }) }]);
    };
    const backend = await createBackend('nftables', { netnsPath: `/run/netns/${ns}` });
    const agent = new Agent({ backend, nodeName: 'node-00', source, log: { log() {} } });
    agent.start();
    const t0 = performance.now();
    for (const [resource, s] of sinks) {
      const kind = Object.keys(RESOURCE).find((k) => RESOURCE[k] === resource);
      s.onEvents([...objects.filter((o) => o.kind === kind).map((o) => ({ type: 'upsert', resource, object: s.transform(o) })), { type: 'synced', resource }]);
    }
    await agent.ready();
    const readyMs = performance.now() - t0;
    objects.length = 0; // what the agent keeps is what counts
    global.gc?.();
    const rssMb = process.memoryUsage().rss / 2 ** 20;
    // the high-water mark: the first install's transient memory (libnftables' parse of the whole
    // table, or the netlink batch) shows here even when it was returned before the sample above
    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    const out = { pods, readyMs, rssMb, peakRssMb };
    if (withEvents) {
      const r = rng(7);
      const time = async (f) => {
        const t = performance.now();
        f();
        await agent.flushed();
        return performance.now() - t;
      };
      const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
      const add = [];
      const relabel = [];
      const policy = [];
      for (let i = 0; i < 200; i++) {
        const p = podObject(r, 'ns-000', `bench-${i}`, pods + i, 50);
        add.push(await time(() => send('upsert', p)));
        relabel.push(await time(() => send('upsert', { ...p, metadata: { ...p.metadata, labels: { ...p.metadata.labels, app: i % 2 ? 'web' : 'db' } } })));
      }
      const np = (i) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'bench-churn', namespace: 'ns-001' }, spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: [{ port: 1000 + i }] }] } });
      for (let i = 0; i < 50; i++) policy.push(await time(() => send('upsert', np(i))));
      Object.assign(out, {
        podEventP50Ms: q(add, 0.5),
        podEventP99Ms: q(add, 0.99),
        relabelP50Ms: q(relabel, 0.5),
        relabelP99Ms: q(relabel, 0.99),
        policyEventP50Ms: q(policy, 0.5),
        policyEventP99Ms: q(policy, 0.99),
        policyEvents: policy.length,
      });
    }
    await agent.stop({ remove: true });
    console.log(JSON.stringify(out));
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
}

if (process.argv[2] === '--child') {
  await child(Number(process.argv[3]), process.argv[4] === 'events');
} else {
  if (process.getuid?.() !== 0) {
    console.log('agent benchmarks need root (network namespaces, nftables); skipped');
    process.exit(0);
  }
  const runOne = (pods, events) => {
    const r = spawnSync(process.execPath, ['--expose-gc', self, '--child', String(pods), events ? 'events' : ''], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 600_000 });
    if (r.status !== 0) throw new Error(`child ${pods}: exit ${r.status}\n${r.stderr}`);
    const last = r.stdout.trim().split('\n').at(-1);
    console.log(`agent at ${pods} pods: ${last}`);
    return JSON.parse(last);
  };
  const a = runOne(5000, true);
  const b = runOne(50000, false);
  const r2 = (x) => Math.round(x * 100) / 100;
  console.log(
    JSON.stringify({
      backend: 'nftables',
      podEventP50Ms: r2(a.podEventP50Ms),
      podEventP99Ms: r2(a.podEventP99Ms),
      relabelP50Ms: r2(a.relabelP50Ms),
      relabelP99Ms: r2(a.relabelP99Ms),
      policyEventP50Ms: r2(a.policyEventP50Ms),
      policyEventP99Ms: r2(a.policyEventP99Ms),
      readyMs5000: Math.round(a.readyMs),
      rssMb5000: Math.round(a.rssMb),
      readyMs50000: Math.round(b.readyMs),
      rssMb50000: Math.round(b.rssMb),
      peakRssMb5000: Math.round(a.peakRssMb),
      peakRssMb50000: Math.round(b.peakRssMb),
    }),
  );
}

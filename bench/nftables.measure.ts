/**
 * nftables benchmarks, measured inside vitest because they need the test topology: run by
 * bench/nftables.bench.mjs (`npm run bench`) through bench/vitest.config.ts, never by `npm test`
 * (minutes long, and figures are not test results). Prints:
 * - full apply for 5,000 pods / 1,000 policies (resolve + lower + render + one transaction);
 * - one pod change (set-element delta) at that size and on a small table: a pod's removal and
 *   re-add, or, when the first pods' removals change the rules (every pod a per-pod domainNames
 *   rule's subject), one pod's address changed back and forth;
 *   both over netlink (the backend's default: documents lowered to one libnftnl batch, pod deltas as
 *   a set-element batch) and, in the same run right after, through libnftables (the JSON path,
 *   `documentsByJson` + `deltasByJson`), each from an empty table;
 * - forwarding: UDP datagrams delivered per second between two pod namespaces with no table
 *   and with the ~10k-rule table in force (an established flow: conntrack accepts it first).
 * Targets (issue 15): pod change <= 1 ms at 5,000 pods; full apply <= 1 s; throughput with 10k rules >= 80 %.
 * After both tests, one `BENCH-JSON {...}` line holds the headline figures (null for a figure whose
 * test did not get that far); bench/nftables.bench.mjs prints that object as its last line.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { NftablesBackend } from '../backends/nftables/backend.js';
import { Enforcement } from '../src/enforce/enforcement.js';
import { safeParseCluster } from '../src/manifests/cluster.js';
import type { Cluster } from '../src/model/types.js';
import type { EngineChange } from '../src/engine/changes.js';
import { parseIp } from '../src/model/ip.js';
import { ReferenceEvaluator } from '../src/reference/evaluate.js';
import { randomCluster, Rng } from '../test/engine/random-cluster.js';
import { createNetns, deleteNetns, netnsPath } from '../src/topology/netns.js';
import { ProbeFleet } from '../src/topology/probe.js';
import { buildTopology } from '../src/topology/topology.js';
import { requires } from '../test/harness/prerequisites.js';

const BIG = { namespaces: 50, pods: 5000, nodes: 10, networkPolicies: 800, clusterPolicies: 200 };
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
/** The headline figures, filled in by the tests as they measure (keys in bench/RESULTS.md). */
const headline: Record<'fullApplyMs5000' | 'podChangeMs5000' | 'podChangeMs6' | 'podChangeKernelMs5000' | 'podChangeKernelMs6' | 'fullApplyMsJson5000' | 'podChangeMsJson5000' | 'podChangeMsJson6' | 'forwardingRatio', number | null> = {
  fullApplyMs5000: null,
  podChangeMs5000: null,
  podChangeMs6: null,
  podChangeKernelMs5000: null,
  podChangeKernelMs6: null,
  fullApplyMsJson5000: null,
  podChangeMsJson5000: null,
  podChangeMsJson6: null,
  forwardingRatio: null,
};

/** A pod's first IPv4 address moved to an address no pod has (a set-element delta, no rule change). */
const MOVED_TO = parseIp('10.244.254.254')!;

/**
 * One pod change, median of `n`: `median` the whole `Enforcement.applyChanges` (the compiler's
 * delta and the kernel write: what an agent's watch event costs), `kernelMedian` the backend's
 * `applyDeltas` alone (its report's ms).
 */
async function podChangeMs(e: Enforcement, c: Cluster, n = 21): Promise<{ median: number; kernelMedian: number; kinds: string[]; change: string }> {
  // remove and re-add a pod that is a member of some set (its removal changes elements); at most
  // a few tries: when every pod is some per-pod domainNames rule's subject (the 5,000-pod cluster
  // since FQDN learning), a removal changes the rules, so each try is a full install
  let change: ((i: number) => EngineChange) | undefined;
  let what = '';
  const pods = c.pods.filter((p) => !p.hostNetwork);
  for (const p of pods.slice(0, 3)) {
    const r = await e.applyChanges([{ kind: 'pod-removed', namespace: p.namespace, name: p.name }]);
    await e.applyChanges([{ kind: 'pod', pod: p }]);
    if (r.kind === 'deltas') {
      change = (i) => (i % 2 === 0 ? { kind: 'pod-removed', namespace: p.namespace, name: p.name } : { kind: 'pod', pod: p });
      what = 'removal and re-add';
      break;
    }
  }
  if (!change) {
    // else: one pod's address changes back and forth (set elements in both directions)
    const p = pods.find((x) => x.ips.length === 1 && x.ips[0]!.family === 4);
    if (!p) throw new Error('no IPv4-only pod to move');
    const moved = { ...p, ips: [MOVED_TO] };
    change = (i) => ({ kind: 'pod', pod: i % 2 === 0 ? moved : p });
    what = 'address change';
  }
  const ms: number[] = [];
  const kernelMs: number[] = [];
  const kinds = new Set<string>();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await e.applyChanges([change(i)]);
    ms.push(performance.now() - t0);
    kernelMs.push(r.ms);
    kinds.add(r.kind);
  }
  return { median: median(ms), kernelMedian: median(kernelMs), kinds: [...kinds], change: what };
}

describe.skipIf(requires('root', 'netns', 'addon', 'cni-plugins'))('nftables benchmarks', () => {
  afterAll(() => {
    console.log(`BENCH-JSON ${JSON.stringify(headline)}`);
  });

  it('apply and pod change, small and 5,000 pods / 1,000 policies', async () => {
    const ns = `pal-bench-${process.pid}`;
    await createNetns(ns);
    try {
      for (const shape of [{ namespaces: 3, pods: 6, nodes: 1, networkPolicies: 2, clusterPolicies: 1 }, BIG]) {
        const c = randomCluster(new Rng(7), shape);
        for (const path of ['netlink', 'json'] as const) {
          const opts = { netnsPath: netnsPath(ns), ...(path === 'json' ? { documentsByJson: true, deltasByJson: true } : {}) };
          const e = new Enforcement(new NftablesBackend(opts));
          const t0 = performance.now();
          const full = await e.apply(c);
          const fullMs = performance.now() - t0;
          // over itself: a fresh Enforcement (a restarted enforcer) installs over the table in place
          const e2 = new Enforcement(new NftablesBackend(opts));
          const t1 = performance.now();
          await e2.apply(c);
          const againMs = performance.now() - t1;
          const change = await podChangeMs(e2, c);
          console.log(
            `BENCH ${path} ${shape.pods} pods / ${shape.networkPolicies + shape.clusterPolicies} policies: ${full.summary}; ` +
              `full apply ${fullMs.toFixed(0)} ms (over itself ${againMs.toFixed(0)} ms); pod change median ${change.median.toFixed(2)} ms, of it the kernel write ${change.kernelMedian.toFixed(2)} ms (${change.change}: ${change.kinds.join('/')})`,
          );
          const j = path === 'json' ? 'Json' : '';
          if (shape.pods === BIG.pods) {
            headline[`fullApplyMs${j}5000`] = fullMs;
            headline[`podChangeMs${j}5000`] = change.median;
            if (!j) headline.podChangeKernelMs5000 = change.kernelMedian;
          } else {
            headline[`podChangeMs${j}6`] = change.median;
            if (!j) headline.podChangeKernelMs6 = change.kernelMedian;
          }
          await e2.remove();
        }
      }
    } finally {
      await deleteNetns(ns);
    }
  }, 600_000);

  it('forwarding: established UDP flood with no table vs with the ~10k-rule table', async () => {
    const small = safeParseCluster(
      `apiVersion: v1
kind: Namespace
metadata: { name: bench }
---
apiVersion: v1
kind: Pod
metadata: { name: a, namespace: bench }
status: { podIPs: [ { ip: 10.244.200.10 } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: b, namespace: bench }
status: { podIPs: [ { ip: 10.244.200.11 } ] }
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: { name: bench-accept }
spec:
  tier: Admin
  priority: 0
  subject: { namespaces: { matchLabels: { kubernetes.io/metadata.name: bench } } }
  ingress: [ { name: from-bench, action: Accept, from: [ { namespaces: { matchLabels: { kubernetes.io/metadata.name: bench } } } ] } ]
  egress: [ { name: to-bench, action: Accept, to: [ { namespaces: { matchLabels: { kubernetes.io/metadata.name: bench } } } ] } ]
`,
      'bench.yaml',
    ).cluster!;
    const big = randomCluster(new Rng(7), BIG);
    const c: Cluster = {
      ...big,
      namespaces: [...big.namespaces, ...small.namespaces],
      pods: [...big.pods, ...small.pods],
      clusterPolicies: [...small.clusterPolicies, ...big.clusterPolicies.filter((p) => p.name !== 'bench-accept')],
    };
    const a = small.pods[0]!.ips[0]!;
    const b = small.pods[1]!.ips[0]!;
    const ports = [53, 80, 443, 5353, 8080, 9090].filter((p) => new ReferenceEvaluator(c).evaluate({ src: a, dst: b, protocol: 'UDP', dstPort: p }).verdict === 'allow');
    expect(ports.length).toBeGreaterThan(0);
    const port = ports[0]!;
    const topo = await buildTopology(small, { tag: 'bench' });
    const fleet = await ProbeFleet.start(topo, { TCP: [], UDP: [port], SCTP: [] });
    const e = new Enforcement(new NftablesBackend({ netnsPath: topo.nodeNetnsPath }));
    try {
      const rate = async (): Promise<number> => {
        const key = `${b.text}:${port}`;
        const before = (await fleet.udpReceived(b))[key] ?? 0;
        const f = await fleet.flood(a, b, port, 2_000, 10_000_000);
        const after = (await fleet.udpReceived(b))[key] ?? 0;
        return ((after - before) * 1000) / (f.endMs - f.startMs);
      };
      const none1 = await rate();
      const r = await e.apply(c);
      const withRules = await rate();
      await e.remove();
      const none2 = await rate();
      const none = (none1 + none2) / 2;
      headline.forwardingRatio = withRules / none;
      console.log(`BENCH forwarding: ${none.toFixed(0)} datagrams/s delivered without a table, ${withRules.toFixed(0)} with the table (${r.summary}): ${((100 * withRules) / none).toFixed(0)} %`);
    } finally {
      await fleet.stop();
      await topo.destroy();
    }
  }, 600_000);
});

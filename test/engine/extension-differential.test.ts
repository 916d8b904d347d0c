/**
 * Differential test of the PalisadeClusterNetworkPolicy fields (docs/extension-kind.md): the
 * compiled engine (native classifier) equals the reference evaluator, verdict AND deciding rule
 * per direction, on seeded random clusters that carry random node labels and nodeSelector
 * subjects (S7), `entities: [Cluster]` peers over pods, nodes and random Services (S16),
 * source-port entries (S25), Redirect rules (S14: allowed to the target, or fail closed where the
 * target Service has no such port or ClusterIP), and the parts that fail closed; `explain` deep-equals the reference on a sample.
 * Then the same under random inventory changes (pods moving between nodes, node relabels,
 * Services added and removed), where the engine applies membership deltas and the reference is
 * rebuilt from the engine's cluster.
 */
import { describe, expect, test } from 'vitest';
import { compile, nativeAvailable } from '../../src/index.js';
import { encodeFlows } from '../../src/engine/flow-batch.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import type { Flow } from '../../src/model/flow.js';
import type { Cluster } from '../../src/model/types.js';
import { addressPools, interestingPorts, randomChange, randomCluster, randomFlow, Rng, SOURCE_PORTS } from './random-cluster.js';
import { engineKey, referenceKey } from './compare.js';

const SEEDS = Array.from({ length: 30 }, (_, i) => 77 + i * 104729);
const FLOWS_PER_SEED = 6000;

/** What the random clusters exercised, so that a generator change cannot silently skip a field. */
interface Tally {
  nodeScopedSubjectDecided: number;
  clusterEntityDecided: number;
  sourcePortDecided: number;
  /** flows an Admin/Baseline Redirect rule sent to its target (S14) */
  redirectDecided: number;
  failClosed: number;
  serviceAddressFlows: number;
}

function compareOnce(cluster: Cluster, r: Rng, flows: number, tally: Tally, where: string): string[] {
  const engine = compile(cluster);
  if (nativeAvailable()) expect(engine.classifier).toBe('native');
  const reference = new ReferenceEvaluator(cluster);
  const pools = addressPools(cluster);
  const ports = interestingPorts(cluster);
  const serviceIps = new Set(cluster.services.flatMap((s) => [...s.clusterIPs, ...(s.externalIPs ?? []), ...(s.loadBalancerIPs ?? [])].map((a) => a.text)));
  const policyByName = new Map(cluster.clusterPolicies.map((p) => [`${p.kind}/${p.name}`, p]));
  const all: Flow[] = Array.from({ length: flows }, () => randomFlow(r, pools, ports, SOURCE_PORTS));
  const mismatches: string[] = [];
  for (const family of [4, 6] as const) {
    const fam = all.filter((f) => f.src.family === family);
    const res = engine.lookupBatch(encodeFlows(family, fam));
    fam.forEach((f, k) => {
      const v = reference.evaluate(f);
      const want = `${v.verdict} | ${referenceKey(v.egress)} | ${referenceKey(v.ingress)}`;
      const ev = res.egressRule[k] as number;
      const iv = res.ingressRule[k] as number;
      const dirVerdict = (id: number): 'allow' | 'deny' => (id < 0 || ['accept', 'allow', 'node-local'].includes(engine.rule(id).action) ? 'allow' : 'deny');
      const got = `${res.verdict[k] === 1 ? 'allow' : 'deny'} | ${ev < 0 ? 'allow none' : engineKey(engine, ev, dirVerdict(ev))} | ${iv < 0 ? 'allow none' : engineKey(engine, iv, dirVerdict(iv))}`;
      if (got !== want && mismatches.length < 10) mismatches.push(`${where}: ${f.src.text}:${f.srcPort ?? '-'} -> ${f.dst.text} ${f.protocol}/${f.dstPort}\n  engine    ${got}\n  reference ${want}`);
      if (serviceIps.has(f.dst.text) || serviceIps.has(f.src.text)) tally.serviceAddressFlows++;
      for (const d of [v.egress, v.ingress]) {
        const ref = d.rule;
        if (d.reason !== 'rule' || !ref || ref.policy.kind !== 'PalisadeClusterNetworkPolicy') continue;
        if (ref.failClosed) {
          tally.failClosed++;
          continue;
        }
        const p = policyByName.get(`${ref.policy.kind}/${ref.policy.name}`)!;
        const rule = (d.direction === 'ingress' ? p.ingress : p.egress)[ref.ruleIndex]!;
        if (p.subject.kind === 'pods' && p.subject.nodeSelector) tally.nodeScopedSubjectDecided++;
        if (rule.peers.some((q) => q.kind === 'entities')) tally.clusterEntityDecided++;
        if ((rule.protocols ?? []).some((q) => q.kind === 'port' && q.srcPortStart !== undefined)) tally.sourcePortDecided++;
        if (ref.action === 'Redirect') tally.redirectDecided++;
      }
    });
  }
  for (const f of all.slice(0, 100)) expect(engine.explain(f), where).toEqual(reference.evaluate(f));
  return mismatches;
}

describe('PalisadeClusterNetworkPolicy fields: engine = reference', () => {
  test('the native classifier is built (set PALISADE_ALLOW_TS=1 to run on the TS one)', () => {
    if (process.env.PALISADE_ALLOW_TS === '1') return;
    expect(nativeAvailable()).toBe(true);
  });

  test(`${SEEDS.length} seeds x ${FLOWS_PER_SEED} flows, zero mismatches`, () => {
    const tally: Tally = { nodeScopedSubjectDecided: 0, clusterEntityDecided: 0, sourcePortDecided: 0, redirectDecided: 0, failClosed: 0, serviceAddressFlows: 0 };
    const mismatches: string[] = [];
    for (const seed of SEEDS) {
      const r = new Rng(seed);
      const cluster = randomCluster(r, { namespaces: r.int(2, 4), pods: r.int(6, 16), nodes: r.int(1, 3), networkPolicies: r.int(0, 3), clusterPolicies: r.int(0, 3), extended: true });
      mismatches.push(...compareOnce(cluster, r, FLOWS_PER_SEED, tally, `seed ${seed}`));
    }
    expect(mismatches).toEqual([]);
    // every new field decided some flows
    expect(tally.nodeScopedSubjectDecided).toBeGreaterThan(50);
    expect(tally.clusterEntityDecided).toBeGreaterThan(50);
    expect(tally.sourcePortDecided).toBeGreaterThan(50);
    expect(tally.redirectDecided).toBeGreaterThan(50);
    expect(tally.failClosed).toBeGreaterThan(10);
    expect(tally.serviceAddressFlows).toBeGreaterThan(100);
    console.log(`extension differential: ${SEEDS.length * FLOWS_PER_SEED} flows, decided by ${JSON.stringify(tally)}`);
  }, 240_000);

  test('under random changes (pods moving, nodes relabelled, Services added and removed): zero mismatches', () => {
    const tally: Tally = { nodeScopedSubjectDecided: 0, clusterEntityDecided: 0, sourcePortDecided: 0, redirectDecided: 0, failClosed: 0, serviceAddressFlows: 0 };
    const mismatches: string[] = [];
    let deltasApplied = 0;
    for (const seed of SEEDS.slice(0, 12)) {
      const r = new Rng(seed + 1);
      const start = randomCluster(r, { namespaces: 3, pods: 12, nodes: 3, networkPolicies: 2, clusterPolicies: 2, extended: true });
      const engine = compile(start);
      for (let step = 0; step < 30; step++) {
        const change = randomChange(r, engine.cluster(), false, true);
        const u = engine.update(change);
        if (!u.rebuilt) deltasApplied++;
        if (step % 5 !== 4) continue;
        // the engine after deltas against a reference built fresh from the same cluster
        const now = engine.cluster();
        const reference = new ReferenceEvaluator(now);
        const pools = addressPools(now);
        const ports = interestingPorts(now);
        for (let k = 0; k < 600; k++) {
          const f = randomFlow(r, pools, ports, SOURCE_PORTS);
          const v = reference.evaluate(f);
          const got = engine.lookup(f);
          const want = `${v.verdict} ${referenceKey(v.egress)} ${referenceKey(v.ingress)}`;
          const mine = `${got.verdict} ${engineKey(engine, got.egress.ruleId, got.egress.verdict)} ${engineKey(engine, got.ingress.ruleId, got.ingress.verdict)}`;
          if (mine !== want && mismatches.length < 10) mismatches.push(`seed ${seed} step ${step} ${JSON.stringify(change).slice(0, 200)}: ${f.src.text}:${f.srcPort ?? '-'} -> ${f.dst.text} ${f.protocol}/${f.dstPort}\n  engine    ${mine}\n  reference ${want}`);
          if (v.egress.rule?.policy.kind === 'PalisadeClusterNetworkPolicy' || v.ingress.rule?.policy.kind === 'PalisadeClusterNetworkPolicy') tally.clusterEntityDecided++;
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(deltasApplied).toBeGreaterThan(100);
    expect(tally.clusterEntityDecided).toBeGreaterThan(100);
  }, 240_000);
});

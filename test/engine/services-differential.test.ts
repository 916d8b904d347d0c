/**
 * Differential test for `services` peers and subjects (docs/extension-semantics.md, Services):
 * the compiled engine (native classifier when built) equals the reference evaluator on random
 * clusters with random Services and EndpointSlices, policies with `services` peers and subjects,
 * and flows aimed at the Services' frontends and endpoints: verdict and deciding rule per
 * direction, zero mismatches, and `explain` equal to the reference on a sample; then the same after random Service / EndpointSlice churn applied
 * to the engine incrementally (Service and EndpointSlice changes), against a fresh reference.
 */
import { describe, expect, test } from 'vitest';
import { compile, nativeAvailable } from '../../src/index.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import type { Flow } from '../../src/model/flow.js';
import type { Cluster } from '../../src/model/types.js';
import type { Engine } from '../../src/engine/engine.js';
import { addressPools, interestingPorts, randomCluster, randomFlow, Rng } from './random-cluster.js';
import { randomServices, serviceFlow, withServicePolicies } from './random-services.js';
import { compareAnswer } from './compare.js';
import { serviceChanges } from '../../src/enforce/compiled.js';

const big = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? `${v}n` : v);
const SEEDS = Array.from({ length: 30 }, (_, i) => 77 + i * 104729);
const FLOWS = 2500;

function flowsFor(r: Rng, c: Cluster): Flow[] {
  const pools = addressPools(c);
  for (const s of c.services) for (const a of [...s.clusterIPs, ...(s.externalIPs ?? []), ...(s.loadBalancerIPs ?? [])]) pools[a.family][2]!.push(a);
  const ports = [...interestingPorts(c), 30080, 30443, 31000, 6443, 9000];
  const out: Flow[] = [];
  while (out.length < FLOWS) {
    const f = r.chance(0.6) ? serviceFlow(r, c, pools) : randomFlow(r, pools, ports);
    if (f) out.push(f);
  }
  return out;
}

function compareAll(engine: Engine, c: Cluster, flows: readonly Flow[], tally: Record<string, number>): string[] {
  const reference = new ReferenceEvaluator(c);
  const bad: string[] = [];
  for (const f of flows) {
    const v = reference.evaluate(f);
    const a = engine.lookup(f);
    for (const m of compareAnswer(engine, v, a.verdict, a.egress.ruleId, a.ingress.ruleId)) bad.push(`${m.flow} ${m.direction}: engine ${m.engine} / reference ${m.reference}`);
    // explain (what check and matrix print) equals the reference field by field, on a sample
    if ((tally.explained = (tally.explained ?? 0) + 1) % 7 === 0) {
      const ex = JSON.stringify(engine.explain(f), big);
      const want = JSON.stringify(v, big);
      if (ex !== want) bad.push(`explain ${f.protocol} ${f.src.text} -> ${f.dst.text}:${f.dstPort}\n  engine    ${ex}\n  reference ${want}`);
    }
    tally[v.verdict] = (tally[v.verdict] ?? 0) + 1;
    for (const d of [v.egress, v.ingress]) {
      if (d.notes.some((n) => / of Service /.test(n))) tally.serviceDecided = (tally.serviceDecided ?? 0) + 1;
      if (d.direction === 'ingress' && d.subject === undefined && d.reason === 'rule') tally.serviceSubjectNonPod = (tally.serviceSubjectNonPod ?? 0) + 1;
    }
  }
  return bad;
}

describe('services peers and subjects: engine = reference', () => {
  test(`${SEEDS.length} seeds x ${FLOWS} flows, then Service churn applied incrementally (classifier: ${nativeAvailable() ? 'native' : 'ts'})`, () => {
    const mismatches: string[] = [];
    const tally: Record<string, number> = {};
    let deltaUpdates = 0;
    let rebuilds = 0;
    for (const seed of SEEDS) {
      const r = new Rng(seed);
      const base = randomCluster(r, { namespaces: r.int(2, 4), pods: r.int(6, 16), nodes: r.int(1, 3), networkPolicies: r.int(0, 4), clusterPolicies: r.int(1, 6) });
      const withSvc = { ...base, ...randomServices(r, base, r.int(1, 5)) };
      let cluster = withServicePolicies(r, withSvc, r.int(0, 3));
      const engine = compile(cluster);
      mismatches.push(...compareAll(engine, cluster, flowsFor(r, cluster), tally).map((m) => `seed ${seed}: ${m}`));
      for (let step = 0; step < 4; step++) {
        // churn, applied as one change: even steps move endpoints only (same ports: deltas), odd
        // steps draw new Services of the same names (new ports and groups: a new lowering)
        const pods = cluster.pods.filter((p) => !p.hostNetwork);
        const next =
          step % 2 === 0
            ? {
                services: cluster.services,
                endpointSlices: cluster.endpointSlices.map((e) => ({
                  ...e,
                  addresses: pods.length ? [r.pick(pods), r.pick(pods)].flatMap((p) => p.ips).filter((a, i, all) => all.findIndex((b) => b.text === a.text) === i) : [],
                })),
              }
            : randomServices(r, cluster, cluster.services.length);
        const before = engine.rebuilds;
        for (const ch of serviceChanges(engine.resolution, next.services, next.endpointSlices)) engine.update(ch);
        if (engine.rebuilds === before) deltaUpdates++;
        else rebuilds++;
        cluster = { ...cluster, ...next };
        mismatches.push(...compareAll(engine, cluster, flowsFor(r, cluster).slice(0, 800), tally).map((m) => `seed ${seed} step ${step}: ${m}`));
      }
    }
    expect({ count: mismatches.length, first: mismatches.slice(0, 8) }).toEqual({ count: 0, first: [] });
    // the random inputs reach the new semantics
    expect(tally.serviceDecided ?? 0).toBeGreaterThan(100);
    expect(tally.serviceSubjectNonPod ?? 0).toBeGreaterThan(0);
    expect(tally.deny ?? 0).toBeGreaterThan(100);
    expect(deltaUpdates + rebuilds).toBe(SEEDS.length * 4);
    // moving endpoints with the same ports is a membership delta, not a new lowering
    expect(deltaUpdates).toBeGreaterThanOrEqual(SEEDS.length);
    console.log(`services differential: ${JSON.stringify(tally)}; churn: ${deltaUpdates} delta updates, ${rebuilds} rebuilds`);
  }, 240_000);
});

/**
 * S25 differential test: source-port ranges on the native classifier (its set-rule path) and on
 * the TS linear classifier against the reference evaluator. Seeded random clusters get source
 * ranges on their cluster-tier rules (test/harness/random.ts withRandomSourcePorts); random flows
 * carry source ports at and around every range edge. Each flow is compared on the verdict and
 * on what decided each direction, with zero mismatches; the reference is asked about each
 * distinct (src, dst, protocol, dstPort, srcPort), never reused across source ports.
 */
import { describe, expect, test } from 'vitest';
import { compile, nativeAvailable } from '../../src/index.js';
import { encodeFlows } from '../../src/engine/flow-batch.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import type { Flow } from '../../src/model/flow.js';
import type { Cluster } from '../../src/model/types.js';
import { withRandomSourcePorts } from '../harness/random.js';
import { addressPools, interestingPorts, randomCluster, randomFlow, Rng } from './random-cluster.js';
import { engineKey, referenceKey } from './compare.js';

const SEEDS = Array.from({ length: 12 }, (_, i) => 7000 + i * 131);
const FLOWS_PER_SEED = 20_000;
const WINDOW = { lo: 1000, hi: 3000 };

/** every range edge of the cluster's source ranges, and one either side */
function sourceEdges(c: Cluster): number[] {
  const out = new Set<number>([0, 1, WINDOW.lo, WINDOW.hi, 65535]);
  for (const p of c.clusterPolicies)
    for (const r of [...p.ingress, ...p.egress])
      for (const q of r.protocols ?? [])
        if (q.kind === 'port' && q.srcPortStart !== undefined)
          for (const e of [q.srcPortStart, q.srcPortEnd ?? q.srcPortStart]) for (const d of [-1, 0, 1]) if (e + d >= 0 && e + d <= 65535) out.add(e + d);
  return [...out];
}

describe('S25: classifiers = reference on random clusters with source-port ranges', () => {
  test(`${SEEDS.length} seeds x ${FLOWS_PER_SEED} flows, zero mismatches (classifier: ${nativeAvailable() ? 'native' : 'ts'})`, () => {
    if (process.env.PALISADE_ALLOW_TS !== '1') expect(nativeAvailable()).toBe(true);
    const mismatches: string[] = [];
    let mismatchCount = 0;
    let checked = 0;
    let bySourceRule = 0;
    let sourceRules = 0;
    for (const seed of SEEDS) {
      const r = new Rng(seed);
      const base = randomCluster(r, { namespaces: r.int(2, 5), pods: r.int(6, 16), nodes: r.int(1, 3), networkPolicies: r.int(0, 5), clusterPolicies: r.int(3, 8) });
      const cluster = withRandomSourcePorts(base, seed, WINDOW);
      const engine = compile(cluster);
      const linear = compile(cluster, { classifier: 'ts' });
      const reference = new ReferenceEvaluator(cluster);
      const pools = addressPools(cluster);
      const ports = interestingPorts(cluster);
      const edges = sourceEdges(cluster);
      const narrowed = (id: number): boolean => id >= 0 && (engine.rule(id).srcPorts.lo !== 0 || engine.rule(id).srcPorts.hi !== 65535);
      sourceRules += engine.ruleSet.rules.filter((x) => narrowed(x.id)).length;
      const flows: Flow[] = Array.from({ length: FLOWS_PER_SEED }, () => {
        const f = randomFlow(r, pools, ports);
        const srcPort = r.chance(0.8) ? r.pick(edges) : r.int(0, 65535);
        return { src: f.src, dst: f.dst, protocol: f.protocol, dstPort: f.dstPort, srcPort };
      });
      const expected = new Map<string, string>();
      const dirVerdict = (id: number): 'allow' | 'deny' => (id < 0 || ['accept', 'allow', 'node-local'].includes(engine.rule(id).action) ? 'allow' : 'deny');
      for (const family of [4, 6] as const) {
        const fam = flows.filter((f) => f.src.family === family);
        const batch = encodeFlows(family, fam);
        const res = engine.lookupBatch(batch);
        const lin = linear.lookupBatch(batch);
        expect(Array.from(lin.egressRule), `seed ${seed}: linear egress`).toEqual(Array.from(res.egressRule));
        expect(Array.from(lin.ingressRule), `seed ${seed}: linear ingress`).toEqual(Array.from(res.ingressRule));
        fam.forEach((f, k) => {
          const fk = `${f.src.text} ${f.dst.text} ${f.protocol} ${f.dstPort} ${f.srcPort}`;
          let want = expected.get(fk);
          if (want === undefined) {
            const v = reference.evaluate(f);
            want = `${v.verdict} | ${referenceKey(v.egress)} | ${referenceKey(v.ingress)}`;
            expected.set(fk, want);
          }
          const ev = res.egressRule[k] as number;
          const iv = res.ingressRule[k] as number;
          if (narrowed(ev) || narrowed(iv)) bySourceRule++;
          const verdict = res.verdict[k] === 1 ? 'allow' : 'deny';
          const got = `${verdict} | ${ev < 0 ? 'allow none' : engineKey(engine, ev, dirVerdict(ev))} | ${iv < 0 ? 'allow none' : engineKey(engine, iv, dirVerdict(iv))}`;
          if (got !== want) {
            mismatchCount++;
            if (mismatches.length < 10) mismatches.push(`seed ${seed}: ${fk}\n  engine    ${got}\n  reference ${want}`);
          }
          checked++;
        });
      }
      for (const f of flows.slice(0, 100)) expect(engine.explain(f), `seed ${seed}`).toEqual(reference.evaluate(f));
    }
    expect({ mismatchCount, first: mismatches }).toEqual({ mismatchCount: 0, first: [] });
    expect(checked).toBe(SEEDS.length * FLOWS_PER_SEED);
    // source ranges were lowered and decided flows (not only rules that never match)
    expect(sourceRules).toBeGreaterThan(0);
    expect(bySourceRule).toBeGreaterThan(checked / 100);
    console.log(`source ports: ${checked} flows, ${sourceRules} rules with a source range, ${bySourceRule} flows decided by one`);
  }, 240_000);
});

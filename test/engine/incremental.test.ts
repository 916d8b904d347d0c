/**
 * After random incremental updates (pods added, removed, relabelled, re-addressed; namespaces
 * relabelled or removed; node addresses changed; policies added, replaced, removed), the engine
 * answers exactly like an engine compiled fresh from the same cluster and like the reference
 * evaluator on it ("the same after random incremental updates (compared
 * with a fresh build)").
 */
import { describe, expect, test } from 'vitest';
import { compile } from '../../src/index.js';
import { encodeFlows } from '../../src/engine/flow-batch.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import type { Flow } from '../../src/model/flow.js';
import { addressPools, randomChange, randomCluster, randomFlow, Rng } from './random-cluster.js';
import { compareAnswer, engineKey } from './compare.js';

const SEEDS = [11, 22, 33, 44, 55, 66, 77, 88];
const STEPS = 40;
const CHECK_EVERY = 5;
const FLOWS = 1000;

describe('incremental updates = fresh build = reference', () => {
  test(`${SEEDS.length} seeds x ${STEPS} random changes`, () => {
    const mismatches: string[] = [];
    let compared = 0;
    let incremental = 0;
    let rebuilt = 0;
    for (const seed of SEEDS) {
      const r = new Rng(seed);
      const engine = compile(randomCluster(r, { namespaces: r.int(2, 5), pods: r.int(10, 30), nodes: r.int(1, 3), networkPolicies: r.int(1, 6), clusterPolicies: r.int(1, 7) }));
      for (let step = 1; step <= STEPS; step++) {
        const change = randomChange(r, engine.cluster());
        const u = engine.update(change);
        if (u.rebuilt) rebuilt++;
        else incremental++;
        if (step % CHECK_EVERY !== 0) continue;
        const cluster = engine.cluster();
        const fresh = compile(cluster);
        const reference = new ReferenceEvaluator(cluster);
        const pools = addressPools(cluster);
        const flows: Flow[] = Array.from({ length: FLOWS }, () => randomFlow(r, pools));
        for (const family of [4, 6] as const) {
          const fam = flows.filter((f) => f.src.family === family);
          const batch = encodeFlows(family, fam);
          const a = engine.lookupBatch(batch);
          const b = fresh.lookupBatch(batch);
          for (let k = 0; k < fam.length; k++) {
            const v = reference.evaluate(fam[k]!);
            const verdict = a.verdict[k] === 1 ? 'allow' : 'deny';
            for (const m of compareAnswer(engine, v, verdict, a.egressRule[k]!, a.ingressRule[k]!)) mismatches.push(`seed ${seed} step ${step}: ${JSON.stringify(m)}`);
            const fv = b.verdict[k] === 1 ? 'allow' : 'deny';
            const mine = engineKey(engine, a.egressRule[k]!, verdict) + ' / ' + engineKey(engine, a.ingressRule[k]!, verdict);
            const theirs = engineKey(fresh, b.egressRule[k]!, fv) + ' / ' + engineKey(fresh, b.ingressRule[k]!, fv);
            if (mine !== theirs) mismatches.push(`seed ${seed} step ${step}: incremental ${mine} != fresh ${theirs}`);
            compared++;
          }
        }
        for (const f of flows.slice(0, 100)) expect(engine.explain(f), `seed ${seed} step ${step}`).toEqual(reference.evaluate(f));
      }
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
    expect(incremental).toBeGreaterThan(rebuilt);
    console.log(`incremental: ${compared} flows compared, ${incremental} incremental updates, ${rebuilt} rebuilds`);
  }, 240_000); // well under a minute on this 2-core machine; room for a loaded CI runner
});

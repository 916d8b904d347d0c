/**
 * Staged policies never change a verdict (model/staged.ts), on random clusters with random
 * staged sets, whichever way the staged policies arrive (kept apart in `Cluster.staged` as
 * buildCluster does, or flagged inside the main lists, or handed to `Engine.update`):
 * - the reference evaluator answers exactly as on the cluster without them;
 * - the compiled engine (native classifier when built) answers the enforced verdict and rule;
 * - `lower()` yields no rule whose origin is a staged policy.
 * And `StagedEvaluator` answers, as `wouldBe`, exactly the reference on
 * `withStagedInForce(cluster)`, naming as staged steps only staged policies, and the deciding
 * rule itself whenever a staged rule decides.
 */
import { describe, expect, test } from 'vitest';
import { compile, nativeAvailable } from '../../src/index.js';
import { isStaged, stagedPredicate, withStagedInForce } from '../../src/model/staged.js';
import type { Cluster, ClusterPolicy, NetworkPolicy } from '../../src/model/types.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import { StagedEvaluator } from '../../src/reference/staged.js';
import { Resolution } from '../../src/resolve/resolver.js';
import { lower } from '../../src/rules/lower.js';
import { canonical, compareAnswer } from '../engine/compare.js';
import { addressPools, interestingPorts, randomCluster, randomFlow, Rng } from '../engine/random-cluster.js';

const SEEDS = Array.from({ length: 20 }, (_, i) => 777 + i * 31337);
const FLOWS = 1500;

interface Split {
  /** the cluster as buildCluster makes it: staged ones in `staged` */
  readonly apart: Cluster;
  /** the same policies, staged ones flagged inside the main lists */
  readonly flaggedInLists: Cluster;
  /** only the policies in force */
  readonly enforcedOnly: Cluster;
  readonly stagedNps: NetworkPolicy[];
  readonly stagedCps: ClusterPolicy[];
}

function split(r: Rng, full: Cluster): Split {
  const pickNp = full.networkPolicies.map(() => r.chance(0.4));
  const pickCp = full.clusterPolicies.map(() => r.chance(0.4));
  const stagedNps = full.networkPolicies.filter((_, i) => pickNp[i]).map((p) => ({ ...p, staged: true as const }));
  const stagedCps = full.clusterPolicies.filter((_, i) => pickCp[i]).map((p) => ({ ...p, staged: true as const }));
  const enforcedOnly = { ...full, networkPolicies: full.networkPolicies.filter((_, i) => !pickNp[i]), clusterPolicies: full.clusterPolicies.filter((_, i) => !pickCp[i]) };
  return {
    apart: { ...enforcedOnly, staged: { networkPolicies: stagedNps, clusterPolicies: stagedCps } },
    flaggedInLists: { ...full, networkPolicies: full.networkPolicies.map((p, i) => (pickNp[i] ? { ...p, staged: true as const } : p)), clusterPolicies: full.clusterPolicies.map((p, i) => (pickCp[i] ? { ...p, staged: true as const } : p)) },
    enforcedOnly,
    stagedNps,
    stagedCps,
  };
}

describe('staged policies change no verdict', () => {
  // the seeds in chunks, each its own test with its own time budget (one test over all seeds ran
  // close to the timeout on a loaded machine); the totals are checked after the last chunk
  let stagedTotal = 0;
  let wouldChange = 0;
  let stagedDecides = 0;
  const CHUNK = 5;
  const chunks = Array.from({ length: Math.ceil(SEEDS.length / CHUNK) }, (_, i) => SEEDS.slice(i * CHUNK, (i + 1) * CHUNK));
  test.each(chunks.map((c, i) => [i, c] as const))(`seed chunk %i (${CHUNK} seeds x ${FLOWS} flows): reference, engine and lower() ignore them; wouldBe = reference with them in force`, (_i, seeds) => {
    for (const seed of seeds) {
      const r = new Rng(seed);
      const full = randomCluster(r, { namespaces: r.int(2, 5), pods: r.int(6, 16), nodes: r.int(1, 3), networkPolicies: r.int(1, 7), clusterPolicies: r.int(1, 8) });
      const s = split(r, full);
      stagedTotal += s.stagedNps.length + s.stagedCps.length;

      const truth = new ReferenceEvaluator(s.enforcedOnly);
      const refApart = new ReferenceEvaluator(s.apart);
      const refFlagged = new ReferenceEvaluator(s.flaggedInLists);
      const engines = [compile(s.apart), compile(s.flaggedInLists)];
      // and handed one by one to a running engine
      const updated = compile(s.enforcedOnly);
      for (const p of [...s.stagedNps, ...s.stagedCps]) updated.update({ kind: 'policy', policy: p });
      engines.push(updated);
      if (nativeAvailable()) for (const e of engines) expect(e.classifier).toBe('native');

      const isStagedRef = stagedPredicate(s.apart);
      for (const e of engines) {
        for (const rule of e.ruleSet.rules) if (rule.origin.ref) expect(isStagedRef(rule.origin.ref.policy), rule.origin.stableId).toBe(false);
      }
      const lowered = lower(s.flaggedInLists, new Resolution(s.flaggedInLists, s.flaggedInLists.networkPolicies));
      for (const rule of lowered.rules) if (rule.origin.ref) expect(isStagedRef(rule.origin.ref.policy), rule.origin.stableId).toBe(false);

      const staged = new StagedEvaluator(s.apart);
      const inForce = new ReferenceEvaluator(withStagedInForce(s.apart));
      const pools = addressPools(full);
      const ports = interestingPorts(full);
      for (let i = 0; i < FLOWS; i++) {
        const flow = randomFlow(r, pools, ports);
        const want = truth.evaluate(flow);
        const key = canonical(want);
        expect(canonical(refApart.evaluate(flow))).toBe(key);
        expect(canonical(refFlagged.evaluate(flow))).toBe(key);
        for (const e of engines) {
          const got = e.lookup(flow);
          expect(compareAnswer(e, want, got.verdict, got.egress.ruleId, got.ingress.ruleId)).toEqual([]);
        }
        const sv = staged.evaluate(flow);
        expect(canonical(sv.enforced)).toBe(key);
        expect(canonical(sv.wouldBe)).toBe(canonical(inForce.evaluate(flow)));
        expect(sv.outcome.changed).toBe(sv.enforced.verdict !== sv.wouldBe.verdict);
        if (sv.outcome.changed) wouldChange++;
        for (const st of sv.outcome.staged) {
          const step = st.step;
          if (step.kind === 'rule') expect(isStagedRef(step.rule.policy)).toBe(true);
          else if (step.kind === 'isolation') for (const p of step.policies) expect(isStagedRef(p)).toBe(true);
          else throw new Error(`a staged step is a rule or an isolation, got ${step.kind}`);
        }
        for (const d of ['egress', 'ingress'] as const) {
          const rule = sv.wouldBe[d].rule;
          if (sv.wouldBe[d].reason === 'rule' && rule && isStagedRef(rule.policy)) {
            stagedDecides++;
            expect(sv.outcome.staged.find((x) => x.direction === d)?.step).toEqual({ kind: 'rule', rule });
          }
        }
      }
    }
  });

  test('the staged sets mattered over all seeds, or "no change" proves nothing', () => {
    expect(stagedTotal).toBeGreaterThan(SEEDS.length);
    expect(wouldChange).toBeGreaterThan(100);
    expect(stagedDecides).toBeGreaterThan(100);
  });

  test('isStaged reads only the flag', () => {
    const c = randomCluster(new Rng(5), { namespaces: 2, pods: 3, nodes: 1, networkPolicies: 2, clusterPolicies: 0 });
    expect(c.networkPolicies.some(isStaged)).toBe(false);
    expect(isStaged({ ...c.networkPolicies[0]!, staged: true })).toBe(true);
  });
});

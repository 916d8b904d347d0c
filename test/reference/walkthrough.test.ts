/**
 * The walkthrough (reference/walkthrough.ts) decides exactly as the reference evaluator, on
 * random clusters and flows: the verdict of each direction, the deciding rule (the one rule
 * marked `decides`, identified by policy and index), Pass rules as `passes`, NetworkPolicy
 * isolation and the node-local exception; rules after the decision are `not reached`; and every
 * rule that did not match has a peer or port entry that failed, with a reason.
 */
import { describe, expect, test } from 'vitest';
import { policyKey } from '../../src/model/staged.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import type { DirectionVerdict } from '../../src/model/verdict.js';
import { walkFlow, type DirectionWalk } from '../../src/reference/walkthrough.js';
import { addressPools, interestingPorts, randomCluster, randomFlow, Rng } from '../engine/random-cluster.js';

const SEEDS = Array.from({ length: 16 }, (_, i) => 9001 + i * 7717);
const FLOWS = 400;

function decided(w: DirectionWalk): { key: string; passes: string[] } {
  const decides: string[] = [];
  const passes: string[] = [];
  for (const t of w.tiers) {
    for (const p of t.policies) {
      for (const r of p.rules) {
        const k = `${policyKey(p.policy)}[${r.index}]`;
        if (r.outcome === 'decides') decides.push(k);
        if (r.outcome === 'passes') passes.push(k);
      }
    }
  }
  expect(decides.length).toBeLessThanOrEqual(1);
  return { key: decides[0] ?? 'none', passes };
}

function expectedKey(d: DirectionVerdict): string {
  return d.reason === 'rule' && d.rule ? `${policyKey(d.rule.policy)}[${d.rule.ruleIndex}]` : 'none';
}

describe('walkthrough = reference evaluator', () => {
  test(`${SEEDS.length} seeds x ${FLOWS} flows`, () => {
    const seen = { decides: 0, passes: 0, isolated: 0, nodeLocal: 0, noMatchChecked: 0 };
    for (const seed of SEEDS) {
      const r = new Rng(seed);
      const cluster = randomCluster(r, { namespaces: r.int(2, 5), pods: r.int(5, 14), nodes: r.int(1, 3), networkPolicies: r.int(0, 7), clusterPolicies: r.int(0, 8) });
      const ref = new ReferenceEvaluator(cluster);
      const pools = addressPools(cluster);
      const ports = interestingPorts(cluster);
      for (let i = 0; i < FLOWS; i++) {
        const flow = randomFlow(r, pools, ports);
        const v = ref.evaluate(flow);
        const w = walkFlow(cluster, flow);
        expect(w.verdict).toBe(v.verdict);
        expect(w.explanation).toEqual(v);
        for (const d of ['egress', 'ingress'] as const) {
          const dw = w[d];
          const dv = v[d];
          const label = `seed ${seed} ${flow.protocol} ${flow.src.text} -> ${flow.dst.text}:${flow.dstPort} ${d}`;
          expect(dw.verdict, label).toBe(dv.verdict);
          const { key, passes } = decided(dw);
          expect(key, label).toBe(expectedKey(dv));
          expect(passes, label).toEqual(dv.passed.map((p) => `${policyKey(p.policy)}[${p.ruleIndex}]`));
          if (key !== 'none') seen.decides++;
          seen.passes += passes.length;
          const npTier = dw.tiers.find((t) => t.tier === 'NetworkPolicy');
          if (dv.reason === 'isolated-no-match') {
            seen.isolated++;
            expect(npTier?.outcome, label).toBe('isolated-denied');
          }
          if (dv.reason === 'node-local') {
            seen.nodeLocal++;
            expect(npTier?.outcome, label).toBe('node-local');
          }
          expect(dw.byDefault, label).toBe(dv.reason === 'no-match');
          // after a decision, nothing more is walked
          let over = false;
          for (const t of dw.tiers) {
            if (over) expect(t.outcome, label).toBe('not-reached');
            if (t.outcome === 'decided' || t.outcome === 'isolated-denied' || t.outcome === 'node-local') over = true;
            for (const p of t.policies) {
              for (const rule of p.rules) {
                if (rule.outcome !== 'no-match' || rule.failClosed) continue;
                seen.noMatchChecked++;
                const failed = [...rule.peers, ...rule.ports].filter((e) => !e.ok);
                expect(failed.length, label).toBeGreaterThan(0);
                expect(rule.peers.some((e) => e.ok) && rule.ports.some((e) => e.ok), label).toBe(false);
                for (const e of failed) expect(e.why.length, label).toBeGreaterThan(0);
              }
            }
          }
        }
      }
    }
    expect(seen.decides).toBeGreaterThan(500);
    expect(seen.passes).toBeGreaterThan(20);
    expect(seen.isolated).toBeGreaterThan(100);
    expect(seen.noMatchChecked).toBeGreaterThan(1000);
  });
});

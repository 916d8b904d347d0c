/**
 * The native classifier's compiled form of the set rules (addon/classifier/class_table.h: address
 * classes, dport classes, rule bitmaps) against the reference evaluator, through the Engine, under
 * pod churn: random clusters with Admin Pass rules, then random pod adds, removals, relabels,
 * re-addressings, namespace relabels and node changes applied incrementally (classes created by
 * a membership batch get bitmaps without a rebuild), each state checked on random flows with
 * random source ports, IPv4 and IPv6, batch and single lookups: verdict and deciding rule.
 * Proves the class form ran: both classifiers are native, looked up, and hold classes with
 * bitmaps; new classes appeared in a classifier along the churn (no rebuild: the engine rebuilds
 * only for the few inventory changes it must, e.g. named ports).
 */
import { describe, expect, test } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import type { ClassifierFactory } from '../../src/engine/classifier.js';
import { NativeDirectionClassifier } from '../../src/engine/native-classifier.js';
import { encodeFlows } from '../../src/engine/flow-batch.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import type { Flow } from '../../src/model/flow.js';
import { requires } from '../harness/prerequisites.js';
import { addressPools, randomChange, randomCluster, randomFlow, Rng } from './random-cluster.js';
import { compareAnswer } from './compare.js';

const SEEDS = [3, 14, 15, 92, 65, 35];
const STEPS = 30;
const CHECK_EVERY = 3;
const FLOWS = 500;

describe.skipIf(requires('addon'))('class-indexed set rules = reference, under pod churn', () => {
  test(`${SEEDS.length} seeds x ${STEPS} membership changes, Pass, source ports`, () => {
    const mismatches: string[] = [];
    let compared = 0;
    let withPass = 0;
    let grew = 0;
    let rebuilt = 0;
    let incremental = 0;
    for (const seed of SEEDS) {
      const r = new Rng(seed);
      const made: NativeDirectionClassifier[] = [];
      const recording: ClassifierFactory = {
        kind: 'native',
        create: () => {
          const c = new NativeDirectionClassifier();
          made.push(c);
          return c;
        },
      };
      const engine = new Engine(randomCluster(r, { namespaces: r.int(2, 5), pods: r.int(10, 30), nodes: r.int(1, 3), networkPolicies: r.int(1, 6), clusterPolicies: r.int(2, 7) }), { classifier: recording });
      if ([...engine.ruleSet.egress.rules, ...engine.ruleSet.ingress.rules].some((x) => x.action === 'pass')) withPass++;
      const seen = new Map<NativeDirectionClassifier, number>(); // classifier -> its classes at a check
      for (let step = 1; step <= STEPS; step++) {
        const u = engine.update(randomChange(r, engine.cluster(), false)); // no policy changes: membership only
        if (u.rebuilt) rebuilt++;
        else incremental++;
        if (step % CHECK_EVERY !== 0) continue;
        for (const c of made.slice(-2)) {
          const n = c.classStats().addressClasses;
          if (n > (seen.get(c) ?? Infinity)) grew++; // the same classifier gained classes: extended in place
          seen.set(c, n);
        }
        const cluster = engine.cluster();
        const reference = new ReferenceEvaluator(cluster);
        const pools = addressPools(cluster);
        const flows: Flow[] = Array.from({ length: FLOWS }, () => ({ ...randomFlow(r, pools), srcPort: r.int(0, 3) === 0 ? r.int(1, 1024) : r.int(32768, 60999) }));
        for (const family of [4, 6] as const) {
          const fam = flows.filter((f) => f.src.family === family);
          const a = engine.lookupBatch(encodeFlows(family, fam));
          for (let k = 0; k < fam.length; k++) {
            const v = reference.evaluate(fam[k]!);
            for (const m of compareAnswer(engine, v, a.verdict[k] === 1 ? 'allow' : 'deny', a.egressRule[k]!, a.ingressRule[k]!)) mismatches.push(`seed ${seed} step ${step}: ${JSON.stringify(m)}`);
            compared++;
          }
        }
        for (const f of flows.slice(0, 50)) {
          const v = reference.evaluate(f);
          const one = engine.lookup(f);
          for (const m of compareAnswer(engine, v, one.verdict, one.egress.ruleId, one.ingress.ruleId)) mismatches.push(`seed ${seed} step ${step} single: ${JSON.stringify(m)}`);
        }
      }
      // the class form answered: the classifiers in force are native, ran, and hold classes with bitmaps
      const current = made.slice(-2);
      expect(current.every((c) => c.lookups > 0)).toBe(true);
      expect(current.some((c) => c.classStats().setRules > 0 && c.classStats().namedClasses > 0)).toBe(true);
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
    expect(compared).toBeGreaterThan(SEEDS.length * (STEPS / CHECK_EVERY) * FLOWS * 0.9);
    expect(withPass).toBeGreaterThan(0); // Pass rules were in force (the second, minPriority lookup)
    expect(grew).toBeGreaterThan(0); // churn created classes, extended in place
    expect(incremental).toBeGreaterThan(rebuilt * 3); // most membership changes are set and class edits
  }, 240_000);
});

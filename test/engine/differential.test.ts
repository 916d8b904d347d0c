/**
 * Differential test: the compiled engine (native classifier when built, else the TS one) equals
 * the reference evaluator on seeded random clusters x random policy sets x random flows:
 * the verdict of each direction AND the deciding rule, with zero mismatches; `explain` equals
 * `ReferenceEvaluator.evaluate` exactly (deep equality) on a sample. (Every fast path has an oracle;
 * after Open vSwitch tests/test-classifier.c: the fast classifier against a trivial one.)
 *
 * Size: PALISADE_DIFF_FLOWS flows in total (default 1,000,000) over the seeds, all through the
 * engine's batch path. The reference is deterministic and never reads the source port (no API
 * matches on it), so its answer per (src, dst, protocol, dstPort) is computed once per seed and
 * reused for repeats of that flow: every one of the flows is compared against its reference
 * answer, while only the distinct ones cost a reference walk (the walk is ~35 µs here).
 */
import { describe, expect, test } from 'vitest';
import { compile, nativeAvailable } from '../../src/index.js';
import { encodeFlows } from '../../src/engine/flow-batch.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import type { Flow } from '../../src/model/flow.js';
import { addressPools, interestingPorts, randomCluster, randomFlow, Rng } from './random-cluster.js';
import { engineKey, referenceKey } from './compare.js';

const TOTAL = Number(process.env.PALISADE_DIFF_FLOWS ?? 1_000_000);
const SEEDS = Array.from({ length: 25 }, (_, i) => 1000 + i * 7919);
const PER_SEED = Math.ceil(TOTAL / SEEDS.length);
const EXPLAIN_SAMPLE = 200;

describe('engine = reference on random clusters, policies and flows', () => {
  test('the native classifier is built and is what compile() uses (set PALISADE_ALLOW_TS=1 to run on the TS one)', () => {
    if (process.env.PALISADE_ALLOW_TS === '1') return;
    expect(nativeAvailable()).toBe(true);
  });

  test(`${SEEDS.length} seeds x ${PER_SEED} flows, zero mismatches (classifier: ${nativeAvailable() ? 'native' : 'ts'})`, () => {
    const mismatches: string[] = [];
    let mismatchCount = 0;
    let checked = 0;
    let referenceWalks = 0;
    let explained = 0;
    let classifierLookups = 0;
    let linearChecked = 0;
    const tally = { allow: 0, deny: 0, rule: 0, isolated: 0, nodeLocal: 0, nodeLocalViaHostPod: 0, passed: 0 };
    for (const seed of SEEDS) {
      const r = new Rng(seed);
      const cluster = randomCluster(r, {
        namespaces: r.int(2, 6),
        pods: r.int(6, 20),
        nodes: r.int(1, 3),
        networkPolicies: r.int(0, 8),
        clusterPolicies: r.int(0, 9),
      });
      const engine = compile(cluster);
      if (nativeAvailable()) expect(engine.classifier).toBe('native');
      // the TS linear classifier is the second oracle: on a few seeds it must give the same rule ids
      const linear = seed < 1000 + 2 * 7919 ? compile(cluster, { classifier: 'ts' }) : undefined;
      const reference = new ReferenceEvaluator(cluster);
      const pools = addressPools(cluster);
      const ports = interestingPorts(cluster);
      const flows: Flow[] = Array.from({ length: PER_SEED }, () => randomFlow(r, pools, ports));
      const expected = new Map<string, string>();
      const nodeAddresses = new Set(cluster.nodes.flatMap((n) => n.addresses.map((a) => a.text)));
      const ruleKeys = new Map<number, string>();
      const key = (id: number, v: 'allow' | 'deny'): string => {
        const k = id * 2 + (v === 'allow' ? 1 : 0);
        let s = ruleKeys.get(k);
        if (s === undefined) ruleKeys.set(k, (s = engineKey(engine, id, v)));
        return s;
      };
      const before = engine.classifierLookups;
      for (const family of [4, 6] as const) {
        const fam = flows.filter((f) => f.src.family === family);
        const batch = encodeFlows(family, fam);
        const res = engine.lookupBatch(batch);
        if (linear) {
          const lin = linear.lookupBatch(batch);
          expect(Array.from(lin.egressRule)).toEqual(Array.from(res.egressRule));
          expect(Array.from(lin.ingressRule)).toEqual(Array.from(res.ingressRule));
          linearChecked += fam.length;
        }
        for (let k = 0; k < fam.length; k++) {
          const f = fam[k] as Flow;
          const fk = `${f.src.text} ${f.dst.text} ${f.protocol} ${f.dstPort}`;
          let want = expected.get(fk);
          if (want === undefined) {
            const v = reference.evaluate(f);
            referenceWalks++;
            want = `${v.verdict} | ${referenceKey(v.egress)} | ${referenceKey(v.ingress)}`;
            expected.set(fk, want);
            tally[v.verdict]++;
            for (const d of [v.egress, v.ingress]) {
              if (d.reason === 'rule') tally.rule++;
              if (d.reason === 'isolated-no-match') tally.isolated++;
              if (d.reason === 'node-local') tally.nodeLocal++;
              // node-local through a host-network pod whose address no Node lists (reference ca1435e)
              if (d.reason === 'node-local' && !nodeAddresses.has(f.src.text)) tally.nodeLocalViaHostPod++;
              if (d.passed.length) tally.passed++;
            }
          }
          const ev = res.egressRule[k] as number;
          const iv = res.ingressRule[k] as number;
          const verdict = res.verdict[k] === 1 ? 'allow' : 'deny';
          const dirVerdict = (id: number): 'allow' | 'deny' =>
            id < 0 || ['accept', 'allow', 'node-local'].includes(engine.rule(id).action) ? 'allow' : 'deny';
          const got = `${verdict} | ${ev < 0 ? 'allow none' : key(ev, dirVerdict(ev))} | ${iv < 0 ? 'allow none' : key(iv, dirVerdict(iv))}`;
          if (got !== want) {
            mismatchCount++;
            if (mismatches.length < 10) mismatches.push(`seed ${seed}: ${fk} sport ${f.srcPort ?? '-'}\n  engine    ${got}\n  reference ${want}`);
          }
          checked++;
        }
      }
      classifierLookups += engine.classifierLookups - before;
      for (const f of flows.slice(0, EXPLAIN_SAMPLE)) {
        expect(engine.explain(f), `seed ${seed}`).toEqual(reference.evaluate(f));
        explained++;
      }
    }
    expect({ mismatchCount, first: mismatches }).toEqual({ mismatchCount: 0, first: [] });
    expect(checked).toBeGreaterThanOrEqual(TOTAL);
    // the classifier answered every flow in both directions (batch path), not a fallback
    expect(classifierLookups).toBeGreaterThanOrEqual(2 * checked);
    // the random sets exercise every kind of decision
    expect(tally.deny).toBeGreaterThan(referenceWalks / 50);
    expect(tally.isolated).toBeGreaterThan(0);
    expect(tally.nodeLocal).toBeGreaterThan(0);
    expect(tally.nodeLocalViaHostPod).toBeGreaterThan(0);
    expect(tally.passed).toBeGreaterThan(0);
    expect(linearChecked).toBeGreaterThan(0);
    console.log(
      `differential: ${checked} flows compared (${linearChecked} also against the TS linear classifier) (${referenceWalks} distinct reference walks), ${explained} explains deep-equal; decisions ${JSON.stringify(tally)}`,
    );
  }, 240_000); // well under a minute on this 2-core machine; room for a loaded CI runner
});

describe('nodeLocalIngress: false (the reference option of the same name)', () => {
  test('3 seeds x 5,000 flows, zero mismatches', () => {
    let nodeTraffic = 0;
    for (const seed of [5, 6, 7]) {
      const r = new Rng(seed);
      const cluster = randomCluster(r, { namespaces: 3, pods: 16, nodes: 2, networkPolicies: 6, clusterPolicies: 3 });
      const engine = compile(cluster, { nodeLocalIngress: false });
      const reference = new ReferenceEvaluator(cluster, { nodeLocalIngress: false });
      const pools = addressPools(cluster);
      const ports = interestingPorts(cluster);
      for (let k = 0; k < 5000; k++) {
        const f = randomFlow(r, pools, ports);
        const v = reference.evaluate(f);
        const got = engine.lookup(f);
        const want = { verdict: v.verdict, egress: referenceKey(v.egress), ingress: referenceKey(v.ingress) };
        const mine = {
          verdict: got.verdict,
          egress: engineKey(engine, got.egress.ruleId, got.egress.verdict),
          ingress: engineKey(engine, got.ingress.ruleId, got.ingress.verdict),
        };
        if (mine.verdict !== want.verdict || mine.egress !== want.egress || mine.ingress !== want.ingress) expect(mine, `seed ${seed}`).toEqual(want);
        if (v.src.kind === 'node' && v.ingress.reason === 'isolated-no-match') nodeTraffic++;
      }
    }
    // isolated pods really were asked about traffic from nodes (which the default would allow)
    expect(nodeTraffic).toBeGreaterThan(0);
  });
});

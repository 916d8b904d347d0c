/**
 * `palisade diff` on random policy changes equals the difference of two reference-evaluator
 * truth tables computed here independently (flow by flow, with two ReferenceEvaluators), for
 * `-f BEFORE -f AFTER` (random adds, removals and edits of policies) and for `--staged` (random
 * staged sets). Both the reference and the native engine behind the command are checked. Every
 * change carries one cause per flipped direction, each naming a step on the decision path of
 * the side it names, and that step differs (by rule, or by policy for isolation) whenever a
 * differing step is on either path (reference/cause.ts rules 1-3).
 */
import { describe, expect, test } from 'vitest';
import { diffClusters } from '../../src/cli/diff.js';
import { nativeAvailable } from '../../src/index.js';
import { matrixEndpoints, pickPair } from '../../src/matrix/index.js';
import { stagedPredicate, withStagedInForce } from '../../src/model/staged.js';
import { policyKey } from '../../src/model/staged.js';
import type { Cluster, ClusterPolicy, NetworkPolicy, Protocol } from '../../src/model/types.js';
import { decisionPath, type Differs, type DiffersArg, type Step } from '../../src/reference/cause.js';
import { differingPolicies } from '../../src/diff/compute.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import type { DirectionVerdict } from '../../src/model/verdict.js';
import { interestingPorts, randomCluster, randomClusterPolicy, randomNetworkPolicy, Rng } from '../engine/random-cluster.js';

const SEEDS = Array.from({ length: 24 }, (_, i) => 4242 + i * 104729);
const PROTOCOLS: Protocol[] = ['TCP', 'UDP', 'SCTP'];
const quiet = { out: () => {}, err: () => {} };

/** B = A with a few random policy changes: adds, removals, in-place edits. */
function changePolicies(r: Rng, a: Cluster): Cluster {
  const names = a.namespaces.map((n) => n.name);
  const nps: NetworkPolicy[] = [...a.networkPolicies];
  const cps: ClusterPolicy[] = [...a.clusterPolicies];
  for (let k = r.int(1, 4); k > 0; k--) {
    const what = r.next();
    if (what < 0.2 && nps.length > 0) nps.splice(r.int(0, nps.length - 1), 1);
    else if (what < 0.4 && cps.length > 0) cps.splice(r.int(0, cps.length - 1), 1);
    else if (what < 0.6) nps.push(randomNetworkPolicy(r, r.pick(names), `np-new-${k}-${r.int(0, 1e6)}`, names));
    else if (what < 0.75 && nps.length > 0) {
      const i = r.int(0, nps.length - 1);
      const old = nps[i]!;
      nps[i] = { ...randomNetworkPolicy(r, old.namespace, old.name, names) };
    } else {
      const p = randomClusterPolicy(r, `cnp-new-${k}-${r.int(0, 1e6)}`, names, cps.some((c) => c.kind === 'BaselineAdminNetworkPolicy'));
      const at = cps.findIndex((c) => c.kind === p.kind && c.name === p.name);
      if (at >= 0) cps[at] = p;
      else cps.push(p);
    }
  }
  return { ...a, networkPolicies: nps, clusterPolicies: cps };
}

/** Mark a random subset of the cluster's policies staged (kept apart, as buildCluster does). */
function stageSome(r: Rng, c: Cluster): Cluster {
  const stagedNps = c.networkPolicies.filter(() => r.chance(0.35)).map((p) => ({ ...p, staged: true as const }));
  const stagedCps = c.clusterPolicies.filter(() => r.chance(0.35)).map((p) => ({ ...p, staged: true as const }));
  const out = (p: { name: string; kind: string; namespace?: string }, list: readonly { name: string; kind: string; namespace?: string }[]) =>
    !list.some((s) => s.kind === p.kind && s.name === p.name && s.namespace === p.namespace);
  return {
    ...c,
    networkPolicies: c.networkPolicies.filter((p) => out(p, stagedNps)),
    clusterPolicies: c.clusterPolicies.filter((p) => out(p, stagedCps)),
    staged: { networkPolicies: stagedNps, clusterPolicies: stagedCps },
  };
}

/** The expected changes, flow by flow: `from|to|port|proto|before->after`. */
function independentDifference(before: Cluster, after: Cluster, ports: number[]): { changes: string[]; compared: number } {
  const b = new ReferenceEvaluator(before);
  const a = new ReferenceEvaluator(after);
  const endpoints = matrixEndpoints(before);
  const changes: string[] = [];
  let compared = 0;
  for (const port of ports) {
    for (const protocol of PROTOCOLS) {
      for (const from of endpoints) {
        for (const to of endpoints) {
          const pair = pickPair(from, to);
          if (!pair) continue;
          compared++;
          const flow = { src: pair.src, dst: pair.dst, protocol, dstPort: port };
          const vb = b.evaluate(flow).verdict;
          const va = a.evaluate(flow).verdict;
          if (vb !== va) changes.push(`${from.label}|${to.label}|${port}|${protocol}|${vb}->${va}`);
        }
      }
    }
  }
  return { changes: changes.sort(), compared };
}

const stepKey = (s: Step): string => JSON.stringify(s);
const onPath = (s: Step, d: DirectionVerdict): boolean =>
  decisionPath(d).steps.some((x) => {
    if (x.kind === 'isolation' && s.kind === 'isolation') return s.policies.every((p) => x.policies.some((q) => policyKey(q) === policyKey(p)));
    return stepKey(x) === stepKey(s);
  });

function checkDiff(
  label: string,
  before: Cluster,
  after: Cluster,
  mode: 'files' | 'staged',
  given: DiffersArg,
  ports: number[],
  engine: 'reference' | 'native',
): { changes: number } {
  const differs: Required<Differs> =
    typeof given === 'function' ? { policy: given, rule: (r) => given(r.policy) } : { policy: given.policy, rule: given.rule! };
  const q = { ports, protocols: PROTOCOLS };
  const got = diffClusters(before, after, mode, q, [], engine, quiet);
  const expected = independentDifference(before, after, ports);
  const actual = got.diff.changes.map((c) => `${c.from}|${c.to}|${c.port}|${c.protocol}|${c.before.verdict}->${c.after.verdict}`).sort();
  expect(actual, label).toEqual(expected.changes);
  expect(got.diff.compared, label).toBe(expected.compared);

  for (const ch of got.diff.changes) {
    const flipped = (['egress', 'ingress'] as const).filter((d) => ch.before[d].verdict !== ch.after[d].verdict);
    expect(ch.causes.map((c) => c.direction), label).toEqual(flipped);
    for (const c of ch.causes) {
      const side = c.side === 'after' ? ch.after[c.direction] : ch.before[c.direction];
      expect(onPath(c.step, side), `${label}: cause on the ${c.side} path`).toBe(true);
      const anyDiffering = [ch.before[c.direction], ch.after[c.direction]].some((d) =>
        decisionPath(d).steps.some((s) => (s.kind === 'rule' ? differs.rule(s.rule, c.direction) : s.kind === 'isolation' ? s.policies.some((p) => differs.policy(p)) : false)),
      );
      if (anyDiffering) {
        const involved =
          c.step.kind === 'rule' ? differs.rule(c.step.rule, c.direction) : c.step.kind === 'isolation' ? c.step.policies.every((p) => differs.policy(p)) : false;
        expect(involved, `${label}: a differing policy is on the path, so the cause is one`).toBe(true);
      }
    }
  }
  // every change is in the group of each of its causes, and the counts add up
  const inGroups = got.diff.groups.reduce((n, g) => n + g.changes.length, 0);
  expect(inGroups, label).toBe(got.diff.changes.reduce((n, c) => n + c.causes.length, 0));
  for (const g of got.diff.groups) expect(g.opened + g.closed, label).toBe(g.changes.length);
  return { changes: got.diff.changes.length };
}

describe('palisade diff = the difference of two independent reference matrices', () => {
  const engines: ('reference' | 'native')[] = nativeAvailable() ? ['reference', 'native'] : ['reference'];

  test(`-f BEFORE -f AFTER: ${SEEDS.length} seeds of random policy changes (engines: ${engines.join(', ')})`, () => {
    let total = 0;
    let withChanges = 0;
    for (const seed of SEEDS) {
      const r = new Rng(seed);
      const before = randomCluster(r, { namespaces: r.int(2, 4), pods: r.int(5, 12), nodes: r.int(1, 3), networkPolicies: r.int(0, 5), clusterPolicies: r.int(0, 6) });
      const after = changePolicies(r, before);
      const ports = [...new Set([80, ...interestingPorts(after).filter(() => r.chance(0.15))])].slice(0, 4);
      const differs = differingPolicies(before, after);
      for (const engine of engines) {
        const { changes } = checkDiff(`seed ${seed} ${engine}`, before, after, 'files', differs, ports, engine);
        total += changes;
        if (changes > 0 && engine === 'reference') withChanges++;
      }
    }
    // the generator must actually produce changes, or the test proves nothing
    expect(withChanges).toBeGreaterThan(SEEDS.length / 3);
    expect(total).toBeGreaterThan(100);
    console.log(`files: ${total} changes over ${SEEDS.length} seeds x ${engines.length} engines, ${withChanges} seeds with changes`);
  });

  test(`--staged: ${SEEDS.length} seeds of random staged sets`, () => {
    let withChanges = 0;
    for (const seed of SEEDS) {
      const r = new Rng(seed ^ 0x5eed);
      const full = randomCluster(r, { namespaces: r.int(2, 4), pods: r.int(5, 12), nodes: r.int(1, 3), networkPolicies: r.int(1, 6), clusterPolicies: r.int(1, 6) });
      const cluster = stageSome(r, full);
      const ports = [...new Set([80, ...interestingPorts(full).filter(() => r.chance(0.15))])].slice(0, 4);
      for (const engine of engines) {
        const { changes } = checkDiff(`staged seed ${seed} ${engine}`, cluster, withStagedInForce(cluster), 'staged', stagedPredicate(cluster), ports, engine);
        if (changes > 0 && engine === 'reference') withChanges++;
      }
    }
    expect(withChanges).toBeGreaterThan(SEEDS.length / 3);
  });
});

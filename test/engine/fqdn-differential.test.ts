/**
 * Differential test for `domainNames` (docs/fqdn.md): the compiled engine (native classifier when
 * built) given a learned-address snapshot equals the reference evaluator given the same snapshot,
 * on seeded random clusters, random `domainNames` patterns, random snapshots (several pods, names
 * of the patterns and not, CNAME-chain entries, expired entries, addresses of both families) and
 * flows aimed at the learned addresses; then again after a second snapshot (set edits) and after
 * inventory changes (per-pod rules re-lowered, learned entries kept). Zero mismatches.
 */
import { describe, expect, test } from 'vitest';
import { compile, nativeAvailable } from '../../src/index.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import type { LearnedAddress, LearnedSnapshot } from '../../src/model/fqdn.js';
import type { Flow } from '../../src/model/flow.js';
import type { IpAddr } from '../../src/model/ip.js';
import type { Cluster, ClusterPolicy } from '../../src/model/types.js';
import type { Engine } from '../../src/engine/engine.js';
import { addressPools, interestingPorts, randomChange, randomCluster, randomFlow, Rng } from './random-cluster.js';
import { compareAnswer } from './compare.js';

const PATTERNS = ['example.com', '*.example.com', 'db.test', '*.b.test', 'API.Example.com', '*.deep.a.test'];
const NAMES = ['example.com', 'a.example.com', 'x.y.example.com', 'db.test', 'b.test', 'c.b.test', 'other.test', 'api.example.com', 'q.deep.a.test', 'deep.a.test'];
const AT_MS = 1_700_000_000_000;

function withRandomPatterns(r: Rng, c: Cluster): Cluster {
  const policy = (p: ClusterPolicy): ClusterPolicy => ({
    ...p,
    egress: p.egress.map((rule) => ({
      ...rule,
      // more Accept rules with domainNames than the generic generator gives
      peers: [
        ...rule.peers.map((q) => (q.kind === 'domainNames' ? { kind: 'domainNames' as const, domainNames: Array.from({ length: r.int(1, 3) }, () => r.pick(PATTERNS)) } : q)),
        ...(rule.action === 'Accept' && r.chance(0.4) ? [{ kind: 'domainNames' as const, domainNames: [r.pick(PATTERNS)] }] : []),
      ],
    })),
  });
  return { ...c, clusterPolicies: c.clusterPolicies.map(policy) };
}

function randomSnapshot(r: Rng, c: Cluster, pools: Record<4 | 6, IpAddr[][]>): LearnedSnapshot {
  const pods = c.pods.filter((p) => !p.hostNetwork && p.ips.length > 0);
  const entries: LearnedAddress[] = [];
  for (let i = 0, n = r.int(0, 40); i < n && pods.length > 0; i++) {
    const pod = r.pick(pods);
    const family = r.chance(0.6) ? 4 : 6;
    const pool = pools[family];
    const address = r.pick(r.chance(0.7) && pool[2]!.length ? pool[2]! : pool[0]!.length ? pool[0]! : pool[2]!);
    const query = r.pick(NAMES);
    const expiresAtMs = AT_MS + (r.chance(0.15) ? -r.int(0, 5000) : r.int(1, 300_000));
    const key = `${pod.namespace}/${pod.name}`;
    entries.push({ pod: key, name: query, address, expiresAtMs, query });
    // a CNAME chain: the same address under the alias target too
    if (r.chance(0.3)) entries.push({ pod: key, name: r.pick(NAMES), address, expiresAtMs, query });
  }
  return { atMs: AT_MS, entries };
}

function aimedFlows(r: Rng, c: Cluster, snap: LearnedSnapshot, pools: Record<4 | 6, IpAddr[][]>, ports: number[], n: number): Flow[] {
  const byKey = new Map(c.pods.map((p) => [`${p.namespace}/${p.name}`, p]));
  const out: Flow[] = [];
  for (let i = 0; i < n; i++) {
    const e = snap.entries.length > 0 && r.chance(0.6) ? r.pick(snap.entries) : undefined;
    const pod = e ? byKey.get(e.pod) : undefined;
    const src = pod?.ips.find((a) => a.family === e!.address.family);
    if (e && src && r.chance(0.8)) {
      out.push({ src, dst: e.address, protocol: r.pick(['TCP', 'TCP', 'UDP', 'SCTP'] as const), dstPort: r.pick(ports) });
    } else if (e && r.chance(0.5)) {
      // another pod towards an address it did not learn (scope)
      const other = r.pick(c.pods).ips.find((a) => a.family === e.address.family);
      if (other) out.push({ src: other, dst: e.address, protocol: 'TCP', dstPort: r.pick(ports) });
    } else out.push(randomFlow(r, pools, ports));
  }
  return out;
}

function check(engine: Engine, snap: LearnedSnapshot, flows: readonly Flow[], tally: { learnedAllow: number }, label: string): string[] {
  const reference = new ReferenceEvaluator(engine.cluster(), { learned: snap });
  const bad: string[] = [];
  for (const f of flows) {
    const v = reference.evaluate(f);
    const got = engine.lookup(f);
    const m = compareAnswer(engine, v, got.verdict, got.egress.ruleId, got.ingress.ruleId);
    if (m.length > 0 && bad.length < 10) bad.push(`${label}: ${JSON.stringify(m)}`);
    if (v.egress.notes.some((n) => n.includes(' matched as '))) tally.learnedAllow++;
  }
  return bad;
}

describe('engine = reference with learned-address snapshots (domainNames)', () => {
  test('the native classifier is what compile() uses (set PALISADE_ALLOW_TS=1 to run on the TS one)', () => {
    if (process.env.PALISADE_ALLOW_TS === '1') return;
    expect(nativeAvailable()).toBe(true);
  });

  test('30 seeds x (2 snapshots + inventory changes) x 600 flows, zero mismatches', () => {
    const mismatches: string[] = [];
    const tally = { learnedAllow: 0, flows: 0 };
    for (let seed = 0; seed < 30; seed++) {
      const r = new Rng(7000 + seed * 131);
      const cluster = withRandomPatterns(r, randomCluster(r, { namespaces: r.int(2, 4), pods: r.int(6, 14), nodes: r.int(1, 2), networkPolicies: r.int(0, 4), clusterPolicies: r.int(1, 6) }));
      const engine = compile(cluster);
      const pools = addressPools(cluster);
      const ports = interestingPorts(cluster);

      const first = randomSnapshot(r, cluster, pools);
      engine.learnSnapshot(first);
      mismatches.push(...check(engine, first, aimedFlows(r, cluster, first, pools, ports, 600), tally, `seed ${seed} first`));

      const second = randomSnapshot(r, cluster, pools);
      engine.learnSnapshot(second);
      mismatches.push(...check(engine, second, aimedFlows(r, cluster, second, pools, ports, 600), tally, `seed ${seed} second`));

      for (let k = 0; k < 3; k++) engine.update(randomChange(r, engine.cluster(), false));
      const now = engine.cluster();
      mismatches.push(...check(engine, second, aimedFlows(r, now, second, addressPools(now), ports, 600), tally, `seed ${seed} changed`));
      tally.flows += 1800;
    }
    expect(mismatches).toEqual([]);
    // the snapshots made domainNames rules decide a real share of the flows
    expect(tally.learnedAllow).toBeGreaterThan(tally.flows / 200);
    console.log(`fqdn differential: ${tally.flows} flows, ${tally.learnedAllow} decided by a learned address`);
  }, 240_000);

  test('an empty snapshot: domainNames rules match nothing (as before learning)', () => {
    const r = new Rng(99);
    const cluster = withRandomPatterns(r, randomCluster(r, { namespaces: 3, pods: 10, nodes: 1, networkPolicies: 2, clusterPolicies: 5 }));
    const engine = compile(cluster);
    const empty: LearnedSnapshot = { atMs: AT_MS, entries: [] };
    const pools = addressPools(cluster);
    const flows = Array.from({ length: 2000 }, () => randomFlow(r, pools, interestingPorts(cluster)));
    expect(check(engine, empty, flows, { learnedAllow: 0 }, 'empty')).toEqual([]);
  });
});

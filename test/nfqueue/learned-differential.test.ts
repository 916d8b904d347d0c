/**
 * Differential test of nfqueue's learned-address edits (docs/fqdn.md; backends/nfqueue/expiry.ts):
 * the loop's classifier (decide: the packet bytes the queue would hand over), after a random
 * sequence of Enforcement.learn calls (new entries, some already expired, some short-lived, most
 * long; retractions; refreshes) and clock steps that let the backend's own expiry timer fire,
 * equals the reference evaluator given the entries held, at the same instant. The learner never
 * retracts an expired entry here (its job), so only the backend's expiry can deny it. Fake clock
 * (Date, setTimeout): no boundary races. Detached loop: no privileges needed. Zero mismatches.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { NfqueueBackend } from '../../backends/nfqueue/backend.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import { nativeAvailable } from '../../src/index.js';
import type { LearnedAddress } from '../../src/model/fqdn.js';
import type { Flow } from '../../src/model/flow.js';
import type { Cluster, ClusterPolicy } from '../../src/model/types.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import { addressPools, interestingPorts, randomCluster, randomFlow, Rng } from '../engine/random-cluster.js';
import { flowPacket } from './flow-packet.js';

const PATTERNS = ['example.com', '*.example.com', 'db.test', '*.b.test'];
const NAMES = ['example.com', 'a.example.com', 'x.y.example.com', 'db.test', 'b.test', 'c.b.test', 'other.test'];
const T0 = 1_700_000_000_000;

function withDomainNames(r: Rng, c: Cluster): Cluster {
  // a named port with a domainNames peer does not compile (validation rejects it)
  const named = (rule: ClusterPolicy['egress'][number]): boolean => (rule.protocols ?? []).some((m) => m.kind !== 'port');
  const policy = (p: ClusterPolicy): ClusterPolicy => ({
    ...p,
    egress: p.egress.map((rule) => named(rule) ? rule : ({
      ...rule,
      peers: [
        ...rule.peers.map((q) => (q.kind === 'domainNames' ? { kind: 'domainNames' as const, domainNames: [r.pick(PATTERNS)] } : q)),
        ...(rule.action === 'Accept' && r.chance(0.5) ? [{ kind: 'domainNames' as const, domainNames: [r.pick(PATTERNS), r.pick(PATTERNS)] }] : []),
      ],
    })),
  });
  return { ...c, clusterPolicies: c.clusterPolicies.map(policy) };
}

const keyOf = (e: Pick<LearnedAddress, 'pod' | 'name' | 'address'>): string => `${e.pod}|${e.name}|${e.address.text}`;

describe.skipIf(!nativeAvailable())('nfqueue learned edits = reference evaluator', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'], now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test('16 seeds x 14 steps x 150 flows: learned, retracted, refreshed, expired by the backend', async () => {
    const mismatches: string[] = [];
    const tally = { flows: 0, learnedAllow: 0, expiredHeld: 0, expiryPublishes: 0 };
    for (let seed = 0; seed < 16; seed++) {
      const r = new Rng(4100 + seed * 37);
      const cluster = withDomainNames(r, randomCluster(r, { namespaces: r.int(2, 4), pods: r.int(6, 12), nodes: 1, networkPolicies: r.int(0, 3), clusterPolicies: r.int(1, 5) }));
      const pools = addressPools(cluster);
      const ports = interestingPorts(cluster);
      const pods = cluster.pods.filter((p) => !p.hostNetwork && p.ips.length > 0);
      const backend = new NfqueueBackend({ attach: false });
      const enforcement = new Enforcement(backend);
      await enforcement.apply(cluster);
      const held = new Map<string, LearnedAddress>();
      for (let step = 0; step < 14; step++) {
        const now = Date.now();
        const added: LearnedAddress[] = [];
        for (let i = 0, n = r.int(0, 12); i < n && pods.length > 0; i++) {
          const pod = r.pick(pods);
          const family = r.chance(0.6) ? 4 : 6;
          const pool = pools[family];
          const address = r.pick(pool[2]!.length && r.chance(0.7) ? pool[2]! : pool[0]!.length ? pool[0]! : pool[2]!);
          const name = r.pick(NAMES);
          // expiries end in 3 ms, checks fall on multiples of 10: never at an expiry instant
          const expiresAtMs = r.chance(0.15) ? now - 10 * r.int(1, 50) + 3 : r.chance(0.4) ? now + 10 * r.int(1, 30) + 3 : now + 600_000 + 3;
          added.push({ pod: `${pod.namespace}/${pod.name}`, name, address, expiresAtMs, query: name });
        }
        // refreshes of held entries, expired ones too (a later answer, a fresh TTL; an expiry only grows)
        for (const e of [...held.values()]) if (r.chance(e.expiresAtMs <= now ? 0.3 : 0.1)) added.push({ ...e, expiresAtMs: now + 10 * r.int(1, 40) + 3 });
        const removed = [...held.values()].filter(() => r.chance(0.08));
        await enforcement.learn(added, removed);
        for (const e of removed) held.delete(keyOf(e));
        for (const e of added) {
          const h = held.get(keyOf(e));
          if (!h || e.expiresAtMs > h.expiresAtMs) held.set(keyOf(e), e);
        }
        vi.advanceTimersByTime(10 * r.int(0, 15)); // the backend's expiry timer fires in here
        const at = Date.now();
        const entries = [...held.values()];
        tally.expiredHeld += entries.filter((e) => e.expiresAtMs <= at).length;
        const reference = new ReferenceEvaluator(cluster, { learned: { atMs: at, entries } });
        for (let k = 0; k < 150; k++) {
          const e = entries.length > 0 && r.chance(0.7) ? r.pick(entries) : undefined;
          const src = e ? cluster.pods.find((p) => `${p.namespace}/${p.name}` === e.pod)?.ips.find((a) => a.family === e.address.family) : undefined;
          const flow: Flow = e && src ? { src, dst: e.address, protocol: r.pick(['TCP', 'UDP'] as const), dstPort: r.pick(ports) } : randomFlow(r, pools, ports);
          const want = reference.evaluate(flow);
          const got = backend.decide(flowPacket(flow));
          tally.flows++;
          if (want.egress.notes.some((n) => n.includes(' matched as '))) tally.learnedAllow++;
          if ((got.allow ? 'allow' : 'deny') !== want.verdict && mismatches.length < 10) {
            mismatches.push(`seed ${seed} step ${step}: ${flow.protocol} ${flow.src.text} -> ${flow.dst.text}:${flow.dstPort}: nfqueue ${got.allow ? 'allow' : 'deny'}, reference ${want.verdict}`);
          }
        }
      }
      tally.expiryPublishes += ((await backend.stats()).details as { expiryPublishes: number }).expiryPublishes;
      await backend.close();
    }
    console.log(`nfqueue learned differential: ${JSON.stringify(tally)}`);
    expect(mismatches).toEqual([]);
    // learned addresses decided a real share, held entries expired, and the backend's timer removed them
    expect(tally.learnedAllow).toBeGreaterThan(tally.flows / 100);
    expect(tally.expiredHeld).toBeGreaterThan(50);
    expect(tally.expiryPublishes).toBeGreaterThan(16);
  }, 120_000);
});

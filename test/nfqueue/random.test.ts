/**
 * The nfqueue backend against the reference evaluator on seeded random policy sets, on real
 * packets (shared harness: test/harness/random.ts, differential.ts), driven through one
 * Enforcement(NfqueueBackend) per inventory. Each inventory seed is wired once; its policy sets
 * are installed in turn into the running loop (a live snapshot swap each);
 * every ordered address pair is probed (TCP, UDP, raw SCTP; IPv4 and IPv6): zero mismatches.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../src/model/types.js';
import { NfqueueBackend } from '../../backends/nfqueue/backend.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import { enforceAndCompare, formatMismatch } from '../harness/differential.js';
import { portPlan } from '../../src/topology/ports.js';
import { ProbeFleet } from '../../src/topology/probe.js';
import { randomInventory, mergePortPlans, withRandomPolicies } from '../harness/random.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { requires } from '../harness/prerequisites.js';

const INVENTORY_SEEDS = [404, 505, 606];
const SETS_PER_INVENTORY = 8;
const SHAPE = { namespaces: 3, pods: 6, nodes: 2 };
const COUNTS = { networkPolicies: 3, clusterPolicies: 3 };


const totals = { sets: 0, probes: 0, allowed: 0, denied: 0 };

describe.skipIf(requires('root', 'netns', 'addon', 'nfqueue', 'iptables-nft', 'cni-plugins'))('nfqueue backend = reference on seeded random policy sets', () => {
  for (const invSeed of INVENTORY_SEEDS) {
    describe(`inventory seed ${invSeed}`, () => {
      const inventory = randomInventory(invSeed, SHAPE);
      const cases = Array.from({ length: SETS_PER_INVENTORY }, (_, k) => invSeed * 100 + k);
      const ports = mergePortPlans(cases.map((s) => portPlan(withRandomPolicies(inventory, s, COUNTS), 5)));
      let topo: Topology | undefined;
      let fleet: ProbeFleet | undefined;
      let backend: NfqueueBackend | undefined;
      let enforcement: Enforcement | undefined;
      beforeAll(async () => {
        topo = await buildTopology(inventory, { tag: `nqr${invSeed}` });
        fleet = await ProbeFleet.start(topo, ports);
        backend = new NfqueueBackend({ netnsPath: topo.nodeNetnsPath, firstQueue: 4400 });
        enforcement = new Enforcement(backend);
      });
      afterAll(async () => {
        await backend?.remove().catch(() => undefined);
        await fleet?.stop();
        await topo?.destroy();
      });
      for (const seed of cases) {
        it(`policy seed ${seed}`, async () => {
          const c: Cluster = withRandomPolicies(inventory, seed, COUNTS);
          const report = await enforceAndCompare(enforcement!, c, topo!, fleet!, ports, { timeoutMs: 300 });
          expect(report.mismatches.map(formatMismatch)).toEqual([]);
          expect(report.probes).toBeGreaterThan(0);
          totals.sets++;
          totals.probes += report.probes;
          totals.allowed += report.allowed;
          totals.denied += report.denied;
        });
      }
    });
  }
  it('exercised both verdicts on every set', () => {
    expect(totals.sets).toBe(INVENTORY_SEEDS.length * SETS_PER_INVENTORY);
    expect(totals.allowed).toBeGreaterThan(0);
    expect(totals.denied).toBeGreaterThan(0);
    console.log(`nfqueue random suite: ${JSON.stringify(totals)}`);
  });
});

/**
 * The seeded random differential suite, split over three test files to keep each under ~60 s.
 * 60 seeded random policy sets, IPv4 and IPv6, zero mismatches. Each inventory seed is wired once
 * as a topology; its policy sets are put in force in turn through one Enforcement(NftablesBackend)
 * (an in-place table replacement each); every ordered address pair is probed on the ports the
 * policies name (TCP, UDP, raw SCTP) and compared with the reference evaluator. A failing case
 * names its seeds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../src/model/types.js';
import { enforceAndCompare, formatMismatch } from '../harness/differential.js';
import { portPlan } from '../../src/topology/ports.js';
import { externalCandidates } from '../harness/externals.js';
import { ProbeFleet, type PortPlan } from '../../src/topology/probe.js';
import { randomInventory, mergePortPlans, withRandomPolicies } from '../harness/random.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { NftablesBackend } from '../../backends/nftables/backend.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import { requires } from '../harness/prerequisites.js';

export const POLICY_SETS_PER_INVENTORY = 10;
const SHAPE = { namespaces: 3, pods: 6, nodes: 2 };
const COUNTS = { networkPolicies: 3, clusterPolicies: 3 };

/** Totals over the suite, so a file can check that it exercised both verdicts. */
export interface SuiteTotals {
  probes: number;
  allowed: number;
  denied: number;
  retried: number;
}

export function randomSuite(inventorySeeds: readonly number[]): SuiteTotals {
  const totals: SuiteTotals = { probes: 0, allowed: 0, denied: 0, retried: 0 };
  describe.skipIf(requires('root', 'netns', 'addon', 'cni-plugins'))('nftables backend = reference on seeded random policy sets', () => {
    for (const invSeed of inventorySeeds) {
      describe(`inventory seed ${invSeed}`, () => {
        const inventory = randomInventory(invSeed, SHAPE);
        const cases = Array.from({ length: POLICY_SETS_PER_INVENTORY }, (_, k) => invSeed * 100 + k);
        // one port plan for all policy sets of this inventory, so servers start once
        const ports: PortPlan = mergePortPlans(cases.map((s) => portPlan(withRandomPolicies(inventory, s, COUNTS), 5)));
        let topo: Topology | undefined;
        let fleet: ProbeFleet | undefined;
        let enforcement: Enforcement | undefined;
        beforeAll(async () => {
          const externals = externalCandidates(cases.map((s) => withRandomPolicies(inventory, s, COUNTS)), 2);
          topo = await buildTopology(inventory, { tag: `rnd${invSeed}`, externals });
          fleet = await ProbeFleet.start(topo, ports);
          enforcement = new Enforcement(new NftablesBackend({ netnsPath: topo.nodeNetnsPath }));
        });
        afterAll(async () => {
          await enforcement?.remove().catch(() => undefined);
          await fleet?.stop();
          await topo?.destroy();
        });
        for (const seed of cases) {
          it(`policy seed ${seed}`, async () => {
            const c: Cluster = withRandomPolicies(inventory, seed, COUNTS);
            const report = await enforceAndCompare(enforcement!, c, topo!, fleet!, ports, { timeoutMs: 300 });
            expect(report.mismatches.map(formatMismatch)).toEqual([]);
            expect(report.probes).toBeGreaterThan(0);
            totals.probes += report.probes;
            totals.allowed += report.allowed;
            totals.denied += report.denied;
            totals.retried += report.retried;
          });
        }
      });
    }
    it('exercised both verdicts', () => {
      expect(totals.allowed).toBeGreaterThan(0);
      expect(totals.denied).toBeGreaterThan(0);
      console.log(`random suite ${inventorySeeds.join(',')}: ${JSON.stringify(totals)}`);
    });
  });
  return totals;
}


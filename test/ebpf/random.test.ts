/**
 * eBPF backend = reference evaluator on seeded random policy sets (the shared generator,
 * test/harness/random.ts): each inventory seed is wired once as a CNI topology; its policy sets
 * (NetworkPolicies and cluster-tier policies with Pass, priorities, CIDRs with except, named
 * ports, IPv4 and IPv6) are applied in turn, each a full replace = one generation flip; every
 * ordered address pair is probed on the ports the policies name (TCP, UDP, raw SCTP). Zero
 * mismatches. A failing case names its seeds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requires } from '../harness/prerequisites.js';
import type { Cluster } from '../../src/model/types.js';
import { enforceAndCompare } from '../harness/differential.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import { portPlan } from '../../src/topology/ports.js';
import { ProbeFleet } from '../../src/topology/probe.js';
import { randomInventory, mergePortPlans, withRandomPolicies } from '../harness/random.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { ebpfMismatches, testEbpfBackend } from './backend.js';

const INVENTORY_SEEDS = [707, 808, 909];
const POLICY_SETS_PER_INVENTORY = 10;
const SHAPE = { namespaces: 3, pods: 6, nodes: 2 };
const COUNTS = { networkPolicies: 3, clusterPolicies: 3 };


describe.skipIf(requires('root', 'netns', 'addon', 'bpffs', 'bpf', 'cni-plugins'))('eBPF backend = reference on seeded random policy sets', () => {
  const totals = { probes: 0, allowed: 0, denied: 0, deniedSeenAsEnobufs: 0 };
  for (const invSeed of INVENTORY_SEEDS) {
    describe(`inventory seed ${invSeed}`, () => {
      const inventory = randomInventory(invSeed, SHAPE);
      const cases = Array.from({ length: POLICY_SETS_PER_INVENTORY }, (_, k) => invSeed * 100 + k);
      const ports = mergePortPlans(cases.map((s) => portPlan(withRandomPolicies(inventory, s, COUNTS), 5)));
      let topo: Topology | undefined;
      let fleet: ProbeFleet | undefined;
      let enforcement: Enforcement | undefined;
      beforeAll(async () => {
        topo = await buildTopology(inventory, { tag: `erd${invSeed}` });
        fleet = await ProbeFleet.start(topo, ports);
        enforcement = new Enforcement(testEbpfBackend(`rnd${invSeed}`, topo.nodeNetnsPath));
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
          expect(ebpfMismatches(report)).toEqual([]);
          expect(report.probes).toBeGreaterThan(0);
          totals.probes += report.probes;
          totals.allowed += report.allowed;
          totals.denied += report.denied;
          totals.deniedSeenAsEnobufs += report.mismatches.length;
        });
      }
    });
  }
  it('exercised both verdicts', () => {
    expect(totals.allowed).toBeGreaterThan(0);
    expect(totals.denied).toBeGreaterThan(0);
    console.log(`[ebpf] random ${INVENTORY_SEEDS.join(',')}: ${JSON.stringify(totals)}`);
  });
});

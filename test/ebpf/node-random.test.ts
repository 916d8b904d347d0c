/**
 * eBPF host role = reference evaluator on seeded random node-subject policies (S20): the shared
 * random generator's cluster-tier policies, some turned into node-subject
 * PalisadeClusterNetworkPolicies (test/harness/random.ts withRandomNodeSubjects), applied in turn
 * (each a generation flip) on one CNI topology whose node namespace holds both nodes' addresses
 * (and the host-network pods); every ordered pair probed on the ports the policies name plus the
 * kubelet port (the built-in allowance). Zero mismatches; a failing case names its seed.
 * Two nodes in one namespace talk over `lo`, where their addresses live in this topology: `lo` is
 * named a host interface (`hostInterfaces`), as a real node's uplink would be.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requires } from '../harness/prerequisites.js';
import type { Cluster } from '../../src/model/types.js';
import { KUBELET_PORT } from '../../src/model/node-allowance.js';
import { enforceAndCompare } from '../harness/differential.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import { portPlan } from '../../src/topology/ports.js';
import { ProbeFleet } from '../../src/topology/probe.js';
import { randomInventory, mergePortPlans, withRandomNodeSubjects, withRandomPolicies } from '../harness/random.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { ebpfMismatches, testEbpfBackend } from './backend.js';

const INVENTORY_SEED = 4242;
const POLICY_SEEDS = Array.from({ length: 12 }, (_, k) => 4242_00 + k);
const SHAPE = { namespaces: 3, pods: 6, nodes: 2 };
const COUNTS = { networkPolicies: 2, clusterPolicies: 3 };

describe.skipIf(requires('root', 'netns', 'addon', 'bpffs', 'bpf', 'cni-plugins'))('eBPF host role = reference on seeded random node-subject policies', () => {
  const inventory = randomInventory(INVENTORY_SEED, SHAPE);
  const nodeAddrs = new Set(inventory.nodes.flatMap((n) => n.addresses.map((a) => a.text)));
  const clusterOf = (seed: number): Cluster => withRandomNodeSubjects(withRandomPolicies(inventory, seed, COUNTS), seed + 1, 0.7);
  const merged = mergePortPlans(POLICY_SEEDS.map((s) => portPlan(clusterOf(s), 5)));
  const ports = { ...merged, TCP: [...new Set([...merged.TCP, KUBELET_PORT])].sort((a, b) => a - b) };
  const totals = { probes: 0, nodeProbes: 0, nodeDenied: 0, nodeAllowed: 0 };
  let topo: Topology | undefined;
  let fleet: ProbeFleet | undefined;
  let enforcement: Enforcement | undefined;
  beforeAll(async () => {
    topo = await buildTopology(inventory, { tag: 'enr' });
    fleet = await ProbeFleet.start(topo, ports);
    enforcement = new Enforcement(testEbpfBackend('noderand', topo.nodeNetnsPath, { hostInterfaces: ['lo'] }));
  });
  afterAll(async () => {
    await enforcement?.remove().catch(() => undefined);
    await fleet?.stop();
    await topo?.destroy();
  });
  it('the inventory has node addresses in the topology', () => {
    expect(nodeAddrs.size).toBeGreaterThan(0);
  });
  for (const seed of POLICY_SEEDS) {
    it(`policy seed ${seed}`, async () => {
      const c = clusterOf(seed);
      const report = await enforceAndCompare(enforcement!, c, topo!, fleet!, ports, { timeoutMs: 300 });
      expect(ebpfMismatches(report)).toEqual([]);
      totals.probes += report.probes;
      for (const j of report.judged) {
        if (!nodeAddrs.has(j.spec.src.text) && !nodeAddrs.has(j.spec.dst.text)) continue;
        totals.nodeProbes++;
        if (j.verdict.verdict === 'deny') totals.nodeDenied++;
        else totals.nodeAllowed++;
      }
    });
  }
  it('node flows were probed with both verdicts', () => {
    console.log(`[ebpf] random node subjects: ${JSON.stringify(totals)}`);
    expect(totals.nodeDenied).toBeGreaterThan(0);
    expect(totals.nodeAllowed).toBeGreaterThan(0);
  });
});

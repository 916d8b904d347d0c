/**
 * S25 on real packets, shared by the nftables, eBPF and nfqueue suites: seeded random policy sets
 * (test/harness/random.ts) whose cluster-tier rules get source-port ranges
 * (withRandomSourcePorts) inside the window where the probe fleet's bound source ports fall
 * (TCP and UDP sockets bound to the port, SCTP INITs sent on raw IP sockets, protocol 132, with
 * it in the SCTP header). Each policy set is put in force through one Enforcement over the
 * backend, every ordered address pair is probed, and each probe is compared with the reference
 * evaluator judging that probe's own source port: zero mismatches. The suite also checks that
 * rules with a source range decided probes both ways (allowed and denied), so it cannot pass on
 * policies where source ports never mattered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/enforce/backend.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import type { Cluster } from '../../src/model/types.js';
import type { DirectionVerdict } from '../../src/model/verdict.js';
import { portPlan } from '../../src/topology/ports.js';
import { ProbeFleet } from '../../src/topology/probe.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { enforceAndCompare, formatMismatch, type DifferentialReport } from './differential.js';
import { randomInventory, mergePortPlans, withRandomPolicies, withRandomSourcePorts } from './random.js';

const SHAPE = { namespaces: 3, pods: 6, nodes: 2 };
const COUNTS = { networkPolicies: 2, clusterPolicies: 4 };
/** the fleet counts source ports up from 20000 per source address; a suite of 5 sets uses ~900 of them */
const WINDOW = { lo: 20_000, hi: 21_000 };

export interface SourcePortSuite {
  readonly name: string;
  /** the requires(...) result of the backend's prerequisites */
  readonly missing: boolean;
  readonly inventorySeeds: readonly number[];
  readonly setsPerInventory: number;
  backend(topology: Topology, invSeed: number): Backend;
  /** the mismatches that count (eBPF: a local deny seen as ENOBUFS is a deny) */
  mismatches?(report: DifferentialReport): string[];
}

export function sourcePortCluster(inventory: Cluster, seed: number): Cluster {
  return withRandomSourcePorts(withRandomPolicies(inventory, seed, COUNTS), seed, WINDOW);
}


/** Did a rule with a source range decide this direction? */
function bySourceRange(c: Cluster, d: DirectionVerdict): boolean {
  if (d.reason !== 'rule' || !d.rule || d.rule.tier === 'NetworkPolicy') return false;
  const p = c.clusterPolicies.find((x) => x.kind === d.rule!.policy.kind && x.name === d.rule!.policy.name);
  const rule = p?.[d.direction][d.rule.ruleIndex];
  return rule?.protocols?.some((q) => q.kind === 'port' && q.srcPortStart !== undefined) ?? false;
}

export function sourcePortSuite(s: SourcePortSuite): void {
  describe.skipIf(s.missing)(`${s.name}: source-port rules (S25) = reference on real packets`, () => {
    const totals = { probes: 0, allowed: 0, denied: 0, sourceDecidedAllow: 0, sourceDecidedDeny: 0, maxSrcPort: 0 };
    for (const invSeed of s.inventorySeeds) {
      describe(`inventory seed ${invSeed}`, () => {
        const inventory = randomInventory(invSeed, SHAPE);
        const cases = Array.from({ length: s.setsPerInventory }, (_, k) => invSeed * 100 + 50 + k);
        const ports = mergePortPlans(cases.map((seed) => portPlan(sourcePortCluster(inventory, seed), 4)), 6);
        let topo: Topology | undefined;
        let fleet: ProbeFleet | undefined;
        let enforcement: Enforcement | undefined;
        beforeAll(async () => {
          topo = await buildTopology(inventory, { tag: `sp${s.name.slice(0, 2)}${invSeed % 1000}` });
          fleet = await ProbeFleet.start(topo, ports);
          enforcement = new Enforcement(s.backend(topo, invSeed));
        });
        afterAll(async () => {
          await enforcement?.remove().catch(() => undefined);
          await fleet?.stop();
          await topo?.destroy();
        });
        for (const seed of cases) {
          it(`policy seed ${seed}`, async () => {
            const c = sourcePortCluster(inventory, seed);
            const report = await enforceAndCompare(enforcement!, c, topo!, fleet!, ports, { timeoutMs: 300 });
            expect(s.mismatches ? s.mismatches(report) : report.mismatches.map(formatMismatch)).toEqual([]);
            expect(report.probes).toBeGreaterThan(0);
            totals.probes += report.probes;
            totals.allowed += report.allowed;
            totals.denied += report.denied;
            for (const j of report.judged) {
              totals.maxSrcPort = Math.max(totals.maxSrcPort, j.srcPort);
              if (bySourceRange(c, j.verdict.egress) || bySourceRange(c, j.verdict.ingress)) {
                if (j.verdict.verdict === 'allow') totals.sourceDecidedAllow++;
                else totals.sourceDecidedDeny++;
              }
            }
          });
        }
      });
    }
    it('source-port rules decided probes both ways', () => {
      console.log(`[${s.name}] source ports: ${JSON.stringify(totals)}`);
      expect(totals.sourceDecidedAllow).toBeGreaterThan(0);
      expect(totals.sourceDecidedDeny).toBeGreaterThan(0);
    });
  });
}

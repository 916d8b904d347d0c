/**
 * nftables backend against the reference evaluator on real packets: a dual-stack topology (CNI
 * ptp + host-local), a sequence of policy sets put in force through Enforcement(NftablesBackend)
 * (each an in-place replacement of the table), pod churn as set deltas, every
 * ordered address pair probed on TCP, UDP and raw SCTP, IPv4 and IPv6; zero mismatches.
 * Semantics asserted by the reference (networkpolicy-v1-semantics.md, network-policy-api.md);
 * scenarios follow the upstream netpol e2e cases they name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../src/model/types.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import { compareWithReference, enforceAndCompare, formatMismatch } from '../harness/differential.js';
import { externalCandidates } from '../harness/externals.js';
import { ProbeFleet } from '../../src/topology/probe.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { NftablesBackend } from '../../backends/nftables/backend.js';
import { run } from '../../src/topology/exec.js';
import { PORTS, SCENARIOS, scenarioCluster } from '../harness/scenarios.js';
import { requires } from '../harness/prerequisites.js';

const cluster = (policies: string): Cluster => scenarioCluster(policies, 'differential.test.yaml');

describe.skipIf(requires('root', 'netns', 'addon', 'nft', 'cni-plugins'))('nftables backend = reference evaluator on real packets', () => {
  let topo: Topology | undefined;
  let fleet: ProbeFleet | undefined;
  let enforcement: Enforcement | undefined;

  let rootRulesetBefore = '';

  beforeAll(async () => {
    rootRulesetBefore = (await run('nft', ['-j', 'list', 'ruleset'])).stdout;
    const externals = externalCandidates(Object.values(SCENARIOS).map(cluster));
    topo = await buildTopology(cluster(''), { tag: 'nftdiff', externals });
    expect(topo.hosts.at(-1)!.kind).toBe('external');
    fleet = await ProbeFleet.start(topo, PORTS);
    enforcement = new Enforcement(new NftablesBackend({ netnsPath: topo.nodeNetnsPath }));
  });
  afterAll(async () => {
    await enforcement?.remove().catch(() => undefined);
    await fleet?.stop();
    await topo?.destroy();
  });

  for (const [name, policies] of Object.entries(SCENARIOS)) {
    it(name, async () => {
      const c = cluster(policies);
      const report = await enforceAndCompare(enforcement!, c, topo!, fleet!, PORTS);
      expect(report.mismatches.map(formatMismatch)).toEqual([]);
      // the scenario must actually deny something and allow something, or it proves little
      expect(report.denied).toBeGreaterThan(0);
      expect(report.allowed).toBeGreaterThan(0);
    });
  }

  it('pod churn (relabel web away and back) changes set elements only and follows the reference', async () => {
    const c = cluster(SCENARIOS['NetworkPolicy: default deny ingress in shop, allow web -> db on named port sql']!);
    await enforcement!.apply(c);
    const web = c.pods.find((p) => p.name === 'web')!;
    const away = { ...web, labels: { app: 'elsewhere' } };
    const moved: Cluster = { ...c, pods: c.pods.map((p) => (p === web ? away : p)) };
    const r1 = await enforcement!.applyChanges([{ kind: 'pod', pod: away }]);
    expect([r1.update, r1.kind]).toEqual(['deltas', 'deltas']);
    const after = await compareWithReference(moved, topo!, fleet!, PORTS);
    expect(after.mismatches.map(formatMismatch)).toEqual([]);
    // the same move as a reload of the whole cluster (the file loop's path): one diff, deltas again
    const r2 = await enforcement!.apply(c);
    expect([r2.update, r2.kind]).toEqual(['deltas', 'deltas']);
    const back = await compareWithReference(c, topo!, fleet!, PORTS);
    expect(back.mismatches.map(formatMismatch)).toEqual([]);
    // the two clusters really differ on the wire (web -> db:5432 is allowed only with the label)
    expect(after.allowed).toBeLessThan(back.allowed);
  });

  it('never touched the root namespace firewall', async () => {
    expect((await run('nft', ['-j', 'list', 'ruleset'])).stdout).toBe(rootRulesetBefore);
  });
});


/**
 * nftables backend against the reference evaluator on real packets: a dual-stack topology (CNI
 * ptp + host-local), a sequence of policy sets applied in place (each a full replace), every
 * ordered address pair probed on TCP, UDP and raw SCTP, IPv4 and IPv6; zero mismatches.
 * Semantics asserted by the reference (networkpolicy-v1-semantics.md, network-policy-api.md);
 * scenarios follow the upstream netpol e2e cases they name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../src/model/types.js';
import { compareWithReference, formatMismatch, runDifferential } from '../harness/differential.js';
import { externalCandidates } from '../harness/externals.js';
import { ProbeFleet } from '../harness/probe.js';
import { buildTopology, type Topology } from '../harness/topology.js';
import { NftablesEnforcer } from '../../backends/nftables/apply.js';
import { nativeNftables, type NftNative } from '../../src/native/binding.js';
import { run } from '../harness/exec.js';
import { NftablesTestBackend } from './backend.js';
import { PORTS, SCENARIOS, scenarioCluster } from '../harness/scenarios.js';

const isRoot = process.getuid?.() === 0;
const cluster = (policies: string): Cluster => scenarioCluster(policies, 'differential.test.yaml');

describe.skipIf(!isRoot)('nftables backend = reference evaluator on real packets', () => {
  let topo: Topology | undefined;
  let fleet: ProbeFleet | undefined;
  const backend = new NftablesTestBackend();

  let rootRulesetBefore = '';

  beforeAll(async () => {
    rootRulesetBefore = (await run('nft', ['-j', 'list', 'ruleset'])).stdout;
    const externals = externalCandidates(Object.values(SCENARIOS).map(cluster));
    topo = await buildTopology(cluster(''), { tag: 'nftdiff', externals });
    expect(topo.hosts.at(-1)!.kind).toBe('external');
    fleet = await ProbeFleet.start(topo, PORTS);
  });
  afterAll(async () => {
    await backend.delete().catch(() => undefined);
    await fleet?.stop();
    await topo?.destroy();
  });

  for (const [name, policies] of Object.entries(SCENARIOS)) {
    it(name, async () => {
      const c = cluster(policies);
      const report = await runDifferential(c, topo!, fleet!, backend, PORTS);
      expect(report.mismatches.map(formatMismatch)).toEqual([]);
      // the scenario must actually deny something and allow something, or it proves little
      expect(report.denied).toBeGreaterThan(0);
      expect(report.allowed).toBeGreaterThan(0);
    });
  }

  it('pod churn (relabel web away and back) changes set elements only and follows the reference', async () => {
    const c = cluster(SCENARIOS['NetworkPolicy: default deny ingress in shop, allow web -> db on named port sql']!);
    await backend.apply(c, { netnsPath: topo!.nodeNetnsPath, netns: topo!.nodeNs });
    const web = c.pods.find((p) => p.name === 'web')!;
    const away = { ...web, labels: { app: 'elsewhere' } };
    const moved: Cluster = { ...c, pods: c.pods.map((p) => (p === web ? away : p)) };
    const r1 = backend.enforcer!.applyChanges([{ kind: 'pod', pod: away }]);
    expect(r1.kind).toBe('elements');
    const after = await compareWithReference(moved, topo!, fleet!, PORTS);
    expect(after.mismatches.map(formatMismatch)).toEqual([]);
    const r2 = backend.enforcer!.applyChanges([{ kind: 'pod', pod: web }]);
    expect(r2.kind).toBe('elements');
    const back = await compareWithReference(c, topo!, fleet!, PORTS);
    expect(back.mismatches.map(formatMismatch)).toEqual([]);
    // the two clusters really differ on the wire (web -> db:5432 is allowed only with the label)
    expect(after.allowed).toBeLessThan(back.allowed);
  });

  it('a rejected update leaves the previous rules in force', async () => {
    const good = cluster(SCENARIOS['NetworkPolicy: default deny ingress in shop, allow web -> db on named port sql']!);
    const other = cluster(SCENARIOS['Cluster tiers: admin deny, admin pass, baseline deny, nodes peer']!);
    // An enforcer whose transactions can be poisoned: the whole replacement is sent, followed by
    // one command the kernel refuses (a rule in a chain that does not exist). libnftables sends
    // the document as one batch, so the table must stay exactly as it was.
    const real = nativeNftables();
    let poison = false;
    const native: NftNative = {
      nftRun: (json, ns, echo) => {
        if (!poison) return real.nftRun(json, ns, echo);
        const doc = JSON.parse(json) as { nftables: unknown[] };
        doc.nftables.push({ add: { rule: { family: 'inet', table: 'palisade', chain: 'missing', expr: [{ accept: null }] } } });
        return real.nftRun(JSON.stringify(doc), ns, echo);
      },
      nftWithNetns: (p, fn) => real.nftWithNetns(p, fn),
      nflogOpen: (g, p) => real.nflogOpen(g, p),
      nflogDrain: (fd, max) => real.nflogDrain(fd, max),
      nflogClose: (fd) => real.nflogClose(fd),
    };
    const enforcer = new NftablesEnforcer({ netnsPath: topo!.nodeNetnsPath, native });
    enforcer.applyCluster(good);
    const before = JSON.stringify(enforcer.listTable());
    const rulesBefore = enforcer.ruleSet;
    poison = true;
    expect(() => enforcer.applyCluster(other)).toThrow(expect.objectContaining({ code: 'ERR_PALISADE_NFT' }));
    poison = false;
    expect(JSON.stringify(enforcer.listTable())).toBe(before);
    expect(enforcer.ruleSet).toBe(rulesBefore);
    const report = await compareWithReference(good, topo!, fleet!, PORTS);
    expect(report.mismatches.map(formatMismatch)).toEqual([]);
    expect(report.denied).toBeGreaterThan(0);
  });

  it('never touched the root namespace firewall', async () => {
    expect((await run('nft', ['-j', 'list', 'ruleset'])).stdout).toBe(rootRulesetBefore);
  });
});


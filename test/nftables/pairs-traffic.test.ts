/**
 * Pair rules (backends/nftables/pairs.ts) against the reference evaluator on real packets: the
 * shared dual-stack inventory (test/harness/scenarios.ts) with a `domainNames` rule over the shop
 * pods (two port groups) before a deny of every address, learned addresses handed to the backend
 * (Enforcement.learn) and the same snapshot to the reference, every ordered address pair probed;
 * zero mismatches, for the pair form and for the per-pod form it replaces (`pairRules: false`), so
 * both give the same verdicts. Scope is in the probes: web learned the external address, db did not.
 * Learning through real DNS answers is test/fqdn/traffic.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NftablesBackend } from '../../backends/nftables/backend.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import type { LearnedAddress } from '../../src/model/fqdn.js';
import { parseIp, type IpAddr } from '../../src/model/ip.js';
import { ProbeFleet } from '../../src/topology/probe.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { compareWithReference, formatMismatch } from '../harness/differential.js';
import { requires } from '../harness/prerequisites.js';
import { PORTS, scenarioCluster } from '../harness/scenarios.js';

const EXT4 = '10.244.210.5';
const EXT6 = 'fd00:10:244:210::5';
const ip = (t: string): IpAddr => parseIp(t)!;

const POLICY = `
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: { name: fqdn-pairs }
spec:
  tier: Admin
  priority: 3
  subject: { namespaces: { matchLabels: { team: shop } } }
  egress:
  - name: names
    action: Accept
    to: [ { domainNames: [ a.test, "*.b.test" ] } ]
    protocols: [ { tcp: { destinationPort: { number: 80 } } }, { udp: { destinationPort: { number: 53 } } } ]
  - { name: rest, action: Deny, to: [ { networks: [ 0.0.0.0/0, "::/0" ] } ] }
`;

/** A rule that changes the rule set (an install) and no probed verdict: nothing lives in 10.244.250.0/24. */
const OTHER_POLICY = `
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: { name: unrelated }
spec:
  tier: Admin
  priority: 50
  subject: { namespaces: { matchLabels: { team: ops } } }
  egress: [ { name: nothing-there, action: Accept, to: [ { networks: [ 10.244.250.0/24 ] } ] } ]
`;

describe.skipIf(requires('root', 'netns', 'addon', 'nft', 'cni-plugins'))('nftables pair rules = reference evaluator on real packets', () => {
  const cluster = scenarioCluster(POLICY, 'pairs-traffic.test.yaml');
  let topo: Topology | undefined;
  let fleet: ProbeFleet | undefined;

  beforeAll(async () => {
    topo = await buildTopology(scenarioCluster(''), { tag: 'nftpair', externals: [ip(EXT4), ip(EXT6)] });
    fleet = await ProbeFleet.start(topo, PORTS);
  });
  afterAll(async () => {
    await fleet?.stop();
    await topo?.destroy();
  });

  for (const pairRules of [true, false]) {
    it(`${pairRules ? 'pair form' : 'per-pod form (pairRules: false)'}: learned flows allowed for the pod that learned them only`, async () => {
      const backend = new NftablesBackend({ netnsPath: topo!.nodeNetnsPath, pairRules });
      const enforcement = new Enforcement(backend);
      try {
        await enforcement.apply(cluster);
        const atMs = Date.now();
        const entry = (pod: string, name: string, address: string): LearnedAddress => ({ pod, name, address: ip(address), expiresAtMs: atMs + 600_000 }) as LearnedAddress;
        const entries = [
          entry('shop/web', 'a.test', EXT4),
          entry('shop/web', 'a.test', EXT6),
          entry('shop/web', 'x.b.test', '10.244.1.11'), // db's address, learned by web
          entry('shop/db', 'a.test', 'fd00:10:244:2::12'), // probe's address, learned by db
        ];
        await enforcement.learn(entries);
        const report = await compareWithReference(cluster, topo!, fleet!, PORTS, { learned: { atMs, entries } });
        expect(report.mismatches.map(formatMismatch)).toEqual([]);
        const verdict = (src: string, dst: string, protocol: string, dstPort: number): string | undefined =>
          report.judged.find((j) => j.spec.src.text === src && j.spec.dst.text === dst && j.spec.protocol === protocol && j.spec.dstPort === dstPort)?.verdict.verdict;
        // the learned flows are allowed (so the run exercises them), the same flows of db are not
        expect(verdict('10.244.1.10', EXT4, 'TCP', 80)).toBe('allow');
        expect(verdict('10.244.1.10', EXT4, 'UDP', 53)).toBe('allow');
        expect(verdict('fd00:10:244:1::10', EXT6, 'TCP', 80)).toBe('allow');
        expect(verdict('10.244.1.11', EXT4, 'TCP', 80)).toBe('deny');
        expect(verdict('10.244.1.10', EXT4, 'TCP', 81)).toBe('deny');
        expect(verdict('fd00:10:244:1::11', 'fd00:10:244:2::12', 'TCP', 80)).toBe('allow');
        // the form in force
        const sets = (backend.listTable() as { nftables: { set?: { name: string; elem?: unknown[] } }[] }).nftables.flatMap((x) => (x.set ? [x.set] : []));
        const pairs = sets.filter((x) => /^c\d+v[46]$/.test(x.name)).flatMap((x) => x.elem ?? []);
        expect(pairs.length).toBe(pairRules ? 4 : 0);

        // a rule change while addresses are learned: a full install writes the pairs (renderFull)
        const cluster2 = scenarioCluster(POLICY + OTHER_POLICY, 'pairs-traffic.test.yaml');
        const changed = await enforcement.apply(cluster2);
        expect(changed.update).toBe('install');
        const reinstalled = await compareWithReference(cluster2, topo!, fleet!, PORTS, { learned: { atMs, entries } });
        expect(reinstalled.mismatches.map(formatMismatch)).toEqual([]);

        // one learned address retracted: the pair goes, the flow is denied again (and nothing else changes)
        const rest = entries.slice(1);
        await enforcement.learn([], [entries[0]!]);
        const after = await compareWithReference(cluster2, topo!, fleet!, PORTS, { learned: { atMs, entries: rest } });
        expect(after.mismatches.map(formatMismatch)).toEqual([]);
        expect(after.judged.find((j) => j.spec.src.text === '10.244.1.10' && j.spec.dst.text === EXT4 && j.spec.protocol === 'TCP' && j.spec.dstPort === 80)?.verdict.verdict).toBe('deny');
      } finally {
        await enforcement.remove().catch(() => undefined);
      }
    }, 120_000);
  }
});

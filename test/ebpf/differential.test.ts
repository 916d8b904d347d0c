/**
 * eBPF backend against the reference evaluator on real packets: the dual-stack CNI ptp topology
 * of the shared harness, a sequence of policy sets (each a full replace = one generation flip),
 * every ordered address pair probed on TCP, UDP and raw SCTP, IPv4 and IPv6; zero mismatches.
 * The scenarios are the nftables differential suite's (same inventory and policies, upstream
 * netpol e2e and network-policy-api conformance cases they name), so both backends are held to
 * the same cases; plus pod churn in place and deny-log lines. examples/ are in examples.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requires } from '../harness/prerequisites.js';
import type { EbpfBackend } from '../../backends/ebpf/backend.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import type { Cluster } from '../../src/model/types.js';
import { compareWithReference, enforceAndCompare } from '../harness/differential.js';
import { ProbeFleet } from '../../src/topology/probe.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { run } from '../../src/topology/exec.js';
import { ipIn } from '../../src/topology/netns.js';
import { ebpfMismatches, testEbpfBackend } from './backend.js';
import { PORTS, SCENARIOS, scenarioCluster } from '../harness/scenarios.js';

const cluster = (policies: string): Cluster => scenarioCluster(policies, 'ebpf-differential.test.yaml');

describe.skipIf(requires('root', 'netns', 'addon', 'bpffs', 'bpf', 'cni-plugins'))('eBPF backend = reference evaluator on real packets', () => {
  let topo: Topology | undefined;
  let fleet: ProbeFleet | undefined;
  let backend: EbpfBackend | undefined;
  let enforcement: Enforcement | undefined;

  beforeAll(async () => {
    topo = await buildTopology(cluster(''), { tag: 'ebpfdiff' });
    fleet = await ProbeFleet.start(topo, PORTS);
    backend = testEbpfBackend('diff', topo.nodeNetnsPath);
    enforcement = new Enforcement(backend);
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
      expect(ebpfMismatches(report)).toEqual([]);
      expect(report.denied).toBeGreaterThan(0);
      expect(report.allowed).toBeGreaterThan(0);
      // every pod veth carries both programs
      const attached = backend!.attachedInterfaces();
      expect(attached.length).toBe(c.pods.filter((p) => !p.hostNetwork).length);
    });
  }

  it('pod churn (relabel web away and back) updates address entries in place and follows the reference', async () => {
    const c = cluster(SCENARIOS['NetworkPolicy: default deny ingress in shop, allow web -> db on named port sql']!);
    await enforcement!.apply(c);
    const gen = backend!.instance.native.activeGeneration().gen;
    const web = c.pods.find((p) => p.name === 'web')!;
    const away = { ...web, labels: { app: 'elsewhere' } };
    const moved: Cluster = { ...c, pods: c.pods.map((p) => (p === web ? away : p)) };
    const r1 = await enforcement!.applyChanges([{ kind: 'pod', pod: away }]);
    expect([r1.update, r1.kind]).toEqual(['deltas', 'deltas']);
    expect(r1.summary).toMatch(/^\d+ address entries in place$/);
    expect(backend!.instance.native.activeGeneration().gen).toBe(gen);
    const after = await compareWithReference(moved, topo!, fleet!, PORTS);
    expect(ebpfMismatches(after)).toEqual([]);
    const r2 = await enforcement!.applyChanges([{ kind: 'pod', pod: web }]);
    expect([r2.update, r2.kind]).toEqual(['deltas', 'deltas']);
    expect(backend!.instance.native.activeGeneration().gen).toBe(gen);
    const back = await compareWithReference(c, topo!, fleet!, PORTS);
    expect(ebpfMismatches(back)).toEqual([]);
    expect(after.allowed).toBeLessThan(back.allowed);
  });

  it('deny events become deny-log lines naming the policy and rule', async () => {
    const c = cluster(SCENARIOS['Cluster tiers: admin deny, admin pass, baseline deny, nodes peer']!);
    await enforcement!.apply(c);
    enforcement!.drainDenied();
    await compareWithReference(c, topo!, fleet!, PORTS);
    const lines = enforcement!.drainDenied();
    expect(lines.length).toBeGreaterThan(0);
    expect(lines).toContainEqual(
      expect.objectContaining({ backend: 'ebpf', protocol: 'UDP', dstPort: 53, direction: 'ingress', tier: 'Admin', policy: 'ClusterNetworkPolicy/admin-rules', rule: 'no-udp-from-ops' }),
    );
    expect(lines).toContainEqual(expect.objectContaining({ tier: 'Baseline', policy: 'ClusterNetworkPolicy/baseline-rules', rule: 'deny-all-tcp-80-81' }));
  });

  it('node uplinks get the programs in the host role only when named (tc ingress judges the destination)', async () => {
    // a bridge stands in for an uplink (this kernel has no dummy links); veths are pods
    await ipIn(topo!.nodeNs, ['link', 'add', 'palup0', 'type', 'bridge']);
    const e = testEbpfBackend('host', topo!.nodeNetnsPath, { hostInterfaces: ['palup0'], logDenied: false });
    try {
      await new Enforcement(e).apply(cluster(''));
      expect(e.attachedInterfaces()).toContain('palup0');
      const tc = (dir: string, dev: string): Promise<string> =>
        run('nsenter', [`--net=${topo!.nodeNetnsPath}`, 'tc', 'filter', 'show', 'dev', dev, dir]).then((r) => r.stdout);
      expect(await tc('ingress', 'palup0')).toMatch(/pal_ingress/);
      expect(await tc('egress', 'palup0')).toMatch(/pal_egress/);
      const veth = e.attachedInterfaces().find((n) => n !== 'palup0')!;
      expect(await tc('ingress', veth)).toMatch(/pal_egress/);
      expect(await tc('egress', veth)).toMatch(/pal_ingress/);
    } finally {
      await e.remove();
      await ipIn(topo!.nodeNs, ['link', 'del', 'palup0']);
    }
  });
});

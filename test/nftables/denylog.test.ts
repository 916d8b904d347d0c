/**
 * Deny logging: denies are logged per rule, rate-limited, to an NFLOG group; NftablesBackend turns
 * each packet into a RawDenyEvent with its deciding rule, Enforcement names it (deny-record.ts),
 * one JSON line per denied flow naming tier, policy and rule. Real denied probes in the topology
 * must come back as records naming the deciding policy; allowed flows log nothing; a flood logs
 * no more than the rate limit allows, and still drops everything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NftablesBackend } from '../../backends/nftables/backend.js';
import { startEnforce } from '../../src/cli/enforce.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import { formatDenyLine, type DenyRecord } from '../../src/enforce/deny-log.js';
import { safeParseCluster } from '../../src/manifests/cluster.js';
import type { Cluster } from '../../src/model/types.js';
import { ProbeFleet, type PortPlan } from '../../src/topology/probe.js';
import { buildTopology, type Host, type Topology } from '../../src/topology/topology.js';
import { requires } from '../harness/prerequisites.js';

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: { name: shop, labels: { team: shop } }
---
apiVersion: v1
kind: Namespace
metadata: { name: ops, labels: { team: ops } }
---
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: shop, labels: { app: web } }
status: { podIPs: [ { ip: 10.244.1.10 }, { ip: "fd00:10:244:1::10" } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: db, namespace: shop, labels: { app: db } }
status: { podIPs: [ { ip: 10.244.1.11 }, { ip: "fd00:10:244:1::11" } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: probe, namespace: ops, labels: { app: probe } }
status: { podIPs: [ { ip: 10.244.2.12 }, { ip: "fd00:10:244:2::12" } ] }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: db-from-web, namespace: shop }
spec:
  podSelector: { matchLabels: { app: db } }
  ingress: [ { from: [ { podSelector: { matchLabels: { app: web } } } ], ports: [ { port: 5432 } ] } ]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: { name: admin-rules }
spec:
  tier: Admin
  priority: 10
  subject: { namespaces: { matchLabels: { team: shop } } }
  ingress:
  - name: no-dns-from-ops
    action: Deny
    from: [ { namespaces: { matchLabels: { team: ops } } } ]
    protocols: [ { udp: { destinationPort: { number: 53 } } } ]
`;

const PORTS: PortPlan = { TCP: [80, 5432], UDP: [53], SCTP: [] };
const GROUP = 9;

describe.skipIf(requires('root', 'netns', 'addon', 'cni-plugins'))('nftables deny log (NFLOG)', () => {
  let topo: Topology | undefined;
  let fleet: ProbeFleet | undefined;
  let enforcement: Enforcement | undefined;
  let cluster: Cluster | undefined;
  const host = (name: string): Host => topo!.hosts.find((h) => h.name === name)!;

  beforeAll(async () => {
    const r = safeParseCluster(MANIFESTS, 'denylog.test.yaml');
    if (!r.cluster) throw new Error(JSON.stringify(r.problems));
    topo = await buildTopology(r.cluster, { tag: 'denylog' });
    fleet = await ProbeFleet.start(topo, PORTS);
    cluster = r.cluster;
    // dedup window 0: this test counts logged packets, not flows
    enforcement = new Enforcement(new NftablesBackend({ netnsPath: topo.nodeNetnsPath, denyLog: { group: GROUP, ratePerSecond: 10, burst: 20 } }), { dedupWindowMs: 0 });
    await enforcement.apply(r.cluster);
    enforcement.drainDenied(); // bind the group before any probe
  });
  afterAll(async () => {
    await enforcement?.backend.close();
    await fleet?.stop();
    await topo?.destroy();
  });

  it('names the deciding policy and rule of each denied flow, IPv4 and IPv6; allowed flows log nothing', async () => {
    const web = host('shop/web');
    const db = host('shop/db');
    const probe = host('ops/probe');
    const results = await fleet!.probe(
      [0, 1].flatMap((i) => [
        { protocol: 'TCP' as const, src: web.ips[i]!, dst: db.ips[i]!, dstPort: 80 }, // isolation: denied
        { protocol: 'TCP' as const, src: web.ips[i]!, dst: db.ips[i]!, dstPort: 5432 }, // allowed
        { protocol: 'UDP' as const, src: probe.ips[i]!, dst: db.ips[i]!, dstPort: 53 }, // admin Deny
      ]),
    );
    expect(results.map((r) => r.outcome)).toEqual(['dropped', 'open', 'dropped', 'dropped', 'open', 'dropped']);
    await new Promise((r) => setTimeout(r, 100));
    const records = enforcement!.drainDenied();
    const key = (r: DenyRecord): string => `${r.protocol} ${r.src} ${r.dst}:${r.dstPort} ${r.direction} ${r.tier} ${r.policy} ${r.rule ?? '-'}`;
    const seen = new Set(records.map(key));
    for (const i of [0, 1]) {
      // NetworkPolicy isolation names the isolating policy (networkpolicy-v1-semantics: isolated-no-match)
      expect(seen).toContain(`TCP ${web.ips[i]!.text} ${db.ips[i]!.text}:80 ingress NetworkPolicy NetworkPolicy/shop/db-from-web -`);
      expect(seen).toContain(`UDP ${probe.ips[i]!.text} ${db.ips[i]!.text}:53 ingress Admin ClusterNetworkPolicy/admin-rules no-dns-from-ops`);
    }
    expect(records.some((r) => r.dstPort === 5432)).toBe(false);
    // the line format every backend shares
    expect(JSON.parse(formatDenyLine(records[0]!))).toMatchObject({ backend: 'nftables' });
  });

  it('palisade enforce --log-denied prints one JSON line per denied flow', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pal-nft-denylog-'));
    await writeFile(join(dir, 'all.yaml'), MANIFESTS);
    let out = '';
    const backend = new NftablesBackend({ netnsPath: topo!.nodeNetnsPath, denyLog: { group: GROUP + 1 } });
    const h = startEnforce({ backend, paths: [dir], logDenied: true }, { out: (t) => void (out += t), err: () => undefined });
    try {
      expect(await h.ready).toBe('applied');
      const web = host('shop/web').ips[0]!;
      const db = host('shop/db').ips[0]!;
      await fleet!.probe([{ protocol: 'TCP', src: web, dst: db, dstPort: 80 }]);
      const end = Date.now() + 3_000;
      while (!out.includes(`"dstPort":80`) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await h.stop();
      await rm(dir, { recursive: true, force: true });
    }
    const line = out.split('\n').find((l) => l.includes('"dstPort":80'));
    expect(line).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ backend: 'nftables', protocol: 'TCP', direction: 'ingress', tier: 'NetworkPolicy', policy: 'NetworkPolicy/shop/db-from-web' });
  });

  it('rate-limits the log per rule while still dropping every denied packet', async () => {
    const probe = host('ops/probe').ips[0]!;
    const db = host('shop/db').ips[0]!;
    // the enforce-loop test above replaced the table with one logging to another group
    await enforcement!.apply({ ...cluster!, networkPolicies: [] });
    await enforcement!.apply(cluster!);
    enforcement!.drainDenied();
    const before = (await fleet!.udpReceived(db))[`${db.text}:53`] ?? 0;
    const flood = await fleet!.flood(probe, db, 53, 500, 50_000);
    await new Promise((r) => setTimeout(r, 100));
    const records = enforcement!.drainDenied().filter((r) => r.dstPort === 53);
    const after = (await fleet!.udpReceived(db))[`${db.text}:53`] ?? 0;
    expect(flood.sent).toBeGreaterThan(1_000);
    expect(after - before).toBe(0);
    // burst 20 + 10/s over ~0.6 s, with slack for timing
    expect(records.length).toBeGreaterThan(0);
    expect(records.length).toBeLessThanOrEqual(40);
  });
});

/**
 * Topology smoke test: pods wired by the real CNI ptp + host-local plugins reach each other, the
 * node and an external namespace over TCP, UDP and (raw) SCTP, IPv4 and IPv6, with no policy at
 * all; cleanup leaves no namespace behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { safeParseCluster } from '../../src/manifests/cluster.js';
import { listNetns } from '../../src/topology/netns.js';
import { pairSpecs } from '../harness/matrix.js';
import { ProbeFleet, type PortPlan } from '../../src/topology/probe.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { run } from '../../src/topology/exec.js';
import { parseIp } from '../../src/model/ip.js';
import { requires } from '../harness/prerequisites.js';

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: v1
kind: Node
metadata: { name: node-a }
status:
  addresses:
  - { type: InternalIP, address: 10.244.200.1 }
  - { type: InternalIP, address: "fd00:10:244:200::1" }
---
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: shop, labels: { app: web } }
spec: { nodeName: node-a }
status: { podIPs: [ { ip: 10.244.1.10 }, { ip: "fd00:10:244:1::10" } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: db, namespace: shop, labels: { app: db } }
spec: { nodeName: node-a }
status: { podIPs: [ { ip: 10.244.1.11 }, { ip: "fd00:10:244:1::11" } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: v4only, namespace: shop }
spec: { nodeName: node-a }
status: { podIPs: [ { ip: 10.244.2.12 } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: agent, namespace: shop }
spec: { nodeName: node-a, hostNetwork: true }
status: { podIPs: [ { ip: 10.244.200.1 } ] }
`;

const PORTS: PortPlan = { TCP: [80, 8080], UDP: [53], SCTP: [9000] };

describe.skipIf(requires('root', 'netns', 'nft', 'cni-plugins'))('node topology (CNI ptp + host-local) without policy', () => {
  let topo: Topology | undefined;
  let fleet: ProbeFleet | undefined;
  const tag = 'topo';

  beforeAll(async () => {
    const r = safeParseCluster(MANIFESTS, 'topology.test.yaml');
    if (!r.cluster) throw new Error(JSON.stringify(r.problems));
    topo = await buildTopology(r.cluster, { tag, externals: [parseIp('10.244.254.77')!, parseIp('fd00:10:244:fe::77')!] });
    fleet = await ProbeFleet.start(topo, PORTS);
  });
  afterAll(async () => {
    await fleet?.stop();
    await topo?.destroy();
  });

  it('gives each pod exactly its status.podIPs, with a default route via the node side', async () => {
    const web = topo!.hosts.find((h) => h.name === 'shop/web')!;
    const addrs = await run('ip', ['-n', web.netns, '-j', 'addr', 'show', 'dev', 'eth0']);
    const parsed = JSON.parse(addrs.stdout) as { addr_info: { local: string; prefixlen: number; scope: string }[] }[];
    const global = parsed[0]!.addr_info.filter((a) => a.scope === 'global').map((a) => a.local);
    expect(global.sort()).toEqual(['10.244.1.10', 'fd00:10:244:1::10']);
    // ptp keeps the subnet prefix on eth0 but routes the whole subnet via the node side
    for (const [dst, gw] of [['10.244.1.11', '10.244.255.254'], ['fd00:10:244:1::11', 'fd00:10:244:ffff::fffe']]) {
      const r = await run('ip', ['-n', web.netns, 'route', 'get', dst!]);
      expect(r.stdout).toContain(`via ${gw} dev eth0`);
    }
    const hostRoutes = await run('ip', ['-n', topo!.nodeNs, 'route', 'show', '10.244.1.10']);
    expect(hostRoutes.stdout).toMatch(/10\.244\.1\.10 dev veth/);
  });

  it('every address reaches every address of its family on every protocol (no policy)', async () => {
    const specs = pairSpecs(topo!.hosts, PORTS);
    // 5 v4 addresses (web, db, v4only, node, external) and 4 v6 (web, db, node, external): (25 + 16) pairs x 4 ports
    expect(specs.length).toBe((25 + 16) * 4);
    const t0 = Date.now();
    const results = await fleet!.probe(specs);
    const bad = results.filter((r) => r.outcome !== 'open').map((r) => `${r.spec.protocol} ${r.spec.src.text} -> ${r.spec.dst.text}:${r.spec.dstPort} ${r.outcome} ${r.detail ?? ''}`);
    expect(bad).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('reports a dropped flow as dropped (a drop rule in the destination pod, not the node)', async () => {
    const db = topo!.hosts.find((h) => h.name === 'shop/db')!;
    const web = topo!.hosts.find((h) => h.name === 'shop/web')!;
    // a probe-sanity filter inside the pod namespace the test created; removed with the namespace
    await run('ip', ['netns', 'exec', db.netns, 'nft', '-j', JSON.stringify({
        nftables: [
          { add: { table: { family: 'inet', name: 'probecheck' } } },
          { add: { chain: { family: 'inet', table: 'probecheck', name: 'in', type: 'filter', hook: 'input', prio: 0, policy: 'accept' } } },
          { add: { rule: { family: 'inet', table: 'probecheck', chain: 'in', expr: [{ match: { op: '==', left: { payload: { protocol: 'th', field: 'dport' } }, right: 8080 } }, { drop: null }] } } },
        ],
      })]);
    const specs = (['TCP'] as const).flatMap((protocol) =>
      [0, 1].map((i) => ({ protocol, src: web.ips[i]!, dst: db.ips[i]!, dstPort: 8080 })),
    );
    const sctp = [0, 1].map((i) => ({ protocol: 'SCTP' as const, src: web.ips[i]!, dst: db.ips[i]!, dstPort: 8080 }));
    const udp = [0, 1].map((i) => ({ protocol: 'UDP' as const, src: web.ips[i]!, dst: db.ips[i]!, dstPort: 53 }));
    const results = await fleet!.probe([...specs, ...sctp, ...udp]);
    expect(results.map((r) => r.outcome)).toEqual(['dropped', 'dropped', 'dropped', 'dropped', 'open', 'open']);
  });

  it('leaves no namespace behind after destroy', async () => {
    await fleet!.stop();
    await topo!.destroy();
    expect(await listNetns(`pal-${tag}-${process.pid}`)).toEqual([]);
  });
});

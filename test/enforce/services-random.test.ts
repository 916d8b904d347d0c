/**
 * Random Services on real packets, every backend (nftables, eBPF, nfqueue): seeded random
 * inventories with random Services and EndpointSlices (test/engine/random-services.ts; endpoint
 * addresses kept inside the test ranges), random policies with `services` peers and subjects;
 * every ordered pair of pod, node, external and Service frontend addresses is probed (the
 * frontends live in the external namespace: this is the pre-DNAT view, the flow as addressed;
 * services-traffic.test.ts sends traffic through kube-proxy's DNAT) and compared with the
 * reference: zero mismatches.
 * Left out, because no node delivers them as addressed: a flow to a frontend that a `services`
 * subject judges (on a node kube-proxy translates it first, and the subject is judged at the
 * endpoint; services-traffic.test.ts), and a non-pod address's traffic to itself (host-local;
 * see the report on node addresses in services subjects). A flow to a node address that a
 * `services` subject judges (a Service whose endpoints or node ports are node addresses) is
 * probed on every backend (eBPF through its host role, with `lo`, where this
 * topology's node addresses talk to each other, named a host interface).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cidrContains, parseCidr, type IpAddr } from '../../src/model/ip.js';
import type { Backend } from '../../src/enforce/backend.js';
import type { Cluster } from '../../src/model/types.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import { NftablesBackend } from '../../backends/nftables/backend.js';
import { NfqueueBackend } from '../../backends/nfqueue/backend.js';
import { compareWithReference, formatMismatch } from '../harness/differential.js';
import { pairSpecs } from '../harness/matrix.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import { sameIp } from '../../src/model/ip.js';
import { externalCandidates } from '../harness/externals.js';
import { randomInventory, withRandomPolicies } from '../harness/random.js';
import { requires, type Need } from '../harness/prerequisites.js';
import { ProbeFleet, type PortPlan } from '../../src/topology/probe.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { POD_SUBNET_V4, POD_SUBNET_V6 } from '../../src/topology/cni.js';
import { Rng } from '../engine/random-cluster.js';
import { randomServices, withServicePolicies } from '../engine/random-services.js';
import { testEbpfBackend } from '../ebpf/backend.js';

const SAFE = [parseCidr(POD_SUBNET_V4)!, parseCidr(POD_SUBNET_V6)!];
const safe = (ip: IpAddr): boolean => SAFE.some((c) => cidrContains(c, ip));
const INVENTORY_SEEDS = [31, 47];
const SETS = 4;
const PORTS: PortPlan = { TCP: [53, 80, 443, 5432, 6443, 8080, 9000, 30080], UDP: [53, 80], SCTP: [] };

function inventoryOf(seed: number): Cluster {
  const base = randomInventory(seed, { namespaces: 3, pods: 6, nodes: 2 });
  const svc = randomServices(new Rng(seed), base, 4);
  return { ...base, services: svc.services, endpointSlices: svc.endpointSlices.map((e) => ({ ...e, addresses: e.addresses.filter(safe) })) };
}

function policiesOf(inv: Cluster, seed: number): Cluster {
  return withServicePolicies(new Rng(seed), withRandomPolicies(inv, seed, { networkPolicies: 2, clusterPolicies: 4 }), 2);
}

const frontends = (c: Cluster): IpAddr[] =>
  c.services.flatMap((s) => [...s.clusterIPs, ...(s.externalIPs ?? []), ...(s.loadBalancerIPs ?? [])]).filter(safe);

const BACKENDS: { name: string; needs: Need[]; make: (netnsPath: string, i: number) => Backend }[] = [
  { name: 'nftables', needs: ['root', 'netns', 'addon', 'cni-plugins'], make: (p) => new NftablesBackend({ netnsPath: p }) },
  { name: 'ebpf', needs: ['root', 'netns', 'addon', 'bpffs', 'bpf', 'cni-plugins'], make: (p, i) => testEbpfBackend(`svr${i}`, p, { hostInterfaces: ['lo'] }) },
  { name: 'nfqueue', needs: ['root', 'netns', 'addon', 'nfqueue', 'iptables-nft', 'cni-plugins'], make: (p, i) => new NfqueueBackend({ netnsPath: p, firstQueue: 4700 + i * 8 }) },
];

for (const [b, backend] of BACKENDS.entries()) {
  describe.skipIf(requires(...backend.needs))(`${backend.name} = reference with random Services as peers and subjects`, () => {
    const totals = { probes: 0, denied: 0, serviceRules: 0 };
    for (const [k, invSeed] of INVENTORY_SEEDS.entries()) {
      describe(`inventory seed ${invSeed}`, () => {
        const inventory = inventoryOf(invSeed);
        const cases = Array.from({ length: SETS }, (_, j) => invSeed * 100 + j);
        let topo: Topology | undefined;
        let fleet: ProbeFleet | undefined;
        let enforcement: Enforcement | undefined;
        beforeAll(async () => {
          const externals = [...externalCandidates(cases.map((s) => policiesOf(inventory, s)), 2), ...frontends(inventory)];
          topo = await buildTopology(inventory, { tag: `svr${b}${k}`, externals });
          fleet = await ProbeFleet.start(topo, PORTS);
          enforcement = new Enforcement(backend.make(topo.nodeNetnsPath, b * 2 + k));
        }, 120_000);
        afterAll(async () => {
          await enforcement?.remove().catch(() => undefined);
          await fleet?.stop();
          await topo?.destroy();
        });
        for (const seed of cases) {
          it(`policy seed ${seed}`, async () => {
            const c = policiesOf(inventory, seed);
            await enforcement!.apply(c);
            const ref = new ReferenceEvaluator(c);
            const fronts = new Set(frontends(c).map((a) => a.text));
            const specs = pairSpecs(topo!.hosts, PORTS).filter((sp) => {
              if (sameIp(sp.src, sp.dst)) return false;
              if (!fronts.has(sp.dst.text)) return true;
              const v = ref.evaluate({ src: sp.src, dst: sp.dst, protocol: sp.protocol, dstPort: sp.dstPort });
              return !v.ingress.notes.some((n) => n.includes(' applies: '));
            });
            const report = await compareWithReference(c, topo!, fleet!, PORTS, { timeoutMs: 300, specs });
            expect(report.mismatches.map(formatMismatch)).toEqual([]);
            totals.probes += report.probes;
            totals.denied += report.denied;
            totals.serviceRules += c.clusterPolicies.flatMap((p) => [...p.ingress, ...p.egress]).filter((r) => r.peers.some((q) => q.kind === 'services')).length;
          }, 60_000);
        }
      });
    }
    it('exercised denies and services rules', () => {
      expect(totals.denied).toBeGreaterThan(0);
      expect(totals.serviceRules).toBeGreaterThan(0);
      console.log(`[${backend.name}] random services: ${JSON.stringify(totals)}`);
    });
  });
}

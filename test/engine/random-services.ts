/**
 * Seeded random Services and EndpointSlices, and PalisadeClusterNetworkPolicy-style policies
 * with `services` peers and subjects, over a random cluster (random-cluster.ts), for the
 * differential tests of docs/extension-semantics.md (Services).
 *
 * Services: ClusterIPs in 10.244.240.0/24 and fd00:10:244:f0::/64 (inside the test ranges, so
 * the topology can carry them), some headless; now and then external and load-balancer IPs
 * (10.244.241.0/24), node ports; EndpointSlices listing pod addresses (a few pods of one
 * namespace), node addresses (host endpoints, as `default/kubernetes`), external addresses
 * (a Service without a selector), slices with no ports or a port without a number, and now and
 * then a slice naming a Service that does not exist. Built in the normalized model.
 */
import { parseIp, type IpAddr } from '../../src/model/ip.js';
import type { Cluster, ClusterPeer, ClusterPolicy, EndpointSlice, Protocol, Service, ServiceRef } from '../../src/model/types.js';
import type { Flow } from '../../src/model/flow.js';
import { serviceTuples } from '../../src/model/services.js';
import type { Rng } from './random-cluster.js';

const SRC = { file: 'random-services' };
const ip = (s: string): IpAddr => parseIp(s)!;
const PROTOCOLS: readonly Protocol[] = ['TCP', 'TCP', 'UDP', 'SCTP'];
const SERVICE_PORTS = [53, 80, 443, 5432, 6443, 8080];
const TARGET_PORTS = [53, 80, 8080, 5432, 6443, 9000];

export function randomServices(r: Rng, c: Cluster, count: number): { services: Service[]; endpointSlices: EndpointSlice[] } {
  const services: Service[] = [];
  const endpointSlices: EndpointSlice[] = [];
  const names = c.namespaces.map((n) => n.name);
  for (let i = 0; i < count; i++) {
    const namespace = r.pick(names);
    const name = `svc-${i}`;
    const headless = r.chance(0.15);
    const clusterIPs = headless ? [] : r.chance(0.5) ? [ip(`10.244.240.${i + 1}`), ip(`fd00:10:244:f0::${(i + 1).toString(16)}`)] : [ip(`10.244.240.${i + 1}`)];
    const ports = Array.from({ length: r.int(1, 2) }, () => {
      const protocol = r.pick(PROTOCOLS);
      const nodePort = !headless && r.chance(0.25) ? r.pick([30080, 30443, 31000]) : undefined;
      return { protocol, port: r.pick(SERVICE_PORTS), targetPort: r.pick(TARGET_PORTS), ...(nodePort ? { nodePort } : {}) };
    });
    services.push({
      namespace,
      name,
      clusterIPs,
      ...(r.chance(0.15) ? { externalIPs: [ip(`10.244.241.${i + 1}`)] } : {}),
      ...(r.chance(0.15) ? { loadBalancerIPs: [ip(`10.244.241.${100 + i}`)] } : {}),
      ports,
      source: SRC,
    });
    for (let s = 0; s < r.int(0, 2); s++) {
      const k = r.next();
      const pods = c.pods.filter((p) => p.namespace === namespace || k > 0.7);
      const addrs: IpAddr[] =
        k < 0.7
          ? Array.from({ length: r.int(0, 3) }, () => (pods.length ? r.pick(pods).ips : [])).flat()
          : k < 0.85
            ? c.nodes.flatMap((n) => (r.chance(0.5) ? n.addresses : []))
            : [ip('8.8.8.8'), ip(`10.244.99.${r.int(1, 9)}`)];
      const family = r.chance(0.7) ? 4 : 6;
      const slicePorts =
        r.chance(0.1)
          ? []
          : ports.map((p) => (r.chance(0.1) ? { protocol: p.protocol } : { protocol: p.protocol, port: p.targetPort as number }));
      endpointSlices.push({
        namespace: r.chance(0.95) ? namespace : r.pick(names),
        name: `${name}-${s}`,
        serviceName: r.chance(0.95) ? name : `gone-${i}`,
        addresses: uniq(addrs.filter((a) => a.family === family)),
        ports: slicePorts,
        source: SRC,
      });
    }
  }
  return { services, endpointSlices };
}

function uniq(a: IpAddr[]): IpAddr[] {
  const seen = new Set<string>();
  return a.filter((x) => (seen.has(x.text) ? false : (seen.add(x.text), true)));
}

const refs = (r: Rng, services: readonly Service[]): ServiceRef[] =>
  Array.from({ length: r.int(1, 2) }, () => {
    if (services.length === 0 || r.chance(0.05)) return { namespace: 'ns-0', name: 'missing' };
    const s = r.pick(services);
    return { namespace: s.namespace, name: s.name };
  });

/**
 * The cluster's policies, with `services` peers put into some rules (never beside a named
 * port: lowering refuses that) and a few policies whose subject is `services` (ingress only).
 */
export function withServicePolicies(r: Rng, c: Cluster, extraSubjects: number): Cluster {
  const svc = c.services;
  const clusterPolicies: ClusterPolicy[] = c.clusterPolicies.map((p) => ({
    ...p,
    ingress: p.ingress.map((rule) => withServicePeer(r, rule, svc)),
    egress: p.egress.map((rule) => withServicePeer(r, rule, svc)),
  }));
  for (let i = 0; i < extraSubjects; i++) {
    const base = r.pick(c.clusterPolicies.length ? c.clusterPolicies : []);
    if (!base) break;
    const name = `svc-subject-${i}`;
    clusterPolicies.push({
      ...base,
      kind: 'ClusterNetworkPolicy',
      name,
      tier: r.pick(['Admin', 'Baseline'] as const),
      priority: r.pick([0, 5, 10]),
      subject: { kind: 'services', services: refs(r, svc) },
      ingress: base.ingress.map((rule) => withServicePeer(r, rule, svc)).filter((rule) => !rule.protocols?.some((q) => q.kind === 'namedPort')),
      egress: [],
    });
  }
  return { ...c, clusterPolicies };
}

function withServicePeer(r: Rng, rule: ClusterPolicy['ingress'][number], services: readonly Service[]): ClusterPolicy['ingress'][number] {
  if (rule.protocols?.some((q) => q.kind === 'namedPort') || !r.chance(0.4)) return rule;
  const peer: ClusterPeer = { kind: 'services', services: refs(r, services) };
  return { ...rule, peers: r.chance(0.5) ? [peer] : [...rule.peers, peer] };
}

/** Flows aimed at service tuples (frontends and endpoints) from pod, node and external addresses. */
export function serviceFlow(r: Rng, c: Cluster, pools: Record<4 | 6, IpAddr[][]>): Flow | undefined {
  const s = c.services.length ? r.pick(c.services) : undefined;
  if (!s) return undefined;
  const tuples = serviceTuples(s, c);
  if (tuples.length === 0) return undefined;
  const t = r.pick(tuples);
  const pool = pools[t.ip.family];
  const srcs = [...pool[0]!, ...pool[1]!, ...pool[2]!];
  const src = r.pick(srcs);
  const protocol = t.protocol ?? r.pick(PROTOCOLS);
  const dstPort = t.port ?? r.pick([...SERVICE_PORTS, ...TARGET_PORTS]);
  // sometimes reversed: an endpoint as the source (a `from: services` peer)
  if (r.chance(0.2)) {
    const dst = r.pick(pool[0]!.length ? pool[0]! : srcs);
    return { src: t.ip, dst, protocol, dstPort: r.pick([...SERVICE_PORTS, ...TARGET_PORTS]) };
  }
  return { src, dst: t.ip, protocol, dstPort: r.chance(0.9) ? dstPort : r.pick(TARGET_PORTS) };
}

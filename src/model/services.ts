/**
 * The service tuples of a Service: the (address, protocol, port) triples a `services` peer or
 * subject of a PalisadeClusterNetworkPolicy matches (docs/extension-semantics.md, Services).
 *
 * - Endpoints (after kube-proxy's DNAT): every address of every EndpointSlice of the Service's
 *   namespace labelled `kubernetes.io/service-name` = its name, with every port of that slice;
 *   a slice port without a number is every port of its protocol (`port: null`); a slice with no
 *   ports at all is every port of every protocol (`protocol: null`, `port: null`). Every listed
 *   endpoint counts, whatever its conditions.
 * - Frontends (before DNAT), per `spec.ports[]` entry (protocol P, port N): the ClusterIPs, the
 *   external IPs and the load-balancer ingress IPs on N; with a `nodePort` M, every address of
 *   every Node on M.
 * - `serviceSourceAddresses`: the endpoint addresses only (a `from: services` peer: frontends
 *   never originate traffic).
 *
 * Invariants: results depend only on the inventory given; tuples are deduplicated (by family,
 * address, protocol, port) and sorted (family, address, protocol, port) so every caller sees one
 * order. A Service missing from the inventory has no tuples, even when slices name it (an
 * orphan slice is not a Service: there is nothing to name).
 * Cost: O(slices of the namespace + endpoints x ports + node addresses x node ports).
 * Thread-safety: pure functions over read-only data.
 */
import type { IpAddr } from './ip.js';
import type { EndpointSlice, Inventory, Protocol, Service, ServiceRef } from './types.js';

/** The label an EndpointSlice names its Service with. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface ServiceTuple {
  readonly ip: IpAddr;
  /** null: every protocol (an endpoint slice without ports) */
  readonly protocol: Protocol | null;
  /** null: every port of `protocol` */
  readonly port: number | null;
  /** which view the tuple comes from (explain) */
  readonly view: 'endpoint' | 'cluster-ip' | 'external-ip' | 'load-balancer' | 'node-port';
}

export type ServiceInventory = Pick<Inventory, 'services' | 'endpointSlices' | 'nodes'>;

export const serviceRefText = (r: ServiceRef): string => `${r.namespace}/${r.name}`;

/** The Service an entry names (the first in inventory order when a set of files has duplicates). */
export function findService(ref: ServiceRef, services: readonly Service[]): Service | undefined {
  return services.find((s) => s.namespace === ref.namespace && s.name === ref.name);
}

/** The EndpointSlices of a Service, in inventory order. */
export function slicesOf(ref: ServiceRef, slices: readonly EndpointSlice[]): EndpointSlice[] {
  return slices.filter((e) => e.namespace === ref.namespace && e.serviceName === ref.name);
}

/** Every service tuple of the Service `ref` names, sorted and deduplicated. */
export function serviceTuples(ref: ServiceRef, inv: ServiceInventory): ServiceTuple[] {
  const svc = findService(ref, inv.services);
  if (!svc) return [];
  const out: ServiceTuple[] = [];
  for (const slice of slicesOf(ref, inv.endpointSlices)) {
    for (const ip of slice.addresses) {
      if (slice.ports.length === 0) out.push({ ip, protocol: null, port: null, view: 'endpoint' });
      for (const p of slice.ports) out.push({ ip, protocol: p.protocol, port: p.port ?? null, view: 'endpoint' });
    }
  }
  for (const sp of svc.ports) {
    const front = (ips: readonly IpAddr[] | undefined, view: ServiceTuple['view']): void => {
      for (const ip of ips ?? []) out.push({ ip, protocol: sp.protocol, port: sp.port, view });
    };
    front(svc.clusterIPs, 'cluster-ip');
    front(svc.externalIPs, 'external-ip');
    front(svc.loadBalancerIPs, 'load-balancer');
    if (sp.nodePort !== undefined && sp.nodePort !== 0) {
      for (const n of inv.nodes) for (const ip of n.addresses) out.push({ ip, protocol: sp.protocol, port: sp.nodePort, view: 'node-port' });
    }
  }
  return dedupe(out);
}

/** The endpoint addresses of the Service (a `from: services` peer), sorted and deduplicated. */
export function serviceSourceAddresses(ref: ServiceRef, inv: ServiceInventory): IpAddr[] {
  if (!findService(ref, inv.services)) return [];
  const seen = new Map<string, IpAddr>();
  for (const slice of slicesOf(ref, inv.endpointSlices)) for (const ip of slice.addresses) seen.set(addrKey(ip), ip);
  return [...seen.values()].sort(compareAddr);
}

/** Does the tuple cover a flow end (address, protocol, destination port)? */
export function tupleCovers(t: ServiceTuple, ip: IpAddr, protocol: Protocol, port: number): boolean {
  return (
    t.ip.family === ip.family &&
    t.ip.value === ip.value &&
    (t.protocol === null || t.protocol === protocol) &&
    (t.port === null || t.port === port)
  );
}

/** One (protocol, port) group of a Service's tuples; null: every protocol / port. */
export interface ServiceGroup {
  readonly protocol: Protocol | null;
  readonly port: number | null;
}

export const serviceGroupText = (g: ServiceGroup): string => `${g.protocol ?? 'any'}/${g.port ?? 'any'}`;

/**
 * The (protocol, port) groups of a Service's tuples, sorted: what a `services` peer or subject
 * is split into (rules/lower.ts). Node-port groups count even with no Node (so groups do not
 * follow node churn, only Service and EndpointSlice changes).
 */
export function serviceGroups(ref: ServiceRef, inv: Pick<Inventory, 'services' | 'endpointSlices'>): ServiceGroup[] {
  const groups = new Map<string, ServiceGroup>();
  const add = (g: ServiceGroup): void => void groups.set(serviceGroupText(g), g);
  for (const t of serviceTuples(ref, { ...inv, nodes: [] })) add({ protocol: t.protocol, port: t.port });
  for (const sp of findService(ref, inv.services)?.ports ?? []) if (sp.nodePort !== undefined && sp.nodePort !== 0) add({ protocol: sp.protocol, port: sp.nodePort });
  return [...groups.values()].sort((a, b) => PROTO_ORDER(a.protocol) - PROTO_ORDER(b.protocol) || (a.port ?? -1) - (b.port ?? -1));
}

/**
 * How an address belongs to a Service, for explanations: "is the ClusterIP of Service ns/name
 * (TCP/443)"; for ingress (`from: services`) "is an endpoint of Service ns/name".
 */
export function serviceMatchText(
  svc: ServiceRef,
  ip: IpAddr,
  flow: { readonly direction: 'ingress' | 'egress'; readonly protocol: Protocol; readonly dstPort: number },
  tuples: readonly ServiceTuple[],
  sources: readonly IpAddr[],
): string {
  const name = `Service ${svc.namespace}/${svc.name}`;
  if (flow.direction === 'ingress' && sources.some((a) => a.family === ip.family && a.value === ip.value)) return `is an endpoint of ${name}`;
  const t = tuples.find((x) => tupleCovers(x, ip, flow.protocol, flow.dstPort));
  return `is ${t ? VIEW_TEXT[t.view] : 'an address'} of ${name} (${flow.protocol}/${flow.dstPort})`;
}

const VIEW_TEXT: Readonly<Record<ServiceTuple['view'], string>> = {
  endpoint: 'an endpoint',
  'cluster-ip': 'the ClusterIP',
  'external-ip': 'an external IP',
  'load-balancer': 'a load-balancer IP',
  'node-port': 'a node port address',
};

const addrKey = (ip: IpAddr): string => `${ip.family}/${ip.value.toString(16)}`;
const compareAddr = (a: IpAddr, b: IpAddr): number => a.family - b.family || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);
const PROTO_ORDER = (p: Protocol | null): number => (p === null ? -1 : p === 'TCP' ? 0 : p === 'UDP' ? 1 : 2);

function dedupe(ts: ServiceTuple[]): ServiceTuple[] {
  const seen = new Map<string, ServiceTuple>();
  for (const t of ts) {
    const k = `${addrKey(t.ip)}|${t.protocol ?? '*'}|${t.port ?? '*'}`;
    if (!seen.has(k)) seen.set(k, t);
  }
  return [...seen.values()].sort(
    (a, b) => compareAddr(a.ip, b.ip) || PROTO_ORDER(a.protocol) - PROTO_ORDER(b.protocol) || (a.port ?? -1) - (b.port ?? -1),
  );
}

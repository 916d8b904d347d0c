/**
 * The inventory seen from an address: which pod, node or nothing owns an IP, and the label
 * lookups the evaluator needs (namespace labels, node addresses).
 *
 * Rules (networkpolicy-v1-semantics.md §9.3 option (b)):
 * 1. An address in `status.podIPs` of a pod that is NOT host-network is that pod (kind `pod`).
 *    If several such pods claim one address, the first by (namespace, name) in code-unit order
 *    owns it; the others are unreachable by address (an inventory error, not a policy question).
 * 2. Otherwise, an address in some Node's `status.addresses` is that node (kind `node`; the first
 *    node by name if several list it). When a host-network pod has that address it is named in
 *    `Endpoint.pod` (first by namespace/name), because host-network pods live at their node's
 *    address and policy treats their traffic exactly like node traffic.
 * 3. Otherwise, an address of a host-network pod whose Node object is missing from the inventory
 *    is still host traffic: kind `node`, `node` = the pod's `spec.nodeName`. `nodes` peers match
 *    only addresses listed in Node objects, so such an address matches no `nodes` peer.
 * 4. Anything else is `external`.
 *
 * 5. A Service's tuples (`serviceTuples`, model/services.ts) are worked out once per Service, on
 *    first use.
 *
 * Invariants: built once from read-only data; never mutated after construction (but for the
 * Service tuple cache, filled on first use from the same read-only data).
 * Cost: O(pods + node addresses) to build; O(1) per lookup (Map keyed by family and value).
 * Thread-safety: immutable after construction; safe to share.
 */
import { sameIp, type IpAddr } from '../model/ip.js';
import { NAMESPACE_NAME_LABEL, type Cluster, type Node, type Pod, type ServiceRef } from '../model/types.js';
import { serviceRefText, serviceSourceAddresses, serviceTuples, type ServiceTuple } from '../model/services.js';
import { clusterEntityAddresses } from '../model/entities.js';
import type { Endpoint } from '../model/flow.js';

/** A map key that is the same for every spelling of one address. */
export const ipKey = (ip: IpAddr): string => `${ip.family}/${ip.value.toString(16)}`;

export const podName = (p: Pod): string => `${p.namespace}/${p.name}`;

/** Total order on pods: namespace, then name (code-unit order, locale independent). */
export function comparePods(a: Pod, b: Pod): number {
  return compareText(a.namespace, b.namespace) || compareText(a.name, b.name);
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What the evaluator knows about one address. */
export interface ResolvedEndpoint {
  readonly endpoint: Endpoint;
  /** the non-host-network pod owning the address (kind `pod` only) */
  readonly pod?: Pod;
  /** the host-network pod named for a node address */
  readonly hostNetworkPod?: Pod;
}

export class EndpointIndex {
  private readonly byIp = new Map<string, { pod?: Pod; node?: Node; hostNetworkPod?: Pod }>();
  private readonly namespaceLabels = new Map<string, Readonly<Record<string, string>>>();
  private readonly nodesByName = new Map<string, Node>();
  /** per Service (`namespace/name`): its tuples and its endpoint addresses, computed on first use */
  private readonly tuples = new Map<string, { tuples: ServiceTuple[]; sources: IpAddr[] }>();
  private readonly cluster: Cluster;
  /** every pod IP, node address and Service address (the `Cluster` entity) */
  private readonly clusterAddresses = new Set<string>();

  constructor(cluster: Cluster) {
    this.cluster = cluster;
    for (const ip of clusterEntityAddresses(cluster)) this.clusterAddresses.add(ipKey(ip));
    for (const ns of cluster.namespaces) this.namespaceLabels.set(ns.name, ns.labels);
    const nodes = [...cluster.nodes].sort((a, b) => compareText(a.name, b.name));
    for (const n of nodes) if (!this.nodesByName.has(n.name)) this.nodesByName.set(n.name, n);
    const pods = [...cluster.pods].sort(comparePods);

    for (const p of pods) {
      if (p.hostNetwork) continue;
      for (const ip of p.ips) this.slot(ip).pod ??= p;
    }
    for (const n of nodes) {
      for (const ip of n.addresses) this.slot(ip).node ??= n;
    }
    for (const p of pods) {
      if (!p.hostNetwork) continue;
      for (const ip of p.ips) this.slot(ip).hostNetworkPod ??= p;
    }
  }

  private slot(ip: IpAddr): { pod?: Pod; node?: Node; hostNetworkPod?: Pod } {
    const k = ipKey(ip);
    let s = this.byIp.get(k);
    if (!s) {
      s = {};
      this.byIp.set(k, s);
    }
    return s;
  }

  resolve(ip: IpAddr): ResolvedEndpoint {
    const s = this.byIp.get(ipKey(ip));
    if (s?.pod) {
      const p = s.pod;
      return {
        endpoint: { kind: 'pod', ip: ip.text, pod: podName(p), ...(p.nodeName !== undefined ? { node: p.nodeName } : {}) },
        pod: p,
      };
    }
    if (s?.node || s?.hostNetworkPod) {
      const hn = s.hostNetworkPod;
      const nodeName = s.node?.name ?? hn?.nodeName;
      return {
        endpoint: {
          kind: 'node',
          ip: ip.text,
          ...(hn ? { pod: podName(hn) } : {}),
          ...(nodeName !== undefined ? { node: nodeName } : {}),
        },
        ...(hn ? { hostNetworkPod: hn } : {}),
      };
    }
    return { endpoint: { kind: 'external', ip: ip.text } };
  }

  /**
   * Labels of a namespace. A namespace missing from the inventory (possible only for a Cluster
   * built by hand; `buildCluster` adds implicit ones) has just its name label.
   */
  labelsOfNamespace(name: string): Readonly<Record<string, string>> {
    return this.namespaceLabels.get(name) ?? { [NAMESPACE_NAME_LABEL]: name };
  }

  /** Is `ip` in the `Cluster` entity: a pod IP, node address or Service address of the inventory? */
  isClusterAddress(ip: IpAddr): boolean {
    return this.clusterAddresses.has(ipKey(ip));
  }

  node(name: string): Node | undefined {
    return this.nodesByName.get(name);
  }

  /** The service tuples of a Service (model/services.ts; docs/extension-semantics.md). */
  serviceTuples(ref: ServiceRef): readonly ServiceTuple[] {
    return this.serviceEntry(ref).tuples;
  }

  /** The endpoint addresses of a Service (a `from: services` peer). */
  serviceSources(ref: ServiceRef): readonly IpAddr[] {
    return this.serviceEntry(ref).sources;
  }

  private serviceEntry(ref: ServiceRef): { tuples: ServiceTuple[]; sources: IpAddr[] } {
    const k = serviceRefText(ref);
    let e = this.tuples.get(k);
    if (!e) this.tuples.set(k, (e = { tuples: serviceTuples(ref, this.cluster), sources: serviceSourceAddresses(ref, this.cluster) }));
    return e;
  }

  /** Is `ip` an address of the node the pod runs on? (the NetworkPolicy node-local ingress exception) */
  isAddressOfPodsNode(ip: IpAddr, pod: Pod): boolean {
    if (pod.nodeName === undefined) return false;
    const node = this.node(pod.nodeName);
    if (node !== undefined && node.addresses.some((a) => sameIp(a, ip))) return true;
    // A host-network pod's address on the same node is node traffic too ("treated the same as all
    // other traffic to/from the node IP"), even when the Node object is missing or omits it.
    const hostPod = this.resolve(ip).hostNetworkPod;
    return hostPod !== undefined && hostPod.nodeName === pod.nodeName;
  }
}

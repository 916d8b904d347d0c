/**
 * Who owns an address, kept current under inventory changes: the fast-path twin of the
 * reference's `EndpointIndex` (reference/endpoints.ts), with the same rules:
 * 1. an address of a non-host-network pod is that pod; when several claim it, the first by
 *    (namespace, name) in code-unit order owns it and the others are unreachable by address;
 * 2. otherwise an address listed by a Node is that node (first node by name), naming the first
 *    host-network pod with that address, if any;
 * 3. otherwise an address of a host-network pod is node traffic on the pod's `spec.nodeName`;
 * 4. anything else is external.
 *
 * Invariants: `claims` hold exactly the current inventory's claims; owners are recomputed on
 * demand from them (sets are small: usually one claimant).
 * Cost: O(addresses of the changed object) per change; O(claimants) per lookup.
 * Thread-safety: none (single owner).
 */
import type { IpAddr } from '../model/ip.js';
import type { Node, Pod } from '../model/types.js';
import type { Endpoint } from '../model/flow.js';

/** A map key for an address: its canonical text (dotted quad or RFC 5952), unique per address. */
export const ipKey = (ip: IpAddr): string => ip.text;

const cmpText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
export const comparePods = (a: Pod, b: Pod): number => cmpText(a.namespace, b.namespace) || cmpText(a.name, b.name);

function first<T>(s: Set<T> | undefined, cmp: (a: T, b: T) => number): T | undefined {
  if (!s) return undefined;
  let best: T | undefined;
  for (const x of s) if (best === undefined || cmp(x, best) < 0) best = x;
  return best;
}

function addTo<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(v);
}
function removeFrom<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  const s = m.get(k);
  if (!s) return;
  s.delete(v);
  if (s.size === 0) m.delete(k);
}

export interface OwnedEndpoint {
  readonly endpoint: Endpoint;
  /** the non-host-network pod owning the address */
  readonly pod?: Pod;
  /** the host-network pod named for a node address */
  readonly hostNetworkPod?: Pod;
}

export class AddressIndex {
  private readonly podClaims = new Map<string, Set<Pod>>();
  private readonly hostClaims = new Map<string, Set<Pod>>();
  private readonly nodeClaims = new Map<string, Set<Node>>();
  /** pods listing two addresses of one family: loopback then needs an owner check */
  private multiAddressPods = 0;

  addPod(p: Pod): void {
    for (const ip of p.ips) addTo(p.hostNetwork ? this.hostClaims : this.podClaims, ipKey(ip), p);
    if (!p.hostNetwork && hasTwoOfAFamily(p)) this.multiAddressPods++;
  }
  removePod(p: Pod): void {
    for (const ip of p.ips) removeFrom(p.hostNetwork ? this.hostClaims : this.podClaims, ipKey(ip), p);
    if (!p.hostNetwork && hasTwoOfAFamily(p)) this.multiAddressPods--;
  }
  addNode(n: Node): void {
    for (const ip of n.addresses) addTo(this.nodeClaims, ipKey(ip), n);
  }
  removeNode(n: Node): void {
    for (const ip of n.addresses) removeFrom(this.nodeClaims, ipKey(ip), n);
  }

  /** The non-host-network pod that owns the address, if any. */
  podOwner(key: string): Pod | undefined {
    return first(this.podClaims.get(key), comparePods);
  }
  /** Every pod claiming the address, host-network ones included. */
  claimants(key: string): readonly Pod[] {
    return [...(this.podClaims.get(key) ?? []), ...(this.hostClaims.get(key) ?? [])];
  }

  /** The host-network pod an address resolves to (rule 2/3): the first host-network claimant, unless a pod owns it. */
  hostNetworkPod(key: string): Pod | undefined {
    if (this.podOwner(key)) return undefined;
    return first(this.hostClaims.get(key), comparePods);
  }

  /** True when some pod lists two addresses of one family (so distinct addresses can be one pod). */
  get hasMultiAddressPods(): boolean {
    return this.multiAddressPods > 0;
  }

  resolve(ip: IpAddr): OwnedEndpoint {
    const key = ipKey(ip);
    const pod = this.podOwner(key);
    if (pod) {
      return {
        endpoint: { kind: 'pod', ip: ip.text, pod: `${pod.namespace}/${pod.name}`, ...(pod.nodeName !== undefined ? { node: pod.nodeName } : {}) },
        pod,
      };
    }
    const node = first(this.nodeClaims.get(key), (a, b) => cmpText(a.name, b.name));
    const hn = first(this.hostClaims.get(key), comparePods);
    if (node || hn) {
      const nodeName = node?.name ?? hn?.nodeName;
      return {
        endpoint: {
          kind: 'node',
          ip: ip.text,
          ...(hn ? { pod: `${hn.namespace}/${hn.name}` } : {}),
          ...(nodeName !== undefined ? { node: nodeName } : {}),
        },
        ...(hn ? { hostNetworkPod: hn } : {}),
      };
    }
    return { endpoint: { kind: 'external', ip: ip.text } };
  }
}

function hasTwoOfAFamily(p: Pod): boolean {
  return p.ips.filter((i) => i.family === 4).length > 1 || p.ips.filter((i) => i.family === 6).length > 1;
}

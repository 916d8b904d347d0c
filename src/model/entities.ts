/**
 * The built-in address groups of a PalisadeClusterNetworkPolicy `entities` peer
 * (docs/extension-semantics.md, S16).
 *
 * `Cluster` is every address the inventory gives to something of the cluster:
 * - every IP in a pod's status.podIPs, host-network pods included (a terminated pod owns none:
 *   normalization drops its addresses);
 * - every address in a Node's status.addresses;
 * - every Service address: spec.clusterIPs, spec.externalIPs, status.loadBalancer.ingress IPs.
 * EndpointSlice addresses are not in it by themselves: an endpoint that is a pod is there as
 * the pod; an endpoint of a Service without a selector that points outside the cluster (a
 * database VM) is exactly what "block the internet but not the cluster" must not let through.
 * The group follows the inventory: the resolver keeps the same membership incrementally
 * (src/resolve), and the differential tests hold the two equal.
 * Pure. Cost: linear in pods, nodes and Services.
 */
import type { IpAddr } from './ip.js';
import type { Inventory, Service } from './types.js';

/** Every address of a Service that the `Cluster` entity holds. */
export function serviceAddresses(s: Service): IpAddr[] {
  return [...s.clusterIPs, ...(s.externalIPs ?? []), ...(s.loadBalancerIPs ?? [])];
}

/** Every address of the `Cluster` entity, with repeats (the caller keys them). */
export function clusterEntityAddresses(inv: Pick<Inventory, 'pods' | 'nodes' | 'services'>): IpAddr[] {
  const out: IpAddr[] = [];
  for (const p of inv.pods) out.push(...p.ips);
  for (const n of inv.nodes) out.push(...n.addresses);
  for (const s of inv.services) out.push(...serviceAddresses(s));
  return out;
}

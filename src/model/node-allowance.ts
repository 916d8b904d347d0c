/**
 * The built-in allowance of node subjects (S20, docs/extension-semantics.md "Nodes"), defined once
 * for the reference evaluator, the lowering and lint: the API server a node must keep (the
 * `default/kubernetes` Service's ClusterIPs on its TCP ports and its EndpointSlices' addresses on
 * their TCP ports: the flow is allowance traffic when its destination is one of those addresses
 * and its port one of those ports) and the kubelet port every node keeps open, and which rules
 * narrow it: only one naming the port explicitly (one TCP destination port).
 * Pure; cost linear in the Services and slices.
 */
import type { IpAddr } from './ip.js';
import type { ClusterRule, EndpointSlice, Service } from './types.js';

/** The kubelet API port: ingress allowance. */
export const KUBELET_PORT = 10250;

export interface ApiServerTcp {
  /** empty when the inventory has no `default/kubernetes` Service */
  readonly addresses: readonly IpAddr[];
  readonly ports: readonly number[];
}

export function apiServerTcp(services: readonly Service[], endpointSlices: readonly EndpointSlice[]): ApiServerTcp {
  const svc = services.find((s) => s.namespace === 'default' && s.name === 'kubernetes');
  if (!svc) return { addresses: [], ports: [] };
  const slices = endpointSlices.filter((e) => e.namespace === 'default' && e.serviceName === 'kubernetes');
  const addresses = new Map<string, IpAddr>();
  const ports = new Set<number>();
  for (const ip of svc.clusterIPs) addresses.set(ip.text, ip);
  for (const p of svc.ports) if (p.protocol === 'TCP') ports.add(p.port);
  for (const e of slices) {
    for (const ip of e.addresses) addresses.set(ip.text, ip);
    for (const p of e.ports) if (p.protocol === 'TCP' && p.port !== undefined) ports.add(p.port);
  }
  return { addresses: [...addresses.values()], ports: [...ports].sort((a, b) => a - b) };
}

/** Does the rule name this TCP destination port explicitly (one port, not a range or "every port")? */
export function namesTcpPort(r: ClusterRule, port: number): boolean {
  return (r.protocols ?? []).some((q) => q.kind === 'port' && q.protocol === 'TCP' && q.portStart === port && (q.portEnd ?? q.portStart) === port);
}

/**
 * Which destination ports to probe for a cluster: the edges of every port and range its policies
 * name (port-1, port, end, end+1), the numbers behind named container ports, and one port no
 * policy names (80, or the first free one above it). Deterministic and bounded: at most
 * `maxPerProtocol` per protocol, smallest first. Pure.
 */
import type { Cluster, Protocol } from '../model/types.js';
import type { PortPlan } from './probe.js';

export function portPlan(cluster: Cluster, maxPerProtocol = 6): PortPlan {
  const found: Record<Protocol, Set<number>> = { TCP: new Set(), UDP: new Set(), SCTP: new Set() };
  const edge = (proto: Protocol, lo: number, hi: number): void => {
    for (const p of [lo - 1, lo, hi, hi + 1]) if (p >= 1 && p <= 65535) found[proto].add(p);
  };
  for (const np of cluster.networkPolicies) {
    for (const rule of [...np.ingress, ...np.egress]) {
      for (const port of rule.ports ?? []) {
        if (typeof port.port === 'number') edge(port.protocol, port.port, port.endPort ?? port.port);
      }
    }
  }
  for (const cp of cluster.clusterPolicies) {
    for (const rule of [...cp.ingress, ...cp.egress]) {
      for (const m of rule.protocols ?? []) {
        if (m.kind === 'port' && m.portStart !== undefined) edge(m.protocol, m.portStart, m.portEnd ?? m.portStart);
      }
    }
  }
  for (const pod of cluster.pods) for (const cp of pod.containerPorts) found[cp.protocol].add(cp.containerPort);
  const plan = {} as Record<Protocol, number[]>;
  for (const proto of ['TCP', 'UDP', 'SCTP'] as const) {
    let free = 80;
    while (found[proto].has(free)) free++;
    // the unnamed port first, so truncation never drops it
    const rest = [...found[proto]].sort((a, b) => a - b).slice(0, maxPerProtocol - 1);
    plan[proto] = [free, ...rest].sort((a, b) => a - b);
  }
  return plan;
}

/**
 * Seeded random clusters fitted to the test topology. The generator itself is the engine
 * helper's (test/engine/random-cluster.ts: inventories and NetworkPolicy / cluster-tier policies
 * built directly in the normalized model); this file only adapts its output to what a topology
 * can hold, and the reference then judges exactly the adapted cluster:
 * - node addresses outside 10.244.0.0/16 / fd00:10:244::/48 are dropped (network-safety rule),
 *   and host-network pods keep only the addresses that remain;
 * - a pod claiming an address another pod already holds is dropped (one namespace per address).
 * Pure.
 */
import { cidrContains, parseCidr } from '../../src/model/ip.js';
import type { ClusterPolicy, ClusterProtocolMatch, ClusterRule, Cluster, Pod } from '../../src/model/types.js';
import { randomCluster, randomClusterPolicy, randomNetworkPolicy, Rng, type RandomShape } from '../engine/random-cluster.js';
import { POD_SUBNET_V4, POD_SUBNET_V6 } from '../../src/topology/cni.js';
import type { PortPlan } from '../../src/topology/probe.js';

const SAFE = [parseCidr(POD_SUBNET_V4)!, parseCidr(POD_SUBNET_V6)!];
const safe = (ip: { family: 4 | 6; value: bigint; text: string }): boolean => SAFE.some((c) => cidrContains(c, ip));

export function fitToTopology(c: Cluster): Cluster {
  const nodes = c.nodes.map((n) => ({ ...n, addresses: n.addresses.filter(safe) }));
  const taken = new Set<string>();
  const pods: Pod[] = [];
  for (const p of c.pods) {
    if (p.hostNetwork) {
      pods.push({ ...p, ips: p.ips.filter(safe) });
      continue;
    }
    if (p.ips.some((ip) => !safe(ip) || taken.has(ip.text))) continue;
    p.ips.forEach((ip) => taken.add(ip.text));
    pods.push(p);
  }
  return { ...c, nodes, pods };
}

/** A random inventory (no policies) for `seed`, fitted to the topology. */
export function randomInventory(seed: number, shape: Omit<RandomShape, 'networkPolicies' | 'clusterPolicies'>): Cluster {
  const c = randomCluster(new Rng(seed), { ...shape, networkPolicies: 0, clusterPolicies: 0 });
  return fitToTopology(c);
}

/** Random policies for `seed` over `inventory`'s namespaces. */
export function withRandomPolicies(inventory: Cluster, seed: number, counts: { networkPolicies: number; clusterPolicies: number }): Cluster {
  const r = new Rng(seed);
  const names = inventory.namespaces.map((n) => n.name);
  const networkPolicies = Array.from({ length: counts.networkPolicies }, (_, i) => randomNetworkPolicy(r, r.pick(names), `np-${i}`, names));
  const clusterPolicies: Cluster['clusterPolicies'][number][] = [];
  let banp = false;
  for (let i = 0; i < counts.clusterPolicies; i++) {
    const p = randomClusterPolicy(r, `cnp-${i}`, names, banp);
    if (p.kind === 'BaselineAdminNetworkPolicy') banp = true;
    if (clusterPolicies.some((q) => q.kind === p.kind && q.name === p.name)) continue;
    clusterPolicies.push(p);
  }
  return { ...inventory, networkPolicies, clusterPolicies };
}

/** Where the probe fleet's source ports fall in a suite (src/topology/probe.ts counts up from 20000). */
export const PROBE_SOURCE_PORTS = { lo: 20_000, hi: 24_000 } as const;

/**
 * S25: `c` with source-port ranges added to its cluster-tier rules, seeded: each `port` entry
 * gets a source range with probability 1/2, and a rule without `protocols` becomes, with
 * probability 1/3, TCP, UDP and SCTP entries from one source range (a source-port-only rule).
 * Ranges fall inside `window` (where the flows' source ports are) with edges at its ends.
 */
export function withRandomSourcePorts(c: Cluster, seed: number, window: { lo: number; hi: number } = PROBE_SOURCE_PORTS): Cluster {
  const r = new Rng(seed);
  const range = (): { srcPortStart: number; srcPortEnd: number } => {
    const lo = r.chance(0.15) ? window.lo : r.int(window.lo, window.hi);
    const width = r.pick([0, 1, 40, 300, 1500, window.hi - window.lo]);
    return { srcPortStart: lo, srcPortEnd: Math.min(65535, lo + width) };
  };
  const rule = (x: ClusterRule): ClusterRule => {
    if (x.protocols === null) {
      if (!r.chance(1 / 3)) return x;
      const src = range();
      return { ...x, protocols: (['TCP', 'UDP', 'SCTP'] as const).map((protocol) => ({ kind: 'port', protocol, ...src })) };
    }
    const protocols = x.protocols.map((p): ClusterProtocolMatch => (p.kind === 'port' && r.chance(0.5) ? { ...p, ...range() } : p));
    return { ...x, protocols };
  };
  const policy = (p: ClusterPolicy): ClusterPolicy => ({ ...p, ingress: p.ingress.map(rule), egress: p.egress.map(rule) });
  return { ...c, clusterPolicies: c.clusterPolicies.map(policy) };
}

/**
 * S20: `c` with some of its cluster-tier policies turned into node-subject
 * PalisadeClusterNetworkPolicies (same tier, priority and rules), seeded: each with probability
 * `share`, selecting every node or the nodes labelled as a random node of `c` is. A node has no
 * named ports, so ingress protocol entries naming a port by name are dropped (a rule left with
 * none goes). The built-in allowance comes with the lowering, as for any node subject.
 */
export function withRandomNodeSubjects(c: Cluster, seed: number, share = 0.5): Cluster {
  const r = new Rng(seed);
  const policy = (p: ClusterPolicy): ClusterPolicy => {
    if (!r.chance(share)) return p;
    const node = c.nodes.length && r.chance(0.5) ? r.pick(c.nodes) : undefined;
    const nodeSelector = { matchLabels: node ? { ...node.labels } : {}, matchExpressions: [] };
    const ingress = p.ingress.flatMap((x): ClusterRule[] => {
      if (x.protocols === null) return [x];
      const protocols = x.protocols.filter((q) => q.kind !== 'namedPort');
      return protocols.length ? [{ ...x, protocols }] : [];
    });
    return { ...p, kind: 'PalisadeClusterNetworkPolicy', name: `${p.name}-nodes`, subject: { kind: 'nodes', nodeSelector }, ingress };
  };
  return { ...c, clusterPolicies: c.clusterPolicies.map(policy) };
}

/** One port plan for several policy sets: per protocol the `max` ports most of them name. */
export function mergePortPlans(plans: readonly PortPlan[], max = 8): PortPlan {
  const merge = (k: keyof PortPlan): number[] => {
    const counts = new Map<number, number>();
    for (const p of plans) for (const n of p[k]) counts.set(n, (counts.get(n) ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, max).map(([n]) => n).sort((a, b) => a - b);
  };
  return { TCP: merge('TCP'), UDP: merge('UDP'), SCTP: merge('SCTP') };
}

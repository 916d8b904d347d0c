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
import type { Cluster, Pod } from '../../src/model/types.js';
import { randomCluster, randomClusterPolicy, randomNetworkPolicy, Rng, type RandomShape } from '../engine/random-cluster.js';
import { POD_SUBNET_V4, POD_SUBNET_V6 } from '../../src/topology/cni.js';

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

/**
 * The one total order of policies inside a tier ("Equal priorities in one
 * tier: a total, documented order (priority, then policy name, then rule index)").
 *
 * Cluster tiers: ascending priority, then policy name, then kind (two kinds may share a name),
 * then rule index. NetworkPolicy tier: namespace, then name, then rule index (a NetworkPolicy
 * allow is final whichever matches first; the order only fixes which rule explain names).
 * Pure.
 */
import type { ClusterPolicy, NetworkPolicy } from '../model/types.js';

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function compareClusterPolicies(a: ClusterPolicy, b: ClusterPolicy): number {
  return a.priority - b.priority || cmp(a.name, b.name) || cmp(a.kind, b.kind);
}

export function compareNetworkPolicies(a: NetworkPolicy, b: NetworkPolicy): number {
  return cmp(a.namespace, b.namespace) || cmp(a.name, b.name);
}

/**
 * Which policies can touch a pod, and which cluster policies share a priority: the facts
 * `explain`, `lint` and the CLI show without evaluating a flow.
 *
 * - `applicablePolicies`: per direction, the cluster policies of each tier whose subject selects
 *   the pod and that have at least one rule in that direction, in evaluation order (priority,
 *   name, kind), and the NetworkPolicies that isolate the pod in that direction (by name).
 *   Host-network pods get empty lists: no policy selects them.
 * - `equalPriorityGroups`: cluster policies sharing (tier, priority). Upstream leaves their
 *   relative order undefined; Palisade orders them by name then kind, and lint names them.
 *
 * Pure functions. Cost: linear in policies (plus the sort).
 */
import type { Cluster, ClusterPolicy, Direction, NetworkPolicy, ObjectRef, Pod, Tier } from '../model/types.js';
import { enforcedPolicies } from '../model/staged.js';
import { EndpointIndex } from './endpoints.js';
import { compareClusterPolicies, isolatingPolicies, rulesOf, selectingPolicies } from './tiers.js';

export interface ApplicablePolicies {
  readonly admin: readonly ClusterPolicy[];
  readonly networkPolicies: readonly NetworkPolicy[];
  readonly baseline: readonly ClusterPolicy[];
}

export function applicablePolicies(given: Cluster, pod: Pod, direction: Direction, index = new EndpointIndex(given)): ApplicablePolicies {
  const cluster = enforcedPolicies(given);
  const ordered = [...cluster.clusterPolicies].sort(compareClusterPolicies);
  const ofTier = (tier: Tier) =>
    selectingPolicies(ordered, tier, pod, index).filter((p) => rulesOf(p, direction).length > 0);
  return {
    admin: ofTier('Admin'),
    networkPolicies: isolatingPolicies(cluster, pod, direction),
    baseline: ofTier('Baseline'),
  };
}

export interface EqualPriorityGroup {
  readonly tier: Tier;
  readonly priority: number;
  /** in evaluation order (name, then kind); at least two */
  readonly policies: readonly ObjectRef[];
}

/** Groups of two or more cluster policies with the same tier and priority, Admin first, by priority. */
export function equalPriorityGroups(cluster: Cluster): EqualPriorityGroup[] {
  const groups = new Map<string, ClusterPolicy[]>();
  for (const p of cluster.clusterPolicies) {
    const k = `${p.tier}/${p.priority}`;
    const g = groups.get(k);
    if (g) g.push(p);
    else groups.set(k, [p]);
  }
  const tierRank = (t: Tier) => (t === 'Admin' ? 0 : 1);
  return [...groups.values()]
    .filter((g) => g.length > 1)
    .map((g) => {
      const sorted = g.sort(compareClusterPolicies);
      const first = sorted[0]!;
      return { tier: first.tier, priority: first.priority, policies: sorted.map((p) => ({ kind: p.kind, name: p.name })) };
    })
    .sort((a, b) => tierRank(a.tier) - tierRank(b.tier) || a.priority - b.priority);
}

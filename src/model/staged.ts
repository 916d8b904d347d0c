/**
 * Staged policies: a policy that is evaluated and reported but never enforced (examples/s21-staged-approval: a
 * developer's policy that an admin looks at before it takes effect; the idea of Calico's staged
 * policies and Cilium's audit mode). docs/see-before-you-enforce.md explains the choice.
 *
 * The mark is the annotation `policy.palisade.dev/staged: "true"` on any policy kind
 * (NetworkPolicy, ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy): an
 * annotation works on every upstream kind without a new CRD and survives `kubectl apply`; the
 * value must be "true" or "false" (validate/staged.ts). Promotion is removing the annotation (or
 * setting "false"): an ordinary policy change.
 *
 * Invariants:
 * - A normalized staged policy carries `staged: true`; a policy in force carries no `staged`.
 * - A Cluster built from manifests keeps staged policies in `Cluster.staged` only, never in
 *   `networkPolicies` / `clusterPolicies` (the lists every enforcing stage reads).
 * - `enforcedPolicies` drops flagged policies from any PolicySet (enforcing stages apply it too,
 *   for policies handed to them one by one through an embedding API).
 * - `withStagedInForce` is the one way to ask "what if the staged policies were in force": the
 *   staged policies join the lists with the mark removed.
 * Pure functions over read-only data. Cost: linear in policies.
 */
import type { Cluster, ClusterPolicy, NetworkPolicy, ObjectRef, PolicySet } from './types.js';

export const STAGED_ANNOTATION = 'policy.palisade.dev/staged';

/** Is this policy marked staged? */
export const isStaged = (p: NetworkPolicy | ClusterPolicy): boolean => p.staged === true;

/** The part of a policy set that is in force (identity when nothing is flagged). */
export function enforcedPolicies<P extends PolicySet>(ps: P): P {
  if (!ps.networkPolicies.some(isStaged) && !ps.clusterPolicies.some(isStaged)) return ps;
  return {
    ...ps,
    networkPolicies: ps.networkPolicies.filter((p) => !isStaged(p)),
    clusterPolicies: ps.clusterPolicies.filter((p) => !isStaged(p)),
  };
}

/** Every staged policy of a cluster: `Cluster.staged` plus any flagged policy in the main lists. */
export function stagedPolicies(c: Cluster): PolicySet {
  return {
    networkPolicies: [...(c.staged?.networkPolicies ?? []), ...c.networkPolicies.filter(isStaged)],
    clusterPolicies: [...(c.staged?.clusterPolicies ?? []), ...c.clusterPolicies.filter(isStaged)],
  };
}

export const hasStaged = (c: Cluster): boolean => {
  const s = stagedPolicies(c);
  return s.networkPolicies.length > 0 || s.clusterPolicies.length > 0;
};

function unmark<P extends NetworkPolicy | ClusterPolicy>(p: P): P {
  if (!isStaged(p)) return p;
  const { staged: _staged, ...rest } = p;
  return rest as P;
}

/** The cluster as it would be with every staged policy in force (marks removed; `staged` empty). */
export function withStagedInForce(c: Cluster): Cluster {
  const s = stagedPolicies(c);
  const { staged: _staged, ...rest } = c;
  return {
    ...rest,
    networkPolicies: [...c.networkPolicies.filter((p) => !isStaged(p)), ...s.networkPolicies.map(unmark)],
    clusterPolicies: [...c.clusterPolicies.filter((p) => !isStaged(p)), ...s.clusterPolicies.map(unmark)],
  };
}

/** A key naming one policy: `Kind/name` or `NetworkPolicy/namespace/name`. */
export const policyKey = (o: ObjectRef): string => (o.namespace !== undefined ? `${o.kind}/${o.namespace}/${o.name}` : `${o.kind}/${o.name}`);

/** The staged policies of a cluster, as a predicate on policy references (RuleRef.policy, isolatedBy). */
export function stagedPredicate(c: Cluster): (o: ObjectRef) => boolean {
  const s = stagedPolicies(c);
  const keys = new Set([
    ...s.networkPolicies.map((p) => policyKey({ kind: p.kind, namespace: p.namespace, name: p.name })),
    ...s.clusterPolicies.map((p) => policyKey({ kind: p.kind, name: p.name })),
  ]);
  return (o) => keys.has(policyKey(o));
}

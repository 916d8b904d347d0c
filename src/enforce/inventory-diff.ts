/**
 * What changed between two loads of a cluster: the ONE inventory diff every backend's updates come
 * from (the enforce loop and the agent both feed the policy compiler with it).
 *
 * - `policiesChanged`: some NetworkPolicy or cluster policy differs (added, removed, edited,
 *   staged ones included);
 *   then the rule set is lowered again from scratch.
 * - `inventory`: namespace, node and pod changes, applied incrementally by the resolver
 *   (src/resolve/changes.ts). Order: namespaces and nodes added or changed, pods added or changed,
 *   pods removed, nodes removed, namespaces removed (removing a namespace also removes its pods).
 * - `servicesChanged`: Services or EndpointSlices differ. No rule reads them today, so the
 *   compiler only carries them into the cluster in force.
 *
 * Objects are compared without `source` (file and line move when a file is edited).
 * Pure. Cost: O(objects) canonical JSON comparisons.
 */
import type { Cluster } from '../model/types.js';
import type { InventoryChange } from '../resolve/changes.js';

export interface ClusterDiff {
  readonly policiesChanged: boolean;
  readonly servicesChanged: boolean;
  readonly inventory: readonly InventoryChange[];
}

const canonical = (v: unknown): string => JSON.stringify(v, (k, x: unknown) => (k === 'source' ? undefined : typeof x === 'bigint' ? `${x}n` : x));

function byKey<T>(items: readonly T[], key: (t: T) => string): Map<string, T> {
  return new Map(items.map((t) => [key(t), t]));
}

const podKey = (p: { readonly namespace: string; readonly name: string }): string => `${p.namespace}/${p.name}`;

export function diffClusters(prev: Cluster, next: Cluster): ClusterDiff {
  // staged policies count: they change no rule, but what is observed and how it is named
  const policiesChanged =
    canonical(prev.networkPolicies) !== canonical(next.networkPolicies) ||
    canonical(prev.clusterPolicies) !== canonical(next.clusterPolicies) ||
    canonical(prev.staged ?? null) !== canonical(next.staged ?? null);
  const servicesChanged = canonical(prev.services) !== canonical(next.services) || canonical(prev.endpointSlices) !== canonical(next.endpointSlices);
  const out: InventoryChange[] = [];
  const nsPrev = byKey(prev.namespaces, (n) => n.name);
  const nsNext = byKey(next.namespaces, (n) => n.name);
  const nodePrev = byKey(prev.nodes, (n) => n.name);
  const nodeNext = byKey(next.nodes, (n) => n.name);
  const podPrev = byKey(prev.pods, podKey);
  const podNext = byKey(next.pods, podKey);
  const changed = <T>(before: Map<string, T>, k: string, v: T): boolean => {
    const old = before.get(k);
    return old === undefined || canonical(old) !== canonical(v);
  };
  for (const [k, n] of nsNext) if (changed(nsPrev, k, n)) out.push({ kind: 'namespace', namespace: n });
  for (const [k, n] of nodeNext) if (changed(nodePrev, k, n)) out.push({ kind: 'node', node: n });
  for (const [k, p] of podNext) if (changed(podPrev, k, p)) out.push({ kind: 'pod', pod: p });
  for (const [k, p] of podPrev) if (!podNext.has(k)) out.push({ kind: 'pod-removed', namespace: p.namespace, name: p.name });
  for (const k of nodePrev.keys()) if (!nodeNext.has(k)) out.push({ kind: 'node-removed', name: k });
  for (const k of nsPrev.keys()) if (!nsNext.has(k)) out.push({ kind: 'namespace-removed', name: k });
  return { policiesChanged, servicesChanged, inventory: out };
}

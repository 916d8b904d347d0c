/**
 * What changed between two clusters, as inventory changes, when only the inventory changed:
 * the enforce loop uses it to turn pod churn into set-element deltas. Returns undefined when
 * policies, namespaces or nodes changed (the caller then re-applies the whole cluster).
 * Pure. Cost: O(pods) JSON comparisons.
 */
import type { Cluster } from '../../src/model/types.js';
import { podKey, type InventoryChange } from '../../src/resolve/index.js';

const canonical = (o: unknown): string =>
  JSON.stringify(o, (k, v: unknown) => (k === 'source' ? undefined : typeof v === 'bigint' ? v.toString() : v));

export function inventoryChanges(prev: Cluster, next: Cluster): InventoryChange[] | undefined {
  for (const k of ['networkPolicies', 'clusterPolicies', 'namespaces', 'nodes'] as const) {
    if (canonical(prev[k]) !== canonical(next[k])) return undefined;
  }
  const before = new Map(prev.pods.map((p) => [podKey(p), p]));
  const after = new Map(next.pods.map((p) => [podKey(p), p]));
  const out: InventoryChange[] = [];
  for (const [k, p] of after) {
    const old = before.get(k);
    if (!old || canonical(old) !== canonical(p)) out.push({ kind: 'pod', pod: p });
  }
  for (const [k, p] of before) if (!after.has(k)) out.push({ kind: 'pod-removed', namespace: p.namespace, name: p.name });
  return out;
}

/**
 * What changed between two loads of the manifests, as the Engine's inventory changes
 * (src/resolve/changes.ts), so that an inventory-only change reaches the loop as new set
 * membership instead of a full recompile. Pure.
 *
 * Returns undefined when any policy differs (then the caller recompiles). Objects are compared
 * without their `source` (file and line move when a file is edited). Order of the changes:
 * namespaces and nodes added or changed, pods added or changed, pods removed, nodes removed,
 * namespaces removed (removing a namespace also removes its pods in the resolver).
 */
import type { Cluster } from '../../src/model/types.js';
import type { InventoryChange } from '../../src/resolve/changes.js';

function canon(v: unknown): string {
  return JSON.stringify(v, (k, x: unknown) => (k === 'source' ? undefined : typeof x === 'bigint' ? `${x}n` : x));
}

function byKey<T>(items: readonly T[], key: (t: T) => string): Map<string, T> {
  return new Map(items.map((t) => [key(t), t]));
}

export function inventoryChanges(prev: Cluster, next: Cluster): InventoryChange[] | undefined {
  if (canon(prev.networkPolicies) !== canon(next.networkPolicies) || canon(prev.clusterPolicies) !== canon(next.clusterPolicies)) return undefined;
  const out: InventoryChange[] = [];
  const nsPrev = byKey(prev.namespaces, (n) => n.name);
  const nsNext = byKey(next.namespaces, (n) => n.name);
  const nodePrev = byKey(prev.nodes, (n) => n.name);
  const nodeNext = byKey(next.nodes, (n) => n.name);
  const podKey = (p: { namespace: string; name: string }) => `${p.namespace}/${p.name}`;
  const podPrev = byKey(prev.pods, podKey);
  const podNext = byKey(next.pods, podKey);
  for (const [k, n] of nsNext) if (!nsPrev.has(k) || canon(nsPrev.get(k)) !== canon(n)) out.push({ kind: 'namespace', namespace: n });
  for (const [k, n] of nodeNext) if (!nodePrev.has(k) || canon(nodePrev.get(k)) !== canon(n)) out.push({ kind: 'node', node: n });
  for (const [k, p] of podNext) if (!podPrev.has(k) || canon(podPrev.get(k)) !== canon(p)) out.push({ kind: 'pod', pod: p });
  for (const [k, p] of podPrev) if (!podNext.has(k)) out.push({ kind: 'pod-removed', namespace: p.namespace, name: p.name });
  for (const k of nodePrev.keys()) if (!nodeNext.has(k)) out.push({ kind: 'node-removed', name: k });
  for (const k of nsPrev.keys()) if (!nsNext.has(k)) out.push({ kind: 'namespace-removed', name: k });
  return out;
}

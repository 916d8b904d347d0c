/**
 * What a policy's selectors select in the inventory, for the lint checks. Host-network pods
 * are never selected by pod or namespace selectors (NetworkPolicy: kubernetes.io "NetworkPolicy
 * and hostNetwork pods"; ClusterNetworkPolicy: subjects and peers exclude host-network pods).
 * Pure; cost O(pods) per call.
 */
import { selects } from '../model/labels.js';
import { subjectSelectsPod } from '../model/cluster-rule.js';
import type { ClusterSubject, Inventory, LabelSelector, NetworkPolicy, Pod } from '../model/types.js';

export function namespaceLabels(inv: Inventory, ns: string): Readonly<Record<string, string>> {
  return inv.namespaces.find((n) => n.name === ns)?.labels ?? { 'kubernetes.io/metadata.name': ns };
}

export const policyPods = (inv: Inventory): Pod[] => inv.pods.filter((p) => !p.hostNetwork);

/** Pods a NetworkPolicy's spec.podSelector selects (its own namespace only). */
export function npSelectedPods(inv: Inventory, np: NetworkPolicy): Pod[] {
  return policyPods(inv).filter((p) => p.namespace === np.namespace && selects(np.podSelector, p.labels));
}

export function subjectPods(inv: Inventory, s: ClusterSubject): Pod[] {
  const labels = { namespaceLabels: (ns: string) => namespaceLabels(inv, ns), nodeLabels: (name: string) => inv.nodes.find((n) => n.name === name)?.labels };
  return policyPods(inv).filter((p) => subjectSelectsPod(s, p, labels));
}

export function namespacesSelected(inv: Inventory, sel: LabelSelector): string[] {
  return inv.namespaces.filter((n) => selects(sel, n.labels)).map((n) => n.name);
}

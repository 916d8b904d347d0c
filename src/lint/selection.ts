/**
 * What a policy's selectors select in the inventory, for the lint checks. Host-network pods
 * are never selected by pod or namespace selectors (NetworkPolicy: kubernetes.io "NetworkPolicy
 * and hostNetwork pods"; ClusterNetworkPolicy: subjects and peers exclude host-network pods).
 * Pure; cost O(pods) per call.
 */
import { selects } from '../model/labels.js';
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
  if (s.kind === 'services') return []; // a services subject is traffic to Service tuples, not pods
  return policyPods(inv).filter(
    (p) => selects(s.namespaceSelector, namespaceLabels(inv, p.namespace)) && (s.kind === 'namespaces' || selects(s.podSelector, p.labels)),
  );
}

export function namespacesSelected(inv: Inventory, sel: LabelSelector): string[] {
  return inv.namespaces.filter((n) => selects(sel, n.labels)).map((n) => n.name);
}

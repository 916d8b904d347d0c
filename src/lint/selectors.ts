/**
 * LINT_SELECTS_NOTHING (a policy's subject) and LINT_PEER_SELECTS_NOTHING (a rule's peer):
 * selectors that select nothing in the inventory given, usually a label typo. Host-network pods
 * do not count (no pod or namespace selector selects them). Skipped when the input has no pods
 * (policies linted alone); node peers are skipped when it has no nodes. Pure; O(pods) per selector.
 */
import { selects } from '../model/labels.js';
import type { Problem } from '../model/problems.js';
import type { ClusterPolicy, Inventory, NetworkPolicy } from '../model/types.js';
import { warning } from './problem.js';
import { namespaceLabels, namespacesSelected, npSelectedPods, policyPods, subjectPods } from './selection.js';

export function lintSelectors(inv: Inventory, nps: readonly NetworkPolicy[], cps: readonly ClusterPolicy[]): Problem[] {
  if (inv.pods.length === 0) return [];
  const out: Problem[] = [];
  const pods = policyPods(inv);

  for (const np of nps) {
    if (npSelectedPods(inv, np).length === 0) {
      out.push(warning(np, 'LINT_SELECTS_NOTHING', 'spec.podSelector', `spec.podSelector selects no pod in namespace ${np.namespace}: this policy has no effect.`));
    }
    for (const [dir, field, rules] of [['ingress', 'from', np.ingress], ['egress', 'to', np.egress]] as const) {
      rules.forEach((r, i) =>
        (r.peers ?? []).forEach((peer, j) => {
          if (peer.kind !== 'selector') return;
          const path = `spec.${dir}[${i}].${field}[${j}]`;
          if (peer.namespaceSelector && namespacesSelected(inv, peer.namespaceSelector).length === 0) {
            out.push(warning(np, 'LINT_PEER_SELECTS_NOTHING', `${path}.namespaceSelector`, `namespaceSelector selects no namespace: this peer matches nothing.`));
            return;
          }
          const matched = pods.filter(
            (p) =>
              (peer.namespaceSelector ? selects(peer.namespaceSelector, namespaceLabels(inv, p.namespace)) : p.namespace === np.namespace) &&
              (peer.podSelector ? selects(peer.podSelector, p.labels) : true),
          );
          if (matched.length === 0) {
            const where = peer.namespaceSelector ? 'the selected namespaces' : `namespace ${np.namespace}`;
            out.push(warning(np, 'LINT_PEER_SELECTS_NOTHING', path, `this peer selects no pod in ${where}: it matches nothing today.`));
          }
        }),
      );
    }
  }

  for (const cp of cps) {
    // a services subject is the traffic to Service tuples, not pods (services.ts lints it)
    if (cp.subject.kind !== 'services' && subjectPods(inv, cp.subject).length === 0) {
      out.push(warning(cp, 'LINT_SELECTS_NOTHING', 'spec.subject', `spec.subject selects no pod: this policy has no effect.`));
    }
    for (const [dir, field, rules] of [['ingress', 'from', cp.ingress], ['egress', 'to', cp.egress]] as const) {
      for (const r of rules) {
        r.peers.forEach((peer, j) => {
          const path = `spec.${dir}[${r.index}].${field}[${j}]`;
          if (peer.kind === 'namespaces' && namespacesSelected(inv, peer.namespaceSelector).length === 0) {
            out.push(warning(cp, 'LINT_PEER_SELECTS_NOTHING', `${path}.namespaces`, `selects no namespace: this peer matches nothing.`));
          } else if (
            peer.kind === 'pods' &&
            !pods.some((p) => selects(peer.namespaceSelector, namespaceLabels(inv, p.namespace)) && selects(peer.podSelector, p.labels))
          ) {
            out.push(warning(cp, 'LINT_PEER_SELECTS_NOTHING', `${path}.pods`, `selects no pod: this peer matches nothing today.`));
          } else if (peer.kind === 'nodes' && inv.nodes.length > 0 && !inv.nodes.some((n) => selects(peer.nodeSelector, n.labels))) {
            out.push(warning(cp, 'LINT_PEER_SELECTS_NOTHING', `${path}.nodes`, `selects no node: this peer matches nothing.`));
          }
        });
      }
    }
  }
  return out;
}

/**
 * Facts about one cluster-tier policy that every evaluator reads the same way (the reference
 * evaluator, lowering, explain, lint): which pods a subject selects, and whether a rule fails
 * closed and why. One definition here, so that the oracle and the fast path cannot drift.
 *
 * - Subjects: `namespaces` and `pods` select non-host-network pods by namespace labels (and pod
 *   labels); a `pods` subject with a `nodeSelector` (PalisadeClusterNetworkPolicy, S7) also
 *   requires the pod's spec.nodeName to name a Node whose labels the selector matches (a pod
 *   not scheduled yet, or on a node missing from the inventory, is not selected). `nodes` (S20)
 *   and `services` (S4) subjects select no pod: their traffic is host traffic and traffic to a
 *   Service address (docs/extension-semantics.md), judged where those are implemented.
 * - Fail closed (network-policy-api shared_types, "For Allow rules, fail closed means: treat the
 *   rule as matching no traffic. For Deny and Pass rules ... treat the rule as a 'Deny all'
 *   rule"): a rule fails closed when it has a peer or protocol entry with no known field, or a
 *   part this build does not enforce yet (`NOT_ENFORCED_PEERS`, `NOT_ENFORCED_ACTIONS`). An Accept
 *   rule so treated matches nothing; a Deny, Pass or Redirect rule denies every flow of its
 *   subject. Never silently matching is the point: a field that is read but not enforced must
 *   not widen what a rule allows.
 * Pure functions over read-only data. Cost: linear in the rule's peers and protocol entries.
 */
import { selects } from './labels.js';
import type { ClusterAction, ClusterPeer, ClusterRule, ClusterSubject, Pod } from './types.js';

/** Label lookups a subject needs: a namespace's labels, and a node's labels (undefined: no such Node). */
export interface SubjectLabels {
  namespaceLabels(namespace: string): Readonly<Record<string, string>>;
  nodeLabels(node: string): Readonly<Record<string, string>> | undefined;
}

/** Does the subject select the pod? Host-network pods are never subjects. */
export function subjectSelectsPod(s: ClusterSubject, pod: Pod, labels: SubjectLabels): boolean {
  if (pod.hostNetwork) return false;
  switch (s.kind) {
    case 'namespaces':
      return selects(s.namespaceSelector, labels.namespaceLabels(pod.namespace));
    case 'pods': {
      if (!selects(s.namespaceSelector, labels.namespaceLabels(pod.namespace)) || !selects(s.podSelector, pod.labels)) return false;
      if (s.nodeSelector === undefined) return true;
      const nodeLabels = pod.nodeName !== undefined ? labels.nodeLabels(pod.nodeName) : undefined;
      return nodeLabels !== undefined && selects(s.nodeSelector, nodeLabels);
    }
    case 'nodes':
    case 'services':
      return false;
  }
}

/**
 * Peer kinds this build reads but does not enforce yet; each makes its rule fail closed. An
 * entry leaves this list when its semantics land in the reference evaluator and the lowering.
 */
export const NOT_ENFORCED_PEERS: ReadonlySet<ClusterPeer['kind']> = new Set([]);
/** Actions this build reads but does not enforce yet; a rule with one fails closed ("Deny all"). */
export const NOT_ENFORCED_ACTIONS: ReadonlySet<ClusterAction> = new Set([]);

/** Why a rule fails closed, as explain words it ("a peer with no known field"); empty: it does not. */
export function failClosedCauses(rule: ClusterRule): string[] {
  const out: string[] = [];
  const unknownPeers = rule.peers.some((p) => p.kind === 'unknown');
  const unknownProtocols = (rule.protocols ?? []).some((p) => p.kind === 'unknown');
  if (unknownPeers || unknownProtocols) {
    out.push(`${[...(unknownPeers ? ['a peer'] : []), ...(unknownProtocols ? ['a protocol entry'] : [])].join(' and ')} with no known field`);
  }
  const pending = [...new Set(rule.peers.filter((p) => NOT_ENFORCED_PEERS.has(p.kind)).map((p) => p.kind))];
  for (const k of pending) out.push(`a ${k} peer, which this build does not enforce yet`);
  if (NOT_ENFORCED_ACTIONS.has(rule.action)) out.push(`the ${rule.action} action, which this build does not enforce yet`);
  return out;
}

export const ruleFailsClosed = (rule: ClusterRule): boolean => failClosedCauses(rule).length > 0;

/**
 * The explanation note of a rule that fails closed (undefined: it does not), word for word the
 * same from the reference evaluator and the engine's explain. `where` names the rule.
 */
export function failClosedNote(where: string, rule: ClusterRule): string | undefined {
  const causes = failClosedCauses(rule);
  if (causes.length === 0) return undefined;
  return rule.action === 'Accept'
    ? `${where}: has ${causes.join('; ')}; fail closed: this Accept rule matches nothing`
    : `${where}: has ${causes.join('; ')}; fail closed: this ${rule.action} rule is treated as "Deny all"`;
}

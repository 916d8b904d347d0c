/**
 * When an inventory change outgrows a rule set: the rules were split per named-port group and
 * per node when they were lowered, so a change bringing a (name, protocol, number) group or a
 * node name they have never seen needs a new lowering, and so may a change of the Services when
 * a Service some rule was split for gains or loses a (protocol, port) group, and a pod change
 * that may add or drop the subject of a per-pod `domainNames` rule; every other inventory change
 * is a set membership delta. The engine uses this; a backend that lowers rules itself can use it too.
 * Pure. Cost: O(container ports of the changed pod).
 */
import { selects } from '../model/labels.js';
import { serviceGroupText, type ServiceGroup } from '../model/services.js';
import type { Pod, ServiceRef } from '../model/types.js';
import type { InventoryChange } from '../resolve/changes.js';
import { groupKey } from '../resolve/named-ports.js';
import type { RuleSet } from './types.js';

const SERVICE_CHANGES: ReadonlySet<InventoryChange['kind']> = new Set(['service', 'service-removed', 'endpointslice', 'endpointslice-removed']);

export function outgrowsRules(
  ruleSet: RuleSet,
  change: InventoryChange,
  nodeLocalIngress = true,
  /** the groups of a Service with the change applied (Resolution.serviceGroups); absent: assume changed */
  serviceGroupsNow?: (ref: ServiceRef) => readonly ServiceGroup[],
  /** for a `pod` change: the pod's record before it (absent: unknown, or a new pod) */
  previousPod?: Pod,
): boolean {
  if (ruleSet.learnedSubjects && outgrowsLearned(ruleSet.learnedSubjects, change, previousPod)) return true;
  // a Service whose (protocol, port) groups changed needs its rules split anew
  if (SERVICE_CHANGES.has(change.kind)) {
    // a Redirect rule carries its target's ClusterIP and endpoint: follow every Service change
    if (ruleSet.redirectServices && ruleSet.redirectServices.size > 0) return true;
    for (const [key, used] of ruleSet.serviceGroups ?? []) {
      if (!serviceGroupsNow) return true;
      const slash = key.indexOf('/');
      const now = serviceGroupsNow({ namespace: key.slice(0, slash), name: key.slice(slash + 1) }).map(serviceGroupText);
      if (now.length !== used.size || now.some((g) => !used.has(g))) return true;
    }
    return false;
  }
  if (change.kind === 'node') return nodeLocalIngress && !ruleSet.nodeLocalNodes.has(change.node.name);
  if (change.kind !== 'pod') return false;
  const p = change.pod;
  if (nodeLocalIngress && p.nodeName !== undefined && !ruleSet.nodeLocalNodes.has(p.nodeName)) return true;
  if (p.hostNetwork) return false;
  for (const cp of p.containerPorts) {
    if (cp.name === undefined) continue;
    const used = ruleSet.namedPortGroups.get(cp.name);
    if (used && !used.has(groupKey({ name: cp.name, protocol: cp.protocol, port: cp.containerPort }))) return true;
  }
  return false;
}

/**
 * Per-pod `domainNames` rules (lower.ts): a pod that may now be selected by one of their subjects
 * and has no rule of its own yet (its pod selector matches; the namespace side is not known here,
 * so this errs towards re-lowering), or any namespace change. A pod that has per-pod rules keeps
 * them whatever it becomes: their single-pod sets carry the subject's selectors, so membership
 * follows the pod (an address, label, node or phase change is a delta; a pod that leaves the
 * subject, or is deleted, leaves its rules matching nothing until the next lowering, and a pod
 * re-created under the same name is in them again). Whether a pod is selected depends on its
 * namespace (which a pod change cannot change), labels and hostNetwork: a pod whose previous
 * record had the same labels and was not host-network is where it was.
 */
function outgrowsLearned(l: NonNullable<RuleSet['learnedSubjects']>, change: InventoryChange, previous: Pod | undefined): boolean {
  switch (change.kind) {
    case 'pod': {
      const p = change.pod;
      if (l.pods.has(`${p.namespace}/${p.name}`) || p.hostNetwork) return false;
      if (previous && !previous.hostNetwork && sameLabels(previous.labels, p.labels)) return false;
      return l.podSelectors.some((s) => selects(s, p.labels));
    }
    case 'pod-removed':
      return false;
    case 'namespace':
    case 'namespace-removed':
      return true;
    default:
      return false;
  }
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && a[k] === b[k]);
}

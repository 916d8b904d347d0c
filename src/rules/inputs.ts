/**
 * When an inventory change outgrows a rule set: the rules were split per named-port group and
 * per node when they were lowered, so a change bringing a (name, protocol, number) group or a
 * node name they have never seen needs a new lowering, as does any pod or namespace change when
 * the rules hold per-pod `domainNames` rules; every other inventory change is a set membership
 * delta. The engine uses this; a backend that lowers rules itself can use it too.
 * Pure. Cost: O(container ports of the changed pod).
 */
import type { InventoryChange } from '../resolve/changes.js';
import { groupKey } from '../resolve/named-ports.js';
import type { RuleSet } from './types.js';

export function outgrowsRules(ruleSet: RuleSet, change: InventoryChange, nodeLocalIngress = true): boolean {
  // per-pod domainNames rules (lower.ts): any pod or namespace change may add or drop a subject pod
  if (ruleSet.learnedRules && change.kind !== 'node' && change.kind !== 'node-removed') return true;
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

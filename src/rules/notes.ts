/**
 * Explanation notes of cluster-tier rules: the facts explain shows for a rule it walks past or
 * stops at (a `domainNames` peer treated as matching nothing; fail closed on an unknown peer or
 * protocol entry or a part not enforced yet, model/cluster-rule.ts). The text is the reference evaluator's (reference/tiers.ts), word for word,
 * because `Engine.explain` must equal `ReferenceEvaluator.evaluate`.
 *
 * `notedRules` lists, per tier and direction, every rule with notes in walk order (the policy
 * order of `order.ts`, then rule index), so explain can replay which notes a walk met.
 * Pure. Cost: O(rules).
 */
import type { ClusterPolicy, ClusterRule, Direction, PolicySet, Tier } from '../model/types.js';
import { FQDN_NOTE_SUFFIX } from '../model/verdict.js';
import { failClosedNote } from '../model/cluster-rule.js';
import { compareClusterPolicies } from './order.js';

export interface NotedRule {
  readonly policy: ClusterPolicy;
  readonly rule: ClusterRule;
  /** position of the rule in its tier's walk (policy order, then rule index) */
  readonly position: number;
  readonly notes: readonly string[];
}

export function ruleNotes(policy: ClusterPolicy, rule: ClusterRule, d: Direction): string[] {
  const where = `${policy.kind} ${policy.name} ${d}[${rule.index}]${rule.name !== undefined ? ` (${rule.name})` : ''}`;
  const notes: string[] = [];
  if (rule.peers.some((p) => p.kind === 'domainNames')) notes.push(`${where}: ${FQDN_NOTE_SUFFIX}`);
  const failClosed = failClosedNote(where, rule);
  if (failClosed !== undefined) notes.push(failClosed);
  return notes;
}

/** Key of a cluster rule: `tier/kind/name/direction/index` (the RuleOrigin stable id). */
export const clusterRuleKey = (p: ClusterPolicy, d: Direction, index: number): string => `${p.tier}/${p.kind}/${p.name}/${d}/${index}`;

export interface WalkIndex {
  /** rules with notes, in walk order */
  readonly noted: readonly NotedRule[];
  /** position of every rule in its tier's walk, by `clusterRuleKey` */
  readonly positions: ReadonlyMap<string, number>;
}

export function walkIndex(policies: PolicySet, tier: Tier, d: Direction): WalkIndex {
  const ordered = policies.clusterPolicies.filter((p) => p.tier === tier).sort(compareClusterPolicies);
  const noted: NotedRule[] = [];
  const positions = new Map<string, number>();
  let position = 0;
  for (const policy of ordered) {
    for (const rule of policy[d]) {
      positions.set(clusterRuleKey(policy, d, rule.index), position);
      const notes = ruleNotes(policy, rule, d);
      if (notes.length) noted.push({ policy, rule, position, notes });
      position++;
    }
  }
  return { noted, positions };
}

/**
 * LINT_EQUAL_PRIORITY: two or more cluster policies with the same priority in one tier. The API
 * leaves their order undefined ("the implementation can apply any of the matching policies",
 * AdminNetworkPolicy spec.priority doc; the same for ClusterNetworkPolicy). Palisade's order is
 * total: priority, then policy name, then rule index; the warning names the policies in that
 * order. Pure.
 */
import type { Problem } from '../model/problems.js';
import type { ClusterPolicy } from '../model/types.js';
import { byText, policyName, warning } from './problem.js';

export function lintPriorities(cps: readonly ClusterPolicy[]): Problem[] {
  const groups = new Map<string, ClusterPolicy[]>();
  for (const p of cps) {
    const key = `${p.tier}/${p.priority}`;
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  const out: Problem[] = [];
  for (const ps of groups.values()) {
    if (ps.length < 2) continue;
    const sorted = [...ps].sort((a, b) => byText(a.name, b.name));
    const first = sorted[0] as ClusterPolicy;
    out.push(
      warning(
        first,
        'LINT_EQUAL_PRIORITY',
        'spec.priority',
        `${sorted.map(policyName).join(', ')} share priority ${first.priority} in the ${first.tier} tier; the API leaves their order ` +
          `undefined. Palisade orders by priority, then policy name, then rule index: ${sorted.map((p) => p.name).join(' before ')}. ` +
          `Give them distinct priorities if the order matters.`,
      ),
    );
  }
  return out;
}

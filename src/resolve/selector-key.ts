/**
 * Canonical keys for label selectors: two selectors that select the same objects by the same
 * requirements get the same key, so the selector cache (`resolver.ts`) shares one address set
 * between them.
 *
 * Invariants: the key is independent of the written order of matchLabels, matchExpressions and
 * expression values; duplicated expressions collapse. It does not try to prove semantic equality
 * beyond that (`{a: x}` and `a In (x)` get different keys; that only costs a duplicate set).
 * Cost: O(r log r) in the number of requirements. Pure.
 */
import type { LabelSelector } from '../model/types.js';

export function selectorKey(sel: LabelSelector): string {
  const labels = Object.keys(sel.matchLabels)
    .sort()
    .map((k) => [k, sel.matchLabels[k] as string]);
  const exprs = [
    ...new Set(
      sel.matchExpressions.map((r) =>
        JSON.stringify([r.key, r.operator, r.operator === 'In' || r.operator === 'NotIn' ? [...new Set(r.values)].sort() : []]),
      ),
    ),
  ].sort();
  return JSON.stringify([labels, exprs]);
}

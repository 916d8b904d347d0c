/**
 * Label selector matching (metav1.LabelSelector): matchLabels and every matchExpressions entry
 * are ANDed; `{}` selects everything; NotIn and DoesNotExist match objects that lack the key.
 * Source: kubernetes.io "Labels and Selectors"; apimachinery labels.Selector.
 */
import type { LabelSelector } from './types.js';

export const EVERYTHING: LabelSelector = Object.freeze({ matchLabels: {}, matchExpressions: [] });

export function selects(sel: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels)) {
    if (!Object.prototype.hasOwnProperty.call(labels, k) || labels[k] !== v) return false;
  }
  for (const r of sel.matchExpressions) {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    const value = labels[r.key];
    switch (r.operator) {
      case 'In':
        if (!has || !r.values.includes(value as string)) return false;
        break;
      case 'NotIn':
        if (has && r.values.includes(value as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

export const isEmptySelector = (sel: LabelSelector): boolean =>
  Object.keys(sel.matchLabels).length === 0 && sel.matchExpressions.length === 0;

/** A readable, canonical rendering: `{app=web, tier in (a,b), !legacy}`; `{}` for everything. */
export function formatSelector(sel: LabelSelector): string {
  const parts = Object.keys(sel.matchLabels)
    .sort()
    .map((k) => `${k}=${sel.matchLabels[k]}`);
  for (const r of sel.matchExpressions) {
    if (r.operator === 'Exists') parts.push(r.key);
    else if (r.operator === 'DoesNotExist') parts.push(`!${r.key}`);
    else parts.push(`${r.key} ${r.operator === 'In' ? 'in' : 'notin'} (${[...r.values].sort().join(',')})`);
  }
  return `{${parts.join(', ')}}`;
}

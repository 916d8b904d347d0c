/**
 * Audit marks: a policy rule that asks for a log line for every flow it ALLOWS, beside the deny
 * log every deny rule already has (to see the cross-app flows through a choke point; the idea
 * of Antrea's per-rule `enableLogging`). docs/see-before-you-enforce.md explains the choice.
 *
 * The mark is the annotation `policy.palisade.dev/audit` on any policy kind, naming its rules:
 *   "all"                        every rule of the policy, both directions
 *   "ingress/0, egress/2"        rules by direction and 0-based index (every kind)
 *   "allow-dns, egress/1"        ClusterNetworkPolicy / AdminNetworkPolicy / BANP rules by `name`
 * An annotation works on every upstream kind without a new CRD, and a NetworkPolicy rule has no
 * name, so the index form is the one that works everywhere. validate/audit.ts checks the syntax and
 * that each named rule exists; normalize resolves the names to indices (`AuditMark`).
 *
 * Invariants: a normalized policy carries `audit` only when the annotation named at least one rule;
 * indices are in range, ascending, without repeats.
 * Pure. Cost: linear in the annotation and the policy's rules.
 */
import type { Direction } from './types.js';

export const AUDIT_ANNOTATION = 'policy.palisade.dev/audit';

/** The audited rules of one policy, by direction, as 0-based indices into its rule lists. */
export interface AuditMark {
  readonly ingress: readonly number[];
  readonly egress: readonly number[];
}

/** One item of the annotation. */
export type AuditItem = { readonly kind: 'all' } | { readonly kind: 'index'; readonly direction: Direction; readonly index: number } | { readonly kind: 'name'; readonly name: string };

/** The items of an annotation value, or the reason it does not parse. */
export function parseAuditItems(value: string): { readonly items: readonly AuditItem[] } | { readonly error: string } {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.every((p) => p === '')) return { error: 'names no rule (use "all", "ingress/N", "egress/N" or a rule name, comma-separated)' };
  const items: AuditItem[] = [];
  for (const p of parts) {
    if (p === '') return { error: `has an empty item in ${JSON.stringify(value)}` };
    if (p === 'all') {
      items.push({ kind: 'all' });
      continue;
    }
    const m = /^(ingress|egress)\/(\d{1,4})$/.exec(p);
    if (m) {
      items.push({ kind: 'index', direction: m[1] as Direction, index: Number(m[2]) });
      continue;
    }
    if (p.includes('/')) return { error: `item ${JSON.stringify(p)} is neither "ingress/N" nor "egress/N"` };
    items.push({ kind: 'name', name: p });
  }
  if (items.length > 1 && items.some((i) => i.kind === 'all')) return { error: '"all" stands alone' };
  return { items };
}

/** The rules a policy's rule lists need to resolve items: per direction, each rule's name (if any). */
export interface AuditRuleNames {
  readonly ingress: readonly (string | undefined)[];
  readonly egress: readonly (string | undefined)[];
}

/**
 * Resolve items against a policy's rules. Unknown names and indices out of range are reported in
 * `unknown` (validate/audit.ts turns them into problems; normalize never sees them).
 */
export function resolveAuditItems(items: readonly AuditItem[], rules: AuditRuleNames): { readonly mark: AuditMark; readonly unknown: readonly string[] } {
  const sets = { ingress: new Set<number>(), egress: new Set<number>() };
  const unknown: string[] = [];
  for (const it of items) {
    if (it.kind === 'all') {
      for (const d of ['ingress', 'egress'] as const) rules[d].forEach((_, i) => sets[d].add(i));
    } else if (it.kind === 'index') {
      if (it.index < rules[it.direction].length) sets[it.direction].add(it.index);
      else unknown.push(`${it.direction}/${it.index} (the policy has ${rules[it.direction].length} ${it.direction} rules)`);
    } else {
      let found = false;
      for (const d of ['ingress', 'egress'] as const) {
        rules[d].forEach((n, i) => {
          if (n === it.name) {
            sets[d].add(i);
            found = true;
          }
        });
      }
      if (!found) unknown.push(`${JSON.stringify(it.name)} (no rule of the policy has this name)`);
    }
  }
  const sorted = (s: Set<number>): number[] => [...s].sort((a, b) => a - b);
  return { mark: { ingress: sorted(sets.ingress), egress: sorted(sets.egress) }, unknown };
}

/** Is rule `index` of `direction` audited by `mark`? */
export const isAudited = (mark: AuditMark | undefined, direction: Direction, index: number): boolean => mark !== undefined && mark[direction].includes(index);

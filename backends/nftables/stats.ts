/**
 * Per-rule counters from `list table inet palisade` JSON: every policy rule carries a `counter`
 * and its stable id as the comment (render.ts); the two family copies of a rule are summed.
 * Pure. Output sorted by rule id.
 */
import type { RuleCounter } from '../../src/enforce/backend.js';

export function ruleCounters(listJson: unknown): RuleCounter[] {
  const items = ((listJson as { nftables?: unknown[] })?.nftables ?? []) as { rule?: { comment?: string; expr?: Record<string, unknown>[] } }[];
  const sums = new Map<string, { packets: number; bytes: number }>();
  for (const it of items) {
    const r = it.rule;
    if (!r?.comment || !r.expr) continue;
    for (const e of r.expr) {
      const c = e.counter as { packets?: number; bytes?: number } | undefined;
      if (!c || typeof c !== 'object') continue;
      const s = sums.get(r.comment) ?? { packets: 0, bytes: 0 };
      s.packets += c.packets ?? 0;
      s.bytes += c.bytes ?? 0;
      sums.set(r.comment, s);
    }
  }
  return [...sums].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([rule, s]) => ({ rule, ...s }));
}

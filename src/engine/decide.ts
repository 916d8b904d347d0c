/**
 * One direction's decision from a classifier: first match, following Pass rules.
 *
 * Precedence (rules/types.ts): a Pass in the Admin tier continues at the first NetworkPolicy-tier
 * rule; a Pass in the Baseline tier ends at the default allow. Everything else is final.
 * Cost: one classifier lookup, plus one per Pass met (at most two).
 */
import type { Family } from '../model/ip.js';
import type { DirectionTable, Rule } from '../rules/types.js';
import { NO_RULE, type Classifier } from './classifier.js';

export interface Decision {
  /** the deciding rule id, or -1 (default allow) */
  readonly ruleId: number;
  /** Pass rules met, in order */
  readonly passed: readonly number[];
}

export function decide(
  classifier: Classifier,
  table: DirectionTable,
  rules: readonly Rule[],
  family: Family,
  src: bigint,
  dst: bigint,
  protocol: number,
  srcPort: number,
  dstPort: number,
  minPriority = 0,
  passed: number[] = [],
): Decision {
  let min = minPriority;
  for (;;) {
    const id = classifier.lookup(family, src, dst, protocol, srcPort, dstPort, min);
    if (id === NO_RULE) return { ruleId: NO_RULE, passed };
    const r = rules[id] as Rule;
    if (r.action !== 'pass') return { ruleId: id, passed };
    passed.push(id);
    if (r.tier !== 'Admin') return { ruleId: NO_RULE, passed };
    min = table.tierStart.NetworkPolicy;
  }
}

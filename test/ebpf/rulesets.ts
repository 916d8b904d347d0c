/**
 * Hand-written RuleSets (src/rules/types.ts shape) for the test-run suites: a few sets given as
 * prefix lists, and rules in first-match order per direction with their tiers.
 */
import { parseCidr, type Cidr } from '../../src/model/ip.js';
import type { Direction, Protocol } from '../../src/model/types.js';
import type { PolicyTier } from '../../src/model/verdict.js';
import type { DirectionTable, Rule, RuleAction, RuleSet } from '../../src/rules/types.js';
import type { TablesInput } from '../../backends/ebpf/tables.js';

export interface RuleSpec {
  readonly tier: PolicyTier;
  readonly subject: number;
  readonly peer: number | null;
  readonly protocol: Protocol | null;
  readonly ports?: readonly [number, number];
  readonly action: RuleAction;
  readonly name?: string;
}

const TIER_ORDER: PolicyTier[] = ['Admin', 'NetworkPolicy', 'Baseline'];

export function makeInput(sets: readonly (readonly string[])[], egress: readonly RuleSpec[], ingress: readonly RuleSpec[]): TablesInput {
  const all: Rule[] = [];
  const table = (d: Direction, specs: readonly RuleSpec[]): DirectionTable => {
    const sorted = [...specs].sort((a, b) => TIER_ORDER.indexOf(a.tier) - TIER_ORDER.indexOf(b.tier));
    const rules = sorted.map((s, i): Rule => {
      const r: Rule = {
        id: all.length,
        direction: d,
        tier: s.tier,
        priority: i,
        subject: s.subject,
        peer: s.peer,
        protocol: s.protocol,
        dstPorts: s.ports ? { lo: s.ports[0], hi: s.ports[1] } : { lo: 0, hi: 65535 },
        srcPorts: { lo: 0, hi: 65535 },
        action: s.action,
        origin: { stableId: s.name ?? `${d}/${i}` },
      };
      all.push(r);
      return r;
    });
    const start = (t: PolicyTier): number => {
      const i = rules.findIndex((r) => TIER_ORDER.indexOf(r.tier) >= TIER_ORDER.indexOf(t));
      return i < 0 ? rules.length : i;
    };
    return { rules, tierStart: { Admin: 0, NetworkPolicy: start('NetworkPolicy'), Baseline: start('Baseline'), end: rules.length } };
  };
  const egressTable = table('egress', egress);
  const ingressTable = table('ingress', ingress);
  const ruleSet: RuleSet = {
    rules: all,
    egress: egressTable,
    ingress: ingressTable,
    namedPortGroups: new Map(),
    nodeLocalNodes: new Set(),
  };
  const parsed: Cidr[][] = sets.map((l) =>
    l.map((t) => {
      const c = parseCidr(t.includes('/') ? t : `${t}/${t.includes(':') ? 128 : 32}`);
      if (!c) throw new Error(`bad cidr ${t}`);
      return c;
    }),
  );
  return { ruleSet, prefixesOf: (s) => parsed[s] ?? [] };
}

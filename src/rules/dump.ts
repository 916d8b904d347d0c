/**
 * The canonical text dump of a rule set (`palisade compile -f PATH --rules`): for golden tests
 * and for people. Stable: the same input gives the same bytes (sets are numbered in the order
 * lowering first meets them, which follows the total rule order; members are sorted).
 *
 * Layout:
 *   # palisade rules: <n> sets, <e> egress rules, <i> ingress rules
 *   set S<id> <definition> = <members...>          one line per set, by id
 *   egress <priority> <tier> <action> from=<set|any> to=<set|any> <proto> <ports> [sport=..] <stable id> [details]
 *   ingress ...
 * For egress the subject is `from` and the peer `to`; for ingress the other way round.
 * Pure. Cost: O(rules + set members).
 */
import type { Resolution } from '../resolve/resolver.js';
import { describeSet } from '../resolve/set-def.js';
import type { PortRange, Rule, RuleSet } from './types.js';

const setName = (id: number | null): string => (id === null ? 'any' : `S${id}`);
const ports = (r: PortRange): string => (r.lo === 0 && r.hi === 65535 ? '*' : r.lo === r.hi ? `${r.lo}` : `${r.lo}-${r.hi}`);

export function dumpRules(ruleSet: RuleSet, resolution: Resolution): string {
  const lines: string[] = [
    `# palisade rules: ${resolution.setCount} sets, ${ruleSet.egress.rules.length} egress rules, ${ruleSet.ingress.rules.length} ingress rules`,
  ];
  for (let id = 0; id < resolution.setCount; id++) {
    const members = resolution.prefixes(id).map((c) => c.text);
    lines.push(`set S${id} ${describeSet(resolution.definition(id))} = ${members.length ? members.join(' ') : '(empty)'}`);
  }
  for (const r of ruleSet.egress.rules) lines.push(ruleLine(r));
  for (const r of ruleSet.ingress.rules) lines.push(ruleLine(r));
  return lines.join('\n') + '\n';
}

export function ruleLine(r: Rule): string {
  const [from, to] = r.direction === 'egress' ? [r.subject, r.peer] : [r.peer, r.subject];
  const proto = r.protocol === null ? 'any' : `${r.protocol} ${ports(r.dstPorts)}`;
  const sport = r.srcPorts.lo === 0 && r.srcPorts.hi === 65535 ? '' : ` sport=${ports(r.srcPorts)}`;
  const ref = r.origin.ref;
  const details: string[] = [];
  if (ref?.ruleName !== undefined) details.push(`name=${JSON.stringify(ref.ruleName)}`);
  if (ref?.priority !== undefined) details.push(`priority=${ref.priority}`);
  if (ref?.failClosed) details.push('fail-closed');
  return [
    r.direction.padEnd(7),
    String(r.priority).padStart(4, '0'),
    r.tier.padEnd(13),
    r.action.padEnd(14),
    `from=${setName(from)}`.padEnd(10),
    `to=${setName(to)}`.padEnd(8),
    `${proto}${sport}`.padEnd(14),
    r.origin.stableId,
    ...details,
  ].join(' ').trimEnd();
}

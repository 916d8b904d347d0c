/**
 * Deny log for the nftables backend: the renderer logs each denied flow (rate-limited per rule)
 * to an NFLOG group with the prefix `palisade <rule id>`; this reads the group and turns each
 * packet into the project's deny-log record (src/enforce/deny-log.ts), naming the tier, policy and
 * rule. A flow denied by NetworkPolicy isolation names the isolating policy.
 *
 * Rule ids index the rule set in force when the line is read; a line logged just before a rule
 * set replacement may name a rule of the new set (ids are positions, not identities).
 * Not thread-safe; one reader per enforcer.
 */
import type { Direction, Protocol } from '../../src/model/types.js';
import type { DenyRecord } from '../../src/enforce/deny-log.js';
import type { Resolution } from '../../src/resolve/index.js';
import type { RuleSet } from '../../src/rules/types.js';
import type { NflogPacket } from '../../src/native/binding.js';
import { DENY_LOG_PREFIX } from './render.js';

const PROTO: Record<number, Protocol | 'ICMP' | 'ICMPv6'> = { 6: 'TCP', 17: 'UDP', 132: 'SCTP', 1: 'ICMP', 58: 'ICMPv6' };

export function denyRecord(p: NflogPacket, ruleSet: RuleSet, resolution: Resolution, now = new Date()): DenyRecord | undefined {
  if (!p.prefix.startsWith(DENY_LOG_PREFIX)) return undefined;
  const rule = ruleSet.rules[Number(p.prefix.slice(DENY_LOG_PREFIX.length))];
  if (!rule) return undefined;
  const direction: Direction = rule.direction;
  const base = {
    time: now.toISOString(),
    backend: 'nftables' as const,
    family: p.family,
    protocol: PROTO[p.protocol] ?? (`proto-${p.protocol}` as const),
    src: p.src,
    ...(p.srcPort !== undefined ? { srcPort: p.srcPort } : {}),
    dst: p.dst,
    ...(p.dstPort !== undefined ? { dstPort: p.dstPort } : {}),
    direction,
  };
  const ref = rule.origin.ref;
  if (ref) {
    return {
      ...base,
      tier: ref.tier,
      policy: [ref.policy.kind, ...(ref.policy.namespace ? [ref.policy.namespace] : []), ref.policy.name].join('/'),
      ...(ref.ruleName !== undefined ? { rule: ref.ruleName } : {}),
      ruleIndex: ref.ruleIndex,
    };
  }
  // isolation: name the (first) NetworkPolicy isolating the judged pod
  const ip = direction === 'egress' ? p.src : p.dst;
  const pod = resolution.inventory().pods.find((q) => !q.hostNetwork && q.ips.some((a) => a.text === ip));
  const np = pod ? resolution.isolatingPolicies(pod, direction)[0] : undefined;
  return { ...base, tier: rule.tier, policy: np ? `NetworkPolicy/${np.namespace}/${np.name}` : rule.origin.stableId };
}

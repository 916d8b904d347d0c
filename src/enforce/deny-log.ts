/**
 * The deny log line, the same from every backend (nftables NFLOG, eBPF ring buffer, nfqueue):
 * one JSON object per denied flow, on one line.
 *
 *   {"time":"2026-11-27T15:40:00.123Z","backend":"nftables","family":4,"protocol":"TCP",
 *    "src":"10.244.1.2","srcPort":40312,"dst":"10.244.2.3","dstPort":80,
 *    "direction":"ingress","tier":"Admin","policy":"ClusterNetworkPolicy/deny-x",
 *    "rule":"deny-from-x","ruleIndex":1}
 *
 * `policy` is `Kind/name` or `Kind/namespace/name`; `rule` is the rule's name when it has one;
 * `tier` is Admin, NetworkPolicy (isolated, nothing allowed it) or Baseline. deny-record.ts builds
 * the record for every backend.
 */
import type { Direction, Protocol } from '../model/types.js';
import type { PolicyTier } from '../model/verdict.js';

export interface DenyRecord {
  readonly time: string;
  readonly backend: 'nftables' | 'ebpf' | 'nfqueue';
  readonly family: 4 | 6;
  readonly protocol: Protocol | 'ICMP' | 'ICMPv6' | `proto-${number}`;
  readonly src: string;
  readonly srcPort?: number;
  readonly dst: string;
  readonly dstPort?: number;
  readonly direction: Direction;
  readonly tier: PolicyTier;
  readonly policy: string;
  readonly rule?: string;
  readonly ruleIndex?: number;
  /** isolation denies: every NetworkPolicy isolating the pod in this direction, by name */
  readonly isolatedBy?: readonly string[];
}

/** Field order is fixed so that lines are stable and greppable. */
export function formatDenyLine(r: DenyRecord): string {
  const ordered: Record<string, unknown> = {
    time: r.time,
    backend: r.backend,
    family: r.family,
    protocol: r.protocol,
    src: r.src,
    ...(r.srcPort !== undefined ? { srcPort: r.srcPort } : {}),
    dst: r.dst,
    ...(r.dstPort !== undefined ? { dstPort: r.dstPort } : {}),
    direction: r.direction,
    tier: r.tier,
    policy: r.policy,
    ...(r.rule !== undefined ? { rule: r.rule } : {}),
    ...(r.ruleIndex !== undefined ? { ruleIndex: r.ruleIndex } : {}),
    ...(r.isolatedBy !== undefined ? { isolatedBy: r.isolatedBy } : {}),
  };
  return JSON.stringify(ordered);
}

/**
 * A staged or audit line: the deny-log fields naming a rule, plus the verdicts (observe.ts).
 *   staged: {..., "tier","policy","rule","ruleIndex" of the STAGED rule that would decide (or the
 *            staged Pass that leads there, or the isolating staged policy), "verdict": enforced,
 *            "staged": true, "wouldBe": the verdict with the staged policies in force}
 *   audit:  {..., the enforced audited rule, "verdict": "allow", "audit": true}
 */
export interface ObservedRecord extends DenyRecord {
  readonly verdict: 'allow' | 'deny';
  readonly staged?: true;
  readonly wouldBe?: 'allow' | 'deny';
  readonly audit?: true;
}

export function formatObservedLine(r: ObservedRecord): string {
  const base = JSON.parse(formatDenyLine(r)) as Record<string, unknown>;
  return JSON.stringify({
    ...base,
    verdict: r.verdict,
    ...(r.staged ? { staged: true, wouldBe: r.wouldBe } : {}),
    ...(r.audit ? { audit: true } : {}),
  });
}

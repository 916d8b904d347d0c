/**
 * Deny records of the loop -> the shared deny log line (src/enforce/deny-log.ts), naming the tier,
 * policy and rule that denied. Pure except for the lazily built reference evaluator, which is only
 * asked which NetworkPolicies isolate a pod (the rule set's isolation rule does not carry them).
 *
 * One line per denied FLOW: the loop reports every dropped packet (a TCP SYN retransmitted, each
 * datagram of a UDP flood), so `FlowDedup` keeps a line per 5-tuple at most once per window
 * (default 10 s). Bounded memory: the table is cleared when it reaches `maxFlows`.
 */
import { formatDenyLine, type DenyRecord } from '../../src/enforce/deny-log.js';
import { parseIp } from '../../src/model/ip.js';
import type { Cluster, ObjectRef } from '../../src/model/types.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import type { RuleSet } from '../../src/rules/types.js';
import type { RawDeny } from './records.js';

const PROTOCOL: Record<number, DenyRecord['protocol']> = { 6: 'TCP', 17: 'UDP', 132: 'SCTP', 1: 'ICMP', 58: 'ICMPv6' };
const PORTED = new Set([6, 17, 132]);

export const policyName = (o: ObjectRef): string => (o.namespace ? `${o.kind}/${o.namespace}/${o.name}` : `${o.kind}/${o.name}`);

export class FlowDedup {
  private readonly seen = new Map<string, number>();
  constructor(
    private readonly windowMs = 10_000,
    private readonly maxFlows = 65_536,
  ) {}
  /** true when this flow has not been reported within the window (and records it as reported now) */
  first(d: RawDeny): boolean {
    const key = `${d.family}|${d.proto}|${d.src}|${d.srcPort}|${d.dst}|${d.dstPort}`;
    const last = this.seen.get(key);
    if (last !== undefined && d.timeMs - last < this.windowMs) return false;
    if (this.seen.size >= this.maxFlows) this.seen.clear();
    this.seen.set(key, d.timeMs);
    return true;
  }
}

export class DenyLog {
  private evaluator: ReferenceEvaluator | undefined;
  constructor(
    private readonly ruleSet: RuleSet,
    private readonly cluster: Cluster,
  ) {}

  /** The log record for a policy deny; undefined for drops no rule set decided (unclassifiable). */
  record(d: RawDeny): DenyRecord | undefined {
    if (d.reason !== 'policy') return undefined;
    const rule = d.ruleId !== undefined ? this.ruleSet.rules[d.ruleId] : undefined;
    const direction = d.direction ?? rule?.direction ?? 'ingress';
    let tier: DenyRecord['tier'] = 'NetworkPolicy';
    let policy = 'none';
    let ruleName: string | undefined;
    let ruleIndex: number | undefined;
    if (rule?.origin.ref) {
      tier = rule.origin.ref.tier;
      policy = policyName(rule.origin.ref.policy);
      ruleName = rule.origin.ref.ruleName;
      ruleIndex = rule.origin.ref.ruleIndex;
    } else if (rule?.action === 'isolation-deny') {
      policy = this.isolatedBy(d, direction) ?? 'NetworkPolicy/isolation';
    }
    const ported = PORTED.has(d.proto);
    return {
      time: new Date(d.timeMs).toISOString(),
      backend: 'nfqueue',
      family: d.family,
      protocol: PROTOCOL[d.proto] ?? `proto-${d.proto}`,
      src: d.src,
      ...(ported ? { srcPort: d.srcPort } : {}),
      dst: d.dst,
      ...(ported ? { dstPort: d.dstPort } : {}),
      direction,
      tier,
      policy,
      ...(ruleName !== undefined ? { rule: ruleName } : {}),
      ...(ruleIndex !== undefined ? { ruleIndex } : {}),
    };
  }

  line(d: RawDeny): string | undefined {
    const r = this.record(d);
    return r ? formatDenyLine(r) : undefined;
  }

  private isolatedBy(d: RawDeny, direction: 'egress' | 'ingress'): string | undefined {
    const protocol = PROTOCOL[d.proto];
    if (protocol !== 'TCP' && protocol !== 'UDP' && protocol !== 'SCTP') return undefined;
    const src = parseIp(d.src);
    const dst = parseIp(d.dst);
    if (!src || !dst || d.dstPort === 0) return undefined;
    this.evaluator ??= new ReferenceEvaluator(this.cluster);
    const v = this.evaluator.evaluate({ src, dst, protocol, dstPort: d.dstPort, srcPort: d.srcPort });
    const by = v[direction].isolatedBy;
    return by && by.length > 0 ? by.map(policyName).join(',') : undefined;
  }
}

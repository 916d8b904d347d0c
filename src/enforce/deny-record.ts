/**
 * The ONE function that names a denied flow: (raw event, deciding rule, isolating policies) ->
 * the deny-log record (deny-log.ts). Every backend's events go through it, so for the same
 * denied flow the three backends print the same line except `time` and `backend`.
 *
 * Naming rules:
 * - a policy rule decided: its tier, `Kind/[namespace/]name`, rule name and index;
 * - the isolation default deny (a NetworkPolicy isolates the pod and no rule allowed):
 *   tier NetworkPolicy, `policy` the first isolating policy by name, `isolatedBy` all of them;
 * - no rule decided (a malformed packet, an unknown fragment, a missing map entry):
 *   tier NetworkPolicy, policy `palisade/<reason>`.
 * No reference evaluator here: the isolating policies come from the compiled policy's resolver.
 * Pure.
 */
import type { ObjectRef } from '../model/types.js';
import type { BackendName, RawDenyEvent } from './backend.js';
import type { CompiledPolicy } from './compiled.js';
import type { DenyRecord } from './deny-log.js';

/**
 * Why a packet was dropped when no rule decided it:
 *   malformed-packet      the headers could not be parsed (truncated, lying lengths, too many IPv6 extension headers)
 *   unknown-fragment      a later fragment whose flow is not known (no ports to judge)
 *   missing-table-entry   the datapath found no entry it needs (eBPF maps)
 *   no-policy             the packet arrived before the first policy was in force (nfqueue, fail-closed)
 *   strict-cut            the reverse of a flow --strict just cut, refused for a while (nfqueue)
 */
export type DenyReason = 'policy' | 'malformed-packet' | 'unknown-fragment' | 'missing-table-entry' | 'no-policy' | 'strict-cut';

const PROTOCOL: Readonly<Record<number, DenyRecord['protocol']>> = { 6: 'TCP', 17: 'UDP', 132: 'SCTP', 1: 'ICMP', 58: 'ICMPv6' };
const PORTED = new Set([6, 17, 132]);

export const policyName = (o: ObjectRef): string => (o.namespace ? `${o.kind}/${o.namespace}/${o.name}` : `${o.kind}/${o.name}`);

export function protocolName(proto: number): DenyRecord['protocol'] {
  return PROTOCOL[proto] ?? `proto-${proto}`;
}

export function denyRecord(backend: BackendName, e: RawDenyEvent, policy: Pick<CompiledPolicy, 'isolatingPolicies'> | undefined): DenyRecord {
  const rule = e.rule;
  const direction = e.direction ?? rule?.direction ?? 'ingress';
  const ported = PORTED.has(e.proto);
  const base = {
    time: new Date(e.timeMs).toISOString(),
    backend,
    family: e.family,
    protocol: protocolName(e.proto),
    src: e.src,
    ...(ported ? { srcPort: e.srcPort } : {}),
    dst: e.dst,
    ...(ported ? { dstPort: e.dstPort } : {}),
    direction,
  };
  if (rule?.origin.ref) {
    const ref = rule.origin.ref;
    return {
      ...base,
      tier: ref.tier,
      policy: policyName(ref.policy),
      ...(ref.ruleName !== undefined ? { rule: ref.ruleName } : {}),
      ruleIndex: ref.ruleIndex,
    };
  }
  if (rule?.action === 'isolation-deny') {
    const subject = direction === 'egress' ? e.src : e.dst;
    const by = policy?.isolatingPolicies(subject, direction) ?? [];
    return { ...base, tier: 'NetworkPolicy', policy: by[0] ?? 'NetworkPolicy/isolation', ...(by.length > 0 ? { isolatedBy: by } : {}) };
  }
  if (rule) return { ...base, tier: rule.tier, policy: rule.origin.stableId };
  return { ...base, tier: 'NetworkPolicy', policy: `palisade/${e.reason === 'policy' ? 'unknown' : e.reason}` };
}

/**
 * One line per denied FLOW: backends report dropped packets (a SYN retransmitted, each datagram
 * of a flood), so a 5-tuple is reported at most once per window (default 10 s). Bounded memory:
 * the table is cleared when it reaches `maxFlows`.
 */
export class FlowDedup {
  private readonly seen = new Map<string, number>();
  constructor(
    private readonly windowMs = 10_000,
    private readonly maxFlows = 65_536,
  ) {}

  /** true when this flow was not reported within the window (and records it as reported now) */
  first(e: Pick<RawDenyEvent, 'family' | 'proto' | 'src' | 'srcPort' | 'dst' | 'dstPort' | 'timeMs'>): boolean {
    const key = `${e.family}|${e.proto}|${e.src}|${e.srcPort}|${e.dst}|${e.dstPort}`;
    const last = this.seen.get(key);
    if (last !== undefined && e.timeMs - last < this.windowMs) return false;
    if (this.seen.size >= this.maxFlows) this.seen.clear();
    this.seen.set(key, e.timeMs);
    return true;
  }
}

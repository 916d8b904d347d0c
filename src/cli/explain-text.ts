/**
 * A FlowVerdict as text for people ("which policy decided, and why"): the verdict,
 * then per direction the deciding tier, the policy (kind, namespace/name), the rule (index and
 * name) and its action, the Pass rules met on the way, the isolating NetworkPolicies and notes.
 * Pure.
 */
import { formatObject } from '../model/problems.js';
import type { Endpoint } from '../model/flow.js';
import type { DirectionVerdict, FlowVerdict, RuleRef } from '../model/verdict.js';

export function formatEndpoint(e: Endpoint): string {
  switch (e.kind) {
    case 'pod':
      return `${e.pod ?? '?'} (${e.ip})`;
    case 'node':
      return `${e.pod ? `${e.pod} on ` : ''}node ${e.node ?? '?'} (${e.ip})`;
    default:
      return `${e.ip} (external)`;
  }
}

export function formatRule(r: RuleRef, direction: 'ingress' | 'egress'): string {
  const name = r.ruleName !== undefined ? ` ${JSON.stringify(r.ruleName)}` : '';
  const prio = r.priority !== undefined ? `, priority ${r.priority}` : '';
  return `${formatObject(r.policy)} ${direction}[${r.ruleIndex}]${name}: ${r.action}${prio}`;
}

const TIER_TEXT: Record<string, string> = {
  Admin: 'Admin tier',
  NetworkPolicy: 'NetworkPolicy tier',
  Baseline: 'Baseline tier',
  Default: 'default',
};

export function formatDirection(d: DirectionVerdict, self: Endpoint): string {
  const who = self.pod ?? self.ip;
  const lines: string[] = [];
  const at = d.direction === 'egress' ? 'at the source' : 'at the destination';
  lines.push(`${d.direction} (${at}, ${d.subject ?? who}): ${d.verdict}`);
  const tier = TIER_TEXT[d.tier] ?? d.tier;
  const isolated = (d.isolatedBy ?? []).map(formatObject).join(', ');
  // in the order things happened: Pass rules met first, then what decided
  for (const p of d.passed) lines.push(`  passed: ${TIER_TEXT[p.tier] ?? p.tier}: ${formatRule(p, d.direction)}`);
  switch (d.reason) {
    case 'not-a-pod':
      lines.push(
        self.kind === 'node'
          ? `  ${self.ip} is an address of node ${self.node ?? '?'}, not a pod: no policy of its own applies in this direction`
          : `  ${self.ip} is not a pod: no policy of its own applies in this direction`,
      );
      break;
    case 'loopback':
      lines.push(`  a pod's traffic to its own IP is not subject to policy`);
      break;
    case 'rule':
      lines.push(d.rule ? `  ${tier}: ${formatRule(d.rule, d.direction)}` : `  ${tier}: decided by a rule`);
      break;
    case 'node-local':
      lines.push(`  ${tier}: isolated by ${isolated || 'a NetworkPolicy'}, but the source is the pod's own node (always allowed)`);
      break;
    case 'isolated-no-match':
      lines.push(`  ${tier}: isolated by ${isolated || 'a NetworkPolicy'}; no rule of those policies matches this flow`);
      break;
    case 'no-match':
      lines.push(
        d.passed.length > 0
          ? `  no tier decided after Pass: the default allows`
          : `  no policy decided (nothing matched, not isolated): the default allows`,
      );
      break;
  }
  if (d.reason !== 'isolated-no-match' && d.reason !== 'node-local' && isolated) lines.push(`  isolated by: ${isolated}`);
  for (const n of d.notes) lines.push(`  note: ${n}`);
  return lines.join('\n') + '\n';
}

export function formatFlowVerdict(v: FlowVerdict): string {
  const f = v.flow;
  const head =
    `${formatEndpoint(v.src)} -> ${formatEndpoint(v.dst)} ${f.protocol}/${f.dstPort}: ` +
    (v.verdict === 'allow' ? 'ALLOWED' : 'DENIED');
  return `${head}\n${formatDirection(v.egress, v.src)}${formatDirection(v.ingress, v.dst)}`;
}

/**
 * `palisade explain` as text: a flow's walkthrough (reference/walkthrough.ts), tier by tier and
 * rule by rule with each peer and port entry checked ("✓" matched, "✗" not, and why), and a
 * pod's query-target (reference/query-target.ts): the policies that select it per direction and
 * tier, their rules in its terms, and what it may send and receive on the ports asked. Pure.
 */
import { formatObject } from '../model/problems.js';
import type { DirectionTarget, PodTarget, PolicySummary } from '../reference/query-target.js';
import type { DirectionWalk, EntryCheck, FlowWalk, PolicyWalk, RuleWalk, TierWalk } from '../reference/walkthrough.js';
import { formatEndpoint } from './explain-text.js';

const TIER: Record<string, string> = { Admin: 'Admin tier', NetworkPolicy: 'NetworkPolicy tier', Baseline: 'Baseline tier' };
const mark = (ok: boolean): string => (ok ? '✓' : '✗');

export function formatWalkthrough(w: FlowWalk): string {
  const f = w.flow;
  const head = `${formatEndpoint(w.src)} -> ${formatEndpoint(w.dst)} ${f.protocol}/${f.dstPort}: ${w.verdict === 'allow' ? 'ALLOWED' : 'DENIED'}`;
  return `${head}\n${formatDirectionWalk(w.egress, w)}${formatDirectionWalk(w.ingress, w)}`;
}

function formatDirectionWalk(d: DirectionWalk, w: FlowWalk): string {
  const at = d.direction === 'egress' ? 'at the source' : 'at the destination';
  const self = d.direction === 'egress' ? w.src : w.dst;
  const lines = [`\n${d.direction} (${at}, ${d.subject ?? self.ip}): ${d.verdict}`];
  if (d.skipped === 'loopback') lines.push(`  a pod's traffic to its own IP is not subject to policy`);
  else if (d.skipped === 'not-a-pod') {
    lines.push(
      self.kind === 'node'
        ? `  ${self.ip} is an address of node ${self.node ?? '?'}${self.pod ? ` (host-network pod ${self.pod})` : ''}, not a pod: no policy of its own applies`
        : `  ${self.ip} is not a pod: no policy of its own applies`,
    );
  }
  for (const t of d.tiers) lines.push(...formatTier(t, d));
  if (d.byDefault) lines.push(`  default: allow (no tier decided)`);
  return lines.join('\n') + '\n';
}

function tierOutcome(t: TierWalk, d: DirectionWalk): string {
  switch (t.outcome) {
    case 'decided':
      return `decided: ${d.verdict}`;
    case 'passed':
      return 'a Pass rule matched: on to the next tier';
    case 'no-match':
      return t.policies.some((p) => p.applies) ? 'no rule matched: on to the next tier' : 'no policy of this tier selects the pod: on to the next tier';
    case 'not-isolated':
      return 'no NetworkPolicy isolates the pod for this direction: on to the next tier';
    case 'isolated-denied':
      return 'the pod is isolated and no rule allows: deny';
    case 'node-local':
      return "the pod is isolated and no rule allows, but the source is the pod's own node: allow";
    case 'not-reached':
      return 'not reached';
  }
}

function formatTier(t: TierWalk, d: DirectionWalk): string[] {
  const lines = [`  ${TIER[t.tier]}: ${tierOutcome(t, d)}`];
  if (t.outcome === 'not-reached') {
    if (t.policies.length > 0) lines.push(`    (${t.policies.map((p) => formatObject(p.policy)).join(', ')})`);
    return lines;
  }
  if (t.policies.length === 0) lines.push('    no policy');
  for (const p of t.policies) lines.push(...formatPolicyWalk(p, t, d));
  return lines;
}

function formatPolicyWalk(p: PolicyWalk, t: TierWalk, d: DirectionWalk): string[] {
  const prio = p.priority !== undefined ? `, priority ${p.priority}` : '';
  const name = `${formatObject(p.policy)}${prio}`;
  if (p.notReached) return [`    ${name}: not reached`];
  if (!p.applies) return [`    ${name}: does not ${t.tier === 'NetworkPolicy' ? 'isolate the pod' : 'apply'}: ${p.why}`];
  const lines = [`    ${name}: ${p.why}`];
  for (const r of p.rules) lines.push(...formatRuleWalk(r, d));
  return lines;
}

function ruleOutcome(r: RuleWalk): string {
  switch (r.outcome) {
    case 'decides':
      return r.action === 'Deny' || r.failClosed === 'denies-all' ? 'MATCHES: decides deny' : 'MATCHES: decides allow';
    case 'passes':
      return 'MATCHES: Pass, leaves the tier';
    case 'also-matches':
      return 'also matches (an earlier rule already allows)';
    case 'no-match':
      return 'no match';
    case 'not-reached':
      return 'not reached';
  }
}

function formatRuleWalk(r: RuleWalk, d: DirectionWalk): string[] {
  const name = r.name !== undefined ? ` ${JSON.stringify(r.name)}` : '';
  const lines = [`      ${d.direction}[${r.index}]${name} ${r.action}: ${ruleOutcome(r)}`];
  if (r.failClosed) {
    lines.push(
      `        fail closed: ${r.failClosed === 'denies-all' ? `an entry has no known field, so this ${r.action} rule denies everything` : 'an entry has no known field, so this Accept rule matches nothing'}`,
    );
  }
  const entry = (what: string, e: EntryCheck): string => `        ${what} ${mark(e.ok)} ${e.text}: ${e.why}`;
  for (const e of r.peers) lines.push(entry(d.direction === 'egress' ? 'to  ' : 'from', e));
  for (const e of r.ports) lines.push(entry('port', e));
  return lines;
}

// ---- query-target ----------------------------------------------------------------------------

/** What a pod may send or receive on one port/protocol, over the truth table's endpoints. */
export interface Reach {
  readonly port: number;
  readonly protocol: string;
  readonly allowed: readonly string[];
  readonly denied: readonly string[];
}

export interface PodReach {
  /** as the source: egress + the destination's ingress */
  readonly sends: readonly Reach[];
  /** as the destination */
  readonly receives: readonly Reach[];
}

const labelText = (l: Readonly<Record<string, string>>): string => `{${Object.keys(l).sort().map((k) => `${k}=${l[k]}`).join(', ')}}`;

export function formatPodTarget(t: PodTarget, reach: PodReach): string {
  const where = [t.ips.join(', ') || 'no address', t.node !== undefined ? `node ${t.node}` : '', `labels ${labelText(t.labels)}`].filter(Boolean).join(', ');
  const lines = [`pod ${t.pod}: ${where}`, `namespace ${t.pod.split('/')[0]}: labels ${labelText(t.namespaceLabels)}`];
  if (t.hostNetwork) lines.push('host-network pod: no policy selects it; its traffic is node traffic (nodes and networks peers match it)');
  lines.push('', ...formatDirectionTarget(t.ingress, t.pod, reach.receives), '', ...formatDirectionTarget(t.egress, t.pod, reach.sends));
  return lines.join('\n') + '\n';
}

function formatDirectionTarget(d: DirectionTarget, pod: string, reach: readonly Reach[]): string[] {
  const verb = d.direction === 'ingress' ? 'may receive' : 'may send';
  const peerWord = d.direction === 'ingress' ? 'from' : 'to';
  const lines = [`${d.direction} (what ${pod} ${verb}), in evaluation order:`];
  const tier = (name: string, ps: readonly PolicySummary[]): void => {
    lines.push(`  ${name}:${ps.length === 0 ? ' no policy' : ''}`);
    for (const p of ps) {
      lines.push(`    ${formatObject(p.policy)}${p.priority !== undefined ? `, priority ${p.priority}` : ''} (selects ${p.selects})`);
      if (p.rules.length === 0) lines.push(`      no ${d.direction} rules`);
      for (const r of p.rules) {
        const name = r.name !== undefined ? ` ${JSON.stringify(r.name)}` : '';
        lines.push(`      ${d.direction}[${r.index}]${name}: ${r.action} ${peerWord} ${r.peers}; on ${r.ports}${r.failClosed ? ' (fail closed: an entry has no known field)' : ''}`);
      }
    }
  };
  tier('Admin tier', d.admin);
  tier(d.networkPolicies.length > 0 ? 'NetworkPolicy tier (the pod is isolated)' : 'NetworkPolicy tier (not isolated)', d.networkPolicies);
  tier(d.networkPolicies.length > 0 ? 'Baseline tier (not reached: the NetworkPolicy tier decides)' : 'Baseline tier', d.baseline);
  lines.push(
    d.otherwise === 'deny'
      ? `  otherwise: deny (isolated: only what a NetworkPolicy rule allows${d.direction === 'ingress' ? ", and the pod's own node," : ''} gets through)`
      : '  otherwise: allow (the default)',
  );
  if (reach.length > 0) lines.push(`  the whole flow (both directions decide), over the inventory's endpoints:`);
  for (const r of reach) {
    lines.push(`    ${r.protocol}/${r.port}: allowed ${peerWord} ${r.allowed.join(', ') || 'nothing'}; denied ${peerWord} ${r.denied.join(', ') || 'nothing'}`);
  }
  return lines;
}

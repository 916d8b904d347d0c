/**
 * Explain: the full FlowVerdict for one flow, built from the classifier's decisions. It must be
 * EXACTLY what `ReferenceEvaluator.evaluate` returns (the CLI's check/matrix switch engines and
 * their output must not change); the differential tests compare them field by field.
 *
 * The classifier gives the deciding rule and the Pass rules met per direction; the rest is read
 * from the resolution: who owns each address (`AddressIndex`, the reference's endpoint rules),
 * the NetworkPolicies isolating the subject (`isolatedBy`, by name), and the notes of the
 * cluster-tier rules the reference's walk examined (`rules/notes.ts`): every noted rule of a
 * policy selecting the subject, up to and including the rule that ended the tier.
 * `services` subjects and peers (docs/extension-semantics.md): a services-subject policy that
 * applies to the flow's destination tuple counts as selecting the destination (pod or not), with
 * the reference's "applies" note; a deciding or passing rule whose peer is a Service set gets the
 * reference's note naming the Service and how the address belongs to it.
 * Cost: one `decide` per direction plus O(noted rules + NetworkPolicies of the namespace), plus
 * the tuples of the Services involved.
 */
import { subjectSelectsPod } from '../model/cluster-rule.js';
import { selects } from '../model/labels.js';
import { namesTcpPort } from '../model/node-allowance.js';
import { sameIp } from '../model/ip.js';
import { redirectNowhereText, redirectTarget, redirectTargetText } from '../model/redirect.js';
import { serviceMatchText, serviceSourceAddresses, serviceTuples, tupleCovers } from '../model/services.js';
import type { ServiceRef } from '../model/types.js';
import type { ClusterPolicy, ClusterRule, Direction, Pod, Tier } from '../model/types.js';
import type { Flow } from '../model/flow.js';
import type { DirectionVerdict, FlowVerdict, RuleRef } from '../model/verdict.js';
import type { OwnedEndpoint } from '../resolve/address-index.js';
import type { Resolution } from '../resolve/resolver.js';
import type { WalkIndex } from '../rules/notes.js';
import type { Rule, RuleSet } from '../rules/types.js';
import { NO_RULE } from './classifier.js';
import type { Decision } from './decide.js';

export interface ExplainContext {
  readonly resolution: Resolution;
  readonly ruleSet: RuleSet;
  readonly walks: Readonly<Record<Direction, Record<Tier, WalkIndex>>>;
  /** the enforced policies with a `services` subject, in the total order */
  readonly serviceSubjects: readonly ClusterPolicy[];
  /** the classifier decision for one direction (subject = source for egress, destination for ingress) */
  decide(direction: Direction, flow: Flow): Decision;
}

const podName = (p: Pod): string => `${p.namespace}/${p.name}`;

export function explainFlow(ctx: ExplainContext, flow: Flow): FlowVerdict {
  const src = ctx.resolution.addresses.resolve(flow.src);
  const dst = ctx.resolution.addresses.resolve(flow.dst);
  let egress: DirectionVerdict;
  let ingress: DirectionVerdict;
  if (src.pod !== undefined && src.pod === dst.pod) {
    egress = loopback('egress', src.pod);
    ingress = loopback('ingress', src.pod);
  } else {
    egress = judge(ctx, 'egress', src, flow);
    ingress = judge(ctx, 'ingress', dst, flow);
  }
  const verdict = egress.verdict === 'allow' && ingress.verdict === 'allow' ? 'allow' : 'deny';
  return { verdict, flow, src: src.endpoint, dst: dst.endpoint, egress, ingress };
}

function judge(ctx: ExplainContext, direction: Direction, self: OwnedEndpoint, flow: Flow): DirectionVerdict {
  const notes: string[] = [];
  const subject = self.pod;
  const svcs = new ServiceView(ctx, flow);
  const applying = direction === 'ingress' && !sameIp(flow.src, flow.dst) ? svcs.subjectsApplying(notes) : [];
  if (!subject && applying.length > 0) return judgeServiceOnly(ctx, flow, applying, svcs, notes);
  if (!subject) {
    const node = nodeSubjectVerdict(ctx, direction, self, flow);
    if (node) return node;
    if (self.hostNetworkPod) {
      notes.push(`${podName(self.hostNetworkPod)} is a host-network pod: no policy selects it; its traffic is node traffic`);
    }
    return { direction, verdict: 'allow', tier: 'Default', reason: 'not-a-pod', passed: [], notes };
  }
  const d = ctx.decide(direction, flow);
  const rules = ctx.ruleSet.rules;
  const passedRules = d.passed.map((id) => rules[id] as Rule);
  const decider = d.ruleId === NO_RULE ? undefined : (rules[d.ruleId] as Rule);
  const passed: RuleRef[] = passedRules.map((r) => r.origin.ref as RuleRef);
  const base = { direction, passed, subject: podName(subject), notes };
  const applies = (p: ClusterPolicy): boolean => applying.includes(p) || subjectSelects(ctx, p, subject);

  // Notes of the Admin walk: it ended at the Admin decider or Admin Pass, else it ran through.
  const adminEnd = decider?.tier === 'Admin' ? decider : passedRules.find((r) => r.tier === 'Admin');
  addWalkNotes(ctx, direction, 'Admin', applies, adminEnd, notes);
  svcs.peerNote(adminEnd, notes);
  if (decider?.tier === 'Admin') redirectNote(ctx, decider, flow, notes);
  if (decider?.tier === 'Admin') return ruleVerdict(base, decider);

  if (decider?.tier === 'NetworkPolicy') {
    const isolatedBy = ctx.resolution
      .isolatingPolicies(subject, direction)
      .map((np) => ({ kind: 'NetworkPolicy', namespace: np.namespace, name: np.name }));
    switch (decider.action) {
      case 'allow':
        return { ...base, verdict: 'allow', tier: 'NetworkPolicy', reason: 'rule', rule: decider.origin.ref as RuleRef, isolatedBy };
      case 'node-local':
        return { ...base, verdict: 'allow', tier: 'NetworkPolicy', reason: 'node-local', isolatedBy };
      default:
        return { ...base, verdict: 'deny', tier: 'NetworkPolicy', reason: 'isolated-no-match', isolatedBy };
    }
  }

  const baselineEnd = decider?.tier === 'Baseline' ? decider : passedRules.find((r) => r.tier === 'Baseline');
  addWalkNotes(ctx, direction, 'Baseline', applies, baselineEnd, notes);
  svcs.peerNote(baselineEnd, notes);
  if (decider?.tier === 'Baseline') redirectNote(ctx, decider, flow, notes);
  if (decider?.tier === 'Baseline') return ruleVerdict(base, decider);
  return { ...base, verdict: 'allow', tier: 'Default', reason: 'no-match' };
}

/** Ingress to a destination that is no pod but a `services` subject's tuple (the reference's judgeServiceOnly). */
function judgeServiceOnly(ctx: ExplainContext, flow: Flow, applying: readonly ClusterPolicy[], svcs: ServiceView, notes: string[]): DirectionVerdict {
  const direction: Direction = 'ingress';
  const self = ctx.resolution.addresses.resolve(flow.dst);
  if (self.hostNetworkPod) notes.push(`${podName(self.hostNetworkPod)} is a host-network pod: only services subjects apply to its traffic`);
  const d = ctx.decide(direction, flow);
  const rules = ctx.ruleSet.rules;
  const passedRules = d.passed.map((id) => rules[id] as Rule);
  const decider = d.ruleId === NO_RULE ? undefined : (rules[d.ruleId] as Rule);
  const base = { direction, passed: passedRules.map((r) => r.origin.ref as RuleRef), notes };
  const applies = (p: ClusterPolicy): boolean => applying.includes(p);
  for (const tier of ['Admin', 'Baseline'] as const) {
    const end = decider?.tier === tier ? decider : passedRules.find((r) => r.tier === tier);
    addWalkNotes(ctx, direction, tier, applies, end, notes);
    svcs.peerNote(end, notes);
    if (decider?.tier === tier) return ruleVerdict(base, decider);
  }
  return { ...base, verdict: 'allow', tier: 'Default', reason: 'no-match' };
}

/** The Services of one flow, as explain words them (model/services.ts, worked out on demand). */
class ServiceView {
  private readonly cache = new Map<string, { tuples: ReturnType<typeof serviceTuples>; sources: ReturnType<typeof serviceSourceAddresses> }>();
  constructor(
    private readonly ctx: ExplainContext,
    private readonly flow: Flow,
  ) {}

  private of(ref: ServiceRef): { tuples: ReturnType<typeof serviceTuples>; sources: ReturnType<typeof serviceSourceAddresses> } {
    const k = `${ref.namespace}/${ref.name}`;
    let e = this.cache.get(k);
    if (!e) {
      const inv = { ...this.ctx.resolution.serviceInventory(), nodes: this.ctx.resolution.inventory().nodes };
      this.cache.set(k, (e = { tuples: serviceTuples(ref, inv), sources: serviceSourceAddresses(ref, inv) }));
    }
    return e;
  }

  /** The services-subject policies whose Services the destination tuple belongs to, each with its note. */
  subjectsApplying(notes: string[]): ClusterPolicy[] {
    const f = this.flow;
    const out: ClusterPolicy[] = [];
    for (const p of this.ctx.serviceSubjects) {
      if (p.subject.kind !== 'services') continue;
      const svc = p.subject.services.find((r) => this.of(r).tuples.some((t) => tupleCovers(t, f.dst, f.protocol, f.dstPort)));
      if (!svc) continue;
      out.push(p);
      const e = this.of(svc);
      const note = `${p.kind} ${p.name} applies: ${f.dst.text} ${serviceMatchText(svc, f.dst, { direction: 'egress', protocol: f.protocol, dstPort: f.dstPort }, e.tuples, e.sources)}`;
      if (!notes.includes(note)) notes.push(note);
    }
    return out;
  }

  /** The note of a matching rule whose peer is a Service set (`service` / `service-endpoints`). */
  peerNote(r: Rule | undefined, notes: string[]): void {
    if (r === undefined || r.peer === null) return;
    const def = this.ctx.resolution.definition(r.peer);
    if (def.kind !== 'service' && def.kind !== 'service-endpoints') return;
    const ref = r.origin.ref as RuleRef;
    const f = this.flow;
    const ip = r.direction === 'egress' ? f.dst : f.src;
    const e = this.of(def.service);
    const where = `${ref.policy.kind} ${ref.policy.name} ${r.direction}[${ref.ruleIndex}]${ref.ruleName !== undefined ? ` (${ref.ruleName})` : ''}`;
    const note = `${where}: ${ip.text} ${serviceMatchText(def.service, ip, { direction: r.direction, protocol: f.protocol, dstPort: f.dstPort }, e.tuples, e.sources)}`;
    if (!notes.includes(note)) notes.push(note);
  }
}

/** The reference's note of a deciding Redirect rule: the target, or why there is none (reference/tiers.ts). */
function redirectNote(ctx: ExplainContext, r: Rule | undefined, flow: Flow, notes: string[]): void {
  const redirect = r?.redirect?.redirect ?? r?.redirectNowhere;
  if (r === undefined || redirect === undefined) return;
  const ref = r.origin.ref as RuleRef;
  const where = `${ref.policy.kind} ${ref.policy.name} ${r.direction}[${ref.ruleIndex}]${ref.ruleName !== undefined ? ` (${ref.ruleName})` : ''}`;
  const target = redirectTarget(redirect, flow.dst.family, flow.protocol, flow.dstPort, ctx.resolution.serviceInventory());
  const note = target
    ? `${where}: redirected to ${redirectTargetText(redirect, target)}`
    : `${where}: redirect target ${redirectNowhereText(redirect, flow.protocol, flow.dstPort)}; fail closed: denied`;
  if (!notes.includes(note)) notes.push(note);
}

/** The notes the reference's walk of `tier` met: noted rules up to `end` (all when undefined). */
function addWalkNotes(
  ctx: ExplainContext,
  d: Direction,
  tier: Tier,
  applies: (p: ClusterPolicy) => boolean,
  end: Rule | undefined,
  notes: string[],
  keep: (r: ClusterRule) => boolean = () => true,
): void {
  const walk = ctx.walks[d][tier];
  if (walk.noted.length === 0) return;
  const last = end ? walk.positions.get(end.origin.stableId) : undefined;
  for (const n of walk.noted) {
    if (last !== undefined && n.position > last) break;
    if (!applies(n.policy) || !keep(n.rule)) continue;
    for (const note of n.notes) if (!notes.includes(note)) notes.push(note);
  }
}

function subjectSelects(ctx: ExplainContext, p: ClusterPolicy, pod: Pod): boolean {
  return subjectSelectsPod(p.subject, pod, {
    namespaceLabels: (ns) => ctx.resolution.namespaceLabels(ns),
    nodeLabels: (name) => ctx.resolution.node(name)?.labels,
  });
}

function ruleVerdict(base: { direction: Direction; passed: RuleRef[]; subject?: string; notes: string[] }, r: Rule): DirectionVerdict {
  const rule = r.origin.ref as RuleRef;
  return { ...base, verdict: rule.action === 'Deny' ? 'deny' : 'allow', tier: rule.tier, reason: 'rule', rule };
}

function loopback(direction: Direction, pod: Pod): DirectionVerdict {
  return { direction, verdict: 'allow', tier: 'Default', reason: 'loopback', passed: [], subject: podName(pod), notes: [] };
}

/**
 * A node subject's direction (S20): only node-subject rules (their loopback and allowance
 * accepts included, src/rules/lower.ts) have a non-pod subject. A node is selected when its
 * loopback rule exists (lowering emits one per selected node). The answer is the reference's
 * (src/reference/nodes.ts), notes included; undefined: not a selected node's address.
 */
function nodeSubjectVerdict(ctx: ExplainContext, direction: Direction, self: OwnedEndpoint, flow: Flow): DirectionVerdict | undefined {
  const node = self.endpoint.kind === 'node' ? self.endpoint.node : undefined;
  if (node === undefined) return undefined;
  const rules = ctx.ruleSet.rules;
  if (!rules.some((r) => r.origin.stableId === `Admin/node-loopback/${node}/${direction}`)) return undefined;
  if (!ctx.resolution.node(node)?.addresses.some((a) => a.text === self.endpoint.ip)) return undefined;
  const notes: string[] = [];
  const hn = self.hostNetworkPod;
  if (hn) notes.push(`${hn.namespace}/${hn.name} is a host-network pod: its traffic is node ${node}'s`);
  const d = ctx.decide(direction, flow);
  const decider = d.ruleId === NO_RULE ? undefined : (rules[d.ruleId] as Rule);
  const passed: RuleRef[] = d.passed.map((id) => (rules[id] as Rule).origin.ref as RuleRef);
  const base = { direction, passed, subject: `node/${node}`, notes };
  if (decider?.origin.stableId.startsWith('Admin/node-loopback/')) return { ...base, verdict: 'allow', tier: 'Default', reason: 'loopback' };
  addNodeWalkNotes(ctx, direction, node, flow, decider, d.passed.map((id) => rules[id] as Rule), notes);
  if (!decider) return { ...base, verdict: 'allow', tier: 'Default', reason: 'no-match' };
  if (decider.origin.stableId.startsWith('Admin/node-allowance/')) {
    notes.push(`node ${node} keeps ${direction === 'ingress' ? `its kubelet API (TCP ${flow.dstPort})` : `the API server (TCP ${flow.dstPort})`}: the built-in allowance`);
    return { ...base, verdict: 'allow', tier: 'Default', reason: 'node-allowance' };
  }
  return ruleVerdict(base, decider);
}

/**
 * The notes the reference's node walk (src/reference/nodes.ts) meets, replayed in its order: on
 * an allowance port, first the Admin node-subject rules naming that port (up to the decider when
 * one of them decided); then, unless that phase decided, passed or allowed, the Admin tier up to
 * the decider; then the Baseline tier up to the decider.
 */
function addNodeWalkNotes(ctx: ExplainContext, d: Direction, node: string, flow: Flow, decider: Rule | undefined, passed: readonly Rule[], notes: string[]): void {
  const labels = ctx.resolution.node(node)?.labels ?? {};
  const selectsNode = (p: ClusterPolicy): boolean => p.subject.kind === 'nodes' && selects(p.subject.nodeSelector, labels);
  const allowanceId = `Admin/node-allowance/${d}/TCP/${flow.dstPort}`;
  // lowering puts the explicit copies of the port-naming rules just before the allowance accept
  const allowance = flow.protocol === 'TCP' ? ctx.ruleSet.rules.find((r) => r.direction === d && r.origin.stableId === allowanceId) : undefined;
  const namesPort = (r: ClusterRule): boolean => namesTcpPort(r, flow.dstPort);
  const admin = decider?.tier === 'Admin' ? decider : undefined;
  // a walk stops at the rule that decided or passed
  const explicit = (r: Rule): boolean => allowance !== undefined && r.tier === 'Admin' && r.priority < allowance.priority && r.origin.ref !== undefined;
  const adminEnd = admin ?? passed.find((r) => r.tier === 'Admin' && !explicit(r));
  const baselineEnd = decider?.tier === 'Baseline' ? decider : passed.find((r) => r.tier === 'Baseline');
  if (allowance) {
    const explicitEnd = admin !== undefined && explicit(admin) ? admin : passed.find(explicit);
    addWalkNotes(ctx, d, 'Admin', selectsNode, explicitEnd, notes, namesPort);
    if ((admin !== undefined && explicit(admin)) || decider === allowance) return;
    if (!passed.some(explicit)) addWalkNotes(ctx, d, 'Admin', selectsNode, adminEnd, notes);
  } else {
    addWalkNotes(ctx, d, 'Admin', selectsNode, adminEnd, notes);
  }
  if (admin) return;
  addWalkNotes(ctx, d, 'Baseline', selectsNode, baselineEnd, notes);
}

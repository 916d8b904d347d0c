/**
 * The three policy tiers of one direction, each a plain walk over the policies:
 *
 *   Admin tier -> NetworkPolicy tier -> Baseline tier -> default allow
 *
 * Precedence (numbered as `evaluate.ts` applies them; network-policy-api.md §1.5, §6 point 5):
 * 1. Cluster tiers (Admin, Baseline): the policies whose subject selects the pod, in the total order
 *    (priority ascending, then policy name, then kind; all in code-unit order), rules in written
 *    order. The first rule whose peers AND protocols match decides: Accept / Deny are final, Pass
 *    leaves the tier (Admin -> NetworkPolicy tier, Baseline -> default allow).
 *    Equal priorities are undefined upstream ("the implementation can apply any"); ours is the
 *    documented total order above, and `applicable.ts` exposes the groups for a lint warning.
 * 2. Fail closed (CRD doc of every peer and protocol type): a rule with a peer or protocol entry
 *    that has no known field, or a part this build does not enforce yet (model/cluster-rule.ts),
 *    is, for Accept, a rule matching nothing; for Deny, Pass and Redirect, a "Deny all" rule (it
 *    matches every flow and denies; a Pass rule so treated denies too).
 * 3. `domainNames` peers match an egress destination the subject pod learned from a live DNS
 *    answer (docs/fqdn.md; `DirectionContext.learned`, none: nothing); every examined rule that
 *    has one leaves a note, and a match says which name and answer.
 * 5. Redirect (docs/extension-semantics.md): a matching Redirect rule is final like Accept; the
 *    egress verdict is allow by that rule, with a note naming the target (model/redirect.ts).
 *    A flow with no target (no such Service port or ClusterIP) is denied by it (fail closed).
 * 4. NetworkPolicy tier: the pod is isolated in a direction when any NetworkPolicy of its own
 *    namespace selects it with that policyType (§1.2, §1.5); then the flow is allowed iff some rule
 *    of those policies matches (peers AND ports, §2.1); the first match in (policy name, rule
 *    index) order is reported. Otherwise denied, except ingress from the pod's own node (§9.1).
 *
 * Pure functions over read-only data; `notes` is the one accumulator, owned by the caller.
 * Cost: linear in policies x rules x peers per direction (this is the oracle, not the fast path).
 */
import type { IpAddr } from '../model/ip.js';
import { selects } from '../model/labels.js';
import { serviceMatchText as serviceText, tupleCovers } from '../model/services.js';
import { failClosedNote, subjectSelectsPod } from '../model/cluster-rule.js';
import type {
  Cluster,
  ClusterAction,
  ClusterPolicy,
  ClusterRule,
  Direction,
  NetworkPolicy,
  Pod,
  Protocol,
  ServiceRef,
  Tier,
} from '../model/types.js';
import { compareText, type EndpointIndex } from './endpoints.js';
import { clusterPeerMatches, learnedEntriesFor, matchingService, networkPolicyPeersMatch, type FlowPort, type PeerView } from './peers.js';
import type { LearnedSnapshot } from '../model/fqdn.js';
import { clusterProtocolMatches, networkPolicyPortsMatch } from './ports.js';
import { FQDN_NOTE_SUFFIX, type RuleRef } from '../model/verdict.js';
import { redirectNowhereText, redirectTarget, redirectTargetText } from '../model/redirect.js';

/** What one direction's tiers look at. */
export interface DirectionContext {
  readonly direction: Direction;
  /**
   * the pod judged: the source for egress, the destination for ingress (never host-network);
   * absent only for ingress to a destination that is no pod but a service tuple of a
   * `services` subject (docs/extension-semantics.md: Services, as the subject)
   */
  readonly subject?: Pod;
  /** the other end of the flow */
  readonly peer: PeerView;
  /** the flow's destination pod when it is a non-host-network pod (named ports resolve here) */
  readonly dstPod?: Pod;
  readonly protocol: Protocol;
  readonly dstPort: number;
  /** the flow's source port; absent: unknown, and no `sourcePort` entry matches */
  readonly srcPort?: number;
  readonly index: EndpointIndex;
  readonly cluster: Cluster;
  /** facts for the explanation; appended without duplicates */
  readonly notes: string[];
  /** addresses learned from DNS answers (docs/fqdn.md); absent: `domainNames` matches nothing */
  readonly learned?: LearnedSnapshot;
}

/**
 * The context of one direction's walk, built the same way for a pod subject and a node subject:
 * the other end as a PeerView, the destination pod when there is one (named ports resolve
 * there), the flow's protocol and ports. `subject` and `learned` are the caller's to add.
 */
export function directionContext(base: {
  direction: Direction;
  otherIp: IpAddr;
  otherPod: Pod | undefined;
  dstPod: Pod | undefined;
  flow: { readonly protocol: Protocol; readonly dstPort: number; readonly srcPort?: number | undefined };
  index: EndpointIndex;
  cluster: Cluster;
  notes: string[];
}): Omit<DirectionContext, 'subject' | 'learned'> {
  const { direction, otherIp, otherPod, dstPod, flow, index, cluster, notes } = base;
  return {
    direction,
    peer: { ip: otherIp, ...(otherPod ? { pod: otherPod } : {}) },
    ...(dstPod ? { dstPod } : {}),
    protocol: flow.protocol,
    dstPort: flow.dstPort,
    ...(flow.srcPort !== undefined ? { srcPort: flow.srcPort } : {}),
    index,
    cluster,
    notes,
  };
}

// ---- ordering and selection --------------------------------------------------------------

/** The total order inside a cluster tier: priority, then name, then kind. */
export function compareClusterPolicies(a: ClusterPolicy, b: ClusterPolicy): number {
  return a.priority - b.priority || compareText(a.name, b.name) || compareText(a.kind, b.kind);
}

/** Does a cluster policy's subject select the pod? (model/cluster-rule.ts; host-network pods never) */
export function clusterSubjectSelects(policy: ClusterPolicy, pod: Pod, index: EndpointIndex): boolean {
  return subjectSelectsPod(policy.subject, pod, {
    namespaceLabels: (ns) => index.labelsOfNamespace(ns),
    nodeLabels: (name) => index.node(name)?.labels,
  });
}

/**
 * A `services` subject applies to an ingress flow whose destination address, protocol and
 * destination port form a service tuple of a named Service: that Service (the first), if any.
 */
export function serviceSubjectMatch(
  policy: ClusterPolicy,
  dst: IpAddr,
  protocol: Protocol,
  dstPort: number,
  index: EndpointIndex,
): ServiceRef | undefined {
  const s = policy.subject;
  if (s.kind !== 'services') return undefined;
  return s.services.find((r) => index.serviceTuples(r).some((t) => tupleCovers(t, dst, protocol, dstPort)));
}

/** How an address belongs to a Service, for notes (model/services.ts `serviceMatchText`). */
export function serviceMatchText(svc: ServiceRef, ip: IpAddr, flow: FlowPort, index: EndpointIndex): string {
  return serviceText(svc, ip, flow, index.serviceTuples(svc), index.serviceSources(svc));
}

/** The NetworkPolicies that isolate a pod in a direction, by name (all share its namespace). */
export function isolatingPolicies(cluster: Cluster, pod: Pod, direction: Direction): NetworkPolicy[] {
  if (pod.hostNetwork) return [];
  const type = direction === 'ingress' ? 'Ingress' : 'Egress';
  return cluster.networkPolicies
    .filter((np) => np.namespace === pod.namespace && np.policyTypes.includes(type) && selects(np.podSelector, pod.labels))
    .sort((a, b) => compareText(a.name, b.name));
}

export const rulesOf = <R>(p: { ingress: readonly R[]; egress: readonly R[] }, d: Direction): readonly R[] =>
  d === 'ingress' ? p.ingress : p.egress;

export function clusterRuleRef(policy: ClusterPolicy, rule: ClusterRule, action: ClusterAction, failClosed = false): RuleRef {
  return {
    tier: policy.tier,
    policy: { kind: policy.kind, name: policy.name },
    ruleIndex: rule.index,
    ...(rule.name !== undefined ? { ruleName: rule.name } : {}),
    action,
    priority: policy.priority,
    ...(failClosed ? { failClosed: true } : {}),
  };
}

const describeRule = (policy: ClusterPolicy, rule: ClusterRule, d: Direction): string =>
  `${policy.kind} ${policy.name} ${d}[${rule.index}]${rule.name !== undefined ? ` (${rule.name})` : ''}`;

function addNote(notes: string[], note: string): void {
  if (!notes.includes(note)) notes.push(note);
}

// ---- cluster tiers -------------------------------------------------------------------------

export type ClusterTierOutcome =
  /** an Accept, Deny or Redirect rule decided (`rule.action` is the effective action) */
  | { readonly kind: 'decided'; readonly rule: RuleRef }
  /** a Pass rule matched: leave the tier */
  | { readonly kind: 'pass'; readonly rule: RuleRef }
  /** no rule of the tier matched */
  | { readonly kind: 'none' };

/** Does one cluster rule match, and with which effective action? (precedence points 2 and 3) */
export function clusterRuleOutcome(
  policy: ClusterPolicy,
  rule: ClusterRule,
  ctx: Omit<DirectionContext, 'subject'>,
): { readonly matches: boolean; readonly action: ClusterAction; readonly failClosed: boolean } {
  const where = () => describeRule(policy, rule, ctx.direction);
  if (rule.peers.some((p) => p.kind === 'domainNames')) addNote(ctx.notes, `${where()}: ${FQDN_NOTE_SUFFIX}`);

  const failClosed = failClosedNote(where(), rule);
  if (failClosed !== undefined) {
    addNote(ctx.notes, failClosed);
    return rule.action === 'Accept' ? { matches: false, action: 'Accept', failClosed: true } : { matches: true, action: 'Deny', failClosed: true };
  }

  const flow = { direction: ctx.direction, protocol: ctx.protocol, dstPort: ctx.dstPort };
  // docs/fqdn.md §1: only egress Accept rules (validation warns about any other)
  // a node-subject context has no subject pod: nothing is learned for a node (docs/fqdn.md)
  const subject = (ctx as Partial<DirectionContext>).subject;
  const learned = ctx.learned && subject && ctx.direction === 'egress' && rule.action === 'Accept' ? { subject, snapshot: ctx.learned } : undefined;
  const peer = rule.peers.find((p) => clusterPeerMatches(p, ctx.peer, ctx.index, ctx.cluster, flow, learned));
  if (peer !== undefined && learned) {
    for (const p of rule.peers) {
      if (p.kind !== 'domainNames') continue;
      const hit = learnedEntriesFor(p.domainNames, ctx.peer, learned)[0];
      if (hit) addNote(ctx.notes, `${where()}: ${ctx.peer.ip.text} matched as ${hit.name} (answer to ${hit.query} for ${hit.pod}, live until ${new Date(hit.expiresAtMs).toISOString()})`);
    }
  }
  const protocolsOk =
    rule.protocols === null ||
    rule.protocols.some((e) => clusterProtocolMatches(e, ctx.protocol, ctx.dstPort, ctx.srcPort, ctx.dstPod));
  const matches = peer !== undefined && protocolsOk;
  if (matches && peer.kind === 'services') {
    // explain names the Service that matched (docs/extension-semantics.md)
    const svc = matchingService(peer.services, ctx.peer, flow, ctx.index)!;
    addNote(ctx.notes, `${where()}: ${ctx.peer.ip.text} ${serviceMatchText(svc, ctx.peer.ip, flow, ctx.index)}`);
  }
  if (matches && rule.action === 'Redirect' && rule.redirect) {
    // precedence point 5: the flow goes to the target, or fails closed when there is none
    const target = redirectTarget(rule.redirect, ctx.peer.ip.family, ctx.protocol, ctx.dstPort, ctx.cluster);
    if (target === undefined) {
      addNote(ctx.notes, `${where()}: redirect target ${redirectNowhereText(rule.redirect, ctx.protocol, ctx.dstPort)}; fail closed: denied`);
      return { matches: true, action: 'Deny', failClosed: true };
    }
    addNote(ctx.notes, `${where()}: redirected to ${redirectTargetText(rule.redirect, target)}`);
  }
  return { matches, action: rule.action, failClosed: false };
}

/** The policies of one cluster tier whose subject selects the pod, in the total order. */
export function selectingPolicies(ordered: readonly ClusterPolicy[], tier: Tier, pod: Pod, index: EndpointIndex): ClusterPolicy[] {
  return ordered.filter((p) => p.tier === tier && clusterSubjectSelects(p, pod, index));
}

/**
 * Walk one cluster tier for the subject: the first matching rule in the total order.
 * @param selecting the tier's policies that select `ctx.subject`, in the total order (`selectingPolicies`)
 */
export function walkClusterTier(selecting: readonly ClusterPolicy[], ctx: Omit<DirectionContext, 'subject'>): ClusterTierOutcome {
  for (const policy of selecting) {
    for (const rule of rulesOf(policy, ctx.direction)) {
      const o = clusterRuleOutcome(policy, rule, ctx);
      if (!o.matches) continue;
      const ref = clusterRuleRef(policy, rule, o.action, o.failClosed);
      return o.action === 'Pass' ? { kind: 'pass', rule: ref } : { kind: 'decided', rule: ref };
    }
  }
  return { kind: 'none' };
}

// ---- NetworkPolicy tier ----------------------------------------------------------------------

export type NetworkPolicyTierOutcome =
  /** no NetworkPolicy selects the pod for this direction: go on to Baseline */
  | { readonly kind: 'not-isolated' }
  | { readonly kind: 'allowed'; readonly rule: RuleRef; readonly isolatedBy: readonly NetworkPolicy[] }
  | { readonly kind: 'node-local'; readonly isolatedBy: readonly NetworkPolicy[] }
  | { readonly kind: 'denied'; readonly isolatedBy: readonly NetworkPolicy[] };

/**
 * @param isolatedBy the NetworkPolicies isolating `ctx.subject` in `ctx.direction`, by name (`isolatingPolicies`)
 * @param peerIsSubjectsNode true when the flow's source is an address of the node the subject
 *   runs on and the direction is ingress (the caller decides; SPEC types.go "OR if the traffic
 *   source is the pod's local node").
 */
export function walkNetworkPolicyTier(
  ctx: DirectionContext,
  isolatedBy: readonly NetworkPolicy[],
  peerIsSubjectsNode: boolean,
): NetworkPolicyTierOutcome {
  if (isolatedBy.length === 0) return { kind: 'not-isolated' };
  for (const np of isolatedBy) {
    const rules = rulesOf(np, ctx.direction);
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      if (
        networkPolicyPeersMatch(r.peers, np.namespace, ctx.peer, ctx.index) &&
        networkPolicyPortsMatch(r.ports, ctx.protocol, ctx.dstPort, ctx.dstPod)
      ) {
        const rule: RuleRef = {
          tier: 'NetworkPolicy',
          policy: { kind: 'NetworkPolicy', namespace: np.namespace, name: np.name },
          ruleIndex: i,
          action: 'Allow',
        };
        return { kind: 'allowed', rule, isolatedBy };
      }
    }
  }
  if (peerIsSubjectsNode) return { kind: 'node-local', isolatedBy };
  return { kind: 'denied', isolatedBy };
}

/**
 * A walkthrough of one flow (policy-assistant's "walkthrough"): per direction, every
 * tier in order, every policy of the tier, and in the policies that apply every rule with what
 * it checked: each peer entry and each port/protocol entry, matched or not, and why.
 *
 * It follows exactly the steps of `evaluate.ts` (and uses the same tier primitives of
 * `tiers.ts`, so the decision cannot drift from the oracle's): loopback and non-pod ends first,
 * then Admin -> NetworkPolicy -> Baseline -> default. Per tier:
 * - cluster tiers: every policy of the tier with rules in the direction, in the total order;
 *   one that does not select the subject says why; in those that do, rules are checked in order
 *   until one matches (Accept/Deny decide, Pass leaves the tier); what follows is "not reached".
 * - NetworkPolicy tier: every NetworkPolicy of the subject's namespace, whether it isolates the
 *   pod in this direction (policyTypes, podSelector) and why; the rules of the isolating ones
 *   are all checked (any one allows), the first match is the one reported.
 * `walkFlow(...).verdict` equals `ReferenceEvaluator.evaluate(flow)` for the same cluster and
 * options (test/reference/walkthrough.test.ts checks it on random clusters, with the deciding
 * rules); the result also carries that FlowVerdict for the short explanation.
 * Staged policies are not in force here either (model/staged.ts); walk
 * `withStagedInForce(cluster)` to see them.
 * Pure; cost linear in the policies and rules of the cluster, per flow (explain, not a fast path).
 */
import { cidrContains, sameIp } from '../model/ip.js';
import { formatSelector, selects } from '../model/labels.js';
import { enforcedPolicies } from '../model/staged.js';
import type { Cluster, ClusterAction, ClusterPeer, ClusterPolicy, ClusterRule, Direction, NetworkPolicy, NetworkPolicyPeer, ObjectRef, Pod, Tier } from '../model/types.js';
import {
  describeClusterPeer,
  describeClusterProtocol,
  describeNetworkPolicyPeer,
  describeNetworkPolicyPort,
  describeSubject,
} from './describe.js';
import { EndpointIndex, podName, type ResolvedEndpoint } from './endpoints.js';
import { ReferenceEvaluator, type ReferenceOptions } from './evaluate.js';
import { NOT_ENFORCED_PEERS } from '../model/cluster-rule.js';
import { clusterPeerMatches, matchingService, networkPolicyPeerMatches, type FlowPort, type PeerView } from './peers.js';
import { serviceRefText } from '../model/services.js';
import { clusterProtocolMatches, networkPolicyPortsMatch } from './ports.js';
import { clusterRuleOutcome, clusterSubjectSelects, compareClusterPolicies, rulesOf, serviceMatchText, serviceSubjectMatch, type DirectionContext } from './tiers.js';
import { checkFlow, type Endpoint, type Flow } from '../model/flow.js';
import type { FlowVerdict, PolicyTier } from '../model/verdict.js';

/** One peer entry or one port/protocol entry of a rule, checked against the flow. */
export interface EntryCheck {
  readonly text: string;
  readonly ok: boolean;
  /** why it matched or not, in terms of the flow */
  readonly why: string;
}

export type RuleOutcome =
  /** this rule decided the direction (Accept, Deny, or a NetworkPolicy rule that allows) */
  | 'decides'
  /** a Pass rule matched: the flow leaves the tier */
  | 'passes'
  /** matched, but an earlier NetworkPolicy rule is the one reported (any rule allows) */
  | 'also-matches'
  | 'no-match'
  /** an earlier rule decided or passed */
  | 'not-reached';

export interface RuleWalk {
  readonly index: number;
  readonly name?: string;
  /** as in RuleRef: Accept / Deny / Pass / Redirect, or Allow for NetworkPolicy rules */
  readonly action: 'Accept' | 'Deny' | 'Pass' | 'Redirect' | 'Allow';
  readonly outcome: RuleOutcome;
  /** empty when not reached; a rule matches when some peer AND some port entry match */
  readonly peers: readonly EntryCheck[];
  readonly ports: readonly EntryCheck[];
  /** the rule failed closed (an entry with no known field): Accept matches nothing, Deny/Pass deny all */
  readonly failClosed?: 'matches-nothing' | 'denies-all';
}

export interface PolicyWalk {
  readonly policy: ObjectRef;
  readonly priority?: number;
  /** cluster tiers: the subject selects the pod; NetworkPolicy tier: the policy isolates the pod in this direction */
  readonly applies: boolean;
  /** why it applies or not */
  readonly why: string;
  /** the policy's rules in this direction; empty when it does not apply or was not reached */
  readonly rules: readonly RuleWalk[];
  /** an earlier policy of the tier decided or passed */
  readonly notReached?: true;
}

export type TierOutcome =
  | 'decided'
  | 'passed'
  /** cluster tier: no rule matched; go on */
  | 'no-match'
  /** NetworkPolicy tier: no NetworkPolicy isolates the pod in this direction; go on */
  | 'not-isolated'
  /** NetworkPolicy tier: isolated and no rule allows */
  | 'isolated-denied'
  /** NetworkPolicy tier: isolated, no rule allows, but the source is the pod's own node */
  | 'node-local'
  | 'not-reached';

export interface TierWalk {
  readonly tier: PolicyTier;
  readonly outcome: TierOutcome;
  readonly policies: readonly PolicyWalk[];
}

export interface DirectionWalk {
  readonly direction: Direction;
  readonly verdict: 'allow' | 'deny';
  /** the pod judged; absent when that end is not a pod */
  readonly subject?: string;
  /** set when no tier was walked: the end is not a pod, or the flow is a pod to itself */
  readonly skipped?: 'not-a-pod' | 'loopback';
  readonly tiers: readonly TierWalk[];
  /** the default decided (no tier did) */
  readonly byDefault: boolean;
}

export interface FlowWalk {
  readonly flow: Flow;
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly verdict: 'allow' | 'deny';
  readonly egress: DirectionWalk;
  readonly ingress: DirectionWalk;
  /** the reference evaluator's answer for the same flow (the short explanation) */
  readonly explanation: FlowVerdict;
}

export function walkFlow(given: Cluster, flow: Flow, options: ReferenceOptions = {}): FlowWalk {
  checkFlow(flow);
  const cluster = enforcedPolicies(given);
  const index = new EndpointIndex(cluster);
  const nodeLocalIngress = options.nodeLocalIngress ?? true;
  const src = index.resolve(flow.src);
  const dst = index.resolve(flow.dst);
  const loopback = src.pod !== undefined && src.pod === dst.pod;
  const w = new Walker(cluster, index, flow, nodeLocalIngress);
  const egress = loopback ? skipped('egress', 'loopback', src.pod) : w.direction('egress', src, dst);
  const ingress = loopback ? skipped('ingress', 'loopback', dst.pod) : w.direction('ingress', dst, src);
  return {
    flow,
    src: src.endpoint,
    dst: dst.endpoint,
    verdict: egress.verdict === 'allow' && ingress.verdict === 'allow' ? 'allow' : 'deny',
    egress,
    ingress,
    explanation: new ReferenceEvaluator(cluster, options).evaluate(flow),
  };
}

function skipped(direction: Direction, why: 'not-a-pod' | 'loopback', pod?: Pod): DirectionWalk {
  return { direction, verdict: 'allow', ...(pod ? { subject: podName(pod) } : {}), skipped: why, tiers: [], byDefault: false };
}

const refOf = (p: ClusterPolicy): ObjectRef => ({ kind: p.kind, name: p.name });
const npRef = (p: NetworkPolicy): ObjectRef => ({ kind: 'NetworkPolicy', namespace: p.namespace, name: p.name });
const labelText = (l: Readonly<Record<string, string>>): string => formatSelector({ matchLabels: l, matchExpressions: [] });

class Walker {
  private readonly ordered: readonly ClusterPolicy[];

  constructor(
    private readonly cluster: Cluster,
    private readonly index: EndpointIndex,
    private readonly flow: Flow,
    private readonly nodeLocalIngress: boolean,
  ) {
    this.ordered = [...cluster.clusterPolicies].sort(compareClusterPolicies);
  }

  direction(direction: Direction, self: ResolvedEndpoint, other: ResolvedEndpoint): DirectionWalk {
    const subject = self.pod;
    const serviceSubject = direction === 'ingress' && !sameIp(this.flow.src, this.flow.dst) && this.ordered.some((p) => this.serviceApplies(p, direction));
    if (!subject && !serviceSubject) return skipped(direction, 'not-a-pod');
    const otherIp = direction === 'egress' ? this.flow.dst : this.flow.src;
    const dstPod = direction === 'egress' ? other.pod : self.pod;
    const ctx: DirectionContext = {
      direction,
      ...(subject ? { subject } : {}),
      peer: { ip: otherIp, ...(other.pod ? { pod: other.pod } : {}) },
      ...(dstPod ? { dstPod } : {}),
      protocol: this.flow.protocol,
      dstPort: this.flow.dstPort,
      ...(this.flow.srcPort !== undefined ? { srcPort: this.flow.srcPort } : {}),
      index: this.index,
      cluster: this.cluster,
      notes: [],
    };
    const tiers: TierWalk[] = [];
    const done = (verdict: 'allow' | 'deny', byDefault = false): DirectionWalk => {
      for (const t of ['Admin', 'NetworkPolicy', 'Baseline'] as const) {
        if (!tiers.some((x) => x.tier === t)) tiers.push(this.notReachedTier(t, ctx));
      }
      return { direction, verdict, ...(subject ? { subject: podName(subject) } : {}), tiers, byDefault };
    };
    if (!subject) {
      // a destination that is no pod but a services subject's tuple: the cluster tiers only
      const admin = this.clusterTier('Admin', ctx);
      tiers.push(admin.walk);
      if (admin.walk.outcome === 'decided') return done(admin.verdict!);
      tiers.push({ tier: 'NetworkPolicy', outcome: 'not-isolated', policies: [] });
      const baseline = this.clusterTier('Baseline', ctx);
      tiers.push(baseline.walk);
      if (baseline.walk.outcome === 'decided') return done(baseline.verdict!);
      return done('allow', true);
    }

    const admin = this.clusterTier('Admin', ctx);
    tiers.push(admin.walk);
    if (admin.walk.outcome === 'decided') return done(admin.verdict!);

    const ownNode = direction === 'ingress' && this.nodeLocalIngress && this.index.isAddressOfPodsNode(otherIp, subject);
    const np = this.networkPolicyTier(ctx, ownNode);
    tiers.push(np);
    if (np.outcome === 'decided' || np.outcome === 'node-local') return done('allow');
    if (np.outcome === 'isolated-denied') return done('deny');

    const baseline = this.clusterTier('Baseline', ctx);
    tiers.push(baseline.walk);
    if (baseline.walk.outcome === 'decided') return done(baseline.verdict!);
    return done('allow', true);
  }

  // ---- cluster tiers ---------------------------------------------------------------------

  private clusterTier(tier: Tier, ctx: DirectionContext): { walk: TierWalk; verdict?: 'allow' | 'deny' } {
    const policies: PolicyWalk[] = [];
    let outcome: TierOutcome = 'no-match';
    let verdict: 'allow' | 'deny' | undefined;
    for (const p of this.ordered) {
      if (p.tier !== tier || rulesOf(p, ctx.direction).length === 0) continue;
      const applies = this.applies(p, ctx);
      const base = { policy: refOf(p), priority: p.priority, applies, why: this.subjectWhy(p, ctx, applies) };
      if (outcome !== 'no-match') {
        policies.push({ ...base, rules: [], notReached: true });
        continue;
      }
      if (!applies) {
        policies.push({ ...base, rules: [] });
        continue;
      }
      const rules: RuleWalk[] = [];
      for (const rule of rulesOf(p, ctx.direction)) {
        if (outcome !== 'no-match') {
          rules.push({ ...ruleHead(rule), outcome: 'not-reached', peers: [], ports: [] });
          continue;
        }
        const o = clusterRuleOutcome(p, rule, ctx);
        const walk = this.clusterRuleChecks(rule, ctx);
        const failClosed = o.failClosed ? (rule.action === 'Accept' ? 'matches-nothing' : 'denies-all') : undefined;
        let ruleOutcome: RuleOutcome = 'no-match';
        if (o.matches) {
          if (o.action === 'Pass') {
            ruleOutcome = 'passes';
            outcome = 'passed';
          } else {
            ruleOutcome = 'decides';
            outcome = 'decided';
            verdict = o.action === 'Deny' ? 'deny' : 'allow';
          }
        }
        rules.push({ ...ruleHead(rule), outcome: ruleOutcome, ...walk, ...(failClosed ? { failClosed } : {}) });
      }
      policies.push({ ...base, rules });
    }
    return { walk: { tier, outcome, policies }, ...(verdict ? { verdict } : {}) };
  }

  /** A `services` subject applies to ingress by the destination tuple (docs/extension-semantics.md). */
  private serviceApplies(p: ClusterPolicy, direction: Direction): boolean {
    return direction === 'ingress' && serviceSubjectMatch(p, this.flow.dst, this.flow.protocol, this.flow.dstPort, this.index) !== undefined;
  }

  private applies(p: ClusterPolicy, ctx: DirectionContext): boolean {
    if (p.subject.kind === 'services') return this.serviceApplies(p, ctx.direction);
    return ctx.subject !== undefined && clusterSubjectSelects(p, ctx.subject, this.index);
  }

  private subjectWhy(p: ClusterPolicy, ctx: DirectionContext, applies: boolean): string {
    const s = p.subject;
    if (s.kind === 'services') {
      const flow = { direction: 'egress' as const, protocol: this.flow.protocol, dstPort: this.flow.dstPort };
      const svc = ctx.direction === 'ingress' ? serviceSubjectMatch(p, this.flow.dst, this.flow.protocol, this.flow.dstPort, this.index) : undefined;
      if (applies && svc) return `its subject (${describeSubject(s)}) applies: ${this.flow.dst.text} ${serviceMatchText(svc, this.flow.dst, flow, this.index)}`;
      return ctx.direction === 'egress'
        ? `its subject (${describeSubject(s)}) has ingress rules only`
        : `its subject (${describeSubject(s)}) does not apply: ${this.flow.dst.text} ${this.flowPort()} is no address and port of those Services`;
    }
    const pod = ctx.subject;
    if (!pod) return `its subject (${describeSubject(s)}) selects pods: ${this.flow.dst.text} is not a pod`;
    const who = podName(pod);
    const head = `its subject (${describeSubject(s)})`;
    if (s.kind === 'nodes') return `${head} selects no pod: its traffic is the nodes' own`;
    if (applies) {
      if (s.kind === 'pods' && s.nodeSelector !== undefined) {
        const node = pod.nodeName !== undefined ? this.index.node(pod.nodeName) : undefined;
        return `${head} selects ${who}: it runs on node ${pod.nodeName ?? '?'} ${labelText(node?.labels ?? {})}, which matches ${formatSelector(s.nodeSelector)}`;
      }
      return `${head} selects ${who}`;
    }
    const nsLabels = this.index.labelsOfNamespace(pod.namespace);
    if (!selects(s.namespaceSelector, nsLabels)) {
      return `${head} does not select ${who}: namespace ${pod.namespace} ${labelText(nsLabels)} does not match ${formatSelector(s.namespaceSelector)}`;
    }
    if (s.kind === 'namespaces' || selects(s.podSelector, pod.labels)) {
      // only a nodeSelector can have refused it
      const sel = s.kind === 'pods' && s.nodeSelector !== undefined ? formatSelector(s.nodeSelector) : '{}';
      if (pod.nodeName === undefined) return `${head} does not select ${who}: it is not scheduled on a node (spec.nodeName unset), so it matches no nodeSelector ${sel}`;
      const node = this.index.node(pod.nodeName);
      if (!node) return `${head} does not select ${who}: its node ${pod.nodeName} is not in the inventory, so it matches no nodeSelector ${sel}`;
      return `${head} does not select ${who}: it runs on node ${node.name} ${labelText(node.labels)}, which does not match ${sel}`;
    }
    return `${head} does not select ${who}: pod labels ${labelText(pod.labels)} do not match ${formatSelector(s.podSelector)}`;
  }

  private clusterRuleChecks(rule: ClusterRule, ctx: DirectionContext): { peers: EntryCheck[]; ports: EntryCheck[] } {
    const peers = rule.peers.map((p): EntryCheck => {
      const text = describeClusterPeer(p);
      if (p.kind === 'unknown') return { text, ok: false, why: 'no known field: the rule fails closed' };
      if (NOT_ENFORCED_PEERS.has(p.kind)) return { text, ok: false, why: `${p.kind} peers are not enforced by this build yet: the rule fails closed` };
      if (p.kind === 'domainNames') return { text, ok: false, why: 'domainNames peers match nothing until FQDN support lands' };
      const flow = { direction: ctx.direction, protocol: ctx.protocol, dstPort: ctx.dstPort };
      const ok = clusterPeerMatches(p, ctx.peer, this.index, this.cluster, flow);
      return { text, ok, why: this.clusterPeerWhy(p, ctx.peer, ok, flow) };
    });
    const ports =
      rule.protocols === null
        ? [{ text: 'every port and protocol', ok: true, why: `every port matches ${this.flowPort()}` }]
        : rule.protocols.map((e): EntryCheck => {
            const text = describeClusterProtocol(e);
            if (e.kind === 'unknown') return { text, ok: false, why: 'no known field: the rule fails closed' };
            const ok = clusterProtocolMatches(e, ctx.protocol, ctx.dstPort, ctx.srcPort, ctx.dstPod);
            return { text, ok, why: e.kind === 'namedPort' ? this.namedPortWhy(e.name, ctx, ok) : `${this.flowPort()} ${ok ? 'is' : 'is not'} ${text}` };
          });
    return { peers, ports };
  }

  private clusterPeerWhy(p: ClusterPeer, peer: PeerView, ok: boolean, flow: FlowPort): string {
    const who = this.peerText(peer);
    switch (p.kind) {
      case 'services': {
        const svc = matchingService(p.services, peer, flow, this.index);
        if (svc) return `${peer.ip.text} ${serviceMatchText(svc, peer.ip, flow, this.index)}`;
        return flow.direction === 'ingress'
          ? `${who} is no endpoint of ${p.services.map(serviceRefText).join(', ')}`
          : `${who} ${this.flowPort()} is no address and port of ${p.services.map(serviceRefText).join(', ')}`;
      }
      case 'namespaces':
      case 'pods': {
        if (!peer.pod) return `${who} is not a pod (host-network pods and other addresses never match pod peers)`;
        const nsLabels = this.index.labelsOfNamespace(peer.pod.namespace);
        if (!selects(p.namespaceSelector, nsLabels)) return `${who} is in namespace ${peer.pod.namespace} ${labelText(nsLabels)}, which does not match ${formatSelector(p.namespaceSelector)}`;
        if (p.kind === 'pods' && !selects(p.podSelector, peer.pod.labels)) return `${who} has labels ${labelText(peer.pod.labels)}, which do not match ${formatSelector(p.podSelector)}`;
        return `${who} is in namespace ${peer.pod.namespace}${p.kind === 'pods' ? ` and has labels ${labelText(peer.pod.labels)}` : ''}`;
      }
      case 'nodes': {
        if (ok) {
          const n = this.cluster.nodes.find((x) => selects(p.nodeSelector, x.labels) && x.addresses.some((a) => a.text === peer.ip.text));
          return `${peer.ip.text} is an address of node ${n?.name ?? '?'}`;
        }
        return `${peer.ip.text} is not an address of a node matching ${formatSelector(p.nodeSelector)}`;
      }
      case 'networks': {
        const hit = p.cidrs.find((c) => cidrContains(c, peer.ip));
        return hit ? `${peer.ip.text} is in ${hit.text}` : `${peer.ip.text} is in none of ${p.cidrs.map((c) => c.text).join(', ')}`;
      }
      case 'entities':
        return ok
          ? `${peer.ip.text} is a cluster address (${this.index.resolve(peer.ip).endpoint.kind === 'external' ? 'a Service address' : `a ${this.index.resolve(peer.ip).endpoint.kind} address`})`
          : `${peer.ip.text} is not a pod, node or Service address of the inventory`;
      default:
        return ok ? 'matches' : 'does not match';
    }
  }

  // ---- NetworkPolicy tier -----------------------------------------------------------------

  private networkPolicyTier(ctx: DirectionContext, ownNode: boolean): TierWalk {
    const type = ctx.direction === 'ingress' ? 'Ingress' : 'Egress';
    const subject = ctx.subject as Pod; // the NetworkPolicy tier is walked for pods only
    const sameNs = this.cluster.networkPolicies
      .filter((np) => np.namespace === subject.namespace)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const policies: PolicyWalk[] = [];
    let isolated = false;
    let decided = false;
    for (const np of sameNs) {
      const hasType = np.policyTypes.includes(type);
      const podOk = selects(np.podSelector, subject.labels);
      const applies = hasType && podOk;
      const who = podName(subject);
      const why = !podOk
        ? `its podSelector ${formatSelector(np.podSelector)} does not match ${who} ${labelText(subject.labels)}`
        : !hasType
          ? `it selects ${who} but its policyTypes [${np.policyTypes.join(', ')}] do not include ${type}`
          : `it selects ${who} (podSelector ${formatSelector(np.podSelector)}) for ${type}: ${who} is isolated for ${ctx.direction}`;
      if (!applies) {
        policies.push({ policy: npRef(np), applies, why, rules: [] });
        continue;
      }
      isolated = true;
      const rules = rulesOf(np, ctx.direction).map((r, i): RuleWalk => {
        const peers: EntryCheck[] =
          r.peers === null
            ? [{ text: 'every address', ok: true, why: `${ctx.direction === 'ingress' ? 'from' : 'to'} is absent or empty: every peer` }]
            : r.peers.map((p) => {
                const ok = networkPolicyPeerMatches(p, np.namespace, ctx.peer, this.index);
                return { text: describeNetworkPolicyPeer(p, np.namespace), ok, why: this.npPeerWhy(p, np.namespace, ctx.peer, ok) };
              });
        const ports: EntryCheck[] =
          r.ports === null
            ? [{ text: 'every port and protocol', ok: true, why: `ports is absent or empty: every port matches ${this.flowPort()}` }]
            : r.ports.map((e) => {
                const ok = networkPolicyPortsMatch([e], ctx.protocol, ctx.dstPort, ctx.dstPod);
                const text = describeNetworkPolicyPort(e);
                return { text, ok, why: typeof e.port === 'string' && e.protocol === ctx.protocol ? this.namedPortWhy(e.port, ctx, ok) : `${this.flowPort()} ${ok ? 'is' : 'is not'} ${text}` };
              });
        const matches = peers.some((x) => x.ok) && ports.some((x) => x.ok);
        const outcome: RuleOutcome = matches ? (decided ? 'also-matches' : 'decides') : 'no-match';
        if (matches) decided = true;
        return { index: i, action: 'Allow', outcome, peers, ports };
      });
      policies.push({ policy: npRef(np), applies, why: rules.length === 0 ? `${why}; it has no ${ctx.direction} rules` : why, rules });
    }
    const outcome: TierOutcome = !isolated ? 'not-isolated' : decided ? 'decided' : ownNode ? 'node-local' : 'isolated-denied';
    return { tier: 'NetworkPolicy', outcome, policies };
  }

  private npPeerWhy(p: NetworkPolicyPeer, ns: string, peer: PeerView, ok: boolean): string {
    const who = this.peerText(peer);
    if (p.kind === 'ipBlock') {
      if (!cidrContains(p.cidr, peer.ip)) return `${peer.ip.text} is not in ${p.cidr.text}`;
      const ex = p.except.find((e) => cidrContains(e, peer.ip));
      return ex ? `${peer.ip.text} is in ${p.cidr.text} but also in except ${ex.text}` : `${peer.ip.text} is in ${p.cidr.text}`;
    }
    if (!peer.pod) return `${who} is not a pod (selector peers match only pods; use ipBlock for other addresses)`;
    const podNs = peer.pod.namespace;
    if (p.namespaceSelector) {
      const nsLabels = this.index.labelsOfNamespace(podNs);
      if (!selects(p.namespaceSelector, nsLabels)) return `${who} is in namespace ${podNs} ${labelText(nsLabels)}, which does not match ${formatSelector(p.namespaceSelector)}`;
    } else if (podNs !== ns) return `${who} is in namespace ${podNs}, not ${ns} (no namespaceSelector: the policy's own namespace only)`;
    if (p.podSelector && !selects(p.podSelector, peer.pod.labels)) return `${who} has labels ${labelText(peer.pod.labels)}, which do not match ${formatSelector(p.podSelector)}`;
    return ok ? `${who} is in namespace ${podNs}${p.podSelector ? ` and has labels ${labelText(peer.pod.labels)}` : ''}` : 'does not match';
  }

  // ---- shared ---------------------------------------------------------------------------

  private namedPortWhy(name: string, ctx: DirectionContext, ok: boolean): string {
    const pod = ctx.dstPod;
    if (!pod) return `the destination is not a pod: a named port matches only a pod that declares it`;
    const declared = pod.containerPorts.filter((cp) => cp.name === name);
    if (ok) return `${podName(pod)} declares ${JSON.stringify(name)} as ${ctx.protocol}/${ctx.dstPort}`;
    if (declared.length === 0) return `${podName(pod)} declares no port named ${JSON.stringify(name)}`;
    return `${podName(pod)} declares ${JSON.stringify(name)} as ${declared.map((cp) => `${cp.protocol}/${cp.containerPort}`).join(', ')}, not ${this.flowPort()}`;
  }

  private flowPort(): string {
    return `${this.flow.protocol}/${this.flow.dstPort}${this.flow.srcPort !== undefined ? ` from source port ${this.flow.srcPort}` : ''}`;
  }

  private peerText(peer: PeerView): string {
    if (peer.pod) return `${podName(peer.pod)} (${peer.ip.text})`;
    const e = this.index.resolve(peer.ip).endpoint;
    if (e.kind === 'node') return `${peer.ip.text} (${e.pod ? `${e.pod} on ` : ''}node ${e.node ?? '?'})`;
    return `${peer.ip.text} (external)`;
  }

  private notReachedTier(tier: PolicyTier, ctx: DirectionContext): TierWalk {
    if (tier === 'NetworkPolicy') {
      const policies = this.cluster.networkPolicies
        .filter((np) => ctx.subject !== undefined && np.namespace === ctx.subject.namespace)
        .map((np): PolicyWalk => ({ policy: npRef(np), applies: false, why: 'not reached', rules: [], notReached: true }));
      return { tier, outcome: 'not-reached', policies };
    }
    const policies = this.ordered
      .filter((p) => p.tier === tier && rulesOf(p, ctx.direction).length > 0)
      .map((p): PolicyWalk => {
        const applies = this.applies(p, ctx);
        return { policy: refOf(p), priority: p.priority, applies, why: this.subjectWhy(p, ctx, applies), rules: [], notReached: true };
      });
    return { tier, outcome: 'not-reached', policies };
  }
}

function ruleHead(rule: ClusterRule): { index: number; name?: string; action: ClusterAction } {
  return { index: rule.index, ...(rule.name !== undefined ? { name: rule.name } : {}), action: rule.action };
}

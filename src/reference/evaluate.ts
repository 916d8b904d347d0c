/**
 * The reference evaluator: the oracle every faster engine (native classifier, kernel backends)
 * is checked against. Plain TypeScript that walks the normalized policy objects for each flow;
 * readable over fast.
 *
 * The decision, in the order applied (networkpolicy-v1-semantics.md §0;
 * network-policy-api.md §1.5):
 * 1. Resolve both addresses (`endpoints.ts`): pod, node (host-network pods live there) or external.
 * 2. A pod's traffic to its own IP is not subject to policy: both directions allow, reason
 *    `loopback` (§9.2; network-policy-api.md §1.5 point 3).
 * 3. Egress is judged at the source, ingress at the destination; the flow is allowed iff both
 *    allow (§1.4). An end that is not a pod (external, node, host-network pod) has no policy of
 *    its own: that direction allows with reason `not-a-pod`.
 * 4. Per direction: Admin tier -> NetworkPolicy tier -> Baseline tier -> default allow
 *    (`tiers.ts` numbers the rules inside each tier). Pass rules met on the way are kept in
 *    `passed`, in the order met.
 * 5. NetworkPolicy ingress exception: an isolated pod still accepts traffic whose source is an
 *    address of its own node (`spec.nodeName` -> that Node's `status.addresses`, or the address
 *    of a host-network pod on that node). There is no egress exception.
 * 6. A PalisadeClusterNetworkPolicy `services` subject (docs/extension-semantics.md) applies to
 *    ingress whose destination address, protocol and port form a service tuple of a named
 *    Service, pod or not: its policies join the tier's policies that select the destination pod,
 *    in the one total order. A destination that is no pod has only those (no NetworkPolicy tier).
 *    An address's traffic to itself is left alone (it never leaves the host).
 * 6a. Node subjects (S20, `nodes.ts`): a node end selected by a node-subject policy is judged by
 *    its built-in allowance, the Admin tier and the Baseline tier instead.
 * 7. Staged policies (model/staged.ts) are not in force: they are ignored here, even when one is
 *    handed in the main lists; `staged.ts` evaluates the cluster with them in force.
 *
 * Invariants: the Cluster is read-only and normalized (`model/types.ts`); results depend only on
 * the Cluster, the options and the flow.
 * Cost: construction O(pods x policies) (which policies select which pod); `evaluate` is linear in
 * the rules of the policies that select the judged pods. No I/O, no caching of verdicts.
 * Thread-safety: immutable after construction; `evaluate` allocates only its result.
 */
import type { LearnedSnapshot } from '../model/fqdn.js';
import { sameIp, type IpAddr } from '../model/ip.js';
import { enforcedPolicies } from '../model/staged.js';
import type { Cluster, ClusterPolicy, Direction, NetworkPolicy, Pod } from '../model/types.js';
import { EndpointIndex, podName, type ResolvedEndpoint } from './endpoints.js';
import {
  compareClusterPolicies,
  isolatingPolicies,
  selectingPolicies,
  serviceMatchText,
  serviceSubjectMatch,
  walkClusterTier,
  walkNetworkPolicyTier,
  directionContext,
  type DirectionContext,
} from './tiers.js';
import { checkFlow, type Endpoint, type Flow } from '../model/flow.js';
import { NodeSubjects } from './nodes.js';
import type { DirectionVerdict, Evaluator, FlowVerdict, RuleRef } from '../model/verdict.js';

export interface ReferenceOptions {
  /**
   * Allow ingress from the pod's own node even when NetworkPolicy isolates the pod (SPEC
   * networking/v1 types.go: "OR if the traffic source is the pod's local node"). Default true.
   */
  readonly nodeLocalIngress?: boolean;
  /** addresses learned from DNS answers (docs/fqdn.md); absent or empty: `domainNames` matches nothing */
  readonly learned?: LearnedSnapshot;
}

export class ReferenceEvaluator implements Evaluator {
  readonly cluster: Cluster;
  private readonly index: EndpointIndex;
  /** per non-host-network pod: the policies that select it, per tier and direction (see `Selection`) */
  private readonly selection = new Map<Pod, Selection>();
  private readonly nodeLocalIngress: boolean;
  /** the policies with a `services` subject, in the total order (they apply per flow) */
  private readonly serviceSubjects: readonly ClusterPolicy[];
  private readonly learned: LearnedSnapshot | undefined;
  /** node-subject policies (S20, nodes.ts) */
  private readonly nodes: NodeSubjects;

  constructor(given: Cluster, options: ReferenceOptions = {}) {
    // staged policies never decide a verdict (model/staged.ts); `staged.ts` here asks "what if"
    const cluster = enforcedPolicies(given);
    this.cluster = cluster;
    this.index = new EndpointIndex(cluster);
    this.nodeLocalIngress = options.nodeLocalIngress ?? true;
    this.learned = options.learned;
    this.nodes = new NodeSubjects(cluster, this.index);
    // Which policies select which pod depends only on labels, so it is worked out once here;
    // the rules themselves are still walked per flow.
    const ordered = [...cluster.clusterPolicies].sort(compareClusterPolicies);
    this.serviceSubjects = ordered.filter((p) => p.subject.kind === 'services');
    for (const pod of cluster.pods) {
      if (pod.hostNetwork) continue;
      this.selection.set(pod, {
        admin: selectingPolicies(ordered, 'Admin', pod, this.index),
        baseline: selectingPolicies(ordered, 'Baseline', pod, this.index),
        isolatedBy: { ingress: isolatingPolicies(cluster, pod, 'ingress'), egress: isolatingPolicies(cluster, pod, 'egress') },
      });
    }
  }

  endpoint(ip: IpAddr): Endpoint {
    return this.index.resolve(ip).endpoint;
  }

  evaluate(flow: Flow): FlowVerdict {
    checkFlow(flow);
    const src = this.index.resolve(flow.src);
    const dst = this.index.resolve(flow.dst);

    let egress: DirectionVerdict;
    let ingress: DirectionVerdict;
    if (src.pod !== undefined && src.pod === dst.pod) {
      egress = loopback('egress', src.pod);
      ingress = loopback('ingress', src.pod);
    } else {
      egress = this.judge('egress', src, dst, flow.dst, flow);
      ingress = this.judge('ingress', dst, src, flow.src, flow);
    }
    const verdict = egress.verdict === 'allow' && ingress.verdict === 'allow' ? 'allow' : 'deny';
    return { verdict, flow, src: src.endpoint, dst: dst.endpoint, egress, ingress };
  }

  /** One direction, judged at `self` (the source for egress, the destination for ingress). */
  private judge(
    direction: Direction,
    self: ResolvedEndpoint,
    other: ResolvedEndpoint,
    otherIp: IpAddr,
    flow: Flow,
  ): DirectionVerdict {
    const notes: string[] = [];
    const subject = self.pod;
    // services subjects: ingress only, by the destination tuple (point 6)
    // (an address's traffic to itself never leaves its host: no policy, as for a pod's own traffic)
    const bySubjectService =
      direction === 'ingress' && this.serviceSubjects.length > 0 && !sameIp(flow.src, flow.dst) ? this.serviceSubjectsFor(flow, notes) : undefined;
    if (!subject && bySubjectService !== undefined) return this.judgeServiceOnly(self, other, otherIp, flow, bySubjectService, notes);
    if (!subject) {
      // a node selected by a node-subject policy (S20): its host traffic is judged (nodes.ts)
      const node = this.nodes.judge(direction, self, other, otherIp, flow);
      if (node) return node;
      if (self.hostNetworkPod) {
        notes.push(
          `${podName(self.hostNetworkPod)} is a host-network pod: no policy selects it; its traffic is node traffic`,
        );
      }
      return { direction, verdict: 'allow', tier: 'Default', reason: 'not-a-pod', passed: [], notes };
    }
    const dstPod = direction === 'egress' ? other.pod : self.pod;
    const ctx: DirectionContext = {
      ...directionContext({ direction, otherIp, otherPod: other.pod, dstPod, flow, index: this.index, cluster: this.cluster, notes }),
      subject,
      ...(this.learned ? { learned: this.learned } : {}),
    };
    const passed: RuleRef[] = [];
    const base = { direction, passed, subject: podName(subject), notes };
    const cached = this.selection.get(subject)!;
    const selected: Selection =
      bySubjectService === undefined
        ? cached
        : {
            ...cached,
            admin: merge(cached.admin, bySubjectService.filter((p) => p.tier === 'Admin')),
            baseline: merge(cached.baseline, bySubjectService.filter((p) => p.tier === 'Baseline')),
          };

    // Admin tier
    const admin = walkClusterTier(selected.admin, ctx);
    if (admin.kind === 'decided') return ruleVerdict(base, admin.rule);
    if (admin.kind === 'pass') passed.push(admin.rule);

    // NetworkPolicy tier
    const ownNode = direction === 'ingress' && this.nodeLocalIngress && this.index.isAddressOfPodsNode(otherIp, subject);
    const np = walkNetworkPolicyTier(ctx, selected.isolatedBy[direction], ownNode);
    switch (np.kind) {
      case 'allowed':
        return { ...base, verdict: 'allow', tier: 'NetworkPolicy', reason: 'rule', rule: np.rule, isolatedBy: refs(np.isolatedBy) };
      case 'node-local':
        return { ...base, verdict: 'allow', tier: 'NetworkPolicy', reason: 'node-local', isolatedBy: refs(np.isolatedBy) };
      case 'denied':
        return { ...base, verdict: 'deny', tier: 'NetworkPolicy', reason: 'isolated-no-match', isolatedBy: refs(np.isolatedBy) };
      case 'not-isolated':
        break;
    }

    // Baseline tier
    const baseline = walkClusterTier(selected.baseline, ctx);
    if (baseline.kind === 'decided') return ruleVerdict(base, baseline.rule);
    if (baseline.kind === 'pass') passed.push(baseline.rule);

    // Default
    return { ...base, verdict: 'allow', tier: 'Default', reason: 'no-match' };
  }

  /** The `services`-subject policies that apply to this ingress flow (undefined: none), with a note each. */
  private serviceSubjectsFor(flow: Flow, notes: string[]): ClusterPolicy[] | undefined {
    const out: ClusterPolicy[] = [];
    for (const p of this.serviceSubjects) {
      const svc = serviceSubjectMatch(p, flow.dst, flow.protocol, flow.dstPort, this.index);
      if (!svc) continue;
      out.push(p);
      const note = `${p.kind} ${p.name} applies: ${flow.dst.text} ${serviceMatchText(svc, flow.dst, { direction: 'egress', protocol: flow.protocol, dstPort: flow.dstPort }, this.index)}`;
      if (!notes.includes(note)) notes.push(note);
    }
    return out.length > 0 ? out : undefined;
  }

  /** Ingress to a destination that is no pod but a `services` subject's tuple: Admin, Baseline, default. */
  private judgeServiceOnly(
    self: ResolvedEndpoint,
    other: ResolvedEndpoint,
    otherIp: IpAddr,
    flow: Flow,
    policies: readonly ClusterPolicy[],
    notes: string[],
  ): DirectionVerdict {
    const direction: Direction = 'ingress';
    const ctx: DirectionContext = {
      direction,
      peer: { ip: otherIp, ...(other.pod ? { pod: other.pod } : {}) },
      protocol: flow.protocol,
      dstPort: flow.dstPort,
      index: this.index,
      cluster: this.cluster,
      notes,
    };
    if (self.hostNetworkPod) notes.push(`${podName(self.hostNetworkPod)} is a host-network pod: only services subjects apply to its traffic`);
    const passed: RuleRef[] = [];
    const base = { direction, passed, notes };
    const admin = walkClusterTier(policies.filter((p) => p.tier === 'Admin'), ctx);
    if (admin.kind === 'decided') return ruleVerdict(base, admin.rule);
    if (admin.kind === 'pass') passed.push(admin.rule);
    const baseline = walkClusterTier(policies.filter((p) => p.tier === 'Baseline'), ctx);
    if (baseline.kind === 'decided') return ruleVerdict(base, baseline.rule);
    if (baseline.kind === 'pass') passed.push(baseline.rule);
    return { ...base, verdict: 'allow', tier: 'Default', reason: 'no-match' };
  }
}

/** Two lists of distinct policies, each in the total order, as one list in that order. */
const merge = (a: readonly ClusterPolicy[], b: readonly ClusterPolicy[]): ClusterPolicy[] => [...a, ...b].sort(compareClusterPolicies);

/** The policies that select one pod: cluster policies in the total order, NetworkPolicies by name. */
interface Selection {
  readonly admin: readonly ClusterPolicy[];
  readonly baseline: readonly ClusterPolicy[];
  readonly isolatedBy: Readonly<Record<Direction, readonly NetworkPolicy[]>>;
}

/** One-shot evaluation; build a `ReferenceEvaluator` once when asking many questions. */
export function evaluateFlow(cluster: Cluster, flow: Flow, options?: ReferenceOptions): FlowVerdict {
  return new ReferenceEvaluator(cluster, options).evaluate(flow);
}


function loopback(direction: Direction, pod: Pod): DirectionVerdict {
  return { direction, verdict: 'allow', tier: 'Default', reason: 'loopback', passed: [], subject: podName(pod), notes: [] };
}

function ruleVerdict(
  base: { direction: Direction; passed: RuleRef[]; subject?: string; notes: string[] },
  rule: RuleRef,
): DirectionVerdict {
  return { ...base, verdict: rule.action === 'Deny' ? 'deny' : 'allow', tier: rule.tier, reason: 'rule', rule };
}

const refs = (nps: readonly NetworkPolicy[]) => nps.map((np) => ({ kind: 'NetworkPolicy', namespace: np.namespace, name: np.name }));

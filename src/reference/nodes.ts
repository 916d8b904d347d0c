/**
 * Node subjects (PalisadeClusterNetworkPolicy `subject.nodes`, S20) in the reference evaluator:
 * the host traffic of a selected node, judged by the semantics of docs/extension-semantics.md
 * ("Nodes"), in this order:
 * 1. Node traffic: the judged end is one of a node's status addresses (a host-network pod sending
 *    from it is node traffic). A node no policy selects, or a host-network pod address the Node
 *    does not list, is judged as before (`not-a-pod`).
 * 2. Traffic between two addresses of the same node is loopback, never judged.
 * 3. On an allowance port (egress: TCP to an API server port; ingress: TCP 10250), the Admin rules
 *    that name the port explicitly (one TCP destination port) are walked first, in the total
 *    order; then the allowance allows the flow when it is allowance traffic (egress: to an API
 *    server address; ingress: from anywhere); then the Admin tier as usual.
 * 4. Admin tier, then Baseline tier (no NetworkPolicy selects a node), then the default allow.
 * The API server: the `default/kubernetes` Service's ClusterIPs on its TCP ports, and its
 * EndpointSlices' addresses on their TCP ports (empty when the inventory has no such Service).
 *
 * Lowering (src/rules/lower.ts) gives the same order: node-loopback accepts, the explicit rules
 * restricted to each allowance port, the allowance accepts, then the tiers.
 * Pure; cost linear in the node's policies' rules. Thread-safety: immutable after construction.
 */
import { selects } from '../model/labels.js';
import type { IpAddr } from '../model/ip.js';
import type { Cluster, ClusterPolicy, ClusterRule, Direction } from '../model/types.js';
import type { DirectionVerdict, RuleRef } from '../model/verdict.js';
import type { Flow } from '../model/flow.js';
import type { EndpointIndex, ResolvedEndpoint } from './endpoints.js';
import { apiServerTcp, KUBELET_PORT, namesTcpPort } from '../model/node-allowance.js';
import { clusterRuleOutcome, clusterRuleRef, compareClusterPolicies, directionContext, walkClusterTier, type DirectionContext } from './tiers.js';

interface NodeSelection {
  readonly admin: readonly ClusterPolicy[];
  readonly baseline: readonly ClusterPolicy[];
}

export class NodeSubjects {
  /** per node name: the node-subject policies selecting it, per tier, in the total order */
  private readonly byNode = new Map<string, NodeSelection>();
  private readonly apiTcp: { readonly addresses: ReadonlySet<string>; readonly ports: ReadonlySet<number> };

  constructor(
    private readonly cluster: Cluster,
    private readonly index: EndpointIndex,
  ) {
    const ordered = cluster.clusterPolicies.filter((p) => p.subject.kind === 'nodes').sort(compareClusterPolicies);
    for (const n of cluster.nodes) {
      const mine = ordered.filter((p) => p.subject.kind === 'nodes' && selects(p.subject.nodeSelector, n.labels));
      if (mine.length) this.byNode.set(n.name, { admin: mine.filter((p) => p.tier === 'Admin'), baseline: mine.filter((p) => p.tier === 'Baseline') });
    }
    const api = apiServerTcp(cluster.services, cluster.endpointSlices);
    const addresses = new Set(api.addresses.map((ip) => ip.text));
    const ports = new Set(api.ports);
    this.apiTcp = { addresses, ports };
  }

  /** The verdict of a node-subject direction, or undefined: `self` is no selected node's traffic. */
  judge(direction: Direction, self: ResolvedEndpoint, other: ResolvedEndpoint, otherIp: IpAddr, flow: Flow): DirectionVerdict | undefined {
    const node = self.endpoint.kind === 'node' ? self.endpoint.node : undefined;
    const selection = node !== undefined ? this.byNode.get(node) : undefined;
    if (node === undefined || selection === undefined) return undefined;
    // the node's listed addresses (a host-network pod on one of them is node traffic too)
    if (!this.index.node(node)?.addresses.some((a) => a.text === self.endpoint.ip)) return undefined;
    const notes: string[] = [];
    if (self.hostNetworkPod) notes.push(`${self.hostNetworkPod.namespace}/${self.hostNetworkPod.name} is a host-network pod: its traffic is node ${node}'s`);
    const passed: RuleRef[] = [];
    const base = { direction, passed, subject: `node/${node}`, notes };
    if (this.index.node(node)!.addresses.some((a) => a.text === otherIp.text)) {
      return { ...base, verdict: 'allow', tier: 'Default', reason: 'loopback' };
    }
    const dstPod = direction === 'egress' ? other.pod : undefined;
    const ctx: ClusterRuleContext = directionContext({ direction, otherIp, otherPod: other.pod, dstPod, flow, index: this.index, cluster: this.cluster, notes });
    const decided = (rule: RuleRef): DirectionVerdict => ({ ...base, verdict: rule.action === 'Deny' ? 'deny' : 'allow', tier: rule.tier, reason: 'rule', rule });

    let adminFrom = 0; // a Pass among the explicit rules leaves the Admin tier at once
    const allowancePort = this.allowancePort(direction, flow);
    if (allowancePort) {
      const explicit = walkRules(selection.admin, ctx, (r) => namesTcpPort(r, flow.dstPort));
      if (explicit.kind === 'decided') return decided(explicit.rule);
      if (explicit.kind === 'pass') {
        passed.push(explicit.rule);
        adminFrom = -1;
      } else if (direction === 'ingress' || this.apiTcp.addresses.has(otherIp.text)) {
        notes.push(`node ${node} keeps ${direction === 'ingress' ? `its kubelet API (TCP ${KUBELET_PORT})` : `the API server (TCP ${flow.dstPort})`}: the built-in allowance`);
        return { ...base, verdict: 'allow', tier: 'Default', reason: 'node-allowance' };
      }
    }
    if (adminFrom === 0) {
      const admin = walkClusterTier(selection.admin, ctx);
      if (admin.kind === 'decided') return decided(admin.rule);
      if (admin.kind === 'pass') passed.push(admin.rule);
    }
    const baseline = walkClusterTier(selection.baseline, ctx);
    if (baseline.kind === 'decided') return decided(baseline.rule);
    if (baseline.kind === 'pass') passed.push(baseline.rule);
    return { ...base, verdict: 'allow', tier: 'Default', reason: 'no-match' };
  }

  private allowancePort(direction: Direction, flow: Flow): boolean {
    if (flow.protocol !== 'TCP') return false;
    return direction === 'ingress' ? flow.dstPort === KUBELET_PORT : this.apiTcp.ports.has(flow.dstPort);
  }
}

/** What a cluster rule is matched against: every field of a direction but the pod subject. */
export type ClusterRuleContext = Omit<DirectionContext, 'subject'>;


/** walkClusterTier over the rules `keep` admits only. */
function walkRules(
  policies: readonly ClusterPolicy[],
  ctx: ClusterRuleContext,
  keep: (r: ClusterRule) => boolean,
): { kind: 'decided' | 'pass'; rule: RuleRef } | { kind: 'none' } {
  for (const policy of policies) {
    for (const rule of policy[ctx.direction]) {
      if (!keep(rule)) continue;
      const o = clusterRuleOutcome(policy, rule, ctx);
      if (!o.matches) continue;
      const ref = clusterRuleRef(policy, rule, o.action, o.failClosed);
      return { kind: o.action === 'Pass' ? 'pass' : 'decided', rule: ref };
    }
  }
  return { kind: 'none' };
}

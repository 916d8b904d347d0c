/**
 * Every policy that selects one pod, per direction and tier, with its rules in the pod's terms
 * (policy-assistant's "query-target"; the vote "I don't want to look at 10 or 100 policies to
 * figure out whether I have the right allow rules"). Evaluation order is kept: Admin policies
 * by priority, then the isolating NetworkPolicies by name, then Baseline, then what happens to
 * a flow nothing matched (default allow, or deny when NetworkPolicies isolate the pod and the
 * Baseline tier does not decide).
 *
 * Built on `applicablePolicies` (the same selection the evaluator makes). Staged policies are
 * not in force (model/staged.ts); ask with `withStagedInForce(cluster)` to include them.
 * Pure. Cost: linear in the policies.
 */
import { formatSelector, isEmptySelector } from '../model/labels.js';
import type { Cluster, ClusterPolicy, Direction, NetworkPolicy, ObjectRef, Pod } from '../model/types.js';
import { ruleFailsClosed } from '../model/cluster-rule.js';
import { applicablePolicies } from './applicable.js';
import {
  describeClusterPeer,
  describeClusterProtocols,
  describeNetworkPolicyPeers,
  describeNetworkPolicyPorts,
  describeSubject,
} from './describe.js';
import { EndpointIndex, podName } from './endpoints.js';
import { rulesOf } from './tiers.js';

export interface RuleSummary {
  readonly index: number;
  readonly name?: string;
  readonly action: 'Accept' | 'Deny' | 'Pass' | 'Redirect' | 'Allow';
  /** for ingress the sources, for egress the destinations */
  readonly peers: string;
  readonly ports: string;
  /** a peer or protocol entry has no known field, or a part is not enforced yet (model/cluster-rule.ts): Accept matches nothing, the others deny all */
  readonly failClosed?: true;
}

export interface PolicySummary {
  readonly policy: ObjectRef;
  readonly priority?: number;
  /** cluster tiers: the subject; NetworkPolicies: the podSelector */
  readonly selects: string;
  readonly rules: readonly RuleSummary[];
}

export interface DirectionTarget {
  readonly direction: Direction;
  readonly admin: readonly PolicySummary[];
  /** the NetworkPolicies that isolate the pod in this direction (empty: not isolated) */
  readonly networkPolicies: readonly PolicySummary[];
  /** listed always; reached only when no NetworkPolicy isolates the pod (the NetworkPolicy tier decides otherwise) */
  readonly baseline: readonly PolicySummary[];
  /** a flow that no rule matches: allowed by default, or denied because NetworkPolicies isolate the pod */
  readonly otherwise: 'allow' | 'deny';
}

export interface PodTarget {
  readonly pod: string;
  readonly ips: readonly string[];
  readonly node?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly namespaceLabels: Readonly<Record<string, string>>;
  readonly hostNetwork: boolean;
  readonly egress: DirectionTarget;
  readonly ingress: DirectionTarget;
}

export function queryTarget(cluster: Cluster, pod: Pod): PodTarget {
  const index = new EndpointIndex(cluster);
  const direction = (d: Direction): DirectionTarget => {
    const a = applicablePolicies(cluster, pod, d, index);
    return {
      direction: d,
      admin: a.admin.map((p) => clusterSummary(p, d)),
      networkPolicies: a.networkPolicies.map((np) => npSummary(np, d)),
      baseline: a.baseline.map((p) => clusterSummary(p, d)),
      otherwise: a.networkPolicies.length > 0 ? 'deny' : 'allow',
    };
  };
  return {
    pod: podName(pod),
    ips: pod.ips.map((ip) => ip.text),
    ...(pod.nodeName !== undefined ? { node: pod.nodeName } : {}),
    labels: pod.labels,
    namespaceLabels: index.labelsOfNamespace(pod.namespace),
    hostNetwork: pod.hostNetwork,
    egress: direction('egress'),
    ingress: direction('ingress'),
  };
}

function clusterSummary(p: ClusterPolicy, d: Direction): PolicySummary {
  return {
    policy: { kind: p.kind, name: p.name },
    priority: p.priority,
    selects: describeSubject(p.subject),
    rules: rulesOf(p, d).map((r) => ({
      index: r.index,
      ...(r.name !== undefined ? { name: r.name } : {}),
      action: r.action,
      peers: r.peers.map(describeClusterPeer).join('; '),
      ports: describeClusterProtocols(r.protocols),
      ...(ruleFailsClosed(r) ? { failClosed: true as const } : {}),
    })),
  };
}

function npSummary(np: NetworkPolicy, d: Direction): PolicySummary {
  return {
    policy: { kind: 'NetworkPolicy', namespace: np.namespace, name: np.name },
    selects: `${isEmptySelector(np.podSelector) ? 'every pod' : `pods ${formatSelector(np.podSelector)}`} in namespace ${np.namespace}`,
    rules: rulesOf(np, d).map((r, index) => ({
      index,
      action: 'Allow' as const,
      peers: describeNetworkPolicyPeers(r.peers, np.namespace),
      ports: describeNetworkPolicyPorts(r.ports),
    })),
  };
}

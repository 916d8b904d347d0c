/**
 * The normalized policy model: what every later stage (reference evaluator, resolver,
 * rule compiler, backends) reads. Built from validated manifests by `manifests/normalize.ts`.
 *
 * Invariants (established by validation + normalization, relied on everywhere after):
 * - Every value is already defaulted: NetworkPolicy `policyTypes` follows SetDefaults_NetworkPolicy,
 *   port protocols default to TCP, v1alpha1 ANP/BANP are mapped onto the ClusterNetworkPolicy shape
 *   (Allow -> Accept, `ports` -> `protocols`, ANP -> tier Admin, BANP -> tier Baseline).
 * - CIDRs are parsed and masked (`10.244.0.10/4` is stored as 0.0.0.0/4, as the API server's
 *   sloppy parsing reads it). `except` entries are strict subsets of their `cidr`.
 * - Empty versus absent is kept where it matters: `peers: null` means "all peers" (NetworkPolicy
 *   `from`/`to` absent or empty); `ports: null` / `protocols: null` mean "every port and protocol".
 * - Namespaces always carry `kubernetes.io/metadata.name` = their name, whatever the manifest says.
 * Everything here is plain read-only data; no stage mutates it.
 */

import type { AuditMark } from './audit.js';
import type { Cidr, IpAddr } from './ip.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];
export type Direction = 'ingress' | 'egress';

/** Where an object came from: the file and the 1-based line of its document. */
export interface Source {
  readonly file: string;
  readonly line?: number;
}

/** An object reference as people write it: kind and namespace/name. */
export interface ObjectRef {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

// ---- label selectors ----------------------------------------------------------------------

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
export interface SelectorRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: readonly string[];
}
/** metav1.LabelSelector; `{}` (no requirements) selects everything. */
export interface LabelSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly SelectorRequirement[];
}

// ---- inventory ----------------------------------------------------------------------------

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface Namespace {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly source: Source;
}

export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol: Protocol;
}

export interface Pod {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** status.podIPs (or status.podIP), in manifest order; at most one per family. */
  readonly ips: readonly IpAddr[];
  readonly hostNetwork: boolean;
  readonly nodeName?: string;
  readonly containerPorts: readonly ContainerPort[];
  readonly source: Source;
}

export interface Node {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Every address in status.addresses that parses as an IP (InternalIP, ExternalIP, ...). */
  readonly addresses: readonly IpAddr[];
  readonly source: Source;
}

export interface ServicePort {
  readonly name?: string;
  readonly protocol: Protocol;
  readonly port: number;
  readonly targetPort?: number | string;
  readonly nodePort?: number;
}
export interface Service {
  readonly namespace: string;
  readonly name: string;
  readonly selector?: Readonly<Record<string, string>>;
  readonly clusterIPs: readonly IpAddr[];
  /** spec.externalIPs; absent: none */
  readonly externalIPs?: readonly IpAddr[];
  /** status.loadBalancer.ingress[].ip; absent: none */
  readonly loadBalancerIPs?: readonly IpAddr[];
  readonly ports: readonly ServicePort[];
  readonly source: Source;
}
export interface EndpointSlice {
  readonly namespace: string;
  readonly name: string;
  readonly serviceName?: string;
  readonly addresses: readonly IpAddr[];
  readonly ports: readonly { name?: string; port?: number; protocol: Protocol }[];
  readonly source: Source;
}

export interface Inventory {
  readonly namespaces: readonly Namespace[];
  readonly pods: readonly Pod[];
  readonly nodes: readonly Node[];
  readonly services: readonly Service[];
  readonly endpointSlices: readonly EndpointSlice[];
}

// ---- NetworkPolicy (networking.k8s.io/v1) ---------------------------------------------------

export type NetworkPolicyPeer =
  | { readonly kind: 'ipBlock'; readonly cidr: Cidr; readonly except: readonly Cidr[] }
  | {
      readonly kind: 'selector';
      /** absent: the policy's own namespace. */
      readonly namespaceSelector?: LabelSelector;
      /** absent: every pod of the selected namespaces. */
      readonly podSelector?: LabelSelector;
    };

export interface NetworkPolicyPort {
  readonly protocol: Protocol;
  /** absent: every port of `protocol`. */
  readonly port?: number | string;
  /** only with a numeric `port`; inclusive. */
  readonly endPort?: number;
}

export interface NetworkPolicyRule {
  /** null: `from`/`to` absent or empty, matches every peer (pods and non-pods). */
  readonly peers: readonly NetworkPolicyPeer[] | null;
  /** null: `ports` absent or empty, matches every port and protocol. */
  readonly ports: readonly NetworkPolicyPort[] | null;
}

export interface NetworkPolicy {
  readonly kind: 'NetworkPolicy';
  readonly namespace: string;
  readonly name: string;
  readonly podSelector: LabelSelector;
  /** defaulted (SetDefaults_NetworkPolicy). */
  readonly policyTypes: readonly ('Ingress' | 'Egress')[];
  readonly ingress: readonly NetworkPolicyRule[];
  readonly egress: readonly NetworkPolicyRule[];
  /** marked staged (`model/staged.ts`): evaluated for reports, never enforced */
  readonly staged?: true;
  /** rules whose allowed flows are logged too (`model/audit.ts`) */
  readonly audit?: AuditMark;
  readonly source: Source;
}

// ---- ClusterNetworkPolicy (v1alpha2) and AdminNetworkPolicy / BaselineAdminNetworkPolicy (v1alpha1)

export type Tier = 'Admin' | 'Baseline';
/** `Redirect`: PalisadeClusterNetworkPolicy egress rules only (S14; `ClusterRule.redirect`). */
export type ClusterAction = 'Accept' | 'Deny' | 'Pass' | 'Redirect';
/**
 * `PalisadeClusterNetworkPolicy` (policy.palisade.dev/v1alpha1, docs/extension-kind.md): the
 * superset of ClusterNetworkPolicy; the only kind whose policies carry the members marked
 * "PalisadeClusterNetworkPolicy only" below.
 */
export type ClusterPolicyKind = 'ClusterNetworkPolicy' | 'AdminNetworkPolicy' | 'BaselineAdminNetworkPolicy' | 'PalisadeClusterNetworkPolicy';

/** A Service by namespace and name (PalisadeClusterNetworkPolicy `services` subjects and peers, `redirect`). */
export interface ServiceRef {
  readonly namespace: string;
  readonly name: string;
}

/** Built-in address groups of a PalisadeClusterNetworkPolicy `entities` peer. */
export type ClusterEntity =
  /** every pod IP, node address and Service address (ClusterIP, external, load-balancer) of the inventory (S16) */
  'Cluster';
export const CLUSTER_ENTITIES: readonly ClusterEntity[] = ['Cluster'];

/** A Service by namespace and name (PalisadeClusterNetworkPolicy `services` subjects and peers, `redirect`). */
export interface ServiceRef {
  readonly namespace: string;
  readonly name: string;
}

export type ClusterSubject =
  | { readonly kind: 'namespaces'; readonly namespaceSelector: LabelSelector }
  | {
      readonly kind: 'pods';
      readonly namespaceSelector: LabelSelector;
      readonly podSelector: LabelSelector;
      /**
       * PalisadeClusterNetworkPolicy only (S7): only pods whose spec.nodeName is a Node this
       * selects. Absent: pods on any node (and pods not scheduled yet).
       */
      readonly nodeSelector?: LabelSelector;
    }
  /** PalisadeClusterNetworkPolicy only (S20): the node itself (host traffic), by node labels. */
  | { readonly kind: 'nodes'; readonly nodeSelector: LabelSelector }
  /** PalisadeClusterNetworkPolicy only (S4): traffic to these Services (ingress rules only). */
  | { readonly kind: 'services'; readonly services: readonly ServiceRef[] };

export type ClusterPeer =
  | { readonly kind: 'namespaces'; readonly namespaceSelector: LabelSelector }
  | { readonly kind: 'pods'; readonly namespaceSelector: LabelSelector; readonly podSelector: LabelSelector }
  | { readonly kind: 'nodes'; readonly nodeSelector: LabelSelector }
  | { readonly kind: 'networks'; readonly cidrs: readonly Cidr[] }
  | { readonly kind: 'domainNames'; readonly domainNames: readonly string[] }
  /** PalisadeClusterNetworkPolicy only (S4, S9, S15): the Services' addresses (docs/extension-semantics.md). */
  | { readonly kind: 'services'; readonly services: readonly ServiceRef[] }
  /** PalisadeClusterNetworkPolicy only (S16): built-in address groups. */
  | { readonly kind: 'entities'; readonly entities: readonly ClusterEntity[] }
  /** A peer with no known field: an object from a newer API version. Fails closed. */
  | { readonly kind: 'unknown'; readonly fields: readonly string[] };

export type ClusterProtocolMatch =
  /**
   * `portStart`/`portEnd` absent: every destination port of the protocol. Inclusive range.
   * `srcPortStart`/`srcPortEnd` (PalisadeClusterNetworkPolicy `sourcePort` only, S25): the
   * flow's source port must also be in this inclusive range; absent: any source port.
   */
  | {
      readonly kind: 'port';
      readonly protocol: Protocol;
      readonly portStart?: number;
      readonly portEnd?: number;
      readonly srcPortStart?: number;
      readonly srcPortEnd?: number;
    }
  /** destinationNamedPort / v1alpha1 namedPort: resolved against the destination pod's containerPorts. */
  | { readonly kind: 'namedPort'; readonly name: string }
  /** An entry with no known field (a protocol from a newer API version). Fails closed. */
  | { readonly kind: 'unknown'; readonly fields: readonly string[] };

/** Where a Redirect rule sends a matching flow: the Service, and its port (absent: the flow's destination port). */
export interface ClusterRedirect {
  readonly service: ServiceRef;
  readonly port?: number;
}

export interface ClusterRule {
  /** 0-based position in the policy's ingress or egress list. */
  readonly index: number;
  readonly name?: string;
  readonly action: ClusterAction;
  /** PalisadeClusterNetworkPolicy only: present iff `action` is `Redirect` (egress rules, S14). */
  readonly redirect?: ClusterRedirect;
  readonly peers: readonly ClusterPeer[];
  /** null: `protocols` / `ports` unset, every port and protocol. */
  readonly protocols: readonly ClusterProtocolMatch[] | null;
}

export interface ClusterPolicy {
  /** The kind as written (AdminNetworkPolicy / BaselineAdminNetworkPolicy stay visible in explain). */
  readonly kind: ClusterPolicyKind;
  readonly name: string;
  readonly tier: Tier;
  /** 0..1000; a v1alpha1 BaselineAdminNetworkPolicy (no priority) sorts after every Baseline CNP. */
  readonly priority: number;
  readonly subject: ClusterSubject;
  readonly ingress: readonly ClusterRule[];
  readonly egress: readonly ClusterRule[];
  /** marked staged (`model/staged.ts`): evaluated for reports, never enforced */
  readonly staged?: true;
  /** rules whose allowed flows are logged too (`model/audit.ts`) */
  readonly audit?: AuditMark;
  readonly source: Source;
}

/** Priority given to a v1alpha1 BANP so that it sorts after every Baseline CNP (which are <= 1000). */
export const BANP_PRIORITY = 1001;

export interface PolicySet {
  readonly networkPolicies: readonly NetworkPolicy[];
  readonly clusterPolicies: readonly ClusterPolicy[];
}

/**
 * Everything a manifest set describes. `networkPolicies` and `clusterPolicies` are the policies
 * in force; staged policies (`model/staged.ts`) are kept apart in `staged`, so no stage that
 * enforces can pick one up by reading the usual lists. Absent `staged`: none.
 */
export interface Cluster extends Inventory, PolicySet {
  readonly staged?: PolicySet;
}

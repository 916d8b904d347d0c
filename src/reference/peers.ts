/**
 * Peer matching: does the other end of a flow (the destination for egress, the source for
 * ingress) match a NetworkPolicy peer or a cluster-tier peer?
 *
 * NetworkPolicy (networkpolicy-v1-semantics.md §4-§6, §12):
 * - `ipBlock` matches any address in `cidr` and in no `except` entry, pods included (§6.2);
 *   only addresses of the CIDR's own family (§6.6, §12).
 * - Selector peers match only non-host-network pods (§4 last paragraph, §9.3 (b)):
 *   `namespaceSelector` (absent: the policy's own namespace) AND `podSelector` (absent: every pod).
 * - `peers: null` (`from`/`to` absent or empty) matches every peer, pods and non-pods (§4 table).
 *
 * Cluster tiers (network-policy-api.md §1.3-§1.5):
 * - `namespaces`: pods in selected namespaces; `pods`: namespaceSelector AND podSelector.
 *   Host-network pods are never matched by these (§1.5 point 4).
 * - `nodes`: any address in `status.addresses` of a selected node (this covers host-network pods).
 * - `networks`: any address in any CIDR of the flow's family, pod addresses included (§1.5 point 5).
 * - `domainNames`: matches nothing until FQDN support lands (the caller adds a note).
 * - `services` (PalisadeClusterNetworkPolicy, docs/extension-semantics.md): for egress, the
 *   destination address, protocol and destination port form a service tuple of a named Service
 *   (its endpoints on their slice ports, its ClusterIPs / external / load-balancer IPs on the
 *   service ports, every node address on its node ports); for ingress, the source address is an
 *   endpoint address of a named Service (any port).
 * - `entities: [Cluster]` (PalisadeClusterNetworkPolicy, S16): any address of the inventory
 *   (`EndpointIndex.isClusterAddress`: every pod IP, node address and Service address).
 * - `unknown`: handled by the caller (fail closed on the whole rule).
 *
 * Pure functions over read-only data. Cost: linear in selectors, CIDRs and selected nodes.
 */
import { cidrContains, sameIp, type IpAddr } from '../model/ip.js';
import { selects } from '../model/labels.js';
import { tupleCovers } from '../model/services.js';
import type { Cluster, ClusterPeer, Direction, NetworkPolicyPeer, Pod, Protocol, ServiceRef } from '../model/types.js';
import type { EndpointIndex } from './endpoints.js';

/** The other end of the flow, as peer matching needs it. */
export interface PeerView {
  /** the address the flow uses for the peer */
  readonly ip: IpAddr;
  /** the non-host-network pod owning `ip`, if any */
  readonly pod?: Pod;
}

export function networkPolicyPeersMatch(
  peers: readonly NetworkPolicyPeer[] | null,
  policyNamespace: string,
  peer: PeerView,
  index: EndpointIndex,
): boolean {
  if (peers === null) return true;
  return peers.some((p) => networkPolicyPeerMatches(p, policyNamespace, peer, index));
}

export function networkPolicyPeerMatches(
  p: NetworkPolicyPeer,
  policyNamespace: string,
  peer: PeerView,
  index: EndpointIndex,
): boolean {
  if (p.kind === 'ipBlock') {
    return cidrContains(p.cidr, peer.ip) && !p.except.some((e) => cidrContains(e, peer.ip));
  }
  const pod = peer.pod;
  if (!pod) return false;
  const nsOk = p.namespaceSelector
    ? selects(p.namespaceSelector, index.labelsOfNamespace(pod.namespace))
    : pod.namespace === policyNamespace;
  const podOk = p.podSelector ? selects(p.podSelector, pod.labels) : true;
  return nsOk && podOk;
}

/** What a `services` peer needs of the flow besides the peer's address. */
export interface FlowPort {
  readonly direction: Direction;
  readonly protocol: Protocol;
  readonly dstPort: number;
}

/** The named Service a `services` peer matches the flow's other end through (the first), if any. */
export function matchingService(
  services: readonly ServiceRef[],
  peer: PeerView,
  flow: FlowPort,
  index: EndpointIndex,
): ServiceRef | undefined {
  if (flow.direction === 'ingress') return services.find((r) => index.serviceSources(r).some((a) => sameIp(a, peer.ip)));
  return services.find((r) => index.serviceTuples(r).some((t) => tupleCovers(t, peer.ip, flow.protocol, flow.dstPort)));
}

/** A known cluster peer (not `unknown`; `domainNames` always false). */
export function clusterPeerMatches(p: ClusterPeer, peer: PeerView, index: EndpointIndex, cluster: Cluster, flow: FlowPort): boolean {
  switch (p.kind) {
    case 'namespaces':
      return peer.pod !== undefined && selects(p.namespaceSelector, index.labelsOfNamespace(peer.pod.namespace));
    case 'pods':
      return (
        peer.pod !== undefined &&
        selects(p.namespaceSelector, index.labelsOfNamespace(peer.pod.namespace)) &&
        selects(p.podSelector, peer.pod.labels)
      );
    case 'nodes':
      return cluster.nodes.some((n) => selects(p.nodeSelector, n.labels) && n.addresses.some((a) => sameIp(a, peer.ip)));
    case 'networks':
      return p.cidrs.some((c) => cidrContains(c, peer.ip));
    case 'services':
      return matchingService(p.services, peer, flow, index) !== undefined;
    case 'entities':
      return p.entities.some((e) => e === 'Cluster' && index.isClusterAddress(peer.ip));
    case 'domainNames':
      return false;
    case 'unknown':
      // fail closed: the caller decides the whole rule (model/cluster-rule.ts)
      return false;
  }
}

/**
 * Port and protocol matching for NetworkPolicy `ports` and cluster-tier `protocols`.
 *
 * Rules:
 * - `null` (field absent or empty) matches every port of every protocol
 *   (NetworkPolicy: SPEC "If this field is empty or missing, this rule matches all ports";
 *   ClusterNetworkPolicy: "If this field is not specified, this rule matches all ports and protocols").
 * - A numeric entry matches its own protocol and `port <= dstPort <= endPort` (endPort absent: == port);
 *   an entry without a port matches every port of its protocol (networkpolicy-v1-semantics.md §7.1-§7.3, §7.6).
 * - A named port resolves against the DESTINATION pod of the flow (for ingress: the subject; for egress:
 *   the peer): it matches when that pod declares a containerPort with that name, the flow's protocol
 *   and number == dstPort (for NetworkPolicy the entry's protocol must also equal the flow's).
 *   A destination that is not a pod (external address, node, host-network pod) never matches a named
 *   port (§7.4, §7.5).
 * - A cluster-tier `sourcePort` (PalisadeClusterNetworkPolicy) also requires the flow's source
 *   port in its inclusive range.
 * - A cluster-tier protocol entry with no known field cannot be matched here; `tiers.ts` applies
 *   fail-closed to the whole rule (CRD doc on unknown fields; NPEP-187).
 *
 * Pure functions. Cost: linear in the entries and the destination pod's container ports.
 */
import type { ClusterProtocolMatch, NetworkPolicyPort, Pod, Protocol } from '../model/types.js';

/** Does the destination pod declare `name` with this protocol and number? */
export function namedPortMatches(dstPod: Pod | undefined, name: string, protocol: Protocol, dstPort: number): boolean {
  if (!dstPod) return false;
  return dstPod.containerPorts.some((cp) => cp.name === name && cp.protocol === protocol && cp.containerPort === dstPort);
}

/** NetworkPolicyPort list; `dstPod` is the flow's destination when it is a (non-host-network) pod. */
export function networkPolicyPortsMatch(
  ports: readonly NetworkPolicyPort[] | null,
  protocol: Protocol,
  dstPort: number,
  dstPod: Pod | undefined,
): boolean {
  if (ports === null) return true;
  return ports.some((e) => {
    if (e.protocol !== protocol) return false;
    if (e.port === undefined) return true;
    if (typeof e.port === 'number') return e.port <= dstPort && dstPort <= (e.endPort ?? e.port);
    return namedPortMatches(dstPod, e.port, protocol, dstPort);
  });
}

/**
 * One known cluster-tier protocol entry (`kind` `port` or `namedPort`). A `sourcePort`
 * (PalisadeClusterNetworkPolicy, S25) matches only a flow whose source port is known and in
 * range: `srcPort` undefined (the question did not say) matches no source-port entry, as the
 * classifiers read an absent source port as 0, which no range (1..65535) holds.
 */
export function clusterProtocolMatches(
  entry: ClusterProtocolMatch,
  protocol: Protocol,
  dstPort: number,
  srcPort: number | undefined,
  dstPod: Pod | undefined,
): boolean {
  switch (entry.kind) {
    case 'port':
      if (entry.protocol !== protocol) return false;
      if (entry.srcPortStart !== undefined) {
        if (srcPort === undefined || srcPort < entry.srcPortStart || srcPort > (entry.srcPortEnd ?? entry.srcPortStart)) return false;
      }
      if (entry.portStart === undefined) return true;
      return entry.portStart <= dstPort && dstPort <= (entry.portEnd ?? entry.portStart);
    case 'namedPort':
      return namedPortMatches(dstPod, entry.name, protocol, dstPort);
    case 'unknown':
      // Never reached: tiers.ts decides fail-closed rules before looking at protocols.
      return false;
  }
}

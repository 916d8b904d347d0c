/**
 * LINT_EGRESS_BLOCKS_DNS: NetworkPolicy egress isolation that leaves no way to DNS (UDP or TCP 53)
 * for the pods it selects, the most common surprise of a default-deny egress.
 *
 * How "allows DNS" is judged, per isolated pod, over every NetworkPolicy that isolates it for
 * egress (rules are a union, semantics doc §2): some egress rule must match port 53 of the
 * protocol and a peer that can be the DNS server.
 * - When the inventory has DNS pods (kube-system pods labelled k8s-app=kube-dns), the peer must
 *   match one of them exactly as the evaluator would (selectors, or ipBlock on the pod IP:
 *   policy sees the backend pod after Service DNAT, semantics doc §6.3 and §11), and a named
 *   port must name their port 53.
 * - Otherwise any ipBlock, a peer list that is absent, or a selector whose namespace part selects
 *   kube-system counts as reaching DNS (the lint cannot know more; it prefers silence to noise).
 * Only the NetworkPolicy tier is considered; an Admin-tier Accept for DNS is not looked at.
 * Pure; cost O(pods x policies x rules).
 */
import { cidrContains } from '../model/ip.js';
import { selects } from '../model/labels.js';
import type { Problem } from '../model/problems.js';
import type { Inventory, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicyRule, Pod, Protocol } from '../model/types.js';
import { byText, policyName, shortList, warning } from './problem.js';
import { namespaceLabels, npSelectedPods, policyPods } from './selection.js';

const DNS_PORT = 53;
const DNS_NAMESPACE = 'kube-system';

export function dnsPods(inv: Inventory): Pod[] {
  return policyPods(inv).filter((p) => p.namespace === DNS_NAMESPACE && p.labels['k8s-app'] === 'kube-dns');
}

export function lintDns(inv: Inventory, nps: readonly NetworkPolicy[]): Problem[] {
  const servers = dnsPods(inv);
  const egressPolicies = nps.filter((np) => np.policyTypes.includes('Egress'));
  // group the pods by (isolating policies, blocked protocols) so one warning covers them all
  const groups = new Map<string, { policies: NetworkPolicy[]; blocked: Protocol[]; pods: string[] }>();
  for (const pod of policyPods(inv)) {
    const isolating = egressPolicies
      .filter((np) => npSelectedPods(inv, np).includes(pod))
      .sort((a, b) => byText(a.name, b.name));
    if (isolating.length === 0) continue;
    const blocked = (['UDP', 'TCP'] as const).filter(
      (proto) => !isolating.some((np) => np.egress.some((r) => ruleAllowsDns(inv, np, r, proto, servers))),
    );
    if (blocked.length === 0) continue;
    const key = `${isolating.map((np) => `${np.namespace}/${np.name}`).join(',')}|${blocked.join(',')}`;
    const g = groups.get(key) ?? { policies: isolating, blocked, pods: [] };
    g.pods.push(`${pod.namespace}/${pod.name}`);
    groups.set(key, g);
  }
  const out: Problem[] = [];
  if (policyPods(inv).length === 0) {
    // no pods to judge: judge each policy alone
    for (const np of egressPolicies) {
      const blocked = (['UDP', 'TCP'] as const).filter((proto) => !np.egress.some((r) => ruleAllowsDns(inv, np, r, proto, servers)));
      if (blocked.length === 0) continue;
      const what = blocked.map((p) => `${p} ${DNS_PORT}`).join(' and ');
      out.push(
        warning(
          np,
          'LINT_EGRESS_BLOCKS_DNS',
          'spec.egress',
          `isolates the pods it selects for egress and no egress rule allows DNS (${what}) to ${DNS_NAMESPACE} or anywhere; ` +
            `unless another NetworkPolicy selecting the same pods allows it, name resolution will fail.`,
        ),
      );
    }
    return out;
  }
  for (const g of groups.values()) {
    const first = g.policies[0] as NetworkPolicy;
    const what = g.blocked.map((p) => `${p} ${DNS_PORT}`).join(' and ');
    const to = servers.length > 0 ? `the DNS pods (${shortList(servers.map((p) => `${p.namespace}/${p.name}`))})` : `${DNS_NAMESPACE} or anywhere`;
    out.push(
      warning(
        first,
        'LINT_EGRESS_BLOCKS_DNS',
        'spec.egress',
        `egress isolation blocks DNS (${what}) for ${g.pods.length} pod(s): ${shortList(g.pods)}; ` +
          `no egress rule of ${g.policies.map(policyName).join(', ')} allows ${what} to ${to}. ` +
          `Name resolution will fail; add an egress rule for UDP and TCP port 53 to the DNS pods.`,
      ),
    );
  }
  return out;
}

function ruleAllowsDns(inv: Inventory, np: NetworkPolicy, r: NetworkPolicyRule, proto: Protocol, servers: readonly Pod[]): boolean {
  if (servers.length > 0) {
    return servers.some((s) => portMatches(r.ports, proto, s) && peersMatchPod(inv, np, r.peers, s));
  }
  return portMatches(r.ports, proto, undefined) && (r.peers === null || r.peers.some((p) => peerMayBeDns(inv, np, p)));
}

function portMatches(ports: readonly NetworkPolicyPort[] | null, proto: Protocol, server: Pod | undefined): boolean {
  if (ports === null) return true;
  return ports.some((e) => {
    if (e.protocol !== proto) return false;
    if (e.port === undefined) return true;
    if (typeof e.port === 'number') return e.port <= DNS_PORT && DNS_PORT <= (e.endPort ?? e.port);
    // a named port: resolved on the destination pod (semantics doc §7.4)
    return server === undefined || server.containerPorts.some((c) => c.name === e.port && c.protocol === proto && c.containerPort === DNS_PORT);
  });
}

function peersMatchPod(inv: Inventory, np: NetworkPolicy, peers: readonly NetworkPolicyPeer[] | null, pod: Pod): boolean {
  if (peers === null) return true;
  return peers.some((peer) => {
    if (peer.kind === 'ipBlock') {
      return pod.ips.some((ip) => cidrContains(peer.cidr, ip) && !peer.except.some((e) => cidrContains(e, ip)));
    }
    const nsOk = peer.namespaceSelector ? selects(peer.namespaceSelector, namespaceLabels(inv, pod.namespace)) : pod.namespace === np.namespace;
    return nsOk && (peer.podSelector ? selects(peer.podSelector, pod.labels) : true);
  });
}

function peerMayBeDns(inv: Inventory, np: NetworkPolicy, peer: NetworkPolicyPeer): boolean {
  if (peer.kind === 'ipBlock') return true;
  if (peer.namespaceSelector === undefined) return np.namespace === DNS_NAMESPACE;
  return selects(peer.namespaceSelector, namespaceLabels(inv, DNS_NAMESPACE));
}

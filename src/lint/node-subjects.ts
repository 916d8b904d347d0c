/**
 * LINT_NODE_SUBJECT_CUTS_API_SERVER: an Admin rule of a node-subject policy
 * (PalisadeClusterNetworkPolicy `subject.nodes`, S20) that names the API server's port
 * explicitly with action Deny or Redirect, and whose peer covers an API server address: it
 * narrows the built-in allowance on purpose (docs/extension-semantics.md, "Nodes": only a rule
 * that writes the port down does), so the selected nodes lose their API server (kubelet, the
 * agent itself). Warned, since that is almost never meant.
 *
 * The API server: the `default/kubernetes` Service's ClusterIPs on its ports, and its
 * EndpointSlices' addresses on their ports; with no such Service in the inventory, TCP 443 and
 * 6443 to any address (the usual ports). Peers that cover an address: `networks` containing
 * it, `services` naming default/kubernetes, `entities: [Cluster]`, `nodes` selecting a node
 * that lists it. Pure; cost O(policies x rules x API server addresses).
 */
import { cidrContains, type IpAddr } from '../model/ip.js';
import { selects } from '../model/labels.js';
import type { Problem } from '../model/problems.js';
import type { Cluster, ClusterPeer, ClusterPolicy, ClusterRule } from '../model/types.js';
import { warning } from './problem.js';
import { apiServerTcp, namesTcpPort } from '../model/node-allowance.js';

interface ApiServer {
  /** undefined: not in the inventory (any address counts) */
  readonly addresses?: readonly IpAddr[];
  readonly tcpPorts: ReadonlySet<number>;
}

function apiServer(c: Cluster): ApiServer {
  const api = apiServerTcp(c.services, c.endpointSlices);
  if (api.addresses.length === 0) return { tcpPorts: new Set([443, 6443]) };
  return { addresses: api.addresses, tcpPorts: new Set(api.ports) };
}

function peerCovers(c: Cluster, peer: ClusterPeer, api: ApiServer): boolean {
  const some = (f: (ip: IpAddr) => boolean): boolean => api.addresses === undefined || api.addresses.some(f);
  switch (peer.kind) {
    case 'networks':
      return some((ip) => peer.cidrs.some((cidr) => cidrContains(cidr, ip)));
    case 'services':
      return peer.services.some((s) => s.namespace === 'default' && s.name === 'kubernetes');
    case 'entities':
      return true;
    case 'nodes':
      return some((ip) => c.nodes.some((n) => selects(peer.nodeSelector, n.labels) && n.addresses.some((a) => a.text === ip.text)));
    default:
      return false;
  }
}

/** The API server port this rule names explicitly (one TCP destination port), if any. */
function explicitApiPort(r: ClusterRule, api: ApiServer): number | undefined {
  return [...api.tcpPorts].find((port) => namesTcpPort(r, port));
}

export function lintNodeSubjects(c: Cluster, cps: readonly ClusterPolicy[]): Problem[] {
  const out: Problem[] = [];
  let api: ApiServer | undefined;
  for (const p of cps) {
    if (p.subject.kind !== 'nodes' || p.tier !== 'Admin') continue;
    for (const r of p.egress) {
      if (r.action !== 'Deny' && r.action !== 'Redirect') continue;
      api ??= apiServer(c);
      const port = explicitApiPort(r, api);
      if (port === undefined) continue;
      const j = r.peers.findIndex((peer) => peerCovers(c, peer, api!));
      if (j < 0) continue;
      const rule = `egress[${r.index}]${r.name !== undefined ? ` (${JSON.stringify(r.name)})` : ''}`;
      out.push(
        warning(
          p,
          'LINT_NODE_SUBJECT_CUTS_API_SERVER',
          `spec.egress[${r.index}].to[${j}]`,
          `rule ${rule} (${r.action}) names TCP ${port}, an API server port, for the nodes this policy selects: it overrides the built-in allowance, so those nodes (their kubelet, the agent) lose the API server. Remove the port, or narrow the peer, unless this is meant.`,
        ),
      );
    }
  }
  return out;
}

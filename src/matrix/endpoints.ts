/**
 * The endpoints of a truth table and their addresses: every pod of the inventory (host-network
 * pods included) and, optionally, extra addresses (an external server, a metadata service).
 *
 * Invariants: at most one address per family per endpoint. A pod's addresses are
 * `status.podIPs`; a host-network pod resolves to its node's addresses (the addresses it
 * listens on): the node's first address of each family, preferring one the pod itself reports.
 * Endpoints are ordered by `namespace/name`, then the extra addresses in the order given.
 * Pure; cost O(pods + nodes).
 */
import { sameIp, type Family, type IpAddr } from '../model/ip.js';
import type { Cluster, Node, Pod } from '../model/types.js';

export interface MatrixEndpoint {
  /** `namespace/name` for a pod, the address text for an extra address */
  readonly label: string;
  readonly kind: 'pod' | 'host-network-pod' | 'address';
  /** one per family at most, IPv4 first */
  readonly addrs: readonly IpAddr[];
}

export const podLabel = (p: Pick<Pod, 'namespace' | 'name'>): string => `${p.namespace}/${p.name}`;

/** The addresses a pod is reached at, one per family, IPv4 first. */
export function podAddresses(pod: Pod, nodesByName: ReadonlyMap<string, Node>): IpAddr[] {
  const out: IpAddr[] = [];
  for (const family of [4, 6] as const) {
    const own = pod.ips.find((ip) => ip.family === family);
    if (!pod.hostNetwork) {
      if (own) out.push(own);
      continue;
    }
    const node = pod.nodeName !== undefined ? nodesByName.get(pod.nodeName) : undefined;
    const nodeAddrs = node ? node.addresses.filter((a) => a.family === family) : [];
    const chosen = (own && nodeAddrs.find((a) => sameIp(a, own))) ?? nodeAddrs[0] ?? own;
    if (chosen) out.push(chosen);
  }
  return out;
}

export function nodesByName(cluster: Pick<Cluster, 'nodes'>): Map<string, Node> {
  return new Map(cluster.nodes.map((n) => [n.name, n]));
}

export function matrixEndpoints(cluster: Pick<Cluster, 'pods' | 'nodes'>, extra: readonly IpAddr[] = []): MatrixEndpoint[] {
  const nodes = nodesByName(cluster);
  const pods = [...cluster.pods].sort((a, b) => compareText(podLabel(a), podLabel(b)));
  const out: MatrixEndpoint[] = pods.map((p) => ({
    label: podLabel(p),
    kind: p.hostNetwork ? 'host-network-pod' : 'pod',
    addrs: podAddresses(p, nodes),
  }));
  for (const ip of extra) out.push({ label: ip.text, kind: 'address', addrs: [ip] });
  return out;
}

/** The address pair a flow between two endpoints uses: the requested family, or the first family both have (IPv4 first). */
export function pickPair(
  from: Pick<MatrixEndpoint, 'addrs'>,
  to: Pick<MatrixEndpoint, 'addrs'>,
  family?: Family,
): { src: IpAddr; dst: IpAddr } | null {
  for (const f of family !== undefined ? [family] : ([4, 6] as const)) {
    const src = from.addrs.find((a) => a.family === f);
    const dst = to.addrs.find((a) => a.family === f);
    if (src && dst) return { src, dst };
  }
  return null;
}

/** Plain code-unit order, so output does not depend on the locale. */
export const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

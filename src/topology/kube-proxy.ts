/**
 * kube-proxy's part of the test topology: the ClusterIP, external IP, load-balancer IP and
 * NodePort DNAT rules kube-proxy's nftables mode writes, in their own tables (`ip kube-proxy`,
 * `ip6 kube-proxy`) of the node namespace, so tests send real traffic to Service frontends
 * (docs/extension-semantics.md, "Before or after kube-proxy's DNAT").
 *
 * Shape (after kube-proxy pkg/proxy/nftables, trimmed to what DNAT needs):
 *   chain nat-prerouting { type nat hook prerouting priority dstnat; jump services }
 *   chain nat-output     { type nat hook output priority dstnat; jump services }
 *   chain services {
 *     ip daddr . meta l4proto . th dport vmap @service-ips
 *     fib daddr type local meta l4proto . th dport vmap @service-nodeports
 *   }
 *   chain svc-N-P  { numgen random mod K vmap { 0 : goto ep-N-P-0, ... } }   one per Service port
 *   chain ep-N-P-E { meta l4proto tcp dnat to ADDR:PORT }                     one per endpoint
 * The target port of a Service port is the port of the same name and protocol in the Service's
 * EndpointSlices (as kube-proxy pairs them). A Service port without endpoints gets no map
 * entry (kube-proxy would reject it; here the packet goes on undelivered). No masquerade: pods
 * route through the node, so replies come back through the same conntrack entry.
 *
 * Invariants: every address written is a test address (topology.ts assertTestAddress); chain
 * names are generated (`svc-<service index>-<port index>`), never taken from the inventory; the
 * ruleset goes to `nft -j` as one JSON argument (no nft text built from input). `remove` deletes the two
 * tables only.
 * Cost: one `nft -j` per install (a few ms for tens of Services).
 * Thread-safety: none needed; one call per topology.
 */
import { PalisadeError } from '../model/errors.js';
import { findService, slicesOf } from '../model/services.js';
import type { Cluster, Protocol } from '../model/types.js';
import type { Family, IpAddr } from '../model/ip.js';
import { nsExec } from './netns.js';
import { assertTestAddress } from './topology.js';

export const KUBE_PROXY_TABLE = 'kube-proxy';
/** priority `dstnat` */
export const DSTNAT_PRIORITY = -100;

type Json = Record<string, unknown>;
const FAMILY = { 4: 'ip', 6: 'ip6' } as const;
const proto = (p: Protocol): string => p.toLowerCase();

/** One DNAT frontend: what kube-proxy matches, and the endpoints it translates to. */
export interface ServiceFrontend {
  readonly service: string;
  readonly family: Family;
  readonly protocol: Protocol;
  /** ClusterIP / external / load-balancer address and service port; absent for a node port */
  readonly address?: IpAddr;
  readonly port: number;
  readonly nodePort: boolean;
  readonly endpoints: readonly { readonly ip: IpAddr; readonly port: number }[];
}

/** The frontends kube-proxy would program for the cluster's Services (pure). */
export function kubeProxyFrontends(cluster: Pick<Cluster, 'services' | 'endpointSlices'>): ServiceFrontend[] {
  const out: ServiceFrontend[] = [];
  for (const svc of cluster.services) {
    if (findService(svc, cluster.services) !== svc) continue; // a duplicate name: the first counts
    const slices = slicesOf(svc, cluster.endpointSlices);
    for (const sp of svc.ports) {
      for (const family of [4, 6] as const) {
        const endpoints = slices.flatMap((s) => {
          const port = s.ports.find((p) => (p.name ?? '') === (sp.name ?? '') && p.protocol === sp.protocol)?.port;
          return port === undefined ? [] : s.addresses.filter((a) => a.family === family).map((ip) => ({ ip, port }));
        });
        const fronts = [...svc.clusterIPs, ...(svc.externalIPs ?? []), ...(svc.loadBalancerIPs ?? [])].filter((a) => a.family === family);
        const name = `${svc.namespace}/${svc.name}`;
        for (const address of fronts) out.push({ service: name, family, protocol: sp.protocol, address, port: sp.port, nodePort: false, endpoints });
        if (sp.nodePort !== undefined && sp.nodePort !== 0) {
          out.push({ service: name, family, protocol: sp.protocol, port: sp.nodePort, nodePort: true, endpoints });
        }
      }
    }
  }
  return out;
}

/** The nft JSON ruleset (both tables) for the frontends; pure. */
export function kubeProxyRuleset(frontends: readonly ServiceFrontend[]): { nftables: Json[] } {
  const cmds: Json[] = [];
  for (const family of [4, 6] as const) {
    const fam = FAMILY[family];
    const table = { family: fam, table: KUBE_PROXY_TABLE };
    const mine = frontends.filter((f) => f.family === family);
    cmds.push({ add: { table: { family: fam, name: KUBE_PROXY_TABLE } } });
    // re-install from scratch: flush what a previous install left
    cmds.push({ delete: { table: { family: fam, name: KUBE_PROXY_TABLE } } });
    cmds.push({ add: { table: { family: fam, name: KUBE_PROXY_TABLE } } });
    for (const [name, hook] of [['nat-prerouting', 'prerouting'], ['nat-output', 'output']] as const) {
      cmds.push({ add: { chain: { ...table, name, type: 'nat', hook, prio: DSTNAT_PRIORITY, policy: 'accept' } } });
    }
    cmds.push({ add: { chain: { ...table, name: 'services' } } });
    const addrType = family === 4 ? 'ipv4_addr' : 'ipv6_addr';
    cmds.push({ add: { map: { ...table, name: 'service-ips', type: [addrType, 'inet_proto', 'inet_service'], map: 'verdict' } } });
    cmds.push({ add: { map: { ...table, name: 'service-nodeports', type: ['inet_proto', 'inet_service'], map: 'verdict' } } });
    for (const name of ['nat-prerouting', 'nat-output']) cmds.push({ add: { rule: { ...table, chain: name, expr: [{ jump: { target: 'services' } }] } } });
    const l4 = { meta: { key: 'l4proto' } };
    const dport = { payload: { protocol: 'th', field: 'dport' } };
    cmds.push({
      add: { rule: { ...table, chain: 'services', expr: [{ vmap: { key: { concat: [{ payload: { protocol: fam, field: 'daddr' } }, l4, dport] }, data: '@service-ips' } }] } },
    });
    cmds.push({
      add: {
        rule: {
          ...table,
          chain: 'services',
          expr: [
            { match: { op: '==', left: { fib: { result: 'type', flags: ['daddr'] } }, right: 'local' } },
            { vmap: { key: { concat: [l4, dport] }, data: '@service-nodeports' } },
          ],
        },
      },
    });
    const seenNodePorts = new Set<string>();
    mine.forEach((f, i) => {
      if (f.endpoints.length === 0) return;
      const chain = `svc-${family}-${i}`;
      cmds.push({ add: { chain: { ...table, name: chain } } });
      f.endpoints.forEach((e, k) => {
        assertTestAddress(e.ip, `endpoint of Service ${f.service}`);
        const ep = `${chain}-ep-${k}`;
        cmds.push({ add: { chain: { ...table, name: ep } } });
        cmds.push({
          add: { rule: { ...table, chain: ep, expr: [{ match: { op: '==', left: l4, right: proto(f.protocol) } }, { dnat: { addr: e.ip.text, port: e.port } }] } },
        });
      });
      const pick = f.endpoints.map((_, k) => [k, { goto: { target: `${chain}-ep-${k}` } }]);
      cmds.push({ add: { rule: { ...table, chain, expr: [{ vmap: { key: { numgen: { mode: 'random', mod: f.endpoints.length } }, data: { set: pick } } }] } } });
      if (f.nodePort) {
        const key = `${f.protocol}/${f.port}`;
        if (seenNodePorts.has(key)) return;
        seenNodePorts.add(key);
        cmds.push({ add: { element: { ...table, name: 'service-nodeports', elem: [[{ concat: [proto(f.protocol), f.port] }, { goto: { target: chain } }]] } } });
      } else {
        assertTestAddress(f.address!, `frontend of Service ${f.service}`);
        cmds.push({
          add: { element: { ...table, name: 'service-ips', elem: [[{ concat: [f.address!.text, proto(f.protocol), f.port] }, { goto: { target: chain } }]] } },
        });
      }
    });
  }
  return { nftables: [{ metainfo: { json_schema_version: 1 } }, ...cmds] };
}

/** Write kube-proxy's DNAT tables for the cluster's Services into the node namespace. */
export async function installKubeProxy(nodeNs: string, cluster: Pick<Cluster, 'services' | 'endpointSlices'>): Promise<ServiceFrontend[]> {
  const frontends = kubeProxyFrontends(cluster);
  const ruleset = kubeProxyRuleset(frontends);
  // one argv word of JSON (nft -j reads its command from the arguments; no shell, no nft text)
  const r = await nsExec(nodeNs, ['nft', '-j', JSON.stringify(ruleset)], { allowFailure: true });
  if (r.exitCode !== 0) throw new PalisadeError('ERR_PALISADE_TOPOLOGY', `kube-proxy tables in ${nodeNs}: nft -j failed: ${r.stderr.trim().slice(0, 2000)}`);
  return frontends;
}

/** Delete kube-proxy's tables from the node namespace (missing tables are not an error). */
export async function removeKubeProxy(nodeNs: string): Promise<void> {
  for (const fam of ['ip', 'ip6']) {
    await nsExec(nodeNs, ['nft', '-j', JSON.stringify({ nftables: [{ delete: { table: { family: fam, name: KUBE_PROXY_TABLE } } }] })], { allowFailure: true });
  }
}

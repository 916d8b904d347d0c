/**
 * The node topology (used by the tests and `palisade demo`): one
 * network namespace is the node; each non-host-network pod is a namespace joined to the node by a veth pair wired by the real CNI `ptp`
 * plugin with `host-local` IPAM, holding exactly its `status.podIPs` (IPv4 and/or IPv6).
 * Node addresses (and the IPs of host-network pods, which are node addresses) are put on the node
 * namespace's loopback (this kernel has no `dummy` link type), so host-network pods are processes
 * in the node namespace.
 *
 * Invariants:
 * - Every address lies in 10.244.0.0/16 or fd00:10:244::/48 (the brief's network-safety rule);
 *   anything else is refused before a namespace is made.
 * - Namespace names are `pal-<tag>-<pid>-...`; `destroy()` runs CNI DEL and deletes every namespace
 *   it created, also after a partial set-up (call it from `finally` / `afterAll`).
 * - IPv6 duplicate address detection is off in every namespace, so addresses work at once.
 * - Optional external addresses (neither pod nor node) live in one more namespace behind a veth.
 * - All pods are wired to the one node namespace whatever their `nodeName` (the enforcing node
 *   sees every flow); `nodeName` in the Topology says which Node object that namespace stands for.
 *
 * Cost: ~4 `ip` calls + one CNI ADD (~50 ms) per pod, run 6 at a time.
 */
import { PalisadeError } from '../model/errors.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cidrContains, parseCidr, parseIp, type Family, type IpAddr } from '../model/ip.js';
import type { Cluster } from '../model/types.js';
import { cniAdd, cniDel, POD_SUBNET_V4, POD_SUBNET_V6, type PodNetwork } from './cni.js';
import { mapLimit } from './exec.js';
import { createNetns, deleteNetns, ipIn, netnsPath, sysctlIn } from './netns.js';

/** Something that sends and receives probes: a pod namespace, or the node namespace. */
export interface Host {
  /** `namespace/name` for a pod, `node/<name>` for a node (host-network pods live there) */
  readonly name: string;
  readonly kind: 'pod' | 'node' | 'external';
  readonly netns: string;
  readonly ips: readonly IpAddr[];
}

export interface Topology {
  readonly tag: string;
  readonly nodeNs: string;
  readonly nodeNetnsPath: string;
  /** the Node object the node namespace stands for (the first node, or the one asked for) */
  readonly nodeName?: string;
  /** pods first (in cluster order), then the node; every address of the cluster appears once */
  readonly hosts: readonly Host[];
  destroy(): Promise<void>;
}

export interface TopologyOptions {
  /** short [a-z0-9] tag naming this run's namespaces */
  readonly tag: string;
  readonly nodeName?: string;
  /**
   * Addresses outside the cluster (neither pod nor node) to probe from and to: they live in one
   * extra namespace joined to the node by a plain veth pair (not CNI: it is not a pod), routed by
   * the node like any outside network. Must lie in the test ranges like every other address.
   */
  readonly externals?: readonly IpAddr[];
}

const SAFE = [parseCidr(POD_SUBNET_V4)!, parseCidr(POD_SUBNET_V6)!];
/** the node side of the veth pair to the external namespace */
export const EXT_IF = 'palext0';
/** where node addresses live (CONFIG_DUMMY is not set on this kernel) */
export const NODE_ADDR_IF = 'lo';

export function assertTestAddress(ip: IpAddr, what: string): void {
  if (!SAFE.some((c) => cidrContains(c, ip))) {
    throw new PalisadeError('ERR_PALISADE_TOPOLOGY', `${what}: address ${ip.text} is outside ${POD_SUBNET_V4} / ${POD_SUBNET_V6}; tests use only those`);
  }
}

/** A gateway (node side of every ptp link) that no pod or node of the cluster uses. */
function pickGateway(family: Family, used: ReadonlySet<string>): string {
  for (let i = 0xfffe; i > 0xff00; i--) {
    const text = family === 4 ? `10.244.255.${i & 0xff}` : `fd00:10:244:ffff::${i.toString(16)}`;
    if (family === 4 && (i & 0xff) === 0) continue;
    if (!used.has(parseIp(text)!.text)) return parseIp(text)!.text;
  }
  throw new PalisadeError('ERR_PALISADE_TOPOLOGY', 'no free gateway address');
}

export async function buildTopology(cluster: Cluster, opts: TopologyOptions): Promise<Topology> {
  if (!/^[a-z0-9]{1,12}$/.test(opts.tag)) throw new PalisadeError('ERR_PALISADE_TOPOLOGY', `tag must match [a-z0-9]{1,12}: ${opts.tag}`);
  const prefix = `pal-${opts.tag}-${process.pid}`;
  const nodeNs = `${prefix}-node`;

  const pods = cluster.pods.filter((p) => !p.hostNetwork && p.ips.length > 0);
  const nodeIps: IpAddr[] = [];
  const seen = new Set<string>();
  const addNodeIp = (ip: IpAddr): void => {
    if (!seen.has(ip.text)) nodeIps.push(ip);
    seen.add(ip.text);
  };
  for (const n of cluster.nodes) n.addresses.forEach(addNodeIp);
  for (const p of cluster.pods) if (p.hostNetwork) p.ips.forEach(addNodeIp);
  for (const p of pods) {
    for (const ip of p.ips) {
      assertTestAddress(ip, `pod ${p.namespace}/${p.name}`);
      if (seen.has(ip.text)) throw new PalisadeError('ERR_PALISADE_TOPOLOGY', `address ${ip.text} is used twice (pod ${p.namespace}/${p.name})`);
      seen.add(ip.text);
    }
  }
  nodeIps.forEach((ip) => assertTestAddress(ip, 'node'));
  (opts.externals ?? []).forEach((ip) => assertTestAddress(ip, 'external'));
  const used = new Set([...seen, ...(opts.externals ?? []).map((ip) => ip.text)]);
  const gateway = { 4: pickGateway(4, used), 6: pickGateway(6, used) };
  const nodeName = opts.nodeName ?? cluster.nodes[0]?.name;

  const dataDir = await mkdtemp(join(tmpdir(), `${prefix}-cni-`));
  const made: string[] = [];
  const wired: PodNetwork[] = [];
  let destroyed = false;
  const destroy = async (): Promise<void> => {
    if (destroyed) return;
    destroyed = true;
    await mapLimit(wired, 6, (p) => cniDel(nodeNs, p).catch(() => undefined));
    await mapLimit(made, 6, (ns) => deleteNetns(ns));
    await rm(dataDir, { recursive: true, force: true });
  };

  try {
    made.push(nodeNs);
    await createNetns(nodeNs);
    await sysctlIn(nodeNs, {
      'net.ipv4.ip_forward': 1,
      'net.ipv6.conf.all.forwarding': 1,
      'net.ipv6.conf.all.accept_dad': 0,
      'net.ipv6.conf.default.accept_dad': 0,
    });
    for (const ip of nodeIps) {
      const args = ['addr', 'add', `${ip.text}/${ip.family === 4 ? 32 : 128}`, 'dev', NODE_ADDR_IF];
      await ipIn(nodeNs, ip.family === 6 ? [...args, 'nodad'] : args);
    }

    const hosts: Host[] = [];
    await mapLimit(pods, 6, async (p, i) => {
      const podNs = `${prefix}-p${i}`;
      made.push(podNs);
      await createNetns(podNs);
      await sysctlIn(podNs, { 'net.ipv6.conf.all.accept_dad': 0, 'net.ipv6.conf.default.accept_dad': 0 });
      const net: PodNetwork = {
        podNs,
        containerId: `${prefix}-p${i}`,
        ifName: 'eth0',
        ips: p.ips,
        gateway,
        networkName: `${prefix}-net`,
        dataDir,
      };
      wired.push(net);
      await cniAdd(nodeNs, net);
      hosts[i] = { name: `${p.namespace}/${p.name}`, kind: 'pod', netns: podNs, ips: p.ips };
    });
    if (nodeIps.length > 0) hosts.push({ name: `node/${nodeName ?? 'node'}`, kind: 'node', netns: nodeNs, ips: nodeIps });
    const externals = (opts.externals ?? []).filter((ip) => !seen.has(ip.text));
    if (externals.length > 0) {
      const extNs = `${prefix}-ext`;
      made.push(extNs);
      await createNetns(extNs);
      await sysctlIn(extNs, { 'net.ipv6.conf.all.accept_dad': 0, 'net.ipv6.conf.default.accept_dad': 0 });
      await ipIn(nodeNs, ['link', 'add', EXT_IF, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', extNs]);
      for (const family of [4, 6] as const) {
        await ipIn(nodeNs, ['addr', 'add', `${gateway[family]}/${family === 4 ? 32 : 128}`, 'dev', EXT_IF, ...(family === 6 ? ['nodad'] : [])]);
      }
      await ipIn(nodeNs, ['link', 'set', EXT_IF, 'up']);
      await ipIn(extNs, ['link', 'set', 'eth0', 'up']);
      for (const ip of externals) {
        const host = `${ip.text}/${ip.family === 4 ? 32 : 128}`;
        await ipIn(extNs, ['addr', 'add', host, 'dev', 'eth0', ...(ip.family === 6 ? ['nodad'] : [])]);
        await ipIn(nodeNs, ['route', 'add', host, 'dev', EXT_IF]);
      }
      for (const family of [4, 6] as const) {
        if (!externals.some((ip) => ip.family === family)) continue;
        await ipIn(extNs, [family === 4 ? '-4' : '-6', 'route', 'add', 'default', 'via', gateway[family], 'dev', 'eth0', 'onlink']);
      }
      hosts.push({ name: 'external', kind: 'external', netns: extNs, ips: externals });
    }
    return {
      tag: opts.tag,
      nodeNs,
      nodeNetnsPath: netnsPath(nodeNs),
      ...(nodeName !== undefined ? { nodeName } : {}),
      hosts,
      destroy,
    };
  } catch (e) {
    await destroy();
    throw e;
  }
}

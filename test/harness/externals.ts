/**
 * External addresses worth probing for a cluster's policies: for every ipBlock / networks CIDR
 * inside the test ranges, one address in the CIDR and one in each `except` (the edges ipBlock
 * semantics turn on), plus one address no policy names. Never a pod or node address.
 * Deterministic; at most `maxPerFamily` per family. Pure.
 */
import { cidrContains, makeCidr, parseCidr, prefixMask, familyBits, type Cidr, type IpAddr } from '../../src/model/ip.js';
import type { Cluster } from '../../src/model/types.js';
import { POD_SUBNET_V4, POD_SUBNET_V6 } from '../../src/topology/cni.js';

const SAFE = [parseCidr(POD_SUBNET_V4)!, parseCidr(POD_SUBNET_V6)!];
const DEFAULTS = ['10.244.254.77', 'fd00:10:244:fe::77'];

function addrIn(c: Cidr, offset: bigint): IpAddr {
  const bits = BigInt(familyBits(c.family));
  const span = 1n << (bits - BigInt(c.prefixLen));
  const v = c.base + (span > offset ? offset : span - 1n);
  const cidr = makeCidr(c.family, v, familyBits(c.family));
  return { family: c.family, value: cidr.base, text: cidr.text.slice(0, cidr.text.indexOf('/')) };
}

export function externalCandidates(clusters: readonly Cluster[], maxPerFamily = 4): IpAddr[] {
  const taken = new Set<string>();
  for (const c of clusters) {
    for (const p of c.pods) p.ips.forEach((ip) => taken.add(ip.text));
    for (const n of c.nodes) n.addresses.forEach((ip) => taken.add(ip.text));
  }
  const cidrs: Cidr[] = [];
  for (const c of clusters) {
    for (const np of c.networkPolicies) {
      for (const rule of [...np.ingress, ...np.egress]) {
        for (const peer of rule.peers ?? []) if (peer.kind === 'ipBlock') cidrs.push(...peer.except, peer.cidr);
      }
    }
    for (const cp of c.clusterPolicies) {
      for (const rule of [...cp.ingress, ...cp.egress]) for (const peer of rule.peers) if (peer.kind === 'networks') cidrs.push(...peer.cidrs);
    }
  }
  const out: IpAddr[] = [];
  const add = (ip: IpAddr): void => {
    if (taken.has(ip.text) || !SAFE.some((s) => cidrContains(s, ip))) return;
    if (out.filter((x) => x.family === ip.family).length >= maxPerFamily) return;
    taken.add(ip.text);
    out.push(ip);
  };
  for (const t of DEFAULTS) add(addrIn(parseCidr(`${t}/${t.includes(':') ? 128 : 32}`)!, 0n));
  for (const c of cidrs) {
    // a high offset inside the prefix keeps clear of the low addresses pods usually get
    for (const off of [0xfe77n, 0x77n, 1n]) {
      const ip = addrIn(c, off & ~prefixMask(c.family, c.prefixLen));
      if (!taken.has(ip.text)) {
        add(ip);
        break;
      }
    }
  }
  return out;
}

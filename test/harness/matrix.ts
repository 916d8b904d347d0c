/**
 * The probe matrix: every ordered pair of addresses of one family (a pod or node address to
 * another, and to itself), for every planned protocol and destination port. Pure.
 * Size: (addresses per family)^2 x ports; the caller keeps it bounded.
 */
import type { IpAddr } from '../../src/model/ip.js';
import { PROTOCOLS } from '../../src/model/types.js';
import type { PortPlan, ProbeSpec } from '../../src/topology/probe.js';
import type { Host } from '../../src/topology/topology.js';

export function pairSpecs(hosts: readonly Host[], ports: PortPlan): ProbeSpec[] {
  const addrs: IpAddr[] = hosts.flatMap((h) => h.ips);
  const specs: ProbeSpec[] = [];
  for (const src of addrs) {
    for (const dst of addrs) {
      if (src.family !== dst.family) continue;
      for (const protocol of PROTOCOLS) {
        for (const dstPort of ports[protocol]) specs.push({ protocol, src, dst, dstPort });
      }
    }
  }
  return specs;
}

/** Where an address lives: the host that owns it. */
export function hostOf(hosts: readonly Host[], ip: IpAddr): Host | undefined {
  return hosts.find((h) => h.ips.some((x) => x.text === ip.text));
}

/** A reference Flow as the first packet the queue would see (IPv4/IPv6 + TCP/UDP/SCTP header). */
import type { IpAddr } from '../../src/model/ip.js';
import type { Flow } from '../../src/model/flow.js';
import { l4, SCTP, TCP, UDP, v4, v6 } from './packets.js';

const PROTO = { TCP, UDP, SCTP } as const;

export function addrBytes(ip: IpAddr): number[] {
  const n = ip.family === 4 ? 4 : 16;
  const out: number[] = [];
  let v = ip.value;
  for (let i = 0; i < n; i++) {
    out.unshift(Number(v & 0xffn));
    v >>= 8n;
  }
  return out;
}

export function flowPacket(f: Flow, defaultSrcPort = 40000): Uint8Array {
  const proto = PROTO[f.protocol];
  const body = l4(proto, f.srcPort ?? defaultSrcPort, f.dstPort);
  return f.src.family === 4
    ? v4({ proto, body, src: addrBytes(f.src), dst: addrBytes(f.dst) })
    : v6({ firstNext: proto, chain: [], body, src: addrBytes(f.src), dst: addrBytes(f.dst) });
}

/**
 * Crafted Ethernet frames for BPF_PROG_TEST_RUN: IPv4 / IPv6 (with extension headers and
 * fragments) carrying TCP, UDP, SCTP or ICMP, plus knobs to break them (truncation, bad IHL,
 * lying length fields). Checksums are not filled: the tc program does not verify them.
 */
import { parseIp } from '../../src/model/ip.js';

export type L4 = 'tcp' | 'udp' | 'sctp' | 'icmp' | 'raw';

export interface PacketSpec {
  readonly src: string;
  readonly dst: string;
  readonly l4: L4;
  readonly srcPort?: number;
  readonly dstPort?: number;
  /** ICMP type (echo request by default) and echo id */
  readonly icmpType?: number;
  /** for an ICMP error: the packet it quotes (its IP header onwards is appended) */
  readonly quote?: PacketSpec;
  readonly icmpId?: number;
  /** TCP flags byte (default 0x02, SYN: a new connection; 0x12 SYN-ACK, 0x10 ACK) */
  readonly tcpFlags?: number;
  /** IP protocol number for l4 'raw' */
  readonly proto?: number;
  /** IPv4 fragment: offset in 8-byte units and More Fragments; IPv6: a fragment header */
  readonly frag?: { readonly offset: number; readonly more: boolean; readonly id: number };
  /** IPv6 extension headers before L4 (or before the fragment header): next-header numbers */
  readonly ext6?: readonly number[];
  readonly payload?: number;
  /** cut the frame to this many bytes after building */
  readonly truncateTo?: number;
  /** IPv4 IHL override (words) */
  readonly ihl?: number;
  /** add this to the IP length field (total length / payload length) */
  readonly lenDelta?: number;
}

const PROTO: Record<Exclude<L4, 'raw'>, number> = { tcp: 6, udp: 17, sctp: 132, icmp: 1 };

function addrBytes(text: string): { family: 4 | 6; bytes: number[] } {
  const ip = parseIp(text);
  if (!ip) throw new Error(`bad address ${text}`);
  const n = ip.family === 4 ? 4 : 16;
  const out: number[] = [];
  for (let i = n - 1; i >= 0; i--) out.push(Number((ip.value >> BigInt(i * 8)) & 0xffn));
  return { family: ip.family, bytes: out };
}

function l4Header(spec: PacketSpec, family: 4 | 6): number[] {
  const sp = spec.srcPort ?? 40000;
  const dp = spec.dstPort ?? 80;
  const ports = [sp >> 8, sp & 255, dp >> 8, dp & 255];
  switch (spec.l4) {
    case 'tcp':
      return [...ports, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, spec.tcpFlags ?? 0x02, 0xff, 0xff, 0, 0, 0, 0];
    case 'udp':
      return [...ports, 0, 8 + (spec.payload ?? 0), 0, 0];
    case 'sctp':
      return [...ports, 0, 0, 0, 1, 0, 0, 0, 0];
    case 'icmp': {
      const t = spec.icmpType ?? (family === 4 ? 8 : 128);
      const id = spec.icmpId ?? 7;
      return [t, 0, 0, 0, id >> 8, id & 255, 0, 1];
    }
    case 'raw':
      return [0, 0, 0, 0];
  }
}

export function packet(spec: PacketSpec): Uint8Array {
  const s = addrBytes(spec.src);
  const d = addrBytes(spec.dst);
  if (s.family !== d.family) throw new Error('mixed families');
  const family = s.family;
  const laterFragment = spec.frag !== undefined && spec.frag.offset > 0;
  const l4 = laterFragment ? [] : l4Header(spec, family);
  const quoted = spec.quote ? [...packet(spec.quote).subarray(14)] : [];
  const body = [...l4, ...quoted, ...new Array<number>(spec.payload ?? 0).fill(0xab)];
  let proto = spec.l4 === 'raw' ? (spec.proto ?? 253) : PROTO[spec.l4];
  if (family === 6 && spec.l4 === 'icmp') proto = 58;
  const out: number[] = [];
  // Ethernet
  out.push(2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1);
  out.push(...(family === 4 ? [0x08, 0x00] : [0x86, 0xdd]));
  if (family === 4) {
    const ihl = spec.ihl ?? 5;
    const opts = new Array<number>(Math.max(0, (ihl - 5) * 4)).fill(1);
    const total = 20 + opts.length + body.length + (spec.lenDelta ?? 0);
    let fragField = 0;
    if (spec.frag) fragField = (spec.frag.more ? 0x2000 : 0) | (spec.frag.offset & 0x1fff);
    const id = spec.frag?.id ?? 1;
    out.push(0x40 | (ihl & 0xf), 0, total >> 8, total & 255, id >> 8, id & 255, fragField >> 8, fragField & 255, 64, proto, 0, 0);
    out.push(...s.bytes, ...d.bytes, ...opts);
  } else {
    const chain: number[][] = [];
    const nexts: number[] = [...(spec.ext6 ?? [])];
    if (spec.frag) nexts.push(44);
    // each ext header: [next, len, ...]; built after we know the chain
    const headers: number[] = [];
    for (let i = 0; i < nexts.length; i++) {
      const next = i + 1 < nexts.length ? nexts[i + 1]! : proto;
      const kind = nexts[i]!;
      if (kind === 44) {
        const f = spec.frag!;
        const fo = ((f.offset & 0x1fff) << 3) | (f.more ? 1 : 0);
        headers.push(next, 0, fo >> 8, fo & 255, (f.id >>> 24) & 255, (f.id >>> 16) & 255, (f.id >>> 8) & 255, f.id & 255);
      } else if (kind === 51) {
        headers.push(next, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0); // AH: (1 + 2) * 4 = 12 bytes
      } else {
        headers.push(next, 0, 1, 4, 0, 0, 0, 0); // 8 bytes, a PadN option
      }
      chain.push([]);
    }
    const first = nexts.length ? nexts[0]! : proto;
    const payloadLen = headers.length + body.length + (spec.lenDelta ?? 0);
    out.push(0x60, 0, 0, 0, payloadLen >> 8, payloadLen & 255, first, 64, ...s.bytes, ...d.bytes, ...headers);
  }
  out.push(...body);
  const frame = Uint8Array.from(out);
  return spec.truncateTo !== undefined ? frame.subarray(0, spec.truncateTo).slice() : frame;
}

/** A non-IP frame (ARP request). */
export function arpFrame(): Uint8Array {
  return Uint8Array.from([
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06,
    0, 1, 0x08, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 244, 1, 1, 0, 0, 0, 0, 0, 0, 10, 244, 2, 5,
  ]);
}

/** tc return codes */
export const TC_ACT_OK = 0;
export const TC_ACT_SHOT = 2;

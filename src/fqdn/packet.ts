/**
 * The IP packets the DNS queue holds (docs/fqdn.md §6): IPv4/IPv6 + UDP/TCP header parsing and
 * the per-connection TCP reassembly of DNS messages (RFC 7766: a 2-byte length, then the message).
 *
 * Invariants: never reads outside the packet; a header that does not fit is `undefined`
 * (accepted untouched, teaches nothing). IPv6 extension headers (hop-by-hop 0, routing 43,
 * destination options 60, fragment 44) are walked, at most `MAX_IPV6_EXTENSIONS` of them; a
 * fragment that is not the first, or a first fragment with more to come (the DNS message is
 * not whole in this packet), is `undefined`, never parsed as DNS; an atomic fragment (offset 0,
 * no more fragments, RFC 6946) is read. IPv4 fragments likewise are `undefined`. Any other next
 * header (ESP, AH, no next header, unknown) is `undefined`.
 * TCP: per connection at most one message is buffered (2 + 65,535 bytes) and at most
 * `maxStreams` connections are tracked (the oldest is forgotten first); only in-order segments
 * are read: a gap marks the stream broken (later messages on it teach nothing); an exact
 * retransmission of bytes already read is ignored.
 * Cost: O(packet bytes). Thread-safety: none; one owner (the learner).
 */
import { formatV4, formatV6, type IpAddr } from '../model/ip.js';

export interface DnsPacket {
  readonly src: IpAddr;
  readonly dst: IpAddr;
  readonly protocol: 'UDP' | 'TCP';
  readonly srcPort: number;
  readonly dstPort: number;
  /** TCP only */
  readonly seq?: number;
  readonly syn?: boolean;
  readonly finOrRst?: boolean;
  readonly payload: Uint8Array;
}

export function parsePacket(b: Uint8Array): DnsPacket | undefined {
  if (b.length < 1) return undefined;
  const version = (b[0] as number) >> 4;
  let proto: number;
  let l4: number;
  let src: IpAddr;
  let dst: IpAddr;
  let end: number;
  if (version === 4) {
    if (b.length < 20) return undefined;
    const ihl = ((b[0] as number) & 0x0f) * 4;
    const total = be16(b, 2);
    const frag = be16(b, 6);
    if (ihl < 20 || total < ihl || total > b.length || (frag & 0x3fff) !== 0) return undefined;
    proto = b[9] as number;
    src = v4(b, 12);
    dst = v4(b, 16);
    l4 = ihl;
    end = total;
  } else if (version === 6) {
    if (b.length < 40) return undefined;
    end = 40 + be16(b, 4);
    if (end > b.length) return undefined;
    src = v6(b, 8);
    dst = v6(b, 24);
    const upper = ipv6UpperLayer(b, end);
    if (!upper) return undefined;
    proto = upper.proto;
    l4 = upper.offset;
  } else return undefined;
  if (proto === 17) {
    if (l4 + 8 > end) return undefined;
    return { src, dst, protocol: 'UDP', srcPort: be16(b, l4), dstPort: be16(b, l4 + 2), payload: b.subarray(l4 + 8, end) };
  }
  if (proto === 6) {
    if (l4 + 20 > end) return undefined;
    const off = ((b[l4 + 12] as number) >> 4) * 4;
    if (off < 20 || l4 + off > end) return undefined;
    const flags = b[l4 + 13] as number;
    const seq = be16(b, l4 + 4) * 65536 + be16(b, l4 + 6);
    return {
      src,
      dst,
      protocol: 'TCP',
      srcPort: be16(b, l4),
      dstPort: be16(b, l4 + 2),
      seq,
      syn: (flags & 0x02) !== 0,
      finOrRst: (flags & 0x05) !== 0,
      payload: b.subarray(l4 + off, end),
    };
  }
  return undefined;
}

/** At most this many IPv6 extension headers are walked (a longer chain is not DNS we read). */
export const MAX_IPV6_EXTENSIONS = 8;

const IPV6_HOP_BY_HOP = 0;
const IPV6_ROUTING = 43;
const IPV6_FRAGMENT = 44;
const IPV6_DEST_OPTIONS = 60;

/**
 * The upper-layer protocol and its offset after the IPv6 extension headers (RFC 8200 §4), or
 * undefined: a header past `end`, too many headers, or a fragment that does not hold the whole
 * datagram (a non-first fragment carries no UDP/TCP header; a first one with M=1 only part).
 */
function ipv6UpperLayer(b: Uint8Array, end: number): { proto: number; offset: number } | undefined {
  let next = b[6] as number;
  let off = 40;
  for (let n = 0; n <= MAX_IPV6_EXTENSIONS; n++) {
    if (next === IPV6_HOP_BY_HOP || next === IPV6_ROUTING || next === IPV6_DEST_OPTIONS) {
      if (off + 8 > end) return undefined;
      const len = ((b[off + 1] as number) + 1) * 8;
      if (off + len > end) return undefined;
      next = b[off] as number;
      off += len;
      continue;
    }
    if (next === IPV6_FRAGMENT) {
      if (off + 8 > end) return undefined;
      const offsetAndFlags = be16(b, off + 2); // fragment offset (13 bits, 8-byte units) | res | M
      if ((offsetAndFlags & 0xfff8) !== 0) return undefined; // not the first fragment: no UDP/TCP header here
      if ((offsetAndFlags & 0x0001) !== 0) return undefined; // more fragments: the message is not whole
      next = b[off] as number;
      off += 8;
      continue;
    }
    return { proto: next, offset: off };
  }
  return undefined;
}

interface Stream {
  nextSeq: number;
  buf: Uint8Array;
  used: number;
  broken: boolean;
}

const MAX_MESSAGE_BUFFER = 2 + 65535;

/** TCP DNS reassembly, one stream per (src, srcPort, dst, dstPort). */
export class TcpDnsStreams {
  private readonly streams = new Map<string, Stream>();
  constructor(private readonly maxStreams = 4096) {}

  get size(): number {
    return this.streams.size;
  }

  /** The DNS messages this segment completes (usually none or one). */
  segment(p: DnsPacket): Uint8Array[] {
    const key = `${p.src.text}|${p.srcPort}|${p.dst.text}|${p.dstPort}`;
    const seq = p.seq ?? 0;
    if (p.syn) {
      this.streams.delete(key);
      if (this.streams.size >= this.maxStreams) this.streams.delete(this.streams.keys().next().value as string);
      this.streams.set(key, { nextSeq: (seq + 1) >>> 0, buf: new Uint8Array(256), used: 0, broken: false });
      return [];
    }
    const s = this.streams.get(key);
    const out: Uint8Array[] = [];
    if (s && !s.broken && p.payload.length > 0) {
      const delta = (seq - s.nextSeq) | 0;
      if (delta === 0) {
        this.append(s, p.payload);
        s.nextSeq = (s.nextSeq + p.payload.length) >>> 0;
        for (;;) {
          if (s.used < 2) break;
          const len = ((s.buf[0] as number) << 8) | (s.buf[1] as number);
          if (s.used < 2 + len) break;
          out.push(s.buf.slice(2, 2 + len));
          s.buf.copyWithin(0, 2 + len, s.used);
          s.used -= 2 + len;
        }
      } else if (!(delta < 0 && delta + p.payload.length <= 0)) s.broken = true; // a gap or a partial overlap
    }
    if (p.finOrRst) this.streams.delete(key);
    return out;
  }

  private append(s: Stream, data: Uint8Array): void {
    if (s.used + data.length > MAX_MESSAGE_BUFFER) {
      s.broken = true;
      return;
    }
    if (s.used + data.length > s.buf.length) {
      const next = new Uint8Array(Math.min(MAX_MESSAGE_BUFFER, Math.max(s.buf.length * 2, s.used + data.length)));
      next.set(s.buf.subarray(0, s.used));
      s.buf = next;
    }
    s.buf.set(data, s.used);
    s.used += data.length;
  }
}

const be16 = (b: Uint8Array, o: number): number => ((b[o] as number) << 8) | (b[o + 1] as number);

function v4(b: Uint8Array, o: number): IpAddr {
  const v = BigInt((((b[o] as number) << 24) >>> 0) + ((b[o + 1] as number) << 16) + ((b[o + 2] as number) << 8) + (b[o + 3] as number));
  return { family: 4, value: v, text: formatV4(v) };
}

function v6(b: Uint8Array, o: number): IpAddr {
  let v = 0n;
  for (let i = 0; i < 16; i++) v = (v << 8n) | BigInt(b[o + i] as number);
  return { family: 6, value: v, text: formatV6(v) };
}

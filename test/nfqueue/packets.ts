/**
 * Crafted IPv4/IPv6 packets for the parser tests (layouts: RFC 791, RFC 8200, RFC 9293 TCP,
 * RFC 768 UDP, RFC 9260 SCTP, RFC 792 ICMP, RFC 4443 ICMPv6). Checksums are left zero: the
 * parser does not read them (the kernel validated the IP header before the queue).
 */
export const TCP = 6, UDP = 17, SCTP = 132, ICMP = 1, ICMP6 = 58;

export function l4(proto: number, srcPort: number, dstPort: number, payload = 8): Uint8Array {
  const head = proto === TCP ? 20 : proto === UDP ? 8 : proto === SCTP ? 12 : 8;
  const b = new Uint8Array(head + payload);
  const v = new DataView(b.buffer);
  if (proto === ICMP || proto === ICMP6) {
    b[0] = srcPort; // type
    b[1] = dstPort; // code
    return b;
  }
  v.setUint16(0, srcPort);
  v.setUint16(2, dstPort);
  if (proto === TCP) b[12] = 5 << 4;
  if (proto === UDP) v.setUint16(4, b.length);
  return b;
}

export function v4(opts: {
  proto: number;
  body: Uint8Array;
  src?: number[];
  dst?: number[];
  ihl?: number;
  totalLen?: number;
  fragOffset?: number;
  moreFragments?: boolean;
}): Uint8Array {
  const ihl = opts.ihl ?? 5;
  const hdr = Math.max(ihl, 5) * 4;
  const b = new Uint8Array(hdr + opts.body.length);
  const v = new DataView(b.buffer);
  b[0] = 0x40 | (ihl & 0xf);
  v.setUint16(2, opts.totalLen ?? b.length);
  v.setUint16(6, ((opts.moreFragments ? 1 : 0) << 13) | (opts.fragOffset ?? 0));
  b[8] = 64;
  b[9] = opts.proto;
  b.set(opts.src ?? [10, 244, 1, 2], 12);
  b.set(opts.dst ?? [10, 244, 2, 3], 16);
  b.set(opts.body, hdr);
  return b;
}

/** An IPv6 extension header: next header, then (len+1)*8 bytes (AH: (len+2)*4). */
export function ext(kind: 'hbh' | 'routing' | 'dest' | 'ah', next: number, units = 0): Uint8Array {
  const size = kind === 'ah' ? (units + 2) * 4 : (units + 1) * 8;
  const b = new Uint8Array(size);
  b[0] = next;
  b[1] = units;
  return b;
}
export function fragHeader(next: number, offsetUnits: number, more: boolean): Uint8Array {
  const b = new Uint8Array(8);
  b[0] = next;
  new DataView(b.buffer).setUint16(2, (offsetUnits << 3) | (more ? 1 : 0));
  return b;
}
export const EXT_CODE = { hbh: 0, routing: 43, dest: 60, ah: 51, frag: 44 } as const;

export function v6(opts: {
  firstNext: number;
  chain: Uint8Array[];
  body: Uint8Array;
  payloadLen?: number;
  src?: number[];
  dst?: number[];
}): Uint8Array {
  const rest = [...opts.chain, opts.body];
  const restLen = rest.reduce((n, p) => n + p.length, 0);
  const b = new Uint8Array(40 + restLen);
  const v = new DataView(b.buffer);
  b[0] = 0x60;
  v.setUint16(4, opts.payloadLen ?? restLen);
  b[6] = opts.firstNext;
  b[7] = 64;
  b.set(opts.src ?? [0xfd, 0, 0, 0x10, 0x02, 0x44, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2], 8);
  b.set(opts.dst ?? [0xfd, 0, 0, 0x10, 0x02, 0x44, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3], 24);
  let at = 40;
  for (const p of rest) {
    b.set(p, at);
    at += p.length;
  }
  return b;
}

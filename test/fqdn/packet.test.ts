/**
 * IPv6 extension headers in the DNS packet parser (src/fqdn/packet.ts; docs/fqdn.md §6):
 * hop-by-hop, routing and destination options are walked to the UDP/TCP header; a fragment that
 * is not the first, or a first fragment with more to come, is never parsed as DNS; an atomic
 * fragment is read; a truncated extension header or too long a chain is not read.
 */
import { describe, expect, it } from 'vitest';
import { MAX_IPV6_EXTENSIONS, parsePacket } from '../../src/fqdn/packet.js';
import { dnsResponse } from './message.js';

const SRC = [0xfd, 0, 0, 0x10, 0x02, 0x44, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x53]; // fd00:10:244:1::53
const DST = [0xfd, 0, 0, 0x10, 0x02, 0x44, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x10]; // fd00:10:244:1::10

/** An IPv6 packet: extension headers (each [type, bytes incl. its next-header byte]) then UDP. */
function v6udp(exts: readonly { type: number; body: number[] }[], payload: Uint8Array): Uint8Array {
  const udp = [0, 53, 0x9c, 0x40, (8 + payload.length) >> 8, (8 + payload.length) & 255, 0, 0, ...payload];
  const chain: number[] = [];
  for (let i = 0; i < exts.length; i++) {
    const next = i + 1 < exts.length ? exts[i + 1]!.type : 17;
    chain.push(next, ...exts[i]!.body);
  }
  const plen = chain.length + udp.length;
  const first = exts.length > 0 ? exts[0]!.type : 17;
  return Uint8Array.from([0x60, 0, 0, 0, plen >> 8, plen & 255, first, 64, ...SRC, ...DST, ...chain, ...udp]);
}

/** hop-by-hop / routing / destination options of 8 bytes: hdr-ext-len 0, 6 bytes of padding */
const opt8 = (type: number) => ({ type, body: [0, 1, 4, 0, 0, 0, 0] });
/** a 16-byte one (hdr-ext-len 1) */
const opt16 = (type: number) => ({ type, body: [1, 1, 12, ...new Array<number>(12).fill(0)] });
const frag = (offset8: number, more: boolean) => {
  const v = (offset8 << 3) | (more ? 1 : 0);
  return { type: 44, body: [0, v >> 8, v & 255, 0, 0, 0x12, 0x34] };
};

const msg = dnsResponse({ question: 'v6.test', answers: [{ name: 'v6.test', type: 'AAAA', ttl: 60, address: 'fd00:10:244:200::1' }] });

describe('parsePacket: IPv6 extension headers', () => {
  it('walks hop-by-hop, routing and destination options to the UDP header', () => {
    for (const exts of [[], [opt8(0)], [opt8(0), opt16(43), opt8(60)], [opt16(60)], [opt8(0), frag(0, false)]]) {
      const p = parsePacket(v6udp(exts, msg));
      expect(p, JSON.stringify(exts.map((e) => e.type))).toBeDefined();
      expect(p!.protocol).toBe('UDP');
      expect(p!.srcPort).toBe(53);
      expect(p!.src.text).toBe('fd00:10:244:1::53');
      expect([...p!.payload]).toEqual([...msg]);
    }
  });

  it('a fragment that is not the first, or a first fragment with more to come, is not parsed as DNS', () => {
    expect(parsePacket(v6udp([frag(1, false)], msg))).toBeUndefined();
    expect(parsePacket(v6udp([frag(185, true)], msg))).toBeUndefined();
    expect(parsePacket(v6udp([frag(0, true)], msg))).toBeUndefined();
    expect(parsePacket(v6udp([opt8(0), frag(3, false)], msg))).toBeUndefined();
  });

  it('a truncated extension header, a chain past the bound, or ESP is not read', () => {
    const whole = v6udp([opt16(0)], msg);
    const cut = whole.slice(0, 40 + 12);
    cut[4] = 0;
    cut[5] = 12; // payload length says 12: the 16-byte header does not fit
    expect(parsePacket(cut)).toBeUndefined();
    const long = new Array(MAX_IPV6_EXTENSIONS + 1).fill(0).map(() => opt8(60));
    expect(parsePacket(v6udp(long, msg))).toBeUndefined();
    expect(parsePacket(v6udp(long.slice(1), msg))).toBeDefined();
    const esp = v6udp([], msg);
    esp[6] = 50;
    expect(parsePacket(esp)).toBeUndefined();
  });
});

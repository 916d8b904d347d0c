/**
 * The nfqueue packet parser (backends/nfqueue/native/packet.h) on crafted packets: every family x
 * protocol, truncation at every byte, lying length fields, fragments, IPv6 extension chains, and a
 * sanitizer fuzz run. Header layouts: RFC 791 (IPv4), RFC 8200 (IPv6, 4.1 extension order, 4.5
 * fragments), RFC 9293 (TCP data offset), RFC 768 (UDP length), RFC 9260 (SCTP common header).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeNfqueue } from '../../src/native/binding.js';
import { EXT_CODE, ext, fragHeader, ICMP, ICMP6, l4, SCTP, TCP, UDP, v4, v6 } from './packets.js';
import { requires } from '../harness/prerequisites.js';

const addon = nativeNfqueue();
const parse = (b: Uint8Array) => addon.nfqParsePacket(b);

describe('nfqueue packet parser: well-formed packets', () => {
  for (const proto of [TCP, UDP, SCTP]) {
    it(`IPv4 proto ${proto}: addresses, protocol and ports`, () => {
      const r = parse(v4({ proto, body: l4(proto, 40312, 8080) }));
      expect(r).toMatchObject({ status: 'ok', family: 4, proto, srcPort: 40312, dstPort: 8080, l4Offset: 20 });
      expect([...r.src.subarray(0, 4)]).toEqual([10, 244, 1, 2]);
      expect([...r.dst.subarray(0, 4)]).toEqual([10, 244, 2, 3]);
    });
    it(`IPv6 proto ${proto}: addresses, protocol and ports`, () => {
      const r = parse(v6({ firstNext: proto, chain: [], body: l4(proto, 5000, 53) }));
      expect(r).toMatchObject({ status: 'ok', family: 6, proto, srcPort: 5000, dstPort: 53, l4Offset: 40 });
      expect(r.dst[0]).toBe(0xfd);
      expect(r.dst[15]).toBe(3);
    });
  }
  it('ICMP echo and ICMPv6 echo: type and code, no ports', () => {
    expect(parse(v4({ proto: ICMP, body: l4(ICMP, 8, 0) }))).toMatchObject({ status: 'unported', proto: ICMP, icmpType: 8, srcPort: 0, dstPort: 0 });
    expect(parse(v6({ firstNext: ICMP6, chain: [], body: l4(ICMP6, 128, 0) }))).toMatchObject({ status: 'unported', proto: ICMP6, icmpType: 128 });
  });
  it('IPv4 options are skipped by IHL', () => {
    const r = parse(v4({ proto: TCP, ihl: 7, body: l4(TCP, 1, 2) }));
    expect(r).toMatchObject({ status: 'ok', srcPort: 1, dstPort: 2, l4Offset: 28 });
  });
  it('bytes past the IP total length (link padding) are ignored', () => {
    const p = v4({ proto: UDP, body: l4(UDP, 7, 9) });
    const padded = new Uint8Array(p.length + 20);
    padded.set(p);
    expect(parse(padded)).toMatchObject({ status: 'ok', dstPort: 9 });
  });
  it('a packet longer than the copy range still parses when its headers were copied', () => {
    const p = v4({ proto: TCP, body: l4(TCP, 1, 443, 1000) });
    expect(parse(p.subarray(0, 40))).toMatchObject({ status: 'ok', dstPort: 443 });
  });
  it('unknown protocols and ESP carry no ports', () => {
    expect(parse(v4({ proto: 47, body: new Uint8Array(4) }))).toMatchObject({ status: 'unported', proto: 47 });
    expect(parse(v6({ firstNext: 50, chain: [], body: new Uint8Array(16) }))).toMatchObject({ status: 'unported', proto: 50 });
    expect(parse(v6({ firstNext: 59, chain: [], body: new Uint8Array(0), payloadLen: 8 }))).toMatchObject({ status: 'unported', proto: 59 });
  });
});

describe('nfqueue packet parser: truncated and lying packets', () => {
  const cases: { name: string; pkt: Uint8Array; needEnd: number; lenField: 'v4' | 'v6' }[] = [
    ...[TCP, UDP, SCTP, ICMP].map((p) => ({ name: `IPv4 proto ${p}`, pkt: v4({ proto: p, body: l4(p, 1, 2) }), needEnd: 20 + (p === TCP ? 20 : p === SCTP ? 12 : 8), lenField: 'v4' as const })),
    ...[TCP, UDP, SCTP, ICMP6].map((p) => ({ name: `IPv6 proto ${p}`, pkt: v6({ firstNext: p, chain: [], body: l4(p, 1, 2) }), needEnd: 40 + (p === TCP ? 20 : p === SCTP ? 12 : 8), lenField: 'v6' as const })),
    {
      name: 'IPv6 hbh+routing+frag(0)+dest+TCP',
      pkt: v6({
        firstNext: EXT_CODE.hbh,
        chain: [ext('hbh', EXT_CODE.routing), ext('routing', EXT_CODE.frag, 1), fragHeader(EXT_CODE.dest, 0, false), ext('dest', TCP)],
        body: l4(TCP, 1, 2),
      }),
      needEnd: 40 + 8 + 16 + 8 + 8 + 20,
      lenField: 'v6',
    },
  ];
  for (const c of cases) {
    it(`${c.name}: every capture shorter than the headers is 'truncated', every longer one parses`, () => {
      const full = parse(c.pkt);
      expect(['ok', 'unported']).toContain(full.status);
      for (let cap = 0; cap <= c.pkt.length; cap++) {
        const r = parse(c.pkt.slice(0, cap));
        if (cap < c.needEnd) expect(r.status, `cap ${cap}`).toBe('truncated');
        else expect(r, `cap ${cap}`).toMatchObject({ status: full.status, srcPort: full.srcPort, dstPort: full.dstPort });
      }
    });
    it(`${c.name}: an IP length field too short for the headers is 'malformed'`, () => {
      for (let claimed = 0; claimed < c.needEnd; claimed++) {
        const p = c.pkt.slice();
        const v = new DataView(p.buffer);
        if (c.lenField === 'v4') v.setUint16(2, claimed);
        else v.setUint16(4, Math.max(0, claimed - 40));
        expect(parse(p).status, `claimed ${claimed}`).toBe('malformed');
      }
    });
  }
  it('bad version nibble, IHL < 5, IHL past the total length', () => {
    const p = v4({ proto: TCP, body: l4(TCP, 1, 2) });
    for (const version of [0, 1, 5, 7, 15]) {
      const q = p.slice();
      q[0] = (version << 4) | 5;
      expect(parse(q).status).toBe('malformed');
    }
    for (const ihl of [0, 1, 4]) {
      const q = p.slice();
      q[0] = 0x40 | ihl;
      expect(parse(q).status, `ihl ${ihl}`).toBe('malformed');
    }
    expect(parse(v4({ proto: TCP, ihl: 15, totalLen: 40, body: l4(TCP, 1, 2) })).status).toBe('malformed');
  });
  it('TCP data offset < 5 or past the packet, UDP length < 8 or past the packet', () => {
    const tcp = v4({ proto: TCP, body: l4(TCP, 1, 2, 0) });
    for (const doff of [0, 4, 6, 15]) {
      const q = tcp.slice();
      q[20 + 12] = doff << 4;
      expect(parse(q).status, `doff ${doff}`).toBe('malformed');
    }
    const udp = v4({ proto: UDP, body: l4(UDP, 1, 2, 4) });
    for (const len of [0, 7, 13, 1000]) {
      const q = udp.slice();
      new DataView(q.buffer).setUint16(24, len);
      expect(parse(q).status, `udp len ${len}`).toBe('malformed');
    }
  });
  it('IPv6 payload length 0 (jumbogram) is malformed', () => {
    expect(parse(v6({ firstNext: TCP, chain: [], body: l4(TCP, 1, 2), payloadLen: 0 })).status).toBe('malformed');
  });
});

describe('nfqueue packet parser: fragments and extension chains (RFC 8200 4.1, 4.5)', () => {
  it('IPv4: the first fragment has ports; a later fragment is non-first-fragment', () => {
    const body = l4(UDP, 5353, 53, 100);
    new DataView(body.buffer).setUint16(4, 3000); // UDP length of the whole datagram
    const first = parse(v4({ proto: UDP, body, moreFragments: true }));
    expect(first).toMatchObject({ status: 'ok', dstPort: 53, firstFragment: true });
    const later = parse(v4({ proto: UDP, body: new Uint8Array(64), fragOffset: 13 }));
    expect(later).toMatchObject({ status: 'non-first-fragment', proto: UDP, srcPort: 0, dstPort: 0 });
  });
  it('IPv4 first fragment too short for the TCP header (RFC 1858 tiny fragment) is malformed', () => {
    expect(parse(v4({ proto: TCP, body: new Uint8Array(8), moreFragments: true })).status).toBe('malformed');
  });
  it('IPv6: fragment offset 0 parses through, offset > 0 is non-first-fragment', () => {
    const first = parse(v6({ firstNext: EXT_CODE.frag, chain: [fragHeader(TCP, 0, true)], body: l4(TCP, 1, 22) }));
    expect(first).toMatchObject({ status: 'ok', dstPort: 22, firstFragment: true, l4Offset: 48 });
    const later = parse(v6({ firstNext: EXT_CODE.frag, chain: [fragHeader(TCP, 100, false)], body: new Uint8Array(32) }));
    expect(later).toMatchObject({ status: 'non-first-fragment', proto: TCP, dstPort: 0 });
  });
  it('AH length is in 4-octet units', () => {
    const r = parse(v6({ firstNext: EXT_CODE.ah, chain: [ext('ah', UDP, 4)], body: l4(UDP, 1, 500) }));
    expect(r).toMatchObject({ status: 'ok', dstPort: 500, l4Offset: 40 + 24 });
  });
  it('hop-by-hop anywhere but first is malformed', () => {
    const r = parse(v6({ firstNext: EXT_CODE.dest, chain: [ext('dest', EXT_CODE.hbh), ext('hbh', TCP)], body: l4(TCP, 1, 2) }));
    expect(r.status).toBe('malformed');
  });
  it('an extension header running past the payload is malformed', () => {
    const r = parse(v6({ firstNext: EXT_CODE.dest, chain: [ext('dest', TCP, 200)], body: l4(TCP, 1, 2), payloadLen: 64 }));
    expect(r.status).toBe('malformed');
  });
  it('8 extension headers parse; 9 (or a long chain of repeats) hit the bound', () => {
    const chain = (n: number) => Array.from({ length: n }, (_, i) => ext('dest', i === n - 1 ? TCP : EXT_CODE.dest));
    expect(parse(v6({ firstNext: EXT_CODE.dest, chain: chain(8), body: l4(TCP, 1, 2) })).status).toBe('ok');
    expect(parse(v6({ firstNext: EXT_CODE.dest, chain: chain(9), body: l4(TCP, 1, 2) })).status).toBe('ext-header-limit');
    expect(parse(v6({ firstNext: EXT_CODE.dest, chain: chain(500), body: l4(TCP, 1, 2) })).status).toBe('ext-header-limit');
  });
});

describe('nfqueue packet parser: random inputs', () => {
  it('200k random and mutated packets all get a defined status (exact-size buffers)', () => {
    let seed = 0x12345678;
    const rnd = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    const seeds = [
      v4({ proto: TCP, body: l4(TCP, 1, 2) }),
      v4({ proto: UDP, body: l4(UDP, 1, 2) }),
      v6({ firstNext: EXT_CODE.hbh, chain: [ext('hbh', EXT_CODE.frag), fragHeader(SCTP, 0, true)], body: l4(SCTP, 1, 2) }),
      v6({ firstNext: ICMP6, chain: [], body: l4(ICMP6, 1, 2) }),
    ];
    const n = 200_000;
    const chunks: Uint8Array[] = [];
    const offsets = new Uint32Array(n + 1);
    let total = 0;
    for (let i = 0; i < n; i++) {
      let p: Uint8Array;
      if (i % 4 === 0) {
        p = new Uint8Array(Math.floor(rnd() * 120));
        for (let j = 0; j < p.length; j++) p[j] = (rnd() * 256) | 0;
        if (p.length) p[0] = (p[0]! & 0x0f) | (rnd() < 0.5 ? 0x40 : 0x60);
      } else {
        const s = seeds[i % seeds.length]!;
        p = s.slice(0, Math.floor(rnd() * (s.length + 1)));
        for (let k = 0; k < 3; k++) if (p.length) p[Math.floor(rnd() * p.length)] = (rnd() * 256) | 0;
      }
      chunks.push(p);
      offsets[i] = total;
      total += p.length;
    }
    offsets[n] = total;
    const all = new Uint8Array(total);
    chunks.forEach((c, i) => all.set(c, offsets[i]!));
    const statuses = addon.nfqParseStatuses(all, offsets);
    expect(statuses.length).toBe(n);
    const counts = new Map<number, number>();
    for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
    for (const s of counts.keys()) expect(s).toBeLessThan(addon.nfqConstants.parseStatus.length);
    // the mix really exercised both the accepting and the rejecting paths
    expect(counts.get(0) ?? 0).toBeGreaterThan(1000);
    expect(counts.get(3) ?? 0).toBeGreaterThan(1000);
    expect(counts.get(4) ?? 0).toBeGreaterThan(1000);
  });

  it.skipIf(requires('clang-rt'))('libFuzzer + AddressSanitizer + UBSan: 5 s of coverage-guided inputs, no over-read, contract holds', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nfq-fuzz-'));
    try {
      const src = new URL('../../backends/nfqueue/native/', import.meta.url).pathname;
      execFileSync('clang++', ['-std=c++17', '-g', '-O1', '-Wall', '-Wextra', '-Werror', '-fsanitize=fuzzer,address,undefined', '-fno-sanitize-recover=undefined',
        `${src}packet_fuzz.cc`, `${src}packet.cc`, '-o', join(dir, 'packet_fuzz')], { stdio: 'pipe' });
      const run = spawnSync(join(dir, 'packet_fuzz'), ['-max_total_time=5', '-seed=1', '-max_len=512', '-print_final_stats=1'], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
      expect(run.status, run.stderr.slice(-2000)).toBe(0);
      const runs = Number(/stat::number_of_executed_units:\s*(\d+)/.exec(run.stderr)?.[1] ?? 0);
      expect(runs).toBeGreaterThan(100_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The DNS response parser and the CNAME-chain walk (src/fqdn/dns.ts, docs/fqdn.md §1), and the
 * learned-address cache's TTL floor, bounds and eviction rule (src/fqdn/cache.ts, §4-§5).
 */
import { describe, expect, it } from 'vitest';
import { learnedFacts, parseDnsResponse, type DnsResponse } from '../../src/fqdn/dns.js';
import { LearnedCache } from '../../src/fqdn/cache.js';
import { parseIp } from '../../src/model/ip.js';
import { dnsResponse } from './message.js';

const ok = (bytes: Uint8Array): DnsResponse => {
  const p = parseDnsResponse(bytes);
  if (!p.ok) throw new Error(p.why);
  return p.response;
};

describe('parseDnsResponse', () => {
  it('reads A and AAAA answers (compressed owner names), names lower-cased', () => {
    const r = ok(dnsResponse({ question: 'DB.Example.Test', answers: [
      { name: 'DB.Example.Test', type: 'A', ttl: 30, address: '192.0.2.7' },
      { name: 'db.example.test', type: 'AAAA', ttl: 40, address: 'fd00:10:244:200::7' },
      { name: 'db.example.test', type: 'TXT', ttl: 40, text: 'skip me' },
    ] }));
    expect(r.question).toBe('db.example.test');
    expect(r.answers.map((a) => [a.name, a.type, a.ttlS, a.type === 'CNAME' ? a.target : a.address.text])).toEqual([
      ['db.example.test', 'A', 30, '192.0.2.7'],
      ['db.example.test', 'AAAA', 40, 'fd00:10:244:200::7'],
    ]);
  });

  it('refuses queries, truncated (TC), error rcodes and anything but one question', () => {
    const base = { question: 'a.test', answers: [{ name: 'a.test', type: 'A' as const, ttl: 1, address: '192.0.2.1' }] };
    expect(parseDnsResponse(dnsResponse({ ...base, flags: 0x0100 }))).toMatchObject({ ok: false, why: 'a query, not a response' });
    expect(parseDnsResponse(dnsResponse({ ...base, flags: 0x8380 }))).toMatchObject({ ok: false, why: 'truncated (TC)' });
    expect(parseDnsResponse(dnsResponse({ ...base, flags: 0x8183 }))).toMatchObject({ ok: false, why: 'rcode 3' });
    const two = dnsResponse(base);
    two[5] = 2;
    expect(parseDnsResponse(two)).toMatchObject({ ok: false, why: '2 questions' });
  });

  it('malformed names never loop or read past the end', () => {
    const m = dnsResponse({ question: 'a.test', answers: [{ name: 'a.test', type: 'A', ttl: 1, address: '192.0.2.1' }] });
    const forward = Uint8Array.from(m);
    forward[24] = 0xc0; // the answer's owner pointer (offset 24: header 12, question 8 + 4) now points at itself
    forward[25] = 24;
    expect(parseDnsResponse(forward)).toMatchObject({ ok: false, why: 'compression pointer forwards' });
    expect(parseDnsResponse(m.slice(0, m.length - 2))).toMatchObject({ ok: false, why: 'record data past the end' });
    const long = dnsResponse({ question: Array(6).fill('x'.repeat(63)).join('.'), answers: [] });
    expect(parseDnsResponse(long)).toMatchObject({ ok: false, why: 'name longer than 255 bytes' });
    expect(parseDnsResponse(new Uint8Array(11))).toMatchObject({ ok: false });
  });

  it('fuzz: 30,000 mutated messages never throw', () => {
    const m = dnsResponse({ question: 'www.shop.test', answers: [
      { name: 'www.shop.test', type: 'CNAME', ttl: 9, target: 'edge.cdn.example.test' },
      { name: 'edge.cdn.example.test', type: 'A', ttl: 60, address: '192.0.2.9' },
    ] });
    let seed = 1;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    let parsed = 0;
    for (let i = 0; i < 30_000; i++) {
      const b = Uint8Array.from(rnd(3) === 0 ? m.slice(0, rnd(m.length + 1)) : m);
      for (let k = rnd(4); k > 0 && b.length > 0; k--) b[rnd(b.length)] = rnd(256);
      const p = parseDnsResponse(b);
      if (p.ok) {
        parsed++;
        learnedFacts(p.response);
      }
    }
    expect(parsed).toBeGreaterThan(0);
  });
});

describe('learnedFacts: the CNAME chain', () => {
  it('an address is learned under every name of the chain, with the smallest TTL on the way', () => {
    const r = ok(dnsResponse({ question: 'www.shop.test', answers: [
      { name: 'www.shop.test', type: 'CNAME', ttl: 9, target: 'shop.cdn.test' },
      { name: 'shop.cdn.test', type: 'CNAME', ttl: 300, target: 'edge.cdn.example.test' },
      { name: 'edge.cdn.example.test', type: 'A', ttl: 60, address: '192.0.2.9' },
      { name: 'unrelated.test', type: 'A', ttl: 60, address: '192.0.2.66' },
    ] }));
    expect(learnedFacts(r).map((f) => [f.name, f.address.text, f.ttlS])).toEqual([
      ['www.shop.test', '192.0.2.9', 9],
      ['shop.cdn.test', '192.0.2.9', 9],
      ['edge.cdn.example.test', '192.0.2.9', 9],
    ]);
  });

  it('a CNAME loop stops; what was reached still counts', () => {
    const r = ok(dnsResponse({ question: 'a.test', answers: [
      { name: 'a.test', type: 'CNAME', ttl: 5, target: 'b.test' },
      { name: 'b.test', type: 'CNAME', ttl: 5, target: 'a.test' },
      { name: 'b.test', type: 'A', ttl: 50, address: '192.0.2.2' },
    ] }));
    expect(learnedFacts(r).map((f) => f.name)).toEqual(['a.test', 'b.test']);
  });
});

describe('LearnedCache', () => {
  const addr = (i: number) => parseIp(`10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`)!;
  const fact = (name: string, i: number, ttlS: number) => ({ name, address: addr(i), ttlS });

  it('TTL floor min-ttl (default 5 s), no cap; a new answer extends, never shortens', () => {
    const c = new LearnedCache();
    c.learn('x/a', 'a.test', [fact('a.test', 1, 0), fact('b.test', 2, 86_400)], 1000);
    expect(c.entries().map((e) => e.expiresAtMs)).toEqual([6000, 1000 + 86_400_000]);
    c.learn('x/a', 'a.test', [fact('a.test', 1, 60)], 2000);
    c.learn('x/a', 'a.test', [fact('a.test', 1, 1)], 3000);
    expect(c.entries()[0]!.expiresAtMs).toBe(62_000);
    expect(c.expire(61_999)).toEqual([]);
    expect(c.expire(62_000).map((e) => e.name)).toEqual(['a.test']);
    expect(c.nextExpiryMs()).toBe(1000 + 86_400_000);
  });

  it('holds 4,096 addresses per (pod, name) by default; the next evicts the earliest expiry', () => {
    const c = new LearnedCache();
    const facts = Array.from({ length: 4096 }, (_, i) => fact('many.test', i, 100 + (i === 7 ? -50 : i)));
    expect(c.learn('x/a', 'many.test', facts, 0).added).toHaveLength(4096);
    const ch = c.learn('x/a', 'many.test', [fact('many.test', 5000, 30)], 0);
    expect(ch.removed.map((e) => e.address.text)).toEqual([addr(7).text]);
    expect(c.size).toBe(4096);
    expect(c.counters.evicted).toBe(1);
    // another pod's entries are its own
    expect(c.learn('x/b', 'many.test', [fact('many.test', 1, 30)], 0).removed).toEqual([]);
  });

  it('the global bound evicts the earliest expiry of the whole cache', () => {
    const c = new LearnedCache({ maxEntries: 3 });
    c.learn('x/a', 'a.test', [fact('a.test', 1, 100), fact('a.test', 2, 10), fact('a.test', 3, 50)], 0);
    const ch = c.learn('x/b', 'b.test', [fact('b.test', 4, 100)], 0);
    expect(ch.removed.map((e) => e.address.text)).toEqual([addr(2).text]);
    expect(c.size).toBe(3);
  });
});

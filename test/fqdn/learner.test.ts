/**
 * The learner without a kernel (src/fqdn/learner.ts, packet.ts; docs/fqdn.md §3, §6): trusted
 * sources only, the pod that asked, TCP reassembly (a message split across segments, an exact
 * retransmission, a gap), one apply per batch, and a failed apply rolled back.
 */
import { describe, expect, it } from 'vitest';
import { DnsLearner } from '../../src/fqdn/learner.js';
import type { LearnedAddress } from '../../src/model/fqdn.js';
import { dnsResponse } from './message.js';

const DNS = '10.244.1.53';
const POD = '10.244.1.10';
const ip4 = (t: string): number[] => t.split('.').map(Number);

function udp(src: string, srcPort: number, payload: Uint8Array): Uint8Array {
  const total = 28 + payload.length;
  return Uint8Array.from([0x45, 0, total >> 8, total & 255, 0, 0, 0, 0, 64, 17, 0, 0, ...ip4(src), ...ip4(POD), srcPort >> 8, srcPort & 255, 0x9c, 0x40, (8 + payload.length) >> 8, (8 + payload.length) & 255, 0, 0, ...payload]);
}

function tcp(seq: number, flags: number, payload: Uint8Array = new Uint8Array()): Uint8Array {
  const total = 40 + payload.length;
  const s = [(seq >>> 24) & 255, (seq >>> 16) & 255, (seq >>> 8) & 255, seq & 255];
  return Uint8Array.from([0x45, 0, total >> 8, total & 255, 0, 0, 0, 0, 64, 6, 0, 0, ...ip4(DNS), ...ip4(POD), 0, 53, 0x9c, 0x41, ...s, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0, ...payload]);
}

const answer = (name: string, address: string) => dnsResponse({ question: name, answers: [{ name, type: 'A', ttl: 60, address }] });

function learner(fail = false) {
  const applied: { added: LearnedAddress[]; removed: LearnedAddress[] }[] = [];
  const l = new DnsLearner({
    trustedResolvers: () => new Set([DNS]),
    podOf: (ip) => (ip.text === POD ? 'app/client' : undefined),
    apply: async (added, removed) => {
      if (fail) throw new Error('kernel refused');
      applied.push({ added: [...added], removed: [...removed] });
    },
    nowMs: () => 0,
    expiryTimer: false,
  });
  return { l, applied };
}

describe('DnsLearner', () => {
  it('learns from a trusted resolver only (source address and port 53), once per batch', async () => {
    const { l, applied } = learner();
    await l.handle([udp(DNS, 53, answer('a.test', '10.244.200.1')), udp('10.244.1.12', 53, answer('b.test', '10.244.200.2')), udp(DNS, 5353, answer('c.test', '10.244.200.3'))]);
    expect(applied).toHaveLength(1);
    expect(applied[0]!.added.map((e) => [e.pod, e.name, e.address.text])).toEqual([['app/client', 'a.test', '10.244.200.1']]);
    expect(l.counters.untrusted).toBe(2);
  });

  it('TCP: a message split across segments is learned from the segment that completes it; a retransmission is ignored; a gap breaks the stream', async () => {
    const msg = answer('split.test', '10.244.200.9');
    const framed = Uint8Array.from([msg.length >> 8, msg.length & 255, ...msg]);
    const { l, applied } = learner();
    await l.handle([tcp(1000, 0x12)]); // SYN-ACK: the stream starts at 1001
    await l.handle([tcp(1001, 0x18, framed.subarray(0, 10))]);
    expect(applied).toHaveLength(0);
    await l.handle([tcp(1001, 0x18, framed.subarray(0, 10))]); // exact retransmission
    await l.handle([tcp(1011, 0x18, framed.subarray(10))]);
    expect(applied.map((a) => a.added.map((e) => e.address.text))).toEqual([['10.244.200.9']]);
    // a gap: later messages on the stream teach nothing
    const next = answer('later.test', '10.244.200.10');
    const framed2 = Uint8Array.from([next.length >> 8, next.length & 255, ...next]);
    await l.handle([tcp(1001 + framed.length + 5, 0x18, framed2)]);
    expect(applied).toHaveLength(1);
  });

  it('a failed kernel write is rolled back in the cache (cache = kernel)', async () => {
    const { l } = learner(true);
    await l.handle([udp(DNS, 53, answer('a.test', '10.244.200.1'))]);
    expect(l.counters.applyErrors).toBe(1);
    expect(l.cache.size).toBe(0);
  });
});

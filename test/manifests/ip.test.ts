import { describe, expect, it } from 'vitest';
import { cidrContains, cidrCovers, parseCidr, parseIp } from '../../src/model/ip.js';

describe('ip', () => {
  it('parses and canonicalizes addresses', () => {
    expect(parseIp('10.244.0.1')?.text).toBe('10.244.0.1');
    expect(parseIp('FD00:10:244:0:0:0:0:1')?.text).toBe('fd00:10:244::1');
    expect(parseIp('2001:db8:0:0:1:0:0:1')?.text).toBe('2001:db8::1:0:0:1');
    expect(parseIp('::')?.text).toBe('::');
    for (const bad of ['010.1.1.1', '1.2.3', '256.1.1.1', 'fd00::1%eth0', '', 'x']) expect(parseIp(bad)).toBeNull();
  });

  // networkpolicy-v1-semantics §6.4: CIDRs are parsed sloppily; host bits are masked.
  it('masks host bits of CIDRs', () => {
    expect(parseCidr('10.244.0.10/4')?.text).toBe('0.0.0.0/4');
    expect(parseCidr('fd00:10:244::1/48')?.text).toBe('fd00:10:244::/48');
    for (const bad of ['10.0.0.0/33', '10.0.0.0', '::/129', '10.0.0.0/8/8', '10.0.0.0/-1']) expect(parseCidr(bad)).toBeNull();
  });

  // §12: a prefix of one family never matches the other.
  it('matches by family', () => {
    const all4 = parseCidr('0.0.0.0/0')!;
    expect(cidrContains(all4, parseIp('1.2.3.4')!)).toBe(true);
    expect(cidrContains(all4, parseIp('::ffff:1.2.3.4')!)).toBe(false);
    expect(cidrCovers(parseCidr('10.0.0.0/8')!, parseCidr('10.1.0.0/16')!)).toBe(true);
    expect(cidrCovers(parseCidr('10.1.0.0/16')!, parseCidr('10.0.0.0/8')!)).toBe(false);
  });
});

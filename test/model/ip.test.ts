/**
 * parseIp (src/model/ip.ts) against ip-num, the library it used to parse with: the same strings
 * are accepted (ip-num's Validator, plus the model's own rules: no leading zeros in a dotted
 * quad, no zone, at most 45 characters) and they give the same value, over hand-picked edge
 * cases and seeded random strings built from the IPv6 / IPv4 alphabet.
 */
import { IPv4, IPv6, Validator } from 'ip-num';
import { describe, expect, it } from 'vitest';
import { parseIp } from '../../src/model/ip.js';
import { mulberry, pick } from '../agent/random.js';

function oracle(text: string): bigint | null {
  if (text.length === 0 || text.length > 45) return null;
  if (text.includes(':')) {
    if (!/^[0-9a-fA-F:.]+$/.test(text) || !Validator.isValidIPv6String(text)[0]) return null;
    try {
      return IPv6.fromString(text).value;
    } catch {
      return null;
    }
  }
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) return null;
  if (text.split('.').some((o) => o.length > 1 && o.startsWith('0'))) return null;
  if (!Validator.isValidIPv4String(text)[0]) return null;
  return IPv4.fromString(text).value;
}

const CASES = [
  '10.244.1.10', '0.0.0.0', '255.255.255.255', '256.1.1.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', '1..2.3', '',
  '::', '::1', '1::', 'fd00:10:244:1::10', '2001:db8::ff00:42:8329', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8',
  '1:2:3:4:5:6:7:8::', '1::2::3', ':1:2:3:4:5:6:7', '1:2:3:4:5:6:7:', '1:2:3:4:5:6:7', '12345::', 'g::1', '::ffff:10.0.0.1',
  '::ffff:10.0.0.256', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '::1.2.3.4', '1.2.3.4::', '::1.2.3.04', 'FD00::ABCD', ':::', '::0:0', 'fe80::1%eth0',
];

describe('parseIp = ip-num', () => {
  it('edge cases', () => {
    for (const c of CASES) expect(parseIp(c)?.value ?? null, JSON.stringify(c)).toBe(oracle(c));
  });
  it('seeded random strings over the address alphabet', () => {
    const rnd = mulberry(5);
    const parts = ['0', '1', 'f', 'ff', 'abcd', '12345', 'fd00', '10', '244', '255', '256', '00', '.', ':', '::', '1.2.3.4'];
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const n = 1 + Math.floor(rnd() * 12);
      let t = '';
      for (let k = 0; k < n; k++) t += pick(rnd, parts);
      const want = oracle(t);
      if (want !== null) accepted++;
      expect(parseIp(t)?.value ?? null, JSON.stringify(t)).toBe(want);
    }
    expect(accepted).toBeGreaterThan(200);
  });
});

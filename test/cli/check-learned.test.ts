/**
 * `palisade check --learned FILE` (docs/fqdn.md §7): with a learned-address snapshot a
 * domainNames peer matches its live entries, and the output names the name and the answer.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, palisade } from './helpers.js';

const DIR = join(FIXTURES, 'fqdn');

describe('palisade check --learned', () => {
  it('allowed through a CNAME chain name: the note names the matched name and the answer', async () => {
    const r = await palisade('check', '-f', join(DIR, 'policy.yaml'), '--learned', join(DIR, 'learned.json'), '--from', 'app/client', '--to', '10.244.200.2');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ALLOWED/);
    expect(r.stdout).toContain('10.244.200.2 matched as edge.cdn.example.test (answer to www.shop.test for app/client');
  });

  it('another pod, and no snapshot at all, are denied by the next rule', async () => {
    const other = await palisade('check', '-f', join(DIR, 'policy.yaml'), '--learned', join(DIR, 'learned.json'), '--from', 'app/other', '--to', '10.244.200.2');
    expect(other.stdout).toMatch(/DENIED/);
    const none = await palisade('check', '-f', join(DIR, 'policy.yaml'), '--from', 'app/client', '--to', '10.244.200.2');
    expect(none.stdout).toMatch(/DENIED/);
  });

  it('a bad snapshot is invalid input naming the entry', async () => {
    const r = await palisade('check', '-f', join(DIR, 'policy.yaml'), '--learned', join(DIR, 'policy.yaml'), '--from', 'app/client', '--to', '10.244.200.2');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--learned');
  });
});

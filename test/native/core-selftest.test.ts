/**
 * The Node-free self-test of the C++ core (addon/classifier/selftest.cc, built as
 * build/classifier_selftest): the classifier against a C++ linear scan on random IPv4/IPv6 prefix
 * rules and address-set rules with random set edits, batch/scalar/single lookups and minPriority.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { requires } from '../harness/prerequisites.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'build', 'classifier_selftest');

// the same cmake build (npm run build:native) makes the addon and this binary
describe.skipIf(requires('addon'))('C++ core self-test (build/classifier_selftest)', () => {
  it('finds no mismatch against the C++ linear scan on 3 seeds', () => {
    expect(existsSync(BIN), `${BIN} is not built: npm run build:native`).toBe(true);
    for (const seed of ['11', '12', '13']) {
      const out = execFileSync(BIN, [seed, '8'], { encoding: 'utf8', timeout: 60_000 });
      const r = JSON.parse(out.trim()) as { checked: number; mismatches: number };
      expect(r.mismatches).toBe(0);
      expect(r.checked).toBeGreaterThan(100_000);
    }
  });
});

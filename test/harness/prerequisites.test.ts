/**
 * The prerequisite rule itself: outside CI a missing need skips (returns true), under CI=true it
 * throws with a message naming the need and how to install it; a present need never skips.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { missing, requires } from './prerequisites.js';

const saved = { CI: process.env.CI, PRETEND: process.env.PALISADE_PRETEND_MISSING };

afterEach(() => {
  for (const [k, v] of [['CI', saved.CI], ['PALISADE_PRETEND_MISSING', saved.PRETEND]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('requires()', () => {
  it('skips outside CI when a need is missing', () => {
    delete process.env.CI;
    process.env.PALISADE_PRETEND_MISSING = 'chromium';
    expect(requires('chromium')).toBe(true);
  });

  it('fails under CI=true, naming what is missing and how to install it', () => {
    process.env.CI = 'true';
    process.env.PALISADE_PRETEND_MISSING = 'clang-rt,bpffs';
    expect(() => requires('clang-rt', 'bpffs')).toThrow(/CI=true: missing prerequisites: clang-rt \(.*scripts\/setup\.sh.*libclang-rt.*\); bpffs \(.*mount -t bpf/);
  });

  it('lists only the needs that are missing', () => {
    process.env.PALISADE_PRETEND_MISSING = 'nft';
    expect(missing('nft', 'nft').map((m) => m.need)).toEqual(['nft']);
    delete process.env.PALISADE_PRETEND_MISSING;
    // whatever this machine lacks, a need that is present never makes requires() skip or throw
    const present = (['root', 'addon', 'chromium'] as const).filter((n) => missing(n).length === 0);
    process.env.CI = 'true';
    for (const n of present) expect(requires(n)).toBe(false);
  });
});

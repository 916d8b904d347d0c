/**
 * The two code tables and the two unions the compiler checks are one list each:
 * docs/error-codes.md = ERROR_CODES (src/model/errors.ts), docs/problem-codes.md = PROBLEM_CODES
 * (src/model/problems.ts), in order. And the code says no other error code: every ERR_PALISADE_*
 * in src/, backends/ and addon/ is a table row, every native spelling (addon/, C++) is mapped by
 * src/native/binding.ts NATIVE_CODES, no TypeScript outside backends/ebpf throws an earlier scheme
 * (PAL_*, NFQ_*, PALISADE_*), and every row is thrown somewhere (under its name, or an earlier
 * spelling its row names).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/model/errors.js';
import { PROBLEM_CODES } from '../../src/model/problems.js';
import { NATIVE_CODES } from '../../src/native/binding.js';

const root = join(import.meta.dirname, '..', '..');

/** Rows of every markdown table in `doc`: the backticked codes of the first cell, and the row's cells. */
function tableRows(doc: string): { codes: string[]; cells: string[] }[] {
  const rows: { codes: string[]; cells: string[] }[] = [];
  for (const line of readFileSync(join(root, 'docs', doc), 'utf8').split('\n')) {
    const m = /^\| (.*) \|$/.exec(line);
    if (!m) continue;
    const cells = (m[1] as string).split(/ (?<!\\)\| /);
    const codes = [...(cells[0] as string).matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((c) => c[1] as string);
    if (codes.length > 0) rows.push({ codes, cells });
  }
  return rows;
}

function files(dir: string, ext: RegExp): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const rel = join(dir, name);
    if (statSync(join(root, rel)).isDirectory()) out.push(...files(rel, ext));
    else if (ext.test(name)) out.push(rel);
  }
  return out;
}

const sources = [...files('src', /\.ts$/), ...files('backends', /\.(ts|cc|h)$/), ...files('addon', /\.(cc|h)$/)];
const text = new Map(sources.map((f) => [f, readFileSync(join(root, f), 'utf8')]));
const isEbpf = (f: string): boolean => f.startsWith('backends/ebpf/') || f === 'addon/napi/ebpf.cc';

describe('docs/error-codes.md', () => {
  const rows = tableRows('error-codes.md');

  it('lists exactly ERROR_CODES, in order, one code per row', () => {
    expect(rows.every((r) => r.codes.length === 1)).toBe(true);
    expect(rows.map((r) => r.codes[0])).toEqual([...ERROR_CODES]);
  });

  it('every row says what it means, who throws it and what the user does', () => {
    for (const r of rows) {
      expect(r.cells, r.codes[0]).toHaveLength(4);
      for (const c of r.cells.slice(1)) expect(c.trim().length, r.codes[0]).toBeGreaterThan(2);
    }
  });

  it('every ERR_PALISADE_* code in src/, backends/, addon/ is a row', () => {
    const known = new Set<string>(ERROR_CODES);
    const unknown: string[] = [];
    for (const [f, t] of text) for (const m of t.matchAll(/\bERR_PALISADE_[A-Z0-9_]+/g)) if (!known.has(m[0])) unknown.push(`${f}: ${m[0]}`);
    expect(unknown).toEqual([]);
  });

  it('every native code the addon sets is mapped to a row', () => {
    const unmapped: string[] = [];
    for (const [f, t] of text) {
      if (!f.startsWith('addon/')) continue;
      for (const m of t.matchAll(/"((?:PAL|NFQ)_[A-Z0-9_]+)(?=[":])/g)) if (NATIVE_CODES[m[1] as string] === undefined) unmapped.push(`${f}: ${m[1]}`);
    }
    expect(unmapped).toEqual([]);
    for (const code of Object.values(NATIVE_CODES)) expect(ERROR_CODES).toContain(code);
  });

  it('no TypeScript outside backends/ebpf throws an earlier scheme', () => {
    const old: string[] = [];
    for (const [f, t] of text) {
      if (!f.endsWith('.ts') || isEbpf(f) || f === 'src/native/binding.ts') continue;
      for (const m of t.matchAll(/'((?:PAL|NFQ)_[A-Z0-9_]+)'|code = '(PALISADE_[A-Z0-9_]+)'/g)) old.push(`${f}: ${m[1] ?? m[2]}`);
    }
    expect(old).toEqual([]);
  });

  it('every row is thrown somewhere, under its name or the earlier spelling it names', () => {
    const all = [...text.values()].join('\n');
    const mapped = new Set(Object.values(NATIVE_CODES));
    for (const r of rows) {
      const code = r.codes[0] as string;
      const earlier = [...(r.cells[2] as string).matchAll(/`((?:PAL|NFQ)_[A-Z0-9_]+)`/g)].map((m) => m[1] as string);
      const found = new RegExp(`['"]${code}['"]`).test(all) || mapped.has(code as (typeof ERROR_CODES)[number]) || earlier.some((e) => all.includes(`'${e}'`) || all.includes(`"${e}`));
      expect(found, code).toBe(true);
    }
  });
});

describe('docs/problem-codes.md', () => {
  it('lists exactly PROBLEM_CODES, in order', () => {
    expect(tableRows('problem-codes.md').flatMap((r) => r.codes)).toEqual([...PROBLEM_CODES]);
  });
});

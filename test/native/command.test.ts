/**
 * `palisade classbench`: stdout = one first-match index per header,
 * last stderr line = one JSON summary; plain and .gz inputs; argument errors exit 2.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { runClassbench } from '../../src/cli/classbench.js';
import { findData } from './classbench-data.js';
import { requires } from '../harness/prerequisites.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) }, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'palisade-cb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Three hand-written rules (README §3 format) and four headers (README §4 format).
const RULES = [
  '@10.0.0.0/8\t0.0.0.0/0\t0 : 65535\t80 : 80\t0x06/0xFF\t0x0000/0x0000\t',
  '@10.1.0.0/16\t192.168.1.1/32\t1000 : 2000\t0 : 65535\t0x00/0x00\t0x0000/0x0000\t',
  '@0.0.0.0/0\t0.0.0.0/0\t0 : 65535\t0 : 65535\t0x11/0xFF\t0x0000/0x0000\t',
].join('\n');
const TRACE = [
  `${0x0a010203} ${0xc0a80101} 1500 80 6 0 0`, // rule 0 (first of 0 and 1)
  `${0x0a010203} ${0xc0a80101} 1500 81 6 0 1`, // rule 1
  `${0x0b000001} ${0x01020304} 1 53 17 0 2`, // rule 2
  `${0x0b000001} ${0x01020304} 1 53 6 0 2`, // none
].join('\n');

describe.skipIf(requires('addon'))('palisade classbench', () => {
  writeFileSync(join(dir, 'r'), RULES + '\n');
  writeFileSync(join(dir, 't'), TRACE + '\n');
  writeFileSync(join(dir, 't.gz'), gzipSync(TRACE + '\n'));

  for (const engine of ['native', 'native-scalar', 'reference']) {
    for (const trace of ['t', 't.gz']) {
      it(`${engine} on a ${trace === 't' ? 'plain' : 'gzip'} trace prints 0 1 2 -1 and a JSON summary`, async () => {
        const c = capture();
        const rc = await runClassbench([join(dir, 'r'), join(dir, trace), '--engine', engine, '--repeat', '3'], c.io);
        expect(rc).toBe(0);
        expect(c.out.join('')).toBe('0\n1\n2\n-1\n');
        const last = c.err.join('').trim().split('\n').pop()!;
        const s = JSON.parse(last) as Record<string, unknown>;
        expect(Object.keys(s)).toEqual(['engine', 'rules', 'lookups', 'buildMs', 'nsPerLookup', 'bytesPerRule']);
        expect(s).toMatchObject({ engine, rules: 3, lookups: 12 });
        expect(s.nsPerLookup).toBeGreaterThan(0);
      });
    }
  }

  it('refuses bad arguments and bad files with exit 2', async () => {
    for (const argv of [[], [join(dir, 'r')], [join(dir, 'r'), join(dir, 't'), '--engine', 'fast'], [join(dir, 'r'), join(dir, 't'), '--repeat', '0']]) {
      const c = capture();
      expect(await runClassbench(argv, c.io)).toBe(2);
      expect(c.err.join('')).toMatch(/usage: palisade classbench/);
    }
    writeFileSync(join(dir, 'bad'), '@10.0.0.0/8 nonsense\n');
    const c = capture();
    expect(await runClassbench([join(dir, 'bad'), join(dir, 't')], c.io)).toBe(2);
    expect(c.err.join('')).toMatch(/ERR_PALISADE_CLASSBENCH_RULE: .*bad:1:/);
  });

  it.skipIf(requires('classbench'))('reads the gzip fw1_10k trace and matches its firstmatch', async () => {
    const c = capture();
    const rc = await runClassbench([findData('fw1_10k')!, findData('fw1_10k_trace')!], c.io);
    expect(rc).toBe(0);
    const { readFirstMatch } = await import('../../src/classbench/files.js');
    const want = Array.from(readFirstMatch(findData('fw1_10k_trace.firstmatch')!)).join('\n') + '\n';
    expect(c.out.join('') === want).toBe(true);
  });
});

/**
 * ClassBench correctness: every engine (native batch, native-scalar, the TS linear reference) must
 * give exactly the *.firstmatch answer (README §4: lowest-index rule matching all five fields) for
 * acl1, fw1 and ipc1 at 1k and 10k. acl1_10k has no trace in ../shared (README §1: "not copied"),
 * so for it a trace is generated from rule corners and the reference engine is the oracle.
 */
import { describe, expect, it } from 'vitest';
import { classifyClassBench, type ClassBenchEngine } from '../../src/classbench/classify.js';
import { readFirstMatch, readRules, readTrace, type ClassBenchRules } from '../../src/classbench/files.js';
import { classifyLinear } from '../../src/classbench/reference.js';
import { nativeAvailable, NativeClassifier } from '../../src/native/binding.js';
import { findData, SETS } from './classbench-data.js';
import { requires } from '../harness/prerequisites.js';

const ENGINES: ClassBenchEngine[] = ['native', 'native-scalar', 'reference'];

function firstDiff(a: Int32Array, b: Int32Array): string {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `header ${i}: got ${a[i]} want ${b[i]}`;
  return 'none';
}

/** Headers at random corners of random rules (deterministic PRNG), as trace_generator does. */
function cornerTrace(r: ClassBenchRules, count: number, seed: number): Uint32Array {
  let s = seed >>> 0;
  const rnd = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s);
  const h = new Uint32Array(count * 4);
  for (let i = 0; i < count; i++) {
    const k = rnd() % r.count;
    const host = (len: number): number => (len === 32 ? 0 : rnd() & (0xffffffff >>> len));
    const pick = (lo: number, hi: number): number => [lo, hi, lo + (rnd() % (hi - lo + 1))][rnd() % 3]!;
    h[i * 4] = (r.src[k]! | host(r.srcLen[k]!)) >>> 0;
    h[i * 4 + 1] = (r.dst[k]! | host(r.dstLen[k]!)) >>> 0;
    h[i * 4 + 2] = ((pick(r.sportLo[k]!, r.sportHi[k]!) << 16) | pick(r.dportLo[k]!, r.dportHi[k]!)) >>> 0;
    h[i * 4 + 3] = r.protoMask[k] === 0 ? [6, 17, 1][rnd() % 3]! : r.proto[k]!;
  }
  return h;
}

describe.skipIf(requires('classbench'))('ClassBench first match, every engine', () => {
  it('the native addon is built', () => {
    expect(nativeAvailable()).toBe(true);
  });

  for (const set of SETS) {
    const tracePath = findData(`${set}_trace`);
    const oraclePath = findData(`${set}_trace.firstmatch`);
    if (tracePath && oraclePath) {
      for (const engine of ENGINES) {
        it(`${set}: ${engine} agrees with ${set}_trace.firstmatch on every header`, async () => {
          const rules = readRules(findData(set)!);
          const trace = readTrace(tracePath);
          const want = readFirstMatch(oraclePath);
          expect(trace.count).toBe(want.length);
          const { answers, summary } = await classifyClassBench(rules, trace, engine);
          expect(firstDiff(answers, want)).toBe('none');
          expect(summary.lookups).toBe(trace.count);
          expect(summary.rules).toBe(rules.count);
        });
      }
    } else {
      it(`${set}: no trace in ../shared, a generated corner trace with the reference engine as oracle`, async () => {
        const rules = readRules(findData(set)!);
        const headers = cornerTrace(rules, 20_000, 0xc1a55);
        const want = new Int32Array(headers.length / 4);
        classifyLinear(rules, headers, want);
        expect(want.every((v) => v >= 0)).toBe(true); // a corner of rule k matches rule k at least
        for (const engine of ['native', 'native-scalar'] as const) {
          const { answers } = await classifyClassBench(rules, { count: want.length, headers }, engine);
          expect(firstDiff(answers, want)).toBe('none');
        }
      });
    }
  }

  it('the native path really ran (the addon counts the headers it classified)', async () => {
    const rules = readRules(findData('acl1_1k')!);
    const cls = new NativeClassifier();
    const { packClassBenchRules } = await import('../../src/classbench/native.js');
    await cls.compile(packClassBenchRules(rules));
    const trace = readTrace(findData('acl1_1k_trace')!);
    const out = { ruleId: new Uint32Array(trace.count), action: new Uint8Array(trace.count) };
    cls.lookupBatch4(trace.headers, out);
    const st = cls.stats();
    expect(st.nativeLookups).toBe(trace.count);
    expect(st.prefixRules4).toBe(rules.count);
    expect(st.tables4).toBeGreaterThan(0);
  });
});

/**
 * One ClassBench run: classify every header of a trace against a rule file (priority = line
 * order) K times with one engine, and measure it.
 *   native         the C++ classifier, batch lookup over the whole trace (prefetching, 32 at a time)
 *   native-scalar  the same structures, one header at a time, no prefetch
 *   reference      a linear first-match scan in TypeScript (the oracle)
 * lookups = headers x K; nsPerLookup = wall time of the K classification passes / lookups;
 * buildMs = time of the native compile (0 for reference); bytesPerRule = bytes of the engine's
 * rule structures / rules.
 * No I/O (the command, src/cli/classbench.ts, reads the files and prints).
 */
import { NativeClassifier, NO_RULE_ID } from '../native/binding.js';
import type { ClassBenchRules, ClassBenchTrace } from './files.js';
import { packClassBenchRules } from './native.js';
import { classifyLinear, referenceBytesPerRule } from './reference.js';

export const ENGINES = ['native', 'native-scalar', 'reference'] as const;
export type ClassBenchEngine = (typeof ENGINES)[number];

export interface ClassBenchSummary {
  readonly engine: ClassBenchEngine;
  readonly rules: number;
  readonly lookups: number;
  readonly buildMs: number;
  readonly nsPerLookup: number;
  readonly bytesPerRule: number;
}

export interface ClassBenchResult {
  /** first-match rule index per header (-1 = none) */
  readonly answers: Int32Array;
  readonly summary: ClassBenchSummary;
}

/** Runs one engine over parsed input (used by `palisade classbench`, the tests and the benchmarks). */
export async function classifyClassBench(rules: ClassBenchRules, trace: ClassBenchTrace, engine: ClassBenchEngine, repeat = 1): Promise<ClassBenchResult> {
  const n = trace.count;
  const answers = new Int32Array(n);
  let buildMs = 0;
  let bytesPerRule: number;
  let elapsedNs: bigint;
  if (engine === 'reference') {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < repeat; k++) classifyLinear(rules, trace.headers, answers);
    elapsedNs = process.hrtime.bigint() - t0;
    bytesPerRule = referenceBytesPerRule();
  } else {
    const cls = new NativeClassifier();
    const built = await cls.compile(packClassBenchRules(rules));
    buildMs = built.buildNs / 1e6;
    const ruleId = new Uint32Array(n);
    const action = new Uint8Array(n);
    const scalar = engine === 'native-scalar';
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < repeat; k++) cls.lookupBatch4(trace.headers, { ruleId, action }, { scalar });
    elapsedNs = process.hrtime.bigint() - t0;
    for (let i = 0; i < n; i++) answers[i] = ruleId[i] === NO_RULE_ID ? -1 : ruleId[i]!;
    const st = cls.stats();
    bytesPerRule = rules.count ? st.ruleBytes / rules.count : 0;
  }
  const lookups = n * repeat;
  return {
    answers,
    summary: {
      engine,
      rules: rules.count,
      lookups,
      buildMs: round(buildMs, 3),
      nsPerLookup: round(lookups ? Number(elapsedNs) / lookups : 0, 2),
      bytesPerRule: round(bytesPerRule, 1),
    },
  };
}

const round = (v: number, digits: number): number => Number(v.toFixed(digits));

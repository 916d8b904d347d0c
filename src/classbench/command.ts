/**
 * `palisade classbench RULES TRACE [--engine native|native-scalar|reference] [--repeat K]`
 *
 * Classifies every header of a ClassBench trace (plain or .gz) against a ClassBench rule file
 * (priority = line order) K times. stdout: one line per header, the 0-based index of the first
 * matching rule (-1 if none). Last stderr line: one JSON object
 * {"engine","rules","lookups","buildMs","nsPerLookup","bytesPerRule"}.
 *   native         the C++ classifier, batch lookup over the whole trace (prefetching, 32 at a time)
 *   native-scalar  the same structures, one header at a time, no prefetch
 *   reference      a linear first-match scan in TypeScript (the oracle)
 * lookups = headers x K; nsPerLookup = wall time of the K classification passes / lookups;
 * buildMs = time of the native compile (0 for reference); bytesPerRule = bytes of the engine's
 * rule structures / rules.
 * Exit codes: 0 ok, 1 internal/native failure, 2 invalid arguments or input files.
 */
import { NativeClassifier, NO_RULE_ID } from '../native/binding.js';
import { ClassBenchParseError, readRules, readTrace, type ClassBenchRules, type ClassBenchTrace } from './files.js';
import { packClassBenchRules } from './native.js';
import { classifyLinear, referenceBytesPerRule } from './reference.js';

export const ENGINES = ['native', 'native-scalar', 'reference'] as const;
export type ClassBenchEngine = (typeof ENGINES)[number];

export interface ClassBenchIo {
  out(text: string): void;
  err(text: string): void;
}
const processIo: ClassBenchIo = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
};

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

const USAGE = 'usage: palisade classbench RULES TRACE [--engine native|native-scalar|reference] [--repeat K]\n';

interface Args {
  rules: string;
  trace: string;
  engine: ClassBenchEngine;
  repeat: number;
}

function parseArgs(argv: readonly string[]): Args | string {
  const pos: string[] = [];
  let engine: ClassBenchEngine = 'native';
  let repeat = 1;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const value = (): string | undefined => (a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : argv[++i]);
    if (name === '--engine') {
      const v = value();
      if (!ENGINES.includes(v as ClassBenchEngine)) return `--engine must be one of ${ENGINES.join(', ')}`;
      engine = v as ClassBenchEngine;
    } else if (name === '--repeat') {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 1) return '--repeat must be an integer >= 1';
      repeat = v;
    } else if (a === '-h' || a === '--help') {
      return '';
    } else if (a.startsWith('-')) {
      return `unknown option ${a}`;
    } else {
      pos.push(a);
    }
  }
  if (pos.length !== 2) return 'expected two files: RULES TRACE';
  return { rules: pos[0]!, trace: pos[1]!, engine, repeat };
}

/** Runs one engine over parsed input (used by the command, the tests and the benchmarks). */
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

export async function runClassbench(argv: readonly string[], io: ClassBenchIo = processIo): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    io.err(args ? `palisade classbench: ${args}\n${USAGE}` : USAGE);
    return args ? 2 : 0;
  }
  let rules: ClassBenchRules;
  let trace: ClassBenchTrace;
  try {
    rules = readRules(args.rules);
    trace = readTrace(args.trace);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (e instanceof ClassBenchParseError) io.err(`palisade classbench: ${e.code}: ${e.message}\n`);
    else io.err(`palisade classbench: cannot read input: ${err.message}\n`);
    return 2;
  }
  let result: ClassBenchResult;
  try {
    result = await classifyClassBench(rules, trace, args.engine, args.repeat);
  } catch (e) {
    const err = e as { code?: string; message?: string };
    io.err(`palisade classbench: ${err.code ?? 'PAL_INTERNAL'}: ${err.message ?? String(e)}\n`);
    return 1;
  }
  const { answers } = result;
  const CHUNK = 65536;
  for (let i = 0; i < answers.length; i += CHUNK) {
    const part = Array.from(answers.subarray(i, Math.min(answers.length, i + CHUNK)));
    io.out(part.join('\n') + '\n');
  }
  io.err(JSON.stringify(result.summary) + '\n');
  return 0;
}

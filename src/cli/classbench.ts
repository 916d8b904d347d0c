/**
 * `palisade classbench RULES TRACE [--engine native|native-scalar|reference] [--repeat K]`
 *
 * Classifies every header of a ClassBench trace (plain or .gz) against a ClassBench rule file
 * (src/classbench/classify.ts). stdout: one line per header, the 0-based index of the first
 * matching rule (-1 if none). Last stderr line: one JSON object
 * {"engine","rules","lookups","buildMs","nsPerLookup","bytesPerRule"}.
 * Exit codes: 0 ok, 1 internal/native failure, 2 invalid arguments or input files.
 */
import { errorCode } from '../model/errors.js';
import { classifyClassBench, ENGINES, type ClassBenchEngine, type ClassBenchResult } from '../classbench/classify.js';
import { ClassBenchParseError, readRules, readTrace, type ClassBenchRules, type ClassBenchTrace } from '../classbench/files.js';
import { processIo, type Io } from './io.js';

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

export async function runClassbench(argv: readonly string[], io: Io = processIo): Promise<number> {
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
    const code = errorCode(e);
    io.err(`palisade classbench: ${code ? `${code}: ` : ''}${(e as Error).message ?? String(e)}\n`);
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

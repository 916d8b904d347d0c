/**
 * `palisade compile -f PATH... [--rules] [--classifier ts|native]`: compile manifests into the
 * rule set. With `--rules`, print the canonical text dump (rules/dump.ts) on stdout; without,
 * one summary line. Problems go to stderr; exit 0 success, 2 invalid input or usage, 1 internal.
 */
import { classifierFactory } from '../engine/default-classifier.js';
import { Engine } from '../engine/engine.js';
import { dumpRules } from '../rules/dump.js';
import { UnsupportedRuleError } from '../rules/lower.js';
import { parseArgs, UsageError } from './args.js';
import { processIo, type Io } from './io.js';
import { loadForCommand, printProblems } from './load.js';

const FLAGS = {
  file: { kind: 'list', short: 'f', value: 'PATH...', help: 'manifest files or directories (repeatable)' },
  rules: { kind: 'boolean', help: 'print the canonical rule dump' },
  classifier: { kind: 'string', value: 'ts|native', help: 'classifier to build (default: native when built)' },
  help: { kind: 'boolean', short: 'h', help: 'this text' },
} as const;

const HELP = `Usage: palisade compile -f PATH... [--rules] [--classifier ts|native]

Compile the policies and inventory into the backend-neutral rule set.
  -f, --file PATH...   manifest files or directories (repeatable)
      --rules          print the canonical rule dump (one line per set and per rule)
      --classifier C   ts or native (default: native when the addon is built)
`;

export async function runCompile(argv: readonly string[], io: Io = processIo): Promise<number> {
  let flags;
  try {
    flags = parseArgs(argv, FLAGS);
    if (flags.help) {
      io.out(HELP);
      return 0;
    }
    if (flags.classifier !== undefined && flags.classifier !== 'ts' && flags.classifier !== 'native') {
      throw new UsageError(`--classifier: ${JSON.stringify(flags.classifier)} is not ts or native`);
    }
    const loaded = loadForCommand(flags.file, io);
    if (!loaded.cluster) return 2;
    const started = process.hrtime.bigint();
    let engine: Engine;
    try {
      engine = new Engine(loaded.cluster, { classifier: classifierFactory((flags.classifier as 'ts' | 'native' | undefined) ?? 'auto') });
    } catch (e) {
      if (e instanceof UnsupportedRuleError) {
        printProblems([e.problem()], io);
        return 2;
      }
      throw e;
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (flags.rules) io.out(dumpRules(engine.ruleSet, engine.resolution));
    else {
      const rs = engine.ruleSet;
      io.out(
        `compiled ${rs.egress.rules.length} egress and ${rs.ingress.rules.length} ingress rules over ${engine.resolution.setCount} address sets ` +
          `in ${ms.toFixed(1)} ms (classifier: ${engine.classifier})\n`,
      );
    }
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`palisade compile: ${e.message}\n${HELP}`);
      return 2;
    }
    throw e;
  }
}

/**
 * The one place that picks the engine behind `check` and `matrix`.
 *
 * Default `native`: the compiled rule set in the C++ classifier (src/engine), whose explanations
 * are built from the classifier's decisions and are identical to the reference evaluator's (the
 * differential tests compare them field by field). `--engine reference` asks the oracle
 * (src/reference) directly. When the addon is not built, `native` says so on stderr and the
 * reference answers.
 */
import type { Cluster } from '../model/types.js';
import type { Evaluator } from '../model/verdict.js';
import { ReferenceEvaluator } from '../reference/evaluate.js';
import { nativeClassifier } from '../engine/native-classifier.js';
import { Engine } from '../engine/engine.js';
import { UsageError } from './args.js';
import type { Io } from './io.js';

export const ENGINES = ['native', 'reference'] as const;
export type EngineName = (typeof ENGINES)[number];
export const DEFAULT_ENGINE: EngineName = 'native';

/** The `--engine` flag, one definition for every command that takes it. */
export const ENGINE_FLAG = {
  kind: 'string',
  value: ENGINES.join('|'),
  help: `engine that answers (default ${DEFAULT_ENGINE})`,
} as const;

export function parseEngine(text: string | undefined): EngineName {
  if (text === undefined) return DEFAULT_ENGINE;
  if ((ENGINES as readonly string[]).includes(text)) return text as EngineName;
  throw new UsageError(`--engine: ${JSON.stringify(text)} is not one of ${ENGINES.join(', ')}`);
}

export function selectEvaluator(engine: EngineName, cluster: Cluster, io: Io): Evaluator {
  if (engine === 'native') {
    const native = nativeClassifier();
    if (native) return new Engine(cluster, { classifier: native });
    io.err('palisade: notice: the native addon is not built (npm run build:native); answering with the reference evaluator\n');
  }
  return new ReferenceEvaluator(cluster);
}

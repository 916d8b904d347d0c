/**
 * The one place that picks the engine behind `check` and `matrix`.
 *
 * Today only the reference evaluator (src/reference, the oracle) exists. `--engine native` is
 * accepted and answered with a clear notice on stderr, then the reference evaluator is used.
 * When the native classifier (src/engine, issue 6) lands, switch `native` here and make it the
 * default; every command picks up the change.
 */
import type { Cluster } from '../model/types.js';
import type { Evaluator } from '../reference/types.js';
import { ReferenceEvaluator } from '../reference/evaluate.js';
import { UsageError } from './args.js';
import type { Io } from './io.js';

export const ENGINES = ['reference', 'native'] as const;
export type EngineName = (typeof ENGINES)[number];
export const DEFAULT_ENGINE: EngineName = 'reference';

export function parseEngine(text: string | undefined): EngineName {
  if (text === undefined) return DEFAULT_ENGINE;
  if ((ENGINES as readonly string[]).includes(text)) return text as EngineName;
  throw new UsageError(`--engine: ${JSON.stringify(text)} is not one of ${ENGINES.join(', ')}`);
}

export function selectEvaluator(engine: EngineName, cluster: Cluster, io: Io): Evaluator {
  if (engine === 'native') {
    io.err('palisade: error: the native engine is not available in this build yet; using the reference evaluator\n');
  }
  return new ReferenceEvaluator(cluster);
}

/**
 * The classifier interface the engine drives: one instance per direction table. Two
 * implementations: `linear-classifier.ts` (plain linear first match, the second oracle) and
 * `native-classifier.ts` (the C++ classifier through src/native/binding.ts, the one door to native).
 * The engine is handed a `ClassifierFactory`; which one is the default is decided in one place,
 * `default-classifier.ts`, never by importing a module for its side effect.
 *
 * Contract (both implementations, checked by the differential tests):
 * - `publishRules(table)` replaces the rules; rule order is `rule.priority` (unique per table).
 * - `applySetEdits(deltas)` changes set membership; a lookup sees all edits of one call or none.
 * - `lookup*` return the id of the FIRST rule (lowest priority >= `minPriority`) whose subject
 *   and peer sets contain the right addresses (egress: subject = source; ingress: subject =
 *   destination), whose protocol is the flow's (or any) and whose port ranges contain the ports;
 *   -1 when none.
 * Thread-safety: single-threaded use from the engine.
 */
import type { Cidr, Family } from '../model/ip.js';
import type { SetDelta } from '../resolve/changes.js';
import type { DirectionTable } from '../rules/types.js';
import type { FlowBatch } from './flow-batch.js';

export const NO_RULE = -1;

/** `ts`: the linear TypeScript classifier; `native`: the C++ classifier (addon/classifier). */
export type ClassifierKind = 'ts' | 'native';

export interface Classifier {
  readonly kind: ClassifierKind;
  /** Replace every set's members (sets not listed become empty). */
  loadSets(sets: ReadonlyMap<number, readonly Cidr[]>): void;
  publishRules(table: DirectionTable): void;
  applySetEdits(deltas: readonly SetDelta[]): void;
  /** One flow; addresses as unsigned integers of `family`. */
  lookup(family: Family, src: bigint, dst: bigint, protocol: number, srcPort: number, dstPort: number, minPriority: number): number;
  /** Every flow of `batch`; writes rule ids (or -1) to `out[0..count)`. */
  lookupBatch(batch: FlowBatch, minPriority: number, out: Int32Array): void;
  /** Number of flows classified since creation (proves which path ran). */
  readonly lookups: number;
}

/** Makes the classifiers of one engine (one per direction table, and again on each rebuild). */
export interface ClassifierFactory {
  readonly kind: ClassifierKind;
  create(): Classifier;
}

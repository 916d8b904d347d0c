/**
 * Palisade's public API: compile Kubernetes network policy into an Engine that answers flows.
 *
 * ```ts
 * import { compile } from 'palisade';
 * const engine = compile({ paths: ['manifests/'] });        // throws InvalidInputError
 * const r = engine.lookup({ src, dst, protocol: 'TCP', dstPort: 80 });
 * if (r.verdict === 'deny') console.log(engine.explain(flow)); // which tier, policy and rule
 * engine.update({ kind: 'pod', pod });                        // incremental
 * ```
 * See docs/engine-api.md for the guide written for CNI plugin authors.
 */
import { hasErrors, InvalidInputError, type Problem } from './model/problems.js';
import type { Cluster } from './model/types.js';
import { safeLoadCluster, safeParseCluster } from './manifests/cluster.js';
import { classifierFactory, type ClassifierChoice } from './engine/default-classifier.js';
import { Engine } from './engine/engine.js';
import { UnsupportedRuleError } from './rules/lower.js';

/** What `compile` reads: manifest files/directories, manifest text, or a normalized Cluster. */
export type CompileInput =
  | { readonly paths: readonly string[] }
  | { readonly text: string; readonly file?: string }
  | Cluster;

/** How `compile` builds the Engine. */
export interface CompileOptions {
  /**
   * `auto` (default): the native classifier when the addon is built, else the linear TypeScript
   * one; `native` (throws ERR_PALISADE_NATIVE_MISSING without the addon); `ts`; or a factory of your own.
   */
  readonly classifier?: ClassifierChoice;
  /** the reference's `nodeLocalIngress` (default true): an isolated pod accepts traffic from its own node */
  readonly nodeLocalIngress?: boolean;
}

export interface SafeCompileResult {
  /** present when there is no error */
  readonly engine?: Engine;
  /** errors, warnings and notices (file, object, field path, stable code) */
  readonly problems: readonly Problem[];
}

/**
 * Compile without throwing: `{ engine, problems }`, `engine` absent when any problem is an error.
 * Invalid input is rejected whole; nothing of it is used.
 */
export function safeCompile(input: CompileInput, options: CompileOptions = {}): SafeCompileResult {
  let cluster: Cluster | undefined;
  let problems: readonly Problem[] = [];
  if ('paths' in input) ({ cluster, problems } = safeLoadCluster(input.paths));
  else if ('text' in input) ({ cluster, problems } = safeParseCluster(input.text, input.file));
  else cluster = input;
  if (!cluster || hasErrors(problems)) return { problems };
  const classifier = classifierFactory(options.classifier);
  try {
    return { engine: new Engine(cluster, { ...options, classifier }), problems };
  } catch (e) {
    if (e instanceof UnsupportedRuleError) {
      return { problems: [...problems, e.problem()] };
    }
    throw e;
  }
}

/** Compile, throwing InvalidInputError (carrying every problem) when the input is invalid. */
export function compile(input: CompileInput, options: CompileOptions = {}): Engine {
  const r = safeCompile(input, options);
  if (!r.engine) throw new InvalidInputError(r.problems);
  return r.engine;
}

export { Engine } from './engine/engine.js';
export type { EngineOptions, LookupResult, DirectionResult, BatchResult } from './engine/engine.js';
export { nativeAvailable, classifierFactory, type ClassifierChoice } from './engine/default-classifier.js';
export type { Classifier, ClassifierFactory, ClassifierKind } from './engine/classifier.js';
export type { EngineChange, PolicyChange, UpdateResult, InventoryChange, SetDelta } from './engine/changes.js';
export { encodeFlows, decodeFlow, PROTOCOL_NUMBER, type FlowBatch } from './engine/flow-batch.js';
export type { Rule, RuleSet, RuleAction, RuleOrigin, PortRange, DirectionTable } from './rules/types.js';
export { dumpRules } from './rules/dump.js';
export { outgrowsRules } from './rules/inputs.js';
export { InvalidInputError, type Problem } from './model/problems.js';
export { ReferenceEvaluator } from './reference/index.js';
export { InvalidFlowError } from './model/flow.js';
export type { Flow, Endpoint } from './model/flow.js';
export type { FlowVerdict, DirectionVerdict, RuleRef } from './model/verdict.js';
export { StagedEvaluator, stagedOutcome } from './reference/index.js';
export type { StagedOutcome, StagedStep, StagedVerdict, Cause, Step } from './reference/index.js';
export { STAGED_ANNOTATION, enforcedPolicies, withStagedInForce, stagedPolicies, stagedPredicate } from './model/staged.js';
export { parseIp, parseCidr, type IpAddr, type Cidr } from './model/ip.js';
export type * from './model/types.js';

/**
 * The reference evaluator's public surface: the oracle (`ReferenceEvaluator`, `evaluateFlow`),
 * the facts explain and lint read (`applicablePolicies`, `equalPriorityGroups`, `queryTarget`,
 * `walkFlow`), and staged evaluation (`StagedEvaluator`, `stagedOutcome`, with `cause.ts`
 * naming what decided). The flow/verdict contract it answers in lives in `model/flow.ts` and
 * `model/verdict.ts`. No I/O anywhere below this folder.
 */
export { ReferenceEvaluator, evaluateFlow, type ReferenceOptions } from './evaluate.js';
export { applicablePolicies, equalPriorityGroups, type ApplicablePolicies, type EqualPriorityGroup } from './applicable.js';
export { EndpointIndex, type ResolvedEndpoint } from './endpoints.js';
export { StagedEvaluator, stagedOutcome, type StagedOutcome, type StagedStep, type StagedVerdict } from './staged.js';
export { causeOf, causeKey, decisionPath, type Cause, type DecisionPath, type Differs, type DiffersArg, type Step } from './cause.js';
export { walkFlow, type FlowWalk, type DirectionWalk, type TierWalk, type PolicyWalk, type RuleWalk, type EntryCheck } from './walkthrough.js';
export { queryTarget, type PodTarget, type DirectionTarget, type PolicySummary, type RuleSummary } from './query-target.js';

/**
 * The reference evaluator's public surface: the oracle (`ReferenceEvaluator`, `evaluateFlow`)
 * and the facts explain and lint read (`applicablePolicies`, `equalPriorityGroups`). The
 * flow/verdict contract it answers in lives in `model/flow.ts` and `model/verdict.ts`. No I/O anywhere below this folder.
 */
export { ReferenceEvaluator, evaluateFlow, type ReferenceOptions } from './evaluate.js';
export { applicablePolicies, equalPriorityGroups, type ApplicablePolicies, type EqualPriorityGroup } from './applicable.js';
export { EndpointIndex, type ResolvedEndpoint } from './endpoints.js';

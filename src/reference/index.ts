/**
 * The reference evaluator's public surface: the oracle (`ReferenceEvaluator`, `evaluateFlow`),
 * the flow/verdict contract (`types.ts`), and the facts explain and lint read
 * (`applicablePolicies`, `equalPriorityGroups`). No I/O anywhere below this folder.
 */
export * from './types.js';
export { ReferenceEvaluator, evaluateFlow, InvalidFlowError, type ReferenceOptions } from './evaluate.js';
export { applicablePolicies, equalPriorityGroups, type ApplicablePolicies, type EqualPriorityGroup } from './applicable.js';
export { EndpointIndex, type ResolvedEndpoint } from './endpoints.js';
export { FQDN_NOTE_SUFFIX } from './tiers.js';

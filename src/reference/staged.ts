/**
 * "What would the verdict be with the staged policies in force?" (model/staged.ts; examples/s21-staged-approval).
 *
 * - `stagedOutcome(enforced, wouldBe, isStaged)`: the per-flow pair every layer reports (the
 *   CLI's `diff --staged`, a backend's staged log line and counters): both verdicts, whether they
 *   differ, and per direction the staged rule (or staged isolation) that would decide. Pure, from
 *   two FlowVerdicts, so a backend can pair its own enforced answer with a would-be answer from
 *   any engine built on `withStagedInForce(cluster)`.
 * - `StagedEvaluator`: both reference evaluators (the cluster as enforced, and with the staged
 *   policies in force) and the outcome, for one flow.
 *
 * The staged step of a direction is the last step of the would-be decision path (`cause.ts`:
 * the deciding rule, then the isolation, then Pass rules) that belongs to a staged policy: the
 * staged rule that would decide, or, when an enforced rule still decides, the staged Pass rule
 * or isolation that led the flow there. Absent when no staged policy is on the path.
 * Invariants: `enforced` equals `ReferenceEvaluator(cluster)` (staged policies never change a
 * verdict); `wouldBe` equals `ReferenceEvaluator(withStagedInForce(cluster))`.
 * Cost: two evaluations per flow. Thread-safety: immutable after construction.
 */
import type { IpAddr } from '../model/ip.js';
import { stagedPredicate, withStagedInForce } from '../model/staged.js';
import type { Cluster, Direction, ObjectRef } from '../model/types.js';
import { causeOf, decisionPath, lastDifferingStep, type Cause, type Step } from './cause.js';
import { ReferenceEvaluator, type ReferenceOptions } from './evaluate.js';
import type { Endpoint, Flow } from '../model/flow.js';
import type { Evaluator, FlowVerdict } from '../model/verdict.js';

export interface StagedStep {
  readonly direction: Direction;
  readonly step: Step;
}

export interface StagedOutcome {
  readonly enforced: 'allow' | 'deny';
  readonly wouldBe: 'allow' | 'deny';
  /** wouldBe !== enforced */
  readonly changed: boolean;
  /** per direction (egress first), the staged step that would decide; only directions that have one */
  readonly staged: readonly StagedStep[];
  /** when `changed`: per direction whose verdict differs, the step the change is owed to */
  readonly causes: readonly Cause[];
}

export function stagedOutcome(enforced: FlowVerdict, wouldBe: FlowVerdict, isStaged: (p: ObjectRef) => boolean): StagedOutcome {
  const staged: StagedStep[] = [];
  const causes: Cause[] = [];
  for (const d of ['egress', 'ingress'] as const) {
    const step = lastDifferingStep(decisionPath(wouldBe[d]), isStaged, d);
    if (step) staged.push({ direction: d, step });
    if (enforced[d].verdict !== wouldBe[d].verdict) causes.push(causeOf(enforced[d], wouldBe[d], isStaged));
  }
  return { enforced: enforced.verdict, wouldBe: wouldBe.verdict, changed: enforced.verdict !== wouldBe.verdict, staged, causes };
}

export interface StagedVerdict {
  readonly enforced: FlowVerdict;
  readonly wouldBe: FlowVerdict;
  readonly outcome: StagedOutcome;
}

export class StagedEvaluator {
  /** the cluster as enforced: staged policies ignored */
  readonly enforced: Evaluator;
  /** the cluster with every staged policy in force */
  readonly inForce: Evaluator;
  readonly isStaged: (p: ObjectRef) => boolean;

  constructor(cluster: Cluster, options: ReferenceOptions = {}) {
    this.enforced = new ReferenceEvaluator(cluster, options);
    this.inForce = new ReferenceEvaluator(withStagedInForce(cluster), options);
    this.isStaged = stagedPredicate(cluster);
  }

  evaluate(flow: Flow): StagedVerdict {
    const enforced = this.enforced.evaluate(flow);
    const wouldBe = this.inForce.evaluate(flow);
    return { enforced, wouldBe, outcome: stagedOutcome(enforced, wouldBe, this.isStaged) };
  }

  endpoint(ip: IpAddr): Endpoint {
    return this.enforced.endpoint(ip);
  }
}

/**
 * What decided one direction of a flow, as a path of steps, and which step a change of verdict
 * is owed to. `palisade diff` groups changes by that step; staged reporting names the staged rule
 * with it (`staged.ts`).
 *
 * The decision path of a DirectionVerdict, in the order things happened:
 *   the Pass rules met (`passed`), then, in the NetworkPolicy tier, the isolation by the
 *   NetworkPolicies that select the pod (`isolatedBy`), then the decider: the deciding rule, the
 *   isolation itself when no rule allowed (or the node-local exception), or the default.
 *
 * Attribution of a verdict change between `before` and `after` of one direction, given what
 * differs between the two (`Differs`: policies added, removed, edited, or staged; and single
 * rules, so that editing one rule of a policy does not make its other rules a cause):
 * 1. the last step of the after path that differs (a rule step: that rule; an isolation step:
 *    one of its NetworkPolicies), the deciding rule first, then the isolation, then the Pass
 *    rules, latest first: what the change put in the way;
 * 2. else the last such step of the before path: what the change took away (a removal);
 * 3. else (no differing policy on either path: an inventory change, a label) the after decider,
 *    or the before decider when after is only the default.
 * Pure functions over verdicts. Cost: linear in the steps (a handful).
 */
import { policyKey } from '../model/staged.js';
import type { Direction, ObjectRef } from '../model/types.js';
import type { DirectionVerdict, RuleRef } from '../model/verdict.js';

export type Step =
  /** a Pass rule met on the way, or the deciding rule */
  | { readonly kind: 'rule'; readonly rule: RuleRef }
  /** NetworkPolicies isolate the pod: nothing but their rules (and its own node) may pass */
  | { readonly kind: 'isolation'; readonly policies: readonly ObjectRef[]; readonly nodeLocal?: true }
  /** no policy decided: the default allows */
  | { readonly kind: 'default' }
  /** the judged end is not a pod, or the flow is a pod to itself: no policy applies */
  | { readonly kind: 'no-policy'; readonly reason: 'not-a-pod' | 'loopback' | 'node-allowance' };

export interface DecisionPath {
  /** in the order met; the decider last */
  readonly steps: readonly Step[];
  readonly decider: Step;
}

export function decisionPath(d: DirectionVerdict): DecisionPath {
  const steps: Step[] = d.passed.map((rule) => ({ kind: 'rule', rule }));
  const isolatedBy = d.isolatedBy ?? [];
  let decider: Step;
  switch (d.reason) {
    case 'not-a-pod':
    case 'loopback':
    case 'node-allowance':
      decider = { kind: 'no-policy', reason: d.reason };
      break;
    case 'rule':
      if (d.tier === 'NetworkPolicy' && isolatedBy.length > 0) steps.push({ kind: 'isolation', policies: isolatedBy });
      decider = d.rule ? { kind: 'rule', rule: d.rule } : { kind: 'default' };
      break;
    case 'isolated-no-match':
      decider = { kind: 'isolation', policies: isolatedBy };
      break;
    case 'node-local':
      decider = { kind: 'isolation', policies: isolatedBy, nodeLocal: true };
      break;
    case 'no-match':
      decider = { kind: 'default' };
      break;
  }
  steps.push(decider);
  return { steps, decider };
}

/** The step a change is owed to, with the side it was found on and the direction. */
export interface Cause {
  readonly direction: Direction;
  /** `after`: the change put this step in the flow's way; `before`: the change removed it */
  readonly side: 'before' | 'after';
  readonly step: Step;
}

/** What differs between the two sides of a comparison. */
export interface Differs {
  /** a whole policy (used for NetworkPolicy isolation) */
  policy(p: ObjectRef): boolean;
  /** one rule; absent: the rule's policy differs */
  rule?(r: RuleRef, direction: Direction): boolean;
}

/** A predicate on policies is a `Differs` at policy granularity (staged sets). */
export type DiffersArg = Differs | ((p: ObjectRef) => boolean);

function asDiffers(d: DiffersArg): Required<Differs> {
  if (typeof d === 'function') return { policy: d, rule: (r) => d(r.policy) };
  const policy = d.policy.bind(d);
  return { policy, rule: d.rule ? d.rule.bind(d) : (r) => policy(r.policy) };
}

/** Does a step differ? Isolation keeps only the policies that do. */
function differing(step: Step, differs: Required<Differs>, direction: Direction): Step | undefined {
  if (step.kind === 'rule') return differs.rule(step.rule, direction) ? step : undefined;
  if (step.kind === 'isolation') {
    const policies = step.policies.filter((p) => differs.policy(p));
    return policies.length > 0 ? { ...step, policies } : undefined;
  }
  return undefined;
}

/** The last step of a path (decider first) that differs. */
export function lastDifferingStep(path: DecisionPath, given: DiffersArg, direction: Direction): Step | undefined {
  const differs = asDiffers(given);
  for (let i = path.steps.length - 1; i >= 0; i--) {
    const s = differing(path.steps[i]!, differs, direction);
    if (s) return s;
  }
  return undefined;
}

/** Attribute the change of one direction from `before` to `after` (rules 1-3 above). */
export function causeOf(before: DirectionVerdict, after: DirectionVerdict, differs: DiffersArg): Cause {
  const direction = after.direction;
  const a = decisionPath(after);
  const fromAfter = lastDifferingStep(a, differs, direction);
  if (fromAfter) return { direction, side: 'after', step: fromAfter };
  const b = decisionPath(before);
  const fromBefore = lastDifferingStep(b, differs, direction);
  if (fromBefore) return { direction, side: 'before', step: fromBefore };
  if (a.decider.kind === 'default' && b.decider.kind !== 'default') return { direction, side: 'before', step: b.decider };
  return { direction, side: 'after', step: a.decider };
}

/** A stable text key of a cause, for grouping: `ingress after rule ClusterNetworkPolicy/x[2]`. */
export function causeKey(c: Cause): string {
  const s = c.step;
  const what =
    s.kind === 'rule'
      ? `rule ${policyKey(s.rule.policy)}[${s.rule.ruleIndex}]`
      : s.kind === 'isolation'
        ? `isolation${s.nodeLocal ? '+node' : ''} ${s.policies.map(policyKey).join(',')}`
        : s.kind === 'default'
          ? 'default'
          : `no-policy ${s.reason}`;
  return `${c.direction} ${c.side} ${what}`;
}

/**
 * A batch the compiler or the backend refused because of one object: which object to hold back
 * (ClusterState.holdBack), so that the rest of the cluster goes on being enforced instead of the
 * whole node waiting for a fix.
 *
 * Two refusals name their object: a rule the compiler cannot lower (UnsupportedRuleError, placed
 * at its policy and field path) and a policy the backend cannot enforce
 * (ERR_PALISADE_BACKEND_CANNOT_ENFORCE, src/enforce/capabilities.ts). The first may be caused by
 * the policy or by the Service a Redirect rule sends to (a Service turned single-stack): the
 * policy is tried first, then that Service. Pure.
 */
import { PalisadeError } from '../model/errors.js';
import { isKnownKind, type KnownKind } from '../model/kinds.js';
import { formatObject, type Problem } from '../model/problems.js';
import type { Cluster, ClusterPolicy, NetworkPolicy, ObjectRef, Service } from '../model/types.js';
import { UnsupportedRuleError } from '../rules/lower.js';

export interface HeldObject {
  readonly kind: KnownKind;
  readonly ref: ObjectRef;
  readonly problems: readonly Problem[];
}

export interface Refusal {
  /** the object that named itself: held back first */
  readonly object: HeldObject;
  /** the Service a refused Redirect rule sends to: held back when the policy is already as in force */
  readonly service?: HeldObject;
}

/** The object a refusal names, or undefined when `e` is no refusal of one object. `now`: the picture that was refused. */
export function refusalOf(e: unknown, now: Cluster): Refusal | undefined {
  if (e instanceof UnsupportedRuleError && e.location && isKnownKind(e.location.object.kind)) {
    const { object: ref, path } = e.location;
    const problem = e.problem();
    const m = /^spec\.(egress|ingress)\[(\d+)\]/.exec(path);
    const policy = now.clusterPolicies.find((p) => p.kind === ref.kind && p.name === ref.name);
    const target = m && policy ? policy[m[1] as 'egress' | 'ingress'].find((r) => r.index === Number(m[2]))?.redirect?.service : undefined;
    const service: HeldObject | undefined = target && {
      kind: 'Service',
      ref: { kind: 'Service', namespace: target.namespace, name: target.name },
      problems: [{ ...problem, object: { kind: 'Service', namespace: target.namespace, name: target.name }, path: 'spec.clusterIPs', message: `${formatObject(ref)} ${path}: ${problem.message}` }],
    };
    return { object: { kind: e.location.object.kind, ref, problems: [problem] }, ...(service ? { service } : {}) };
  }
  if (e instanceof PalisadeError && e.code === 'ERR_PALISADE_BACKEND_CANNOT_ENFORCE') {
    const d = e.details as { kind?: unknown; policy?: unknown; field?: unknown; file?: unknown };
    if (!isKnownKind(d.kind) || typeof d.policy !== 'string') return undefined;
    const ref: ObjectRef = { kind: d.kind, name: d.policy };
    const problem: Problem = { code: 'BACKEND_CANNOT_ENFORCE', severity: 'error', file: typeof d.file === 'string' ? d.file : '<api>', object: ref, ...(typeof d.field === 'string' ? { path: d.field } : {}), message: e.message };
    return { object: { kind: d.kind, ref, problems: [problem] } };
  }
  return undefined;
}

/** The version of `held` in force in `enforced` (absent: not in force). */
export function inForce(enforced: Cluster | undefined, held: HeldObject): NetworkPolicy | ClusterPolicy | Service | undefined {
  if (!enforced) return undefined;
  const { kind, ref } = held;
  if (kind === 'Service') return enforced.services.find((s) => s.namespace === ref.namespace && s.name === ref.name);
  if (kind === 'NetworkPolicy') return enforced.networkPolicies.find((p) => p.namespace === ref.namespace && p.name === ref.name);
  return enforced.clusterPolicies.find((p) => p.kind === kind && p.name === ref.name);
}

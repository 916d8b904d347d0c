/** Building lint warnings: each names its code, the policy (file, line, kind ns/name) and a field path. */
import type { Problem, ProblemCode } from '../model/problems.js';
import type { ClusterPolicy, NetworkPolicy } from '../model/types.js';

export type LintedPolicy = NetworkPolicy | ClusterPolicy;

export function policyRef(p: LintedPolicy): { kind: string; namespace?: string; name: string } {
  return p.kind === 'NetworkPolicy' ? { kind: p.kind, namespace: p.namespace, name: p.name } : { kind: p.kind, name: p.name };
}

export function warning(p: LintedPolicy, code: ProblemCode, path: string, message: string): Problem {
  return {
    code,
    severity: 'warning',
    message,
    file: p.source.file,
    ...(p.source.line !== undefined ? { line: p.source.line } : {}),
    object: policyRef(p),
    ...(path ? { path } : {}),
  };
}

/** `NetworkPolicy ns/name`, `ClusterNetworkPolicy name` */
export function policyName(p: LintedPolicy): string {
  return p.kind === 'NetworkPolicy' ? `NetworkPolicy ${p.namespace}/${p.name}` : `${p.kind} ${p.name}`;
}

/** A short list for messages: the first few items, then "and N more". */
export function shortList(items: readonly string[], max = 5): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

/** Plain code-unit order (the same order the evaluators use for policy names). */
export const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * NetworkPolicy isolation surprises:
 * - LINT_NP_ALLOWS_NOTHING: a policy type listed with no rules isolates the selected pods in that
 *   direction and allows nothing (a default deny; fine when intended, and the message says so).
 *   Source: kubernetes.io "Network Policies", "Default policies"; types.go policyTypes comment.
 * - LINT_NP_IMPLICIT_INGRESS: egress rules and no policyTypes. Defaulting
 *   (SetDefaults_NetworkPolicy) makes policyTypes [Ingress, Egress], so ingress is isolated too
 *   and, with no ingress rules, denied (semantics doc §3.3).
 * Pure.
 */
import type { Problem } from '../model/problems.js';
import type { Inventory, NetworkPolicy } from '../model/types.js';
import { warning } from './problem.js';
import { npSelectedPods } from './selection.js';

export function lintIsolation(inv: Inventory, nps: readonly NetworkPolicy[], policyTypesDefaulted: ReadonlySet<string>): Problem[] {
  const out: Problem[] = [];
  for (const np of nps) {
    const implicitIngress =
      policyTypesDefaulted.has(`${np.namespace}/${np.name}`) && np.egress.length > 0 && np.ingress.length === 0;
    const n = npSelectedPods(inv, np).length;
    const who = inv.pods.length > 0 ? `the ${n} pod(s) it selects` : 'the pods it selects';
    if (implicitIngress) {
      out.push(
        warning(
          np,
          'LINT_NP_IMPLICIT_INGRESS',
          'spec.policyTypes',
          `has egress rules but no policyTypes, so policyTypes defaults to [Ingress, Egress]: ${who} are isolated for ingress too, ` +
            `and with no ingress rules every ingress connection to them is denied. Write policyTypes: [Egress] if only egress was meant.`,
        ),
      );
    }
    for (const type of np.policyTypes) {
      const rules = type === 'Ingress' ? np.ingress : np.egress;
      if (rules.length > 0 || (type === 'Ingress' && implicitIngress)) continue;
      const dir = type === 'Ingress' ? 'ingress' : 'egress';
      out.push(
        warning(
          np,
          'LINT_NP_ALLOWS_NOTHING',
          `spec.${dir}`,
          `isolates ${who} for ${type} and allows no ${dir}: every ${dir} connection ${type === 'Ingress' ? 'to' : 'from'} them is denied` +
            `${type === 'Ingress' ? ' (except from their own node)' : ''} unless another NetworkPolicy that selects them allows it. ` +
            `If this is an intended default deny, nothing to do.`,
        ),
      );
    }
  }
  return out;
}

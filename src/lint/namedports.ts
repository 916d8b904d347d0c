/**
 * LINT_NAMED_PORT_UNDECLARED: a named port that no pod declares (with that protocol, for
 * NetworkPolicy). A named port resolves per destination pod against its containerPorts
 * (types.go NetworkPolicyPort.port; ClusterNetworkPolicy destinationNamedPort), so a name no pod
 * declares matches nothing: an allow that allows nothing, a deny that denies nothing.
 * Skipped when the input has no pods (policies linted alone). Pure.
 */
import type { Problem } from '../model/problems.js';
import type { ClusterPolicy, Inventory, NetworkPolicy } from '../model/types.js';
import { warning } from './problem.js';

export function lintNamedPorts(inv: Inventory, nps: readonly NetworkPolicy[], cps: readonly ClusterPolicy[]): Problem[] {
  if (inv.pods.length === 0) return [];
  const declared = new Map<string, Set<string>>(); // name -> protocols
  for (const pod of inv.pods) {
    for (const c of pod.containerPorts) {
      if (c.name === undefined) continue;
      declared.set(c.name, (declared.get(c.name) ?? new Set()).add(c.protocol));
    }
  }
  const out: Problem[] = [];
  for (const np of nps) {
    for (const [dir, rules] of [['ingress', np.ingress], ['egress', np.egress]] as const) {
      rules.forEach((r, i) =>
        (r.ports ?? []).forEach((e, j) => {
          if (typeof e.port !== 'string') return;
          const protos = declared.get(e.port);
          if (protos?.has(e.protocol)) return;
          const other = protos ? ` (pods declare it with ${[...protos].sort().join(', ')} only)` : '';
          out.push(
            warning(
              np,
              'LINT_NAMED_PORT_UNDECLARED',
              `spec.${dir}[${i}].ports[${j}].port`,
              `named port ${JSON.stringify(e.port)} with protocol ${e.protocol} is declared by no pod${other}: this entry matches nothing.`,
            ),
          );
        }),
      );
    }
  }
  for (const cp of cps) {
    const v1alpha1 = cp.kind !== 'ClusterNetworkPolicy';
    for (const [dir, rules] of [['ingress', cp.ingress], ['egress', cp.egress]] as const) {
      for (const r of rules) {
        (r.protocols ?? []).forEach((m, j) => {
          if (m.kind !== 'namedPort' || declared.has(m.name)) return;
          const path = v1alpha1 ? `spec.${dir}[${r.index}].ports[${j}].namedPort` : `spec.${dir}[${r.index}].protocols[${j}].destinationNamedPort`;
          out.push(
            warning(cp, 'LINT_NAMED_PORT_UNDECLARED', path, `named port ${JSON.stringify(m.name)} is declared by no pod: this entry matches nothing.`),
          );
        });
      }
    }
  }
  return out;
}

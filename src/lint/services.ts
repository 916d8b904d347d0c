/**
 * LINT_SERVICE_SELECTS_NO_ENDPOINTS: a `services` peer or subject (PalisadeClusterNetworkPolicy,
 * docs/extension-semantics.md) naming a Service that is not in the inventory (it matches
 * nothing), or one whose EndpointSlices list no endpoint: the rule matches only its frontends
 * (ClusterIP, external and load-balancer IPs, node ports), and traffic to those goes nowhere
 * (kube-proxy rejects it), so the rule does nothing useful today. Pure; cost O(references x
 * slices of their namespace).
 */
import { findService, serviceSourceAddresses } from '../model/services.js';
import type { Problem } from '../model/problems.js';
import type { ClusterPolicy, Inventory, ServiceRef } from '../model/types.js';
import { warning } from './problem.js';

export function lintServices(inv: Inventory, cps: readonly ClusterPolicy[]): Problem[] {
  const out: Problem[] = [];
  const check = (cp: ClusterPolicy, refs: readonly ServiceRef[], path: string): void => {
    refs.forEach((ref, k) => {
      const name = `${ref.namespace}/${ref.name}`;
      const at = `${path}.services[${k}]`;
      if (!findService(ref, inv.services)) {
        out.push(warning(cp, 'LINT_SERVICE_SELECTS_NO_ENDPOINTS', at, `Service ${name} is not in the inventory: this entry matches nothing today.`));
      } else if (serviceSourceAddresses(ref, inv).length === 0) {
        out.push(
          warning(
            cp,
            'LINT_SERVICE_SELECTS_NO_ENDPOINTS',
            at,
            `Service ${name} has no endpoints (no EndpointSlice labelled kubernetes.io/service-name=${ref.name} lists an address): this entry matches only its frontends, where traffic goes nowhere.`,
          ),
        );
      }
    });
  };
  for (const cp of cps) {
    if (cp.subject.kind === 'services') check(cp, cp.subject.services, 'spec.subject');
    for (const [dir, field, rules] of [['ingress', 'from', cp.ingress], ['egress', 'to', cp.egress]] as const) {
      for (const r of rules) r.peers.forEach((peer, j) => peer.kind === 'services' && check(cp, peer.services, `spec.${dir}[${r.index}].${field}[${j}]`));
    }
  }
  return out;
}

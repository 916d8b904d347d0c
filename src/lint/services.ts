/**
 * LINT_SERVICE_SELECTS_NO_ENDPOINTS: a `services` peer or subject (PalisadeClusterNetworkPolicy,
 * docs/extension-semantics.md) naming a Service that is not in the inventory (it matches
 * nothing), or one whose EndpointSlices list no endpoint: the rule matches only its frontends
 * (ClusterIP, external and load-balancer IPs, node ports), and traffic to those goes nowhere
 * (kube-proxy rejects it), so the rule does nothing useful today. The same for a Redirect
 * rule's target (S14): a missing Service, or one without a ClusterIP or endpoints, leaves the
 * redirected traffic nowhere to go (a missing one or no ClusterIP: the rule denies). Pure; cost O(references x
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
    for (const r of cp.egress) {
      if (!r.redirect) continue;
      const at = `spec.egress[${r.index}].redirect.service`;
      const ref = r.redirect.service;
      const svc = findService(ref, inv.services);
      const name = `${ref.namespace}/${ref.name}`;
      if (!svc) out.push(warning(cp, 'LINT_SERVICE_SELECTS_NO_ENDPOINTS', at, `Redirect target Service ${name} is not in the inventory: the rule denies what it matches.`));
      else if (svc.clusterIPs.length === 0) out.push(warning(cp, 'LINT_SERVICE_SELECTS_NO_ENDPOINTS', at, `Redirect target Service ${name} has no ClusterIP (headless): the rule denies what it matches.`));
      else if (serviceSourceAddresses(ref, inv).length === 0)
        out.push(warning(cp, 'LINT_SERVICE_SELECTS_NO_ENDPOINTS', at, `Redirect target Service ${name} has no endpoints: redirected traffic goes nowhere.`));
    }
  }
  return out;
}

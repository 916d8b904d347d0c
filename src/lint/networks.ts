/**
 * LINT_NETWORKS_IPV4_ONLY / LINT_NETWORKS_IPV6_ONLY: a rule whose `networks` include 0.0.0.0/0
 * but not ::/0 (or the reverse). "Everything" then means everything of one family only, and the
 * other family passes (network-policy-api issue #248: "forgetting ::/0 is easy"; the
 * ClusterNetworkPolicy `networks` doc: 0.0.0.0/0 is IPv4, ::/0 is IPv6). Pure.
 */
import type { Problem } from '../model/problems.js';
import type { ClusterPolicy, ClusterRule } from '../model/types.js';
import { warning } from './problem.js';

export function lintNetworks(cps: readonly ClusterPolicy[]): Problem[] {
  const out: Problem[] = [];
  for (const p of cps) {
    for (const [dir, rules] of [['ingress', p.ingress], ['egress', p.egress]] as const) {
      for (const r of rules) out.push(...lintRule(p, dir, r));
    }
  }
  return out;
}

function lintRule(p: ClusterPolicy, dir: 'ingress' | 'egress', r: ClusterRule): Problem[] {
  const peersField = dir === 'ingress' ? 'from' : 'to';
  let v4At: number | undefined;
  let v6At: number | undefined;
  r.peers.forEach((peer, j) => {
    if (peer.kind !== 'networks') return;
    for (const c of peer.cidrs) {
      if (c.prefixLen !== 0) continue;
      if (c.family === 4) v4At ??= j;
      else v6At ??= j;
    }
  });
  const rule = `${dir}[${r.index}]${r.name !== undefined ? ` (${JSON.stringify(r.name)})` : ''}`;
  if (v4At !== undefined && v6At === undefined) {
    return [
      warning(
        p,
        'LINT_NETWORKS_IPV4_ONLY',
        `spec.${dir}[${r.index}].${peersField}[${v4At}].networks`,
        `rule ${rule} (${r.action}) lists 0.0.0.0/0 without ::/0: it covers every IPv4 address and no IPv6 address. Add ::/0 if the rule means "everywhere".`,
      ),
    ];
  }
  if (v6At !== undefined && v4At === undefined) {
    return [
      warning(
        p,
        'LINT_NETWORKS_IPV6_ONLY',
        `spec.${dir}[${r.index}].${peersField}[${v6At}].networks`,
        `rule ${rule} (${r.action}) lists ::/0 without 0.0.0.0/0: it covers every IPv6 address and no IPv4 address. Add 0.0.0.0/0 if the rule means "everywhere".`,
      ),
    ];
  }
  return [];
}

/**
 * Where a Redirect rule (PalisadeClusterNetworkPolicy egress, S14) sends a flow it matches
 * (docs/extension-semantics.md, Redirect): one definition for the reference evaluator, lowering,
 * explain and lint, so that the oracle and the kernels cannot drift.
 *
 * - The target is a `spec.ports[]` entry of the redirect Service with the flow's protocol and
 *   port `redirect.port` (absent: the flow's own destination port); the flow then goes to that
 *   entry's frontend, the Service's ClusterIP of the flow's family, on that port.
 * - No such port, no ClusterIP of that family (headless, single-stack), or no such Service:
 *   there is nowhere to send the flow, and the rule fails closed for it (a deny).
 * - `endpoint`: the first endpoint address of the family (address order) with the EndpointSlice
 *   port of the same name and protocol (kube-proxy's targetPort resolution). It is what a
 *   backend that rewrites inside netfilter's nat hook must write (nftables: one DNAT per
 *   connection, so kube-proxy's own DNAT of the ClusterIP never runs after ours). Absent: the
 *   Service has no endpoint of that family and port (lint LINT_SERVICE_SELECTS_NO_ENDPOINTS).
 *
 * Invariants: results depend only on the inventory given. Pure; cost O(ports + slices x endpoints).
 */
import type { Family, IpAddr } from './ip.js';
import { findService, slicesOf } from './services.js';
import type { ClusterRedirect, Inventory, Protocol, ServicePort } from './types.js';

export interface RedirectTarget {
  readonly port: ServicePort;
  /** the Service's ClusterIP of the flow's family */
  readonly clusterIP: IpAddr;
  /** an endpoint and its port for the same Service port; absent: none */
  readonly endpoint?: { readonly ip: IpAddr; readonly port: number };
}

/** The Service ports a Redirect can send `protocol` flows to (any destination port when `redirect.port` is set). */
export function redirectPorts(redirect: ClusterRedirect, inv: Pick<Inventory, 'services'>): ServicePort[] {
  const svc = findService(redirect.service, inv.services);
  if (!svc) return [];
  return svc.ports.filter((p) => redirect.port === undefined || p.port === redirect.port);
}

/** The target of one flow (family, protocol, destination port); undefined: nowhere, the rule denies it. */
export function redirectTarget(
  redirect: ClusterRedirect,
  family: Family,
  protocol: Protocol,
  dstPort: number,
  inv: Pick<Inventory, 'services' | 'endpointSlices'>,
): RedirectTarget | undefined {
  const svc = findService(redirect.service, inv.services);
  if (!svc) return undefined;
  const wanted = redirect.port ?? dstPort;
  const port = svc.ports.find((p) => p.protocol === protocol && p.port === wanted);
  const clusterIP = svc.clusterIPs.find((ip) => ip.family === family);
  if (!port || !clusterIP) return undefined;
  const endpoint = redirectEndpoint(redirect, family, port, inv);
  return { port, clusterIP, ...(endpoint ? { endpoint } : {}) };
}

/** The endpoint a nat-hook rewrite uses: lowest address of the family whose slice has the port's name and protocol. */
export function redirectEndpoint(
  redirect: ClusterRedirect,
  family: Family,
  port: ServicePort,
  inv: Pick<Inventory, 'endpointSlices'>,
): { readonly ip: IpAddr; readonly port: number } | undefined {
  let best: { ip: IpAddr; port: number } | undefined;
  for (const slice of slicesOf(redirect.service, inv.endpointSlices)) {
    const sp = slice.ports.find((p) => p.protocol === port.protocol && (p.name ?? '') === (port.name ?? '') && p.port !== undefined);
    if (!sp || sp.port === undefined) continue;
    for (const ip of slice.addresses) {
      if (ip.family !== family) continue;
      if (!best || ip.value < best.ip.value) best = { ip, port: sp.port };
    }
  }
  return best;
}

/** "Service ns/name ClusterIP 10.96.0.10:80/TCP", as explain and logs name a target. */
export const redirectTargetText = (redirect: ClusterRedirect, t: RedirectTarget): string =>
  `Service ${redirect.service.namespace}/${redirect.service.name} ${t.clusterIP.family === 6 ? `[${t.clusterIP.text}]` : t.clusterIP.text}:${t.port.port}/${t.port.protocol}`;

/** Why a flow has no target, for the fail-closed note. */
export const redirectNowhereText = (redirect: { readonly service: { readonly namespace: string; readonly name: string }; readonly port?: number }, protocol: Protocol, dstPort: number): string =>
  `Service ${redirect.service.namespace}/${redirect.service.name} has no ClusterIP of this family with port ${redirect.port ?? dstPort}/${protocol}`;

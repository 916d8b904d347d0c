/**
 * Lint: surprising defaults and likely mistakes in valid input ("the defaults are hard
 * to remember"). Every finding is a warning Problem with a stable code, the policy (file, line,
 * kind ns/name) and a field path; lint never changes a verdict and never fails a command.
 *
 * Codes: LINT_NP_ALLOWS_NOTHING, LINT_NP_IMPLICIT_INGRESS, LINT_EGRESS_BLOCKS_DNS,
 * LINT_EQUAL_PRIORITY, LINT_NETWORKS_IPV4_ONLY, LINT_NETWORKS_IPV6_ONLY,
 * LINT_NAMED_PORT_UNDECLARED, LINT_SELECTS_NOTHING, LINT_PEER_SELECTS_NOTHING,
 * LINT_SERVICE_SELECTS_NO_ENDPOINTS.
 * Pure; cost O(policies x pods) plus the DNS check O(pods x policies x rules).
 */
import type { Problem } from '../model/problems.js';
import type { Cluster } from '../model/types.js';
import { lintDns } from './dns.js';
import { lintIsolation } from './isolation.js';
import { lintNamedPorts } from './namedports.js';
import { lintNetworks } from './networks.js';
import { lintPriorities } from './priorities.js';
import { lintSelectors } from './selectors.js';
import { lintServices } from './services.js';

export { policyTypesDefaulted } from './raw.js';

export interface LintOptions {
  /** `namespace/name` of NetworkPolicies written without policyTypes (see raw.ts); absent: unknown, that check is skipped */
  readonly policyTypesDefaulted?: ReadonlySet<string>;
}

export function lint(cluster: Cluster, opts: LintOptions = {}): Problem[] {
  const nps = cluster.networkPolicies;
  const cps = cluster.clusterPolicies;
  const found = [
    ...lintIsolation(cluster, nps, opts.policyTypesDefaulted ?? new Set()),
    ...lintDns(cluster, nps),
    ...lintPriorities(cps),
    ...lintNetworks(cps),
    ...lintNamedPorts(cluster, nps, cps),
    ...lintSelectors(cluster, nps, cps),
    ...lintServices(cluster, cps),
  ];
  // by file and line (stable: checks keep their order within one object)
  return found
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.file < b.p.file ? -1 : a.p.file > b.p.file ? 1 : (a.p.line ?? 0) - (b.p.line ?? 0) || a.i - b.i))
    .map((x) => x.p);
}

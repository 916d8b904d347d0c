/**
 * The rules compiling would refuse (UnsupportedRuleError), as input problems: `palisade
 * validate` reports them beside the schema problems, so that a policy the engine cannot lower is
 * caught before `apply` or the agent meets it. Only one case passes validation and still gets
 * here (a Redirect rule to a single-stack Service with a peer other than networks: it depends on
 * the inventory); the others are defence for a hand-built Cluster.
 *
 * Invariants: lowers exactly as the engine does (staged policies left out, the same options that
 * change which rules exist), collecting every refusal instead of stopping at the first. Pure;
 * cost one resolution and one lowering of the cluster.
 */
import { apiServerTcp } from '../model/node-allowance.js';
import type { Problem } from '../model/problems.js';
import { enforcedPolicies } from '../model/staged.js';
import type { Cluster } from '../model/types.js';
import { Resolution } from '../resolve/resolver.js';
import { lower, type UnsupportedRuleError } from './lower.js';

export function loweringProblems(given: Cluster): Problem[] {
  const cluster = enforcedPolicies(given);
  const refusals: UnsupportedRuleError[] = [];
  lower(cluster, new Resolution(cluster, cluster.networkPolicies), { refusals, apiServer: apiServerTcp(cluster.services, cluster.endpointSlices) });
  return refusals.map((r) => r.problem());
}

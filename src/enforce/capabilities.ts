/**
 * What each kernel backend can enforce of the extension fields, and the apply-time refusal of a
 * policy that needs what its backend cannot do (docs/extension-semantics.md, "Redirect"): a
 * policy is refused whole with a PalisadeError naming the policy, the rule and the backend, never
 * downgraded (lowering alone would turn a Redirect rule into "Deny all", fail closed).
 *
 * Invariant: `BACKEND_CAPABILITIES` has a row for every backend name; a capability turns true
 * only with the backend's real-traffic test. Pure; cost linear in the policies' rules.
 */
import { PalisadeError } from '../model/errors.js';
import type { ClusterPolicy, PolicySet } from '../model/types.js';
import type { BackendName } from './backend.js';

export interface BackendCapabilities {
  /** action Redirect (S14): rewrite a matching egress flow to a Service */
  readonly redirect: boolean;
}

/** nftables could (DNAT in a nat chain), eBPF could (address rewrite); neither is written yet. nfqueue cannot: a queue verdict accepts or drops, it does not rewrite. */
export const BACKEND_CAPABILITIES: Readonly<Record<BackendName, BackendCapabilities>> = {
  nftables: { redirect: false },
  ebpf: { redirect: false },
  nfqueue: { redirect: false },
};

const WHY: Readonly<Record<BackendName, string>> = {
  nftables: 'the nftables DNAT for Redirect is not implemented yet',
  ebpf: 'the eBPF address rewrite for Redirect is not implemented yet',
  nfqueue: 'a queued packet can only be accepted or dropped, not rewritten',
};

/** The first Redirect rule of the enforced policies, as `kind name direction[index]`. */
function redirectRule(policies: readonly ClusterPolicy[]): { policy: ClusterPolicy; where: string } | undefined {
  for (const p of policies)
    for (const direction of ['egress', 'ingress'] as const)
      for (const r of p[direction]) if (r.action === 'Redirect') return { policy: p, where: `${direction}[${r.index}]${r.name ? ` (${JSON.stringify(r.name)})` : ''}` };
  return undefined;
}

/** Throws ERR_PALISADE_REDIRECT_UNSUPPORTED when `policies` need a capability `backend` lacks. */
export function refuseUnsupported(backend: BackendName, policies: PolicySet): void {
  if (BACKEND_CAPABILITIES[backend].redirect) return;
  const found = redirectRule(policies.clusterPolicies);
  if (!found) return;
  const { policy, where } = found;
  throw new PalisadeError(
    'ERR_PALISADE_REDIRECT_UNSUPPORTED',
    `${policy.kind} ${policy.name}: rule ${where} has action Redirect, which the ${backend} backend cannot enforce (${WHY[backend]}); the policy set is refused, nothing changed`,
    { details: { backend, policy: policy.name, kind: policy.kind, rule: where, file: policy.source.file } },
  );
}

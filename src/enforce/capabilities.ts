/**
 * What each kernel backend can enforce of the extension fields, and the apply-time refusal of a
 * policy set that needs what its backend cannot do (docs/extension-semantics.md, "Redirect" and
 * "Nodes"): refused whole with ERR_PALISADE_BACKEND_CANNOT_ENFORCE naming the policy, the rule
 * (or subject) and the backend, never downgraded (lowering alone would turn a Redirect rule into
 * "Deny all", fail closed; a backend blind to host traffic would silently allow it).
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
  /** `subject.nodes` (S20): judge the node's own traffic (input / output paths) */
  readonly nodeSubjects: boolean;
}

/**
 * Redirect: nftables DNATs pod egress in a nat chain at prerouting (backends/nftables/render.ts;
 * test/nftables/redirect.test.ts on real TCP and UDP); a node-subject Redirect (host egress,
 * the output path) is not written there and is refused. eBPF rewrites pod egress on the client's
 * veth, IPv4 and IPv6 (backends/ebpf/bpf/palisade.bpf.c pal_redirect_record / pal_nat_rewrite;
 * test/ebpf/redirect.test.ts on real TCP and UDP); a node subject's Redirect is refused there as on
 * nftables. nfqueue cannot: a queue verdict accepts or drops, it does not rewrite.
 * Node subjects: nftables and nfqueue judge the input and output paths, eBPF its host role (a new
 * flow judged egress then ingress where first seen; backends/ebpf/DESIGN.md "The host role");
 * test/{nftables,nfqueue,ebpf}/node-subjects.test.ts. The refusal stays for a backend row that
 * turns it off.
 */
export const BACKEND_CAPABILITIES: Readonly<Record<BackendName, BackendCapabilities>> = {
  nftables: { redirect: true, nodeSubjects: true },
  ebpf: { redirect: true, nodeSubjects: true },
  nfqueue: { redirect: false, nodeSubjects: true },
};

const WHY: Readonly<Record<BackendName, string>> = {
  nftables: 'its DNAT is at prerouting, for pod egress; a node subject\'s Redirect (host egress) is not implemented',
  ebpf: 'its address rewrite is on pod veths, for pod egress; a node subject\'s Redirect (host egress) is not implemented',
  nfqueue: 'a queued packet can only be accepted or dropped, not rewritten',
};

/** The first Redirect rule of the enforced policies (`onlyNodeSubjects`: of node-subject policies), as `kind name direction[index]`. */
function redirectRule(policies: readonly ClusterPolicy[], onlyNodeSubjects = false): { policy: ClusterPolicy; where: string } | undefined {
  for (const p of policies.filter((x) => !onlyNodeSubjects || x.subject.kind === 'nodes'))
    for (const direction of ['egress', 'ingress'] as const)
      for (const r of p[direction]) if (r.action === 'Redirect') return { policy: p, where: `${direction}[${r.index}]${r.name ? ` (${JSON.stringify(r.name)})` : ''}` };
  return undefined;
}

/** Throws ERR_PALISADE_BACKEND_CANNOT_ENFORCE when `policies` need a capability `backend` lacks. */
export function refuseUnsupported(backend: BackendName, policies: PolicySet): void {
  const can = BACKEND_CAPABILITIES[backend];
  if (!can.nodeSubjects) {
    const p = policies.clusterPolicies.find((x) => x.subject.kind === 'nodes');
    if (p)
      throw new PalisadeError(
        'ERR_PALISADE_BACKEND_CANNOT_ENFORCE',
        `${p.kind} ${p.name}: spec.subject.nodes (host traffic) cannot be enforced by the ${backend} backend (it does not judge the node's own traffic); the policy set is refused, nothing changed`,
        { details: { backend, policy: p.name, kind: p.kind, field: 'spec.subject.nodes', file: p.source.file } },
      );
  }
  const found = redirectRule(policies.clusterPolicies, can.redirect);
  if (!found) return;
  const { policy, where } = found;
  throw new PalisadeError(
    'ERR_PALISADE_BACKEND_CANNOT_ENFORCE',
    `${policy.kind} ${policy.name}: rule ${where} has action Redirect, which the ${backend} backend cannot enforce (${WHY[backend]}); the policy set is refused, nothing changed`,
    { details: { backend, policy: policy.name, kind: policy.kind, field: `spec.${where.split(' ')[0]}.action`, file: policy.source.file } },
  );
}

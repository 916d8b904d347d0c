/**
 * LINT_NODE_SUBJECT_CUTS_API_SERVER (src/lint/node-subjects.ts): a node-subject Admin rule that
 * writes an API server port down (and so narrows the built-in allowance on purpose,
 * docs/extension-semantics.md "Nodes") is warned; a broad deny that keeps the allowance is not.
 * Manifests go through loading, validation and normalization.
 */
import { describe, expect, it } from 'vitest';
import { lint } from '../../src/lint/index.js';
import { safeParseCluster } from '../../src/manifests/cluster.js';
import { formatProblem } from '../../src/model/problems.js';

const INVENTORY = `
apiVersion: v1
kind: Node
metadata: { name: dmz-1, labels: { zone: dmz } }
status: { addresses: [{ type: InternalIP, address: 10.244.90.1 }] }
---
apiVersion: v1
kind: Service
metadata: { name: kubernetes, namespace: default }
spec: { clusterIP: 10.244.96.1, clusterIPs: [10.244.96.1], ports: [{ name: https, port: 443, protocol: TCP }] }
`;

const policy = (name: string, rule: string): string => `
---
apiVersion: policy.palisade.dev/v1alpha1
kind: PalisadeClusterNetworkPolicy
metadata: { name: ${name} }
spec:
  tier: Admin
  priority: 5
  subject: { nodes: { matchLabels: { zone: dmz } } }
  egress:
  - ${rule}
`;

function findings(text: string): string[] {
  const r = safeParseCluster(text, 'nodes.yaml');
  if (!r.cluster) throw new Error(r.problems.map(formatProblem).join('\n'));
  return lint(r.cluster)
    .filter((p) => p.code === 'LINT_NODE_SUBJECT_CUTS_API_SERVER')
    .map((p) => `${p.object?.name} ${p.path}`);
}

describe('LINT_NODE_SUBJECT_CUTS_API_SERVER', () => {
  it('warns about a Deny that names the API server port for a peer covering its address', () => {
    const text =
      INVENTORY +
      policy('cut-api', `{ name: no-api, action: Deny, to: [{ networks: [10.244.96.0/24] }], protocols: [{ tcp: { destinationPort: { number: 443 } } }] }`) +
      policy('cut-api-svc', `{ action: Deny, to: [{ services: [{ namespace: default, name: kubernetes }] }], protocols: [{ tcp: { destinationPort: { number: 443 } } }] }`);
    expect(findings(text)).toEqual(['cut-api spec.egress[0].to[0]', 'cut-api-svc spec.egress[0].to[0]']);
  });

  it('is silent for a broad deny (the allowance keeps the API server), another port, or a peer missing the address', () => {
    const text =
      INVENTORY +
      policy('deny-all', `{ action: Deny, to: [{ networks: [0.0.0.0/0, "::/0"] }] }`) +
      policy('range', `{ action: Deny, to: [{ networks: [0.0.0.0/0] }], protocols: [{ tcp: { destinationPort: { range: { start: 1, end: 1000 } } } }] }`) +
      policy('elsewhere', `{ action: Deny, to: [{ networks: [10.244.5.0/24] }], protocols: [{ tcp: { destinationPort: { number: 443 } } }] }`) +
      policy('accept', `{ action: Accept, to: [{ networks: [10.244.96.0/24] }], protocols: [{ tcp: { destinationPort: { number: 443 } } }] }`);
    expect(findings(text)).toEqual([]);
  });
});

/**
 * S20 in the reference evaluator (src/reference/nodes.ts): a node subject judges the node's own
 * traffic (and its host-network pods'), keeps the built-in allowance (API server, kubelet) that
 * only a rule naming the port narrows, and leaves other nodes alone. The S20 story: "DMZ nodes
 * may not reach the cassandra namespace". Manifests go through loading, validation, normalizing.
 */
import { describe, expect, it } from 'vitest';
import { safeParseCluster } from '../../src/manifests/cluster.js';
import { parseIp } from '../../src/model/ip.js';
import { formatProblem } from '../../src/model/problems.js';
import type { Protocol } from '../../src/model/types.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';

const INVENTORY = `
apiVersion: v1
kind: Node
metadata: { name: dmz-1, labels: { zone: dmz } }
status: { addresses: [{ type: InternalIP, address: 10.244.90.1 }] }
---
apiVersion: v1
kind: Node
metadata: { name: core-1, labels: { zone: core } }
status: { addresses: [{ type: InternalIP, address: 10.244.91.1 }] }
---
apiVersion: v1
kind: Namespace
metadata: { name: cassandra }
---
apiVersion: v1
kind: Pod
metadata: { name: db-0, namespace: cassandra }
spec: { nodeName: core-1 }
status: { podIPs: [{ ip: 10.244.2.10 }] }
---
apiVersion: v1
kind: Namespace
metadata: { name: web }
---
apiVersion: v1
kind: Pod
metadata: { name: front, namespace: web }
spec: { nodeName: dmz-1 }
status: { podIPs: [{ ip: 10.244.3.10 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: agent, namespace: web }
spec: { nodeName: dmz-1, hostNetwork: true }
status: { podIPs: [{ ip: 10.244.90.1 }] }
---
apiVersion: v1
kind: Service
metadata: { name: kubernetes, namespace: default }
spec: { clusterIP: 10.244.96.1, clusterIPs: [10.244.96.1], ports: [{ name: https, port: 443, protocol: TCP }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: kubernetes, namespace: default, labels: { kubernetes.io/service-name: kubernetes } }
addressType: IPv4
endpoints: [{ addresses: [10.244.97.1] }]
ports: [{ name: https, port: 6443, protocol: TCP }]
`;

const DMZ = `
---
apiVersion: policy.palisade.dev/v1alpha1
kind: PalisadeClusterNetworkPolicy
metadata: { name: dmz-nodes }
spec:
  tier: Admin
  priority: 10
  subject: { nodes: { matchLabels: { zone: dmz } } }
  egress:
  - { name: no-cassandra, action: Deny, to: [{ namespaces: { matchLabels: { kubernetes.io/metadata.name: cassandra } } }] }
  - { name: nothing-else, action: Deny, to: [{ networks: [0.0.0.0/0] }] }
  ingress:
  - { name: closed, action: Deny, from: [{ networks: [0.0.0.0/0] }] }
`;

const EXPLICIT = `
---
apiVersion: policy.palisade.dev/v1alpha1
kind: PalisadeClusterNetworkPolicy
metadata: { name: dmz-no-api }
spec:
  tier: Admin
  priority: 5
  subject: { nodes: { matchLabels: { zone: dmz } } }
  egress:
  - { name: cut-api, action: Deny, to: [{ networks: [10.244.96.1/32] }], protocols: [{ tcp: { destinationPort: { number: 443 } } }] }
`;

function evaluator(text: string): ReferenceEvaluator {
  const r = safeParseCluster(text, 'nodes.yaml');
  if (!r.cluster) throw new Error(r.problems.map(formatProblem).join('\n'));
  expect(r.problems.filter((p) => p.severity === 'error').map(formatProblem)).toEqual([]);
  return new ReferenceEvaluator(r.cluster);
}

const ask = (e: ReferenceEvaluator, src: string, dst: string, dstPort: number, protocol: Protocol = 'TCP') =>
  e.evaluate({ src: parseIp(src)!, dst: parseIp(dst)!, protocol, dstPort });

describe('node subjects (S20) in the reference evaluator', () => {
  const e = evaluator(INVENTORY + DMZ);

  it('a DMZ node may not reach the cassandra namespace; the deciding rule is named', () => {
    const v = ask(e, '10.244.90.1', '10.244.2.10', 9042);
    expect(v.verdict).toBe('deny');
    expect(v.egress).toMatchObject({ reason: 'rule', subject: 'node/dmz-1', rule: { policy: { name: 'dmz-nodes' }, ruleIndex: 0 } });
  });

  it('the DMZ node keeps the API server (ClusterIP and endpoint) and its kubelet port, despite "deny everything"', () => {
    for (const [dst, port] of [['10.244.96.1', 443], ['10.244.97.1', 6443]] as const) {
      const v = ask(e, '10.244.90.1', dst, port);
      expect(v.egress, `${dst}:${port}`).toMatchObject({ verdict: 'allow', reason: 'node-allowance' });
    }
    expect(ask(e, '10.244.3.10', '10.244.90.1', 10250).ingress).toMatchObject({ verdict: 'allow', reason: 'node-allowance' });
    // not the allowance: another port to the API server address, UDP, another kubelet-ish port
    expect(ask(e, '10.244.90.1', '10.244.96.1', 80).verdict).toBe('deny');
    expect(ask(e, '10.244.90.1', '10.244.96.1', 443, 'UDP').verdict).toBe('deny');
    expect(ask(e, '10.244.3.10', '10.244.90.1', 10255).ingress.verdict).toBe('deny');
  });

  it("host-network pods are node traffic; a node to its own address is loopback; other nodes are not judged", () => {
    // 10.244.90.1 is both the node's and the host-network agent's address: the same traffic
    expect(ask(e, '10.244.90.1', '10.244.2.10', 9042).egress.notes.join(' ')).toContain('host-network pod');
    expect(ask(e, '10.244.90.1', '10.244.90.1', 8080).egress).toMatchObject({ verdict: 'allow', reason: 'loopback' });
    expect(ask(e, '10.244.91.1', '10.244.2.10', 9042)).toMatchObject({ verdict: 'allow', egress: { reason: 'not-a-pod' } });
  });

  it('an Admin rule that names the API server port narrows the allowance on purpose', () => {
    const cut = evaluator(INVENTORY + DMZ + EXPLICIT);
    const v = ask(cut, '10.244.90.1', '10.244.96.1', 443);
    expect(v.egress).toMatchObject({ verdict: 'deny', reason: 'rule', rule: { policy: { name: 'dmz-no-api' } } });
    // the endpoint address is not in that rule's peer: still the allowance
    expect(ask(cut, '10.244.90.1', '10.244.97.1', 6443).egress.reason).toBe('node-allowance');
  });
});

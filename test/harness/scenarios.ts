/**
 * The shared real-packet differential scenarios: one dual-stack inventory and a sequence of policy
 * sets (upstream netpol e2e and network-policy-api conformance cases they name), so that every
 * backend (nftables, eBPF, nfqueue) is held to the same cases against the reference evaluator.
 */
import { safeParseCluster } from '../../src/manifests/cluster.js';
import type { Cluster } from '../../src/model/types.js';
import type { PortPlan } from '../../src/topology/probe.js';

export const INVENTORY = `
apiVersion: v1
kind: Namespace
metadata: { name: shop, labels: { team: shop } }
---
apiVersion: v1
kind: Namespace
metadata: { name: ops, labels: { team: ops } }
---
apiVersion: v1
kind: Node
metadata: { name: node-a, labels: { pool: general } }
status:
  addresses:
  - { type: InternalIP, address: 10.244.200.1 }
  - { type: InternalIP, address: "fd00:10:244:200::1" }
---
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: shop, labels: { app: web } }
spec: { nodeName: node-a }
status: { podIPs: [ { ip: 10.244.1.10 }, { ip: "fd00:10:244:1::10" } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: db, namespace: shop, labels: { app: db } }
spec:
  nodeName: node-a
  containers: [ { name: db, ports: [ { name: sql, containerPort: 5432 } ] } ]
status: { podIPs: [ { ip: 10.244.1.11 }, { ip: "fd00:10:244:1::11" } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: probe, namespace: ops, labels: { app: probe } }
spec: { nodeName: node-a }
status: { podIPs: [ { ip: 10.244.2.12 }, { ip: "fd00:10:244:2::12" } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: agent, namespace: ops, labels: { app: agent } }
spec: { nodeName: node-a, hostNetwork: true }
status: { podIPs: [ { ip: 10.244.200.1 } ] }
`;

export const SCENARIOS: Record<string, string> = {
  // netpol e2e "should support a 'default-deny-ingress' policy" + "allow ingress access on one named port"
  'NetworkPolicy: default deny ingress in shop, allow web -> db on named port sql': `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: default-deny, namespace: shop }
spec: { podSelector: {}, policyTypes: [Ingress] }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: web-to-db, namespace: shop }
spec:
  podSelector: { matchLabels: { app: db } }
  ingress:
  - from: [ { podSelector: { matchLabels: { app: web } } } ]
    ports: [ { port: sql } ]
`,
  // netpol e2e "should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector"
  'NetworkPolicy: egress of ops/probe only to shop on UDP 53 and TCP 80-81, ipBlock with except': `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: probe-egress, namespace: ops }
spec:
  podSelector: { matchLabels: { app: probe } }
  policyTypes: [Egress]
  egress:
  - to: [ { namespaceSelector: { matchLabels: { team: shop } } } ]
    ports: [ { protocol: UDP, port: 53 }, { protocol: TCP, port: 80, endPort: 81 } ]
  - to: [ { ipBlock: { cidr: 10.244.0.0/16, except: [ 10.244.1.10/32 ] } } ]
    ports: [ { protocol: SCTP, port: 9000 } ]
`,
  // network-policy-api conformance: admin Deny beats NetworkPolicy allow; Pass hands over to NetworkPolicy; baseline deny
  'Cluster tiers: admin deny, admin pass, baseline deny, nodes peer': `
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: { name: admin-rules }
spec:
  tier: Admin
  priority: 10
  subject: { namespaces: { matchLabels: { team: shop } } }
  ingress:
  - name: no-udp-from-ops
    action: Deny
    from: [ { namespaces: { matchLabels: { team: ops } } } ]
    protocols: [ { udp: { destinationPort: { number: 53 } } } ]
  - name: pass-web
    action: Pass
    from: [ { pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: web } } } } ]
  egress:
  - name: no-node-sctp
    action: Deny
    to: [ { nodes: { matchLabels: { pool: general } } } ]
    protocols: [ { sctp: { destinationPort: { number: 9000 } } } ]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: { name: baseline-rules }
spec:
  tier: Baseline
  priority: 10
  subject: { namespaces: {} }
  ingress:
  - name: deny-all-tcp-80-81
    action: Deny
    from: [ { namespaces: {} } ]
    protocols: [ { tcp: { destinationPort: { range: { start: 80, end: 81 } } } } ]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: db-from-web, namespace: shop }
spec:
  podSelector: { matchLabels: { app: db } }
  ingress:
  - from: [ { podSelector: { matchLabels: { app: web } } } ]
`,
};

export const PORTS: PortPlan = { TCP: [80, 81, 5432], UDP: [53, 54], SCTP: [9000] };

export function scenarioCluster(policies: string, file = 'differential.test.yaml'): Cluster {
  const r = safeParseCluster(`${INVENTORY}\n---\n${policies}`, file);
  if (!r.cluster) throw new Error(r.problems.map((p) => `${p.code} ${p.message}`).join('\n'));
  return r.cluster;
}

/**
 * A small inventory shared by the semantic tests (YAML, as kubectl prints it):
 *
 *   namespaces  x (team=a), y (team=b), z (no team label)
 *   pods        x/a  10.244.1.1  fd00:10:244:1::1  node n1  pod=a  ports web TCP 80, dns UDP 53, assoc SCTP 9000
 *               x/b  10.244.1.2  fd00:10:244:1::2  node n2  pod=b  ports web TCP 8080 (same name, other number)
 *               x/c  10.244.1.3                    node n1  pod=c  (no named ports)
 *               y/a  10.244.2.1  fd00:10:244:2::1  node n2  pod=a  ports dns TCP 53 (same name, other protocol)
 *               y/b  10.244.2.2                    node n2  pod=b
 *               z/a  10.244.3.1                    node n1  pod=a
 *               host/agent  hostNetwork on n1, 10.244.100.1 (n1's address), app=agent, ports metrics TCP 9100
 *   nodes       n1  10.244.100.1, fd00:10:244:100::1  (role=worker, kubernetes.io/os=linux)
 *               n2  10.244.100.2                      (role=infra,  kubernetes.io/os=linux)
 *   external    10.244.200.7 and fd00:10:244:200::7 are no one's
 */
export const INVENTORY = `
apiVersion: v1
kind: Namespace
metadata: {name: x, labels: {team: a}}
---
apiVersion: v1
kind: Namespace
metadata: {name: y, labels: {team: b}}
---
apiVersion: v1
kind: Namespace
metadata: {name: z}
---
apiVersion: v1
kind: Namespace
metadata: {name: host}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x, labels: {pod: a}}
spec:
  nodeName: n1
  containers:
  - name: c
    image: agnhost
    ports:
    - {name: web, containerPort: 80}
    - {name: dns, containerPort: 53, protocol: UDP}
    - {name: assoc, containerPort: 9000, protocol: SCTP}
status: {podIP: 10.244.1.1, podIPs: [{ip: 10.244.1.1}, {ip: "fd00:10:244:1::1"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: x, labels: {pod: b}}
spec:
  nodeName: n2
  containers:
  - name: c
    image: agnhost
    ports: [{name: web, containerPort: 8080, protocol: TCP}]
status: {podIP: 10.244.1.2, podIPs: [{ip: 10.244.1.2}, {ip: "fd00:10:244:1::2"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: x, labels: {pod: c}}
spec: {nodeName: n1, containers: [{name: c, image: agnhost}]}
status: {podIP: 10.244.1.3, podIPs: [{ip: 10.244.1.3}]}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: y, labels: {pod: a}}
spec:
  nodeName: n2
  containers:
  - name: c
    image: agnhost
    ports: [{name: dns, containerPort: 53, protocol: TCP}]
status: {podIP: 10.244.2.1, podIPs: [{ip: 10.244.2.1}, {ip: "fd00:10:244:2::1"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: y, labels: {pod: b}}
spec: {nodeName: n2, containers: [{name: c, image: agnhost}]}
status: {podIP: 10.244.2.2, podIPs: [{ip: 10.244.2.2}]}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: z, labels: {pod: a}}
spec: {nodeName: n1, containers: [{name: c, image: agnhost}]}
status: {podIP: 10.244.3.1, podIPs: [{ip: 10.244.3.1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: host, labels: {app: agent}}
spec:
  nodeName: n1
  hostNetwork: true
  containers:
  - name: c
    image: agent
    ports: [{name: metrics, containerPort: 9100}]
status: {podIP: 10.244.100.1, podIPs: [{ip: 10.244.100.1}]}
---
apiVersion: v1
kind: Node
metadata: {name: n1, labels: {role: worker, kubernetes.io/os: linux}}
status:
  addresses:
  - {type: InternalIP, address: 10.244.100.1}
  - {type: InternalIP, address: "fd00:10:244:100::1"}
  - {type: Hostname, address: n1}
---
apiVersion: v1
kind: Node
metadata: {name: n2, labels: {role: infra, kubernetes.io/os: linux}}
status:
  addresses:
  - {type: InternalIP, address: 10.244.100.2}
`;

export const N1 = '10.244.100.1';
export const N1_V6 = 'fd00:10:244:100::1';
export const N2 = '10.244.100.2';
export const EXTERNAL = '10.244.200.7';
export const EXTERNAL_V6 = 'fd00:10:244:200::7';

/** The inventory plus more documents. */
export const withPolicies = (yaml: string): string => `${INVENTORY}\n---\n${yaml}`;

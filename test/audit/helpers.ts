/**
 * Audit helpers: an inventory of corner cases (YAML as kubectl prints it), parsed through the
 * real pipeline (safeParseCluster) and judged with `new ReferenceEvaluator(cluster).evaluate(flow)`.
 *
 * Inventory (all addresses inside 10.244.0.0/16 and fd00:10:244::/48):
 *   namespaces  x {team: a, env: prod}; y {team: b}; z {} ; host {};
 *               ghost: no Namespace object (only pods refer to it)
 *   nodes       n1 {role: worker}: InternalIP 10.244.100.1, ExternalIP 10.244.150.1,
 *                                  InternalIP fd00:10:244:100::1
 *               n2 {role: infra}:  InternalIP 10.244.100.2
 *   pods        x/a  10.244.1.1 fd00:10:244:1::1 n1 {pod: a, app: web}
 *                    ports web TCP 80, dns UDP 53, assoc SCTP 9000, alt TCP 81
 *               x/b  10.244.1.2 fd00:10:244:1::2 n2 {pod: b}  ports web TCP 8080 (same name, other number)
 *               x/c  10.244.1.3 (IPv4 only)      n1 {pod: c, tier: ""} (empty label value)
 *               y/a  10.244.2.1 fd00:10:244:2::1 n2 {pod: a}  ports dns TCP 53 (same name, other protocol)
 *               y/b  10.244.2.2                  n1 {pod: b}
 *               z/a  10.244.3.1                  n1 {pod: a}
 *               ghost/g 10.244.4.1               n2 {pod: g}
 *               x/noip  (no IP yet)              n1 {pod: a}
 *               host/hn  hostNetwork on n1 (10.244.100.1, fd00:10:244:100::1) {pod: a} ports metrics TCP 9100
 *               host/hn2 hostNetwork on n2 (10.244.100.2) {pod: a}
 *   external    10.244.200.7, fd00:10:244:200::7
 */
import { safeParseCluster, type ClusterResult } from '../../src/manifests/cluster.js';
import { formatProblem, type Problem } from '../../src/model/problems.js';
import { parseIp, type Family, type IpAddr } from '../../src/model/ip.js';
import type { Cluster, Protocol } from '../../src/model/types.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import type { FlowVerdict } from '../../src/model/verdict.js';

export const INVENTORY = `
apiVersion: v1
kind: Namespace
metadata: {name: x, labels: {team: a, env: prod}}
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
kind: Node
metadata: {name: n1, labels: {role: worker}}
status:
  addresses:
  - {type: InternalIP, address: 10.244.100.1}
  - {type: ExternalIP, address: 10.244.150.1}
  - {type: InternalIP, address: "fd00:10:244:100::1"}
  - {type: Hostname, address: n1}
---
apiVersion: v1
kind: Node
metadata: {name: n2, labels: {role: infra}}
status:
  addresses:
  - {type: InternalIP, address: 10.244.100.2}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x, labels: {pod: a, app: web}}
spec:
  nodeName: n1
  containers:
  - name: c
    image: agnhost
    ports:
    - {name: web, containerPort: 80}
    - {name: dns, containerPort: 53, protocol: UDP}
    - {name: assoc, containerPort: 9000, protocol: SCTP}
  - name: d
    image: agnhost
    ports:
    - {name: alt, containerPort: 81, protocol: TCP}
status: {podIP: 10.244.1.1, podIPs: [{ip: 10.244.1.1}, {ip: "fd00:10:244:1::1"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: x, labels: {pod: b}}
spec:
  nodeName: n2
  containers:
  - {name: c, image: agnhost, ports: [{name: web, containerPort: 8080, protocol: TCP}]}
status: {podIP: 10.244.1.2, podIPs: [{ip: 10.244.1.2}, {ip: "fd00:10:244:1::2"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: x, labels: {pod: c, tier: ""}}
spec: {nodeName: n1, containers: [{name: c, image: agnhost}]}
status: {podIP: 10.244.1.3, podIPs: [{ip: 10.244.1.3}]}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: y, labels: {pod: a}}
spec:
  nodeName: n2
  containers:
  - {name: c, image: agnhost, ports: [{name: dns, containerPort: 53, protocol: TCP}]}
status: {podIP: 10.244.2.1, podIPs: [{ip: 10.244.2.1}, {ip: "fd00:10:244:2::1"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: y, labels: {pod: b}}
spec: {nodeName: n1, containers: [{name: c, image: agnhost}]}
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
metadata: {name: g, namespace: ghost, labels: {pod: g}}
spec: {nodeName: n2, containers: [{name: c, image: agnhost}]}
status: {podIP: 10.244.4.1, podIPs: [{ip: 10.244.4.1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: noip, namespace: x, labels: {pod: a}}
spec: {nodeName: n1, containers: [{name: c, image: agnhost}]}
status: {phase: Pending}
---
apiVersion: v1
kind: Pod
metadata: {name: hn, namespace: host, labels: {pod: a}}
spec:
  nodeName: n1
  hostNetwork: true
  containers:
  - {name: c, image: agent, ports: [{name: metrics, containerPort: 9100}]}
status: {podIP: 10.244.100.1, podIPs: [{ip: 10.244.100.1}, {ip: "fd00:10:244:100::1"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: hn2, namespace: host, labels: {pod: a}}
spec: {nodeName: n2, hostNetwork: true, containers: [{name: c, image: agent}]}
status: {podIP: 10.244.100.2, podIPs: [{ip: 10.244.100.2}]}
`;

export const N1 = '10.244.100.1';
export const N1_EXT = '10.244.150.1';
export const N1_V6 = 'fd00:10:244:100::1';
export const N2 = '10.244.100.2';
export const EXT = '10.244.200.7';
export const EXT_V6 = 'fd00:10:244:200::7';

const show = (ps: readonly Problem[]): string => ps.map(formatProblem).join('\n');

export function parse(yaml: string): ClusterResult {
  return safeParseCluster(yaml, 'audit.yaml');
}

/** The inventory plus `policies`, which must be accepted. */
export function build(policies = ''): Cluster {
  const r = parse(policies ? `${INVENTORY}\n---\n${policies}` : INVENTORY);
  if (!r.cluster) throw new Error('fixture rejected:\n' + show(r.problems));
  return r.cluster;
}

export function ip(text: string): IpAddr {
  const a = parseIp(text);
  if (!a) throw new Error(`bad IP ${text}`);
  return a;
}

/** `ns/pod` (its address of `family`) or a literal IP. */
export function addr(c: Cluster, who: string, family: Family = 4): IpAddr {
  const literal = parseIp(who);
  if (literal) return literal;
  const [ns, name] = who.split('/');
  const pod = c.pods.find((p) => p.namespace === ns && p.name === name);
  if (!pod) throw new Error(`no pod ${who}`);
  const a = pod.ips.find((i) => i.family === family);
  if (!a) throw new Error(`pod ${who} has no IPv${family} address`);
  return a;
}

export class Judge {
  readonly ev: ReferenceEvaluator;
  constructor(readonly c: Cluster) {
    this.ev = new ReferenceEvaluator(c);
  }
  flow(from: string, to: string, dstPort = 80, protocol: Protocol = 'TCP', family: Family = 4): FlowVerdict {
    return this.ev.evaluate({ src: addr(this.c, from, family), dst: addr(this.c, to, family), protocol, dstPort });
  }
  v(from: string, to: string, dstPort = 80, protocol: Protocol = 'TCP', family: Family = 4): 'allow' | 'deny' {
    return this.flow(from, to, dstPort, protocol, family).verdict;
  }
}

export const judge = (policies = ''): Judge => new Judge(build(policies));

// ---- manifest snippets -------------------------------------------------------------------

/** A NetworkPolicy document; `spec` is YAML flow text or block text indented by 2. */
export const np = (ns: string, name: string, spec: string): string =>
  `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: ${name}, namespace: ${ns}}\nspec: ${spec}\n`;

export const cnp = (name: string, tier: 'Admin' | 'Baseline', priority: number, rest: string): string =>
  `apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: ${name}}\nspec:\n  tier: ${tier}\n  priority: ${priority}\n${rest}\n`;

export const anp = (name: string, priority: number, rest: string): string =>
  `apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: ${name}}\nspec:\n  priority: ${priority}\n${rest}\n`;

export const banp = (rest: string): string =>
  `apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec:\n${rest}\n`;

export const docs = (...d: string[]): string => d.join('\n---\n');

// ---- validation --------------------------------------------------------------------------

export function errors(yaml: string): Problem[] {
  return parse(yaml).problems.filter((p) => p.severity === 'error');
}

export function describeProblems(yaml: string): string {
  return show(parse(yaml).problems);
}

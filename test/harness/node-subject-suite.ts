/**
 * S20 on real packets: a DMZ-labelled node (the topology's node namespace holds its address and
 * a host-network pod) under a node-subject PalisadeClusterNetworkPolicy that denies it the
 * cassandra namespace and everything else, egress and ingress; an "API server" (the
 * default/kubernetes Service's endpoint, an external host of the topology, TCP 6443) and the
 * kubelet port stay reachable through the built-in allowance. Every ordered address pair is
 * probed and compared with the reference evaluator (zero mismatches), and the story's flows are
 * checked by name. Shared by the backends that enforce node subjects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/enforce/backend.js';
import { Enforcement } from '../../src/enforce/enforcement.js';
import { safeParseCluster } from '../../src/manifests/cluster.js';
import { parseIp } from '../../src/model/ip.js';
import { formatProblem } from '../../src/model/problems.js';
import type { Cluster } from '../../src/model/types.js';
import { ProbeFleet, type PortPlan } from '../../src/topology/probe.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { compareWithReference, formatMismatch, type DifferentialReport } from './differential.js';

const NODE = '10.244.190.1';
const API = '10.244.191.1';
const CASSANDRA = '10.244.192.10';
const WEB = '10.244.193.10';

export const NODE_SUBJECT_ADDRESSES = { NODE, API, CASSANDRA, WEB } as const;

export const NODE_SUBJECT_YAML = `
apiVersion: v1
kind: Node
metadata: { name: dmz-1, labels: { zone: dmz } }
status: { addresses: [{ type: InternalIP, address: ${NODE} }] }
---
apiVersion: v1
kind: Namespace
metadata: { name: cassandra }
---
apiVersion: v1
kind: Pod
metadata: { name: db-0, namespace: cassandra }
spec: { nodeName: dmz-1 }
status: { podIPs: [{ ip: ${CASSANDRA} }] }
---
apiVersion: v1
kind: Namespace
metadata: { name: web }
---
apiVersion: v1
kind: Pod
metadata: { name: front, namespace: web }
spec: { nodeName: dmz-1 }
status: { podIPs: [{ ip: ${WEB} }] }
---
apiVersion: v1
kind: Service
metadata: { name: kubernetes, namespace: default }
spec: { clusterIP: 10.244.196.1, clusterIPs: [10.244.196.1], ports: [{ name: https, port: 443, protocol: TCP, targetPort: 6443 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: kubernetes, namespace: default, labels: { kubernetes.io/service-name: kubernetes } }
addressType: IPv4
endpoints: [{ addresses: [${API}] }]
ports: [{ name: https, port: 6443, protocol: TCP }]
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
  - { name: web-only, action: Accept, to: [{ namespaces: { matchLabels: { kubernetes.io/metadata.name: web } } }], protocols: [{ tcp: { destinationPort: { number: 80 } } }] }
  - { name: nothing-else, action: Deny, to: [{ networks: [0.0.0.0/0, "::/0"] }] }
  ingress:
  - { name: closed, action: Deny, from: [{ networks: [0.0.0.0/0, "::/0"] }] }
`;

const PORTS: PortPlan = { TCP: [80, 6443, 9042, 10250], UDP: [53], SCTP: [] };

export interface NodeSubjectSuite {
  readonly name: string;
  readonly missing: boolean;
  backend(topology: Topology): Backend;
  mismatches?(report: DifferentialReport): string[];
  /** backend-specific checks after the probes (e.g. the deny-log lines), on the enforcement in force */
  after?(enforcement: Enforcement): void;
}

export function nodeSubjectSuite(s: NodeSubjectSuite): void {
  describe.skipIf(s.missing)(`${s.name}: node subjects (S20) = reference on real packets`, () => {
    let cluster: Cluster;
    let topo: Topology | undefined;
    let fleet: ProbeFleet | undefined;
    let enforcement: Enforcement | undefined;
    beforeAll(async () => {
      const r = safeParseCluster(NODE_SUBJECT_YAML, 'node-subjects.yaml');
      if (!r.cluster) throw new Error(r.problems.map(formatProblem).join('\n'));
      cluster = r.cluster;
      topo = await buildTopology(cluster, { tag: `ns${s.name.slice(0, 3)}`, externals: [parseIp(API)!] });
      fleet = await ProbeFleet.start(topo, PORTS);
      enforcement = new Enforcement(s.backend(topo));
      await enforcement.apply(cluster);
    });
    afterAll(async () => {
      await enforcement?.remove().catch(() => undefined);
      await fleet?.stop();
      await topo?.destroy();
    });

    it('every ordered pair on every port = reference; the story holds', async () => {
      const report = await compareWithReference(cluster, topo!, fleet!, PORTS, { timeoutMs: 300 });
      expect(s.mismatches ? s.mismatches(report) : report.mismatches.map(formatMismatch)).toEqual([]);
      const outcome = (src: string, dst: string, port: number) =>
        report.judged.find((j) => j.spec.protocol === 'TCP' && j.spec.src.text === src && j.spec.dst.text === dst && j.spec.dstPort === port)?.verdict;
      // the DMZ node may not reach cassandra, nor anything but web/80 ...
      expect(outcome(NODE, CASSANDRA, 9042)?.egress).toMatchObject({ verdict: 'deny', rule: { ruleName: 'no-cassandra' } });
      expect(outcome(NODE, WEB, 80)?.verdict).toBe('allow');
      expect(outcome(NODE, WEB, 9042)?.verdict).toBe('deny');
      // ... but keeps the API server and its kubelet port
      expect(outcome(NODE, API, 6443)?.egress.reason).toBe('node-allowance');
      expect(outcome(NODE, API, 6443)?.verdict).toBe('allow');
      expect(outcome(NODE, API, 9042)?.verdict).toBe('deny');
      expect(outcome(WEB, NODE, 10250)?.verdict).toBe('allow');
      expect(outcome(WEB, NODE, 80)?.verdict).toBe('deny');
      s.after?.(enforcement!);
      console.log(`[${s.name}] node subjects: ${report.probes} probes, ${report.allowed} allowed, ${report.denied} denied`);
    });
  });
}

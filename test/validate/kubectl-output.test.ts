/**
 * No false positives on manifests as `kubectl get -o yaml` prints them
 * ("behave as above on manifests as kubectl prints them"): server-set metadata, status, defaulted
 * fields, a List of mixed kinds. The CNP below follows the network-policy-api conformance
 * manifest "node-and-cidr-as-peers-example" (conformance/tests, CNPAdminTierEgressNodePeers).
 */
import { describe, expect, it } from 'vitest';
import { expectAccepted } from './helpers.js';

const list = `apiVersion: v1
kind: List
metadata:
  resourceVersion: ""
items:
- apiVersion: v1
  kind: Namespace
  metadata:
    creationTimestamp: "2026-11-01T10:00:00Z"
    labels:
      kubernetes.io/metadata.name: gryffindor
      conformance-house: gryffindor
    name: gryffindor
    resourceVersion: "512"
    uid: 0b8f5d2e-1111-2222-3333-444455556666
  spec:
    finalizers:
    - kubernetes
  status:
    phase: Active
- apiVersion: v1
  kind: Pod
  metadata:
    annotations:
      kubectl.kubernetes.io/restartedAt: "2026-11-01T10:00:00Z"
    creationTimestamp: "2026-11-01T10:00:00Z"
    generateName: harry-potter-
    labels:
      conformance-house: gryffindor
      controller-revision-hash: harry-potter-5d8f9b
      statefulset.kubernetes.io/pod-name: harry-potter-0
    name: harry-potter-0
    namespace: gryffindor
    ownerReferences:
    - apiVersion: apps/v1
      blockOwnerDeletion: true
      controller: true
      kind: StatefulSet
      name: harry-potter
      uid: 9c0d-aaaa
    resourceVersion: "900"
    uid: 7a7a-bbbb
  spec:
    containers:
    - image: registry.k8s.io/e2e-test-images/agnhost:2.45
      imagePullPolicy: IfNotPresent
      name: harry-potter-client
      ports:
      - containerPort: 80
        name: web
        protocol: TCP
      - containerPort: 53
        name: dns
        protocol: UDP
      - containerPort: 9003
        protocol: SCTP
      resources: {}
      terminationMessagePath: /dev/termination-log
    dnsPolicy: ClusterFirst
    nodeName: kind-worker
    restartPolicy: Always
    schedulerName: default-scheduler
    securityContext: {}
  status:
    conditions:
    - lastProbeTime: null
      lastTransitionTime: "2026-11-01T10:00:05Z"
      status: "True"
      type: Ready
    hostIP: 172.18.0.3
    hostIPs:
    - ip: 172.18.0.3
    phase: Running
    podIP: 10.244.1.5
    podIPs:
    - ip: 10.244.1.5
    - ip: fd00:10:244:1::5
- apiVersion: v1
  kind: Node
  metadata:
    labels:
      kubernetes.io/hostname: kind-worker
      node-role.kubernetes.io/worker: ""
    name: kind-worker
  status:
    addresses:
    - address: 172.18.0.3
      type: InternalIP
    - address: fc00:f853:ccd:e793::3
      type: InternalIP
    - address: kind-worker
      type: Hostname
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata:
    annotations:
      kubectl.kubernetes.io/last-applied-configuration: |
        {"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy"}
    creationTimestamp: "2026-11-01T10:00:00Z"
    generation: 1
    managedFields:
    - apiVersion: networking.k8s.io/v1
      fieldsType: FieldsV1
      fieldsV1:
        f:spec:
          f:policyTypes: {}
      manager: kubectl-client-side-apply
      operation: Update
      time: "2026-11-01T10:00:00Z"
    name: allow-from-slytherin
    namespace: gryffindor
    resourceVersion: "1000"
    uid: 1234
  spec:
    ingress:
    - from:
      - namespaceSelector:
          matchLabels:
            kubernetes.io/metadata.name: slytherin
      ports:
      - port: 80
        protocol: TCP
      - endPort: 32768
        port: 32000
        protocol: TCP
    podSelector: {}
    policyTypes:
    - Ingress
  status: {}
- apiVersion: policy.networking.k8s.io/v1alpha2
  kind: ClusterNetworkPolicy
  metadata:
    generation: 1
    name: node-and-cidr-as-peers-example
    resourceVersion: "2000"
    uid: 5678
  spec:
    tier: Admin
    priority: 75
    subject:
      pods:
        namespaceSelector:
          matchLabels:
            kubernetes.io/metadata.name: gryffindor
        podSelector: {}
    egress:
    - name: accept-to-nodes-tcp
      action: Accept
      to:
      - nodes:
          matchExpressions:
          - key: node-role.kubernetes.io/worker
            operator: Exists
      protocols:
      - tcp:
          destinationPort:
            number: 34346
    - name: pass-to-nodes-udp
      action: Pass
      to:
      - nodes:
          matchExpressions:
          - key: kubernetes.io/hostname
            operator: In
            values: [kind-worker]
      protocols:
      - udp:
          destinationPort:
            range:
              start: 34345
              end: 34350
    - name: deny-everything-else
      action: Deny
      to:
      - pods:
          namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: slytherin
          podSelector: {}
      - nodes: {}
      - networks:
        - 0.0.0.0/0
        - ::/0
  status:
    conditions: []
`;

describe('kubectl get -o yaml output', () => {
  it('accepts a List of every kind as kubectl prints it, without any problem but implicit namespaces', () => {
    const r = expectAccepted(list);
    expect(r.problems.filter((p) => p.code !== 'NAMESPACE_IMPLICIT')).toEqual([]);
    expect(r.cluster?.clusterPolicies[0]?.egress.map((e) => e.name)).toEqual(['accept-to-nodes-tcp', 'pass-to-nodes-udp', 'deny-everything-else']);
  });
});

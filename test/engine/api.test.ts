/**
 * The public API (src/index.ts): compile / safeCompile, lookup, lookupBatch, explain, update,
 * and the errors with stable codes.
 */
import { describe, expect, test } from 'vitest';
import { compile, encodeFlows, InvalidFlowError, InvalidInputError, parseIp, ReferenceEvaluator, safeCompile, type Flow } from '../../src/index.js';

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: a}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {nodeName: n1, containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
status: {podIPs: [{ip: 10.244.1.1}, {ip: "fd00:10:244:1::1"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
spec: {nodeName: n1, containers: [{name: c}]}
status: {podIPs: [{ip: 10.244.1.2}]}
---
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {addresses: [{type: InternalIP, address: 10.244.250.1}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {matchLabels: {app: db}}}], ports: [{port: http}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: no-internet}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {}}
  egress:
  - {name: cluster, action: Pass, to: [{networks: [10.244.0.0/16]}]}
  - {name: rest, action: Deny, to: [{networks: [0.0.0.0/0, "::/0"]}]}
`;

const ip = (t: string) => parseIp(t)!;
const flow = (src: string, dst: string, dstPort: number, protocol: Flow['protocol'] = 'TCP'): Flow => ({ src: ip(src), dst: ip(dst), protocol, dstPort });

describe('compile', () => {
  test('from manifest text; lookup gives the verdict and the deciding rule per direction', () => {
    const e = compile({ text: MANIFESTS });
    const ok = e.lookup(flow('10.244.1.2', '10.244.1.1', 8080));
    expect(ok.verdict).toBe('allow');
    expect(e.rule(ok.ingress.ruleId).origin.ref).toEqual({
      tier: 'NetworkPolicy',
      policy: { kind: 'NetworkPolicy', namespace: 'shop', name: 'web-from-db' },
      ruleIndex: 0,
      action: 'Allow',
    });
    expect(ok.egress.ruleId).toBe(-1); // Pass, then nothing in the NetworkPolicy and Baseline tiers: default allow
    const out = e.lookup(flow('10.244.1.2', '8.8.8.8', 443));
    expect(out.verdict).toBe('deny');
    expect(e.rule(out.egress.ruleId).origin.stableId).toBe('Admin/ClusterNetworkPolicy/no-internet/egress/1');
  });

  test('InvalidInputError with every problem; safeCompile returns them', () => {
    const bad = MANIFESTS.replace('priority: 10', 'priority: 5000');
    expect(() => compile({ text: bad })).toThrow(InvalidInputError);
    const r = safeCompile({ text: bad });
    expect(r.engine).toBeUndefined();
    expect(r.problems.some((p) => p.severity === 'error' && p.path?.includes('priority'))).toBe(true);
    try {
      compile({ text: bad });
    } catch (e) {
      expect((e as InvalidInputError).code).toBe('ERR_PALISADE_INVALID_INPUT');
    }
  });

  test('explain equals the reference evaluator', () => {
    const e = compile({ text: MANIFESTS });
    const ref = new ReferenceEvaluator(e.cluster());
    for (const f of [flow('10.244.1.2', '10.244.1.1', 8080), flow('10.244.1.2', '10.244.1.1', 80), flow('10.244.250.1', '10.244.1.1', 22), flow('10.244.1.1', '10.244.1.1', 1)]) {
      expect(e.explain(f)).toEqual(ref.evaluate(f));
    }
    expect(e.explain(flow('10.244.250.1', '10.244.1.1', 22)).ingress.reason).toBe('node-local');
  });

  test('invalid flows throw InvalidFlowError, as the reference does', () => {
    const e = compile({ text: MANIFESTS });
    expect(() => e.lookup(flow('10.244.1.2', 'fd00::1', 80))).toThrow(InvalidFlowError);
    expect(() => e.lookup(flow('10.244.1.2', '10.244.1.1', 0))).toThrow(InvalidFlowError);
    expect(() => e.explain({ ...flow('10.244.1.2', '10.244.1.1', 80), protocol: 'ICMP' as 'TCP' })).toThrow(InvalidFlowError);
  });
});

describe('lookupBatch', () => {
  test('typed arrays in, typed arrays out; same answers as lookup', () => {
    const e = compile({ text: MANIFESTS });
    const flows = [flow('10.244.1.2', '10.244.1.1', 8080), flow('10.244.1.2', '10.244.1.1', 80), flow('10.244.1.1', '1.1.1.1', 53, 'UDP'), flow('10.244.1.1', '10.244.1.1', 9)];
    const res = e.lookupBatch(encodeFlows(4, flows));
    flows.forEach((f, k) => {
      const one = e.lookup(f);
      expect([res.verdict[k], res.egressRule[k], res.ingressRule[k]]).toEqual([one.verdict === 'allow' ? 1 : 0, one.egress.ruleId, one.ingress.ruleId]);
    });
    const v6 = e.lookupBatch(encodeFlows(6, [flow('fd00:10:244:1::1', '2001:db8::1', 443)]));
    expect(v6.verdict[0]).toBe(0);
  });
});

describe('update', () => {
  test('a pod relabel is applied incrementally and changes the answer', () => {
    const e = compile({ text: MANIFESTS });
    const f = flow('10.244.1.2', '10.244.1.1', 8080);
    expect(e.lookup(f).verdict).toBe('allow');
    const db = e.cluster().pods.find((p) => p.name === 'db')!;
    const u = e.update({ kind: 'pod', pod: { ...db, labels: { app: 'other' } } });
    expect(u.rebuilt).toBe(false);
    expect(u.deltas.length).toBeGreaterThan(0);
    expect(e.lookup(f).verdict).toBe('deny');
    expect(e.explain(f)).toEqual(new ReferenceEvaluator(e.cluster()).evaluate(f));
  });

  test('a policy change rebuilds', () => {
    const e = compile({ text: MANIFESTS });
    const f = flow('10.244.1.1', '8.8.8.8', 443);
    expect(e.lookup(f).verdict).toBe('deny');
    const u = e.update({ kind: 'policy-removed', policy: { kind: 'ClusterNetworkPolicy', name: 'no-internet' } });
    expect(u.rebuilt).toBe(true);
    expect(e.lookup(f).verdict).toBe('allow');
  });

  test('a pod declaring a named-port number no rule has seen rebuilds, and the named port then matches', () => {
    const e = compile({ text: MANIFESTS });
    const web = e.cluster().pods.find((p) => p.name === 'web')!;
    const u = e.update({ kind: 'pod', pod: { ...web, containerPorts: [{ name: 'http', containerPort: 9000, protocol: 'TCP' }] } });
    expect(u.rebuilt).toBe(true);
    expect(e.lookup(flow('10.244.1.2', '10.244.1.1', 9000)).verdict).toBe('allow');
    expect(e.lookup(flow('10.244.1.2', '10.244.1.1', 8080)).verdict).toBe('deny');
  });
});

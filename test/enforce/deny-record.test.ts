// The one deny record: the same denied flow is named the same whatever backend saw it, and the
// isolating policies come from the compiled policy (no reference evaluator at run time) and agree
// with the reference evaluator's isolatedBy.
import { describe, expect, it } from 'vitest';
import { PolicyCompiler } from '../../src/enforce/compiled.js';
import { formatDenyLine } from '../../src/enforce/deny-log.js';
import { denyRecord, FlowDedup } from '../../src/enforce/deny-record.js';
import { parseIp } from '../../src/model/ip.js';
import { ReferenceEvaluator } from '../../src/reference/evaluate.js';
import { scenarioCluster } from '../harness/scenarios.js';

const POLICIES = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: zz-deny, namespace: shop }
spec: { podSelector: {}, policyTypes: [Ingress] }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: aa-db, namespace: shop }
spec:
  podSelector: { matchLabels: { app: db } }
  policyTypes: [Ingress]
  ingress:
  - from: [ { podSelector: { matchLabels: { app: web } } } ]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: { name: no-probe-egress }
spec:
  tier: Admin
  priority: 5
  subject: { namespaces: { matchLabels: { team: ops } } }
  egress:
  - { name: deny-53, action: Deny, to: [ { networks: [ 10.244.0.0/16 ] } ], protocols: [ { udp: { destinationPort: { number: 53 } } } ] }
`;

function compiled() {
  const cluster = scenarioCluster(POLICIES);
  const c = new PolicyCompiler();
  const s = c.stage(cluster);
  s.commit();
  return { cluster, policy: c.current()! };
}

describe('denyRecord', () => {
  it('isolation deny: first isolating policy by name, all of them in isolatedBy, as the reference says', () => {
    const { cluster, policy } = compiled();
    const iso = policy.ruleSet.ingress.rules.find((r) => r.action === 'isolation-deny')!;
    const ev = { timeMs: 0, family: 4 as const, proto: 6, src: '10.244.2.12', dst: '10.244.1.11', srcPort: 40000, dstPort: 5432, rule: iso, reason: 'policy' as const };
    const rec = denyRecord('nftables', ev, policy);
    expect(rec).toMatchObject({ tier: 'NetworkPolicy', direction: 'ingress', policy: 'NetworkPolicy/shop/aa-db', isolatedBy: ['NetworkPolicy/shop/aa-db', 'NetworkPolicy/shop/zz-deny'] });
    const ref = new ReferenceEvaluator(cluster).evaluate({ src: parseIp('10.244.2.12')!, dst: parseIp('10.244.1.11')!, protocol: 'TCP', dstPort: 5432 });
    expect(ref.ingress.isolatedBy?.map((p) => `NetworkPolicy/${p.namespace}/${p.name}`)).toEqual(rec.isolatedBy);
    // only `time` and `backend` differ between backends
    const lines = (['nftables', 'ebpf', 'nfqueue'] as const).map((b) => formatDenyLine(denyRecord(b, ev, policy)).replace(/"backend":"[a-z]+"/, ''));
    expect(new Set(lines).size).toBe(1);
  });

  it('policy rule deny names tier, policy, rule name and index', () => {
    const { policy } = compiled();
    const rule = policy.ruleSet.egress.rules.find((r) => r.origin.ref?.ruleName === 'deny-53')!;
    const rec = denyRecord('ebpf', { timeMs: 1, family: 4, proto: 17, src: '10.244.2.12', dst: '10.244.1.10', srcPort: 5000, dstPort: 53, rule, reason: 'policy' }, policy);
    expect(rec).toMatchObject({ tier: 'Admin', policy: 'ClusterNetworkPolicy/no-probe-egress', rule: 'deny-53', ruleIndex: 0, direction: 'egress', protocol: 'UDP' });
    expect(rec.isolatedBy).toBeUndefined();
  });

  it('a drop no rule decided names the reason; portless protocols carry no ports', () => {
    const rec = denyRecord('ebpf', { timeMs: 1, family: 6, proto: 58, src: 'fd00:10:244:2::12', dst: 'fd00:10:244:1::11', srcPort: 0, dstPort: 0, direction: 'egress', reason: 'malformed-packet' }, undefined);
    expect(rec).toMatchObject({ tier: 'NetworkPolicy', policy: 'palisade/malformed-packet', protocol: 'ICMPv6' });
    expect('srcPort' in rec).toBe(false);
  });

  it('FlowDedup reports a flow once per window', () => {
    const d = new FlowDedup(1000);
    const e = { family: 4 as const, proto: 6, src: 'a', srcPort: 1, dst: 'b', dstPort: 2, timeMs: 0 };
    expect(d.first(e)).toBe(true);
    expect(d.first({ ...e, timeMs: 999 })).toBe(false);
    expect(d.first({ ...e, timeMs: 1000 })).toBe(true);
    expect(d.first({ ...e, srcPort: 9, timeMs: 1000 })).toBe(true);
  });
});

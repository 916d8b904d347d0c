/**
 * The explanation of each direction: the deciding tier, policy
 * (kind, namespace/name), rule index and rule name, or which default applied (not isolated;
 * isolated and no rule matched; nothing matched), the Pass trail, the isolating NetworkPolicies and
 * the notes. Exact shapes, so the CLI and every engine can rely on them.
 */
import { describe, expect, it } from 'vitest';
import { probe } from './helpers.js';
import { EXTERNAL, N1, withPolicies } from './inventory.js';
import type { DirectionVerdict } from '../../src/model/verdict.js';

const POLICIES = `
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: admin-pass}
spec:
  tier: Admin
  priority: 20
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: y}}}
  ingress:
  - {name: pass-from-x, action: Pass, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}]}
  egress:
  - {name: try-fqdn, action: Accept, to: [{domainNames: [api.example.com]}]}
  - {action: Deny, to: [{networks: [10.244.200.0/24]}], protocols: [{tcp: {destinationPort: {number: 25}}}]}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: baseline-pass}
spec:
  tier: Baseline
  priority: 1
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: y}}}
  ingress:
  - {name: pass-x-on, action: Pass, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}]}
  - {name: deny-x, action: Deny, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b-ingress, namespace: z}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress: [{from: [{podSelector: {}}]}, {from: [{namespaceSelector: {matchLabels: {team: b}}}], ports: [{port: 80}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-ingress, namespace: z}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress: [{from: [{ipBlock: {cidr: 10.244.200.0/24}}], ports: [{port: 443}]}]
`;

describe('explain', () => {
  const p = probe(withPolicies(POLICIES));

  it('a Pass in each cluster tier: both kept in order, and the default decides (reason no-match)', () => {
    const v = p.check('x/a', 'y/a');
    expect(v.ingress).toEqual({
      direction: 'ingress',
      verdict: 'allow',
      tier: 'Default',
      reason: 'no-match',
      subject: 'y/a',
      passed: [
        { tier: 'Admin', policy: { kind: 'ClusterNetworkPolicy', name: 'admin-pass' }, ruleIndex: 0, ruleName: 'pass-from-x', action: 'Pass', priority: 20 },
        { tier: 'Baseline', policy: { kind: 'ClusterNetworkPolicy', name: 'baseline-pass' }, ruleIndex: 0, ruleName: 'pass-x-on', action: 'Pass', priority: 1 },
      ],
      notes: [],
    } satisfies DirectionVerdict);
  });

  it('a rule without a name has no ruleName; the first matching rule in order decides', () => {
    const v = p.check('y/a', EXTERNAL, 25);
    expect(v.egress.rule).toEqual({
      tier: 'Admin',
      policy: { kind: 'ClusterNetworkPolicy', name: 'admin-pass' },
      ruleIndex: 1,
      action: 'Deny',
      priority: 20,
    });
    expect(v.egress.rule && 'ruleName' in v.egress.rule).toBe(false);
  });

  it('notes: a domainNames rule that was examined is mentioned, even when a later rule decides', () => {
    const decided = p.check('y/a', EXTERNAL, 25);
    expect(decided.egress.notes).toEqual([
      'ClusterNetworkPolicy admin-pass egress[0] (try-fqdn): domainNames peers match only addresses the pod itself learned from live DNS answers (docs/fqdn.md)',
    ]);
    const fallThrough = p.check('y/a', EXTERNAL, 443);
    expect(fallThrough.egress).toMatchObject({ tier: 'Default', reason: 'no-match' });
    expect(fallThrough.egress.notes).toHaveLength(1);
    // notes never leak between evaluations or directions
    expect(p.check('x/a', 'z/a').egress.notes).toEqual([]);
    expect(fallThrough.ingress.notes).toEqual([]);
  });

  it('isolated and allowed: the deciding NetworkPolicy rule (first in policy-name, rule-index order) and every isolating policy', () => {
    const v = p.check('y/a', 'z/a', 80);
    expect(v.ingress).toEqual({
      direction: 'ingress',
      verdict: 'allow',
      tier: 'NetworkPolicy',
      reason: 'rule',
      subject: 'z/a',
      rule: { tier: 'NetworkPolicy', policy: { kind: 'NetworkPolicy', namespace: 'z', name: 'b-ingress' }, ruleIndex: 1, action: 'Allow' },
      isolatedBy: [
        { kind: 'NetworkPolicy', namespace: 'z', name: 'a-ingress' },
        { kind: 'NetworkPolicy', namespace: 'z', name: 'b-ingress' },
      ],
      passed: [],
      notes: [],
    } satisfies DirectionVerdict);
    expect(p.check(EXTERNAL, 'z/a', 443).ingress.rule).toMatchObject({ policy: { name: 'a-ingress' }, ruleIndex: 0 });
  });

  it('isolated and nothing matched: reason isolated-no-match, no rule, the isolating policies', () => {
    const v = p.check('y/a', 'z/a', 81);
    expect(v.verdict).toBe('deny');
    expect(v.ingress).toEqual({
      direction: 'ingress',
      verdict: 'deny',
      tier: 'NetworkPolicy',
      reason: 'isolated-no-match',
      subject: 'z/a',
      isolatedBy: [
        { kind: 'NetworkPolicy', namespace: 'z', name: 'a-ingress' },
        { kind: 'NetworkPolicy', namespace: 'z', name: 'b-ingress' },
      ],
      passed: [],
      notes: [],
    } satisfies DirectionVerdict);
  });

  it('isolated, but from its own node: reason node-local', () => {
    expect(p.check(N1, 'z/a', 81).ingress).toMatchObject({ verdict: 'allow', tier: 'NetworkPolicy', reason: 'node-local' });
  });

  it('an end that is not a pod: reason not-a-pod, no subject', () => {
    const v = p.check(EXTERNAL, 'z/a', 443);
    expect(v.egress).toEqual({ direction: 'egress', verdict: 'allow', tier: 'Default', reason: 'not-a-pod', passed: [], notes: [] } satisfies DirectionVerdict);
    expect(v.src).toEqual({ kind: 'external', ip: EXTERNAL });
    expect(v.dst).toEqual({ kind: 'pod', ip: '10.244.3.1', pod: 'z/a', node: 'n1' });
  });

  it('the flow verdict is the AND of both directions and carries the flow it answers', () => {
    const v = p.check('x/a', 'z/a', 81);
    expect(v.verdict).toBe('deny');
    expect([v.egress.verdict, v.ingress.verdict]).toEqual(['allow', 'deny']);
    expect(v.flow).toMatchObject({ protocol: 'TCP', dstPort: 81 });
    expect(v.flow.src.text).toBe('10.244.1.1');
  });

  it('direction verdicts are plain JSON (the CLI prints them as they are)', () => {
    for (const v of [p.check('x/a', 'y/a'), p.check('y/a', 'z/a', 81), p.check('y/a', EXTERNAL, 25)]) {
      for (const d of [v.egress, v.ingress]) expect(JSON.parse(JSON.stringify(d))).toEqual(d);
      expect(JSON.parse(JSON.stringify([v.src, v.dst]))).toEqual([v.src, v.dst]);
    }
  });
});

/**
 * NetworkPolicy v1: policyTypes defaulting and empty-versus-absent.
 * Sources:
 * - SPEC defaults.go SetDefaults_NetworkPolicy (kubernetes pkg/apis/networking/v1/defaults.go):
 *   "if len(obj.Spec.PolicyTypes) == 0 { PolicyTypes = [Ingress]; if len(obj.Spec.Egress) != 0 { append Egress } }"
 * - SPEC types.go NetworkPolicySpec.policyTypes: "If this field is not specified, it will default based on
 *   the existence of ingress or egress rules; policies that contain an egress section are assumed to affect egress".
 * - SPEC types.go NetworkPolicyIngressRule.from: "If this field is empty or missing, this rule matches all
 *   sources (traffic not restricted by source)"; .ports: "If this field is empty or missing, this rule matches
 *   all ports". NetworkPolicySpec.ingress: "If this field is empty then this NetworkPolicy does not allow any
 *   traffic (and serves solely to ensure that the pods it selects are isolated by default)".
 * - validation.go ValidateNetworkPolicyPeer: a peer with no field is "must specify a peer".
 */
import { describe, expect, it } from 'vitest';
import { EXT, judge, N2, np } from './helpers.js';

describe('policyTypes defaulting (SetDefaults_NetworkPolicy)', () => {
  it('no policyTypes, no rules: [Ingress] — ingress deny-all, egress untouched', () => {
    const j = judge(np('x', 'p', '{podSelector: {}}'));
    expect(j.v('y/a', 'x/a')).toBe('deny');
    expect(j.v('x/a', 'y/a')).toBe('allow');
  });

  it('no policyTypes, egress: [] (empty list): len(Egress)==0 so [Ingress] only; egress stays open', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, egress: []}'));
    expect(j.v('x/a', 'y/a')).toBe('allow');
    expect(j.v('y/a', 'x/a')).toBe('deny');
  });

  it('no policyTypes, egress: [{}]: [Ingress, Egress] — egress all allowed, ingress denied (no ingress rules)', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, egress: [{}]}'));
    expect(j.v('x/a', 'y/a')).toBe('allow');
    expect(j.v('x/a', EXT)).toBe('allow');
    expect(j.v('y/a', 'x/a')).toBe('deny');
  });

  it('no policyTypes, egress to y only: [Ingress, Egress] — egress to z denied, ingress denied', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, egress: [{to: [{namespaceSelector: {matchLabels: {team: b}}}]}]}'));
    expect(j.v('x/a', 'y/a')).toBe('allow');
    expect(j.v('x/a', 'z/a')).toBe('deny');
    expect(j.v('z/a', 'x/a')).toBe('deny');
  });

  it('no policyTypes, ingress: [{}] and egress: [] : [Ingress] — allow-all ingress, egress not isolated', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, ingress: [{}], egress: []}'));
    expect(j.v('y/a', 'x/a')).toBe('allow');
    expect(j.v('x/a', EXT)).toBe('allow');
  });

  it('explicit [Egress] with ingress rules: the ingress rules are inert and ingress is not isolated (types.go policyTypes)', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, policyTypes: [Egress], ingress: [{from: [{podSelector: {matchLabels: {pod: zzz}}}]}]}'));
    expect(j.v('y/a', 'x/a')).toBe('allow');
    expect(j.v('x/a', 'y/a')).toBe('deny');
    const f = j.flow('y/a', 'x/a');
    expect(f.ingress.tier).toBe('Default');
  });

  it('explicit [Ingress] with egress rules: egress rules inert, egress not isolated', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, policyTypes: [Ingress], ingress: [{}], egress: [{to: [{podSelector: {matchLabels: {pod: zzz}}}]}]}'));
    expect(j.v('x/a', 'y/a')).toBe('allow');
    expect(j.v('x/a', EXT)).toBe('allow');
  });

  it('explicit [Ingress, Egress] and no rules: both directions deny-all', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, policyTypes: [Ingress, Egress]}'));
    expect(j.v('x/a', 'y/a')).toBe('deny');
    expect(j.v('y/a', 'x/a')).toBe('deny');
    expect(j.v('x/a', 'x/b')).toBe('deny');
  });

  it('policyTypes [Egress, Ingress] (other order) is the same as [Ingress, Egress]', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, policyTypes: [Egress, Ingress]}'));
    expect(j.v('x/a', 'y/a')).toBe('deny');
    expect(j.v('y/a', 'x/a')).toBe('deny');
  });

  it('duplicate policyTypes [Egress, Egress] (valid upstream: only len>2 and unknown values are rejected): egress only', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, policyTypes: [Egress, Egress]}'));
    expect(j.v('x/a', 'y/a')).toBe('deny');
    expect(j.v('y/a', 'x/a')).toBe('allow');
  });

  it('policyTypes: [] (explicitly empty) defaults like absent', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, policyTypes: [], egress: [{}]}'));
    expect(j.v('y/a', 'x/a')).toBe('deny');
    expect(j.v('x/a', 'y/a')).toBe('allow');
  });

  it('policyTypes: null defaults like absent (JSON null decodes to a nil slice)', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, policyTypes: null}'));
    expect(j.v('y/a', 'x/a')).toBe('deny');
  });

  it('spec absent entirely: zero-value spec = podSelector {} (all pods) and policyTypes [Ingress]', () => {
    const j = judge('apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: x}\n');
    expect(j.v('y/a', 'x/a')).toBe('deny');
    expect(j.v('y/a', 'x/b')).toBe('deny');
    expect(j.v('x/a', 'y/a')).toBe('allow');
  });

  it('spec.podSelector absent: the zero LabelSelector selects every pod of the namespace', () => {
    const j = judge(np('x', 'p', '{policyTypes: [Ingress]}'));
    expect(j.v('y/a', 'x/c')).toBe('deny');
  });
});

describe('empty versus absent inside rules', () => {
  it('ingress: [{}] — one rule with no from and no ports: everything, including externals and nodes', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, ingress: [{}]}'));
    expect(j.v('y/a', 'x/a', 1234, 'UDP')).toBe('allow');
    expect(j.v(EXT, 'x/a', 5, 'SCTP')).toBe('allow');
    expect(j.v(N2, 'x/a')).toBe('allow');
  });

  it('from: [] (empty list) is the same as absent: all sources', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, ingress: [{from: [], ports: [{port: 80}]}]}'));
    expect(j.v(EXT, 'x/a', 80)).toBe('allow');
    expect(j.v(EXT, 'x/a', 81)).toBe('deny');
  });

  it('ports: [] (empty list) is the same as absent: every port and protocol', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, ingress: [{from: [{podSelector: {}}], ports: []}]}'));
    expect(j.v('x/b', 'x/a', 9999, 'SCTP')).toBe('allow');
    expect(j.v('y/a', 'x/a', 80)).toBe('deny');
  });

  it('from: null is the same as absent', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, ingress: [{from: null}]}'));
    expect(j.v(EXT, 'x/a')).toBe('allow');
  });

  it('ingress: [] with policyTypes [Ingress]: deny all', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, policyTypes: [Ingress], ingress: []}'));
    expect(j.v('x/b', 'x/a')).toBe('deny');
  });

  it('peer {podSelector: {}} only: pods of the policy namespace only (not other namespaces, not externals)', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, ingress: [{from: [{podSelector: {}}]}]}'));
    expect(j.v('x/b', 'x/a')).toBe('allow');
    expect(j.v('y/a', 'x/a')).toBe('deny');
    expect(j.v(EXT, 'x/a')).toBe('deny');
  });

  it('peer {namespaceSelector: {}} only: every pod of every namespace, but not externals or nodes', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, ingress: [{from: [{namespaceSelector: {}}]}]}'));
    expect(j.v('y/a', 'x/a')).toBe('allow');
    expect(j.v('ghost/g', 'x/a')).toBe('allow');
    expect(j.v(EXT, 'x/a')).toBe('deny');
    expect(j.v(N2, 'x/a')).toBe('deny');
  });

  it('peer {namespaceSelector: {matchLabels: {}}} is also every namespace (semantics §14)', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, ingress: [{from: [{namespaceSelector: {matchLabels: {}}}]}]}'));
    expect(j.v('z/a', 'x/a')).toBe('allow');
  });

  it('peer {namespaceSelector: {}, podSelector: {matchLabels: {pod: a}}}: pod=a in every namespace (AND)', () => {
    const j = judge(np('x', 'p', '{podSelector: {matchLabels: {pod: b}}, ingress: [{from: [{namespaceSelector: {}, podSelector: {matchLabels: {pod: a}}}]}]}'));
    expect(j.v('y/a', 'x/b')).toBe('allow');
    expect(j.v('z/a', 'x/b')).toBe('allow');
    expect(j.v('y/b', 'x/b')).toBe('deny');
  });

  it('namespaceSelector null in a peer with a podSelector is absent: the policy namespace only', () => {
    const j = judge(np('x', 'p', '{podSelector: {matchLabels: {pod: b}}, ingress: [{from: [{namespaceSelector: null, podSelector: {matchLabels: {pod: a}}}]}]}'));
    expect(j.v('x/a', 'x/b')).toBe('allow');
    expect(j.v('y/a', 'x/b')).toBe('deny');
  });

  it('egress to: [] with ports: every destination on that port, externals included', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, policyTypes: [Egress], egress: [{to: [], ports: [{port: 443}]}]}'));
    expect(j.v('x/a', EXT, 443)).toBe('allow');
    expect(j.v('x/a', 'y/a', 443)).toBe('allow');
    expect(j.v('x/a', 'y/a', 80)).toBe('deny');
  });
});

/**
 * Odd but valid shapes: JSON null where a field is optional, and explicit empties. Upstream, a JSON null decodes to the
 * zero value / nil pointer (encoding/json semantics for built-in types), and the API server prunes nulls of non-nullable
 * CRD fields (apiextensions structural schema pruning), so `{a: null}` means the same as `{}`.
 */
import { describe, expect, it } from 'vitest';
import { cnp, anp, judge, np } from './helpers.js';

describe('NetworkPolicy', () => {
  it('ports: [{port: null, protocol: UDP}] is every UDP port (SPEC NetworkPolicyPort.port: "If this field is not provided, this matches all port names and numbers")', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, ingress: [{ports: [{port: null, protocol: UDP}]}]}'));
    expect(j.v('y/a', 'x/a', 5353, 'UDP')).toBe('allow');
    expect(j.v('y/a', 'x/a', 5353, 'TCP')).toBe('deny');
  });
  it('endPort: null is a single port', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, ingress: [{ports: [{port: 80, endPort: null}]}]}'));
    expect(j.v('y/a', 'x/a', 80)).toBe('allow');
    expect(j.v('y/a', 'x/a', 81)).toBe('deny');
  });
  it('peer {ipBlock: null, podSelector: {}} is a podSelector peer', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, ingress: [{from: [{ipBlock: null, podSelector: {}}]}]}'));
    expect(j.v('x/b', 'x/a')).toBe('allow');
    expect(j.v('y/a', 'x/a')).toBe('deny');
  });
  it('ipBlock except: null is no except', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.244.2.0/24, except: null}}]}]}'));
    expect(j.v('y/a', 'x/a')).toBe('allow');
  });
  it('spec.podSelector: null selects every pod of the namespace', () => {
    const j = judge(np('x', 'p', '{podSelector: null, policyTypes: [Ingress]}'));
    expect(j.v('y/a', 'x/c')).toBe('deny');
  });
});

describe('ClusterNetworkPolicy / AdminNetworkPolicy', () => {
  const SUBJECT_X = '  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}';
  it('peer {namespaces: null, pods: {...}} is a pods peer', () => {
    const j = judge(cnp('c', 'Admin', 1, `${SUBJECT_X}\n  ingress:\n  - action: Deny\n    from: [{namespaces: null, pods: {namespaceSelector: {}, podSelector: {matchLabels: {pod: b}}}}]`));
    expect(j.v('y/b', 'x/a')).toBe('deny');
    expect(j.v('y/a', 'x/a')).toBe('allow');
  });
  it('protocols: null is every port and protocol', () => {
    const j = judge(cnp('c', 'Admin', 1, `${SUBJECT_X}\n  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]\n    protocols: null`));
    expect(j.v('y/a', 'x/a', 9, 'SCTP')).toBe('deny');
  });
  it('destinationPort {number: 80, range: null} is the number', () => {
    const j = judge(cnp('c', 'Admin', 1, `${SUBJECT_X}\n  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]\n    protocols: [{tcp: {destinationPort: {number: 80, range: null}}}]`));
    expect(j.v('y/a', 'x/a', 80)).toBe('deny');
    expect(j.v('y/a', 'x/a', 81)).toBe('allow');
  });
  it('v1alpha2 subject pods with namespaceSelector: null selects all namespaces', () => {
    const j = judge(cnp('c', 'Admin', 1, '  subject: {pods: {namespaceSelector: null, podSelector: {matchLabels: {pod: b}}}}\n  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]'));
    expect(j.v('x/a', 'y/b')).toBe('deny');
    expect(j.v('y/a', 'x/b')).toBe('deny');
    expect(j.v('x/b', 'x/a')).toBe('allow');
  });
  it('ANP port {portNumber: null, namedPort: web} is the named port', () => {
    const j = judge(anp('a', 1, `${SUBJECT_X}\n  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]\n    ports: [{portNumber: null, namedPort: web}]`));
    expect(j.v('y/a', 'x/b', 8080)).toBe('deny');
    expect(j.v('y/a', 'x/b', 80)).toBe('allow');
  });
});

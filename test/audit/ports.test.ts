/**
 * Ports and protocols: named ports (ingress and egress, protocol mismatch, same name different
 * numbers per pod, non-pod destinations), endPort boundaries, SCTP/UDP/TCP distinctness, and the
 * same for ClusterNetworkPolicy protocols.
 * Sources:
 * - SPEC types.go NetworkPolicyPort.port: "If this field is not provided, this matches all port names and
 *   numbers. If present, only traffic on the specified protocol AND port will be matched."; .endPort:
 *   "indicates that the range of ports from port to endPort if set, inclusive, should be allowed";
 *   .protocol: "If not specified, this field defaults to TCP."
 * - IMPL cyclonus / policy-assistant pkg/matcher/portmatcher.go: a named port matches when the
 *   resolved port name equals and the protocol equals; ranges compare `port <= p <= endPort` per protocol.
 * - E2E "should enforce policy based on Ports / named ports", "should not allow access by TCP when a
 *   policy specifies only SCTP/UDP traffic".
 * - network-policy-api v1alpha2 types: ClusterNetworkPolicyProtocol destinationNamedPort; PortRange
 *   "start/end ... inclusive"; conformance CNPAdminTierEgressNamedPort / CNPAdminTierIngressNamedPort,
 *   CNPBaselineTierEgressNodePeers (range hnp0..hnp1 inclusive).
 */
import { describe, expect, it } from 'vitest';
import { cnp, EXT, judge, N1, np } from './helpers.js';

describe('NetworkPolicy named ports', () => {
  it('ingress named port resolves on the destination (selected) pod: web = TCP/80 on x/a, TCP/8080 on x/b', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, ingress: [{ports: [{port: web}]}]}'));
    expect(j.v('y/a', 'x/a', 80)).toBe('allow');
    expect(j.v('y/a', 'x/a', 8080)).toBe('deny');
    expect(j.v('y/a', 'x/b', 8080)).toBe('allow');
    expect(j.v('y/a', 'x/b', 80)).toBe('deny');
    expect(j.v('y/a', 'x/c', 80)).toBe('deny'); // x/c declares no port named web
  });

  it('named port with defaulted protocol TCP does not match a UDP container port of that name (dns on x/a is UDP)', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, ingress: [{ports: [{port: dns}]}]}'));
    expect(j.v('y/a', 'x/a', 53, 'TCP')).toBe('deny');
    expect(j.v('y/a', 'x/a', 53, 'UDP')).toBe('deny');
  });

  it('named port with protocol UDP matches the UDP container port', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, ingress: [{ports: [{port: dns, protocol: UDP}]}]}'));
    expect(j.v('y/a', 'x/a', 53, 'UDP')).toBe('allow');
    expect(j.v('y/a', 'x/a', 53, 'TCP')).toBe('deny');
  });

  it('named port in a second container of the pod is found (alt TCP/81 on container d)', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, ingress: [{ports: [{port: alt}]}]}'));
    expect(j.v('y/a', 'x/a', 81)).toBe('allow');
  });

  it('SCTP named port', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, ingress: [{ports: [{port: assoc, protocol: SCTP}]}]}'));
    expect(j.v('y/a', 'x/a', 9000, 'SCTP')).toBe('allow');
    expect(j.v('y/a', 'x/a', 9000, 'TCP')).toBe('deny');
  });

  it('egress named port resolves on each destination pod: dns/TCP matches y/a (TCP 53) but not x/a (UDP 53)', () => {
    const j = judge(np('x', 'p', '{podSelector: {matchLabels: {pod: b}}, policyTypes: [Egress], egress: [{ports: [{port: dns}]}]}'));
    expect(j.v('x/b', 'y/a', 53, 'TCP')).toBe('allow');
    expect(j.v('x/b', 'x/a', 53, 'TCP')).toBe('deny');
    expect(j.v('x/b', 'x/a', 53, 'UDP')).toBe('deny');
  });

  it('egress named port never matches an external address (no container ports; semantics §7.5)', () => {
    const j = judge(np('x', 'p', '{podSelector: {matchLabels: {pod: b}}, policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0}}], ports: [{port: web}]}]}'));
    expect(j.v('x/b', EXT, 80)).toBe('deny');
    expect(j.v('x/b', 'x/a', 80)).toBe('allow');
    expect(j.v('x/b', 'x/a', 8080)).toBe('deny');
  });

  it('egress named port to a host-network pod: treated as node traffic, its container ports are not consulted', () => {
    const j = judge(np('x', 'p', '{podSelector: {matchLabels: {pod: b}}, policyTypes: [Egress], egress: [{ports: [{port: metrics}]}]}'));
    expect(j.v('x/b', 'host/hn', 9100)).toBe('deny');
  });

  it('a named port and a number in one rule are ORed', () => {
    const j = judge(np('x', 'p', '{podSelector: {}, ingress: [{ports: [{port: web}, {port: 443}]}]}'));
    expect(j.v('y/a', 'x/b', 443)).toBe('allow');
    expect(j.v('y/a', 'x/b', 8080)).toBe('allow');
    expect(j.v('y/a', 'x/b', 80)).toBe('deny');
  });
});

describe('NetworkPolicy endPort and protocols', () => {
  const j = judge(np('x', 'p', '{podSelector: {}, ingress: [{ports: [{port: 32000, endPort: 32768}, {protocol: UDP, port: 53, endPort: 53}]}]}'));
  it('endPort is inclusive at both ends', () => {
    expect(j.v('y/a', 'x/a', 31999)).toBe('deny');
    expect(j.v('y/a', 'x/a', 32000)).toBe('allow');
    expect(j.v('y/a', 'x/a', 32768)).toBe('allow');
    expect(j.v('y/a', 'x/a', 32769)).toBe('deny');
  });
  it('endPort range applies to its own protocol only (defaulted TCP)', () => {
    expect(j.v('y/a', 'x/a', 32100, 'UDP')).toBe('deny');
    expect(j.v('y/a', 'x/a', 32100, 'SCTP')).toBe('deny');
  });
  it('endPort == port is a single port', () => {
    expect(j.v('y/a', 'x/a', 53, 'UDP')).toBe('allow');
    expect(j.v('y/a', 'x/a', 54, 'UDP')).toBe('deny');
  });
  it('1..65535 covers every port', () => {
    const k = judge(np('x', 'p', '{podSelector: {}, ingress: [{ports: [{port: 1, endPort: 65535, protocol: SCTP}]}]}'));
    expect(k.v('y/a', 'x/a', 1, 'SCTP')).toBe('allow');
    expect(k.v('y/a', 'x/a', 65535, 'SCTP')).toBe('allow');
    expect(k.v('y/a', 'x/a', 65535, 'TCP')).toBe('deny');
  });
  it('protocol only (no port) matches every port of that protocol and nothing else (E2E "any port ... specific protocol")', () => {
    const k = judge(np('x', 'p', '{podSelector: {}, ingress: [{ports: [{protocol: SCTP}]}]}'));
    expect(k.v('y/a', 'x/a', 7, 'SCTP')).toBe('allow');
    expect(k.v('y/a', 'x/a', 7, 'TCP')).toBe('deny');
    expect(k.v('y/a', 'x/a', 7, 'UDP')).toBe('deny');
  });
  it('a pod isolated only by an SCTP allow is denied TCP on the same port (E2E SCTP/UDP-only tests)', () => {
    const k = judge(np('x', 'p', '{podSelector: {matchLabels: {pod: a}}, ingress: [{ports: [{port: 80, protocol: SCTP}]}]}'));
    expect(k.v('y/a', 'x/a', 80, 'TCP')).toBe('deny');
    expect(k.v('y/a', 'x/a', 80, 'SCTP')).toBe('allow');
    expect(k.v('y/a', 'x/a', 80, 'UDP')).toBe('deny');
  });
  it('egress port rule constrains the destination port only (semantics §7.7)', () => {
    const k = judge(np('x', 'p', '{podSelector: {matchLabels: {pod: a}}, policyTypes: [Egress], egress: [{ports: [{port: 80}]}]}'));
    expect(k.v('x/a', EXT, 80)).toBe('allow');
    expect(k.v('x/a', EXT, 81)).toBe('deny');
  });
});

describe('ClusterNetworkPolicy protocols', () => {
  const subjectXA = '  subject:\n    pods:\n      namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: x}}\n      podSelector: {matchLabels: {pod: a}}';

  it('range is inclusive; TCP range does not match UDP or SCTP', () => {
    const j = judge(
      cnp('r', 'Admin', 10, `${subjectXA}\n  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]\n    protocols: [{tcp: {destinationPort: {range: {start: 1000, end: 2000}}}}]`),
    );
    expect(j.v('y/a', 'x/a', 999)).toBe('allow');
    expect(j.v('y/a', 'x/a', 1000)).toBe('deny');
    expect(j.v('y/a', 'x/a', 2000)).toBe('deny');
    expect(j.v('y/a', 'x/a', 2001)).toBe('allow');
    expect(j.v('y/a', 'x/a', 1500, 'UDP')).toBe('allow');
    expect(j.v('y/a', 'x/a', 1500, 'SCTP')).toBe('allow');
  });

  it('protocols unset matches every port and protocol', () => {
    const j = judge(cnp('r', 'Admin', 10, `${subjectXA}\n  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]`));
    expect(j.v('y/a', 'x/a', 5, 'SCTP')).toBe('deny');
    expect(j.v('y/a', 'x/a', 5, 'UDP')).toBe('deny');
  });

  it('ingress destinationNamedPort resolves on the subject (destination) pod, with the container port protocol', () => {
    const j = judge(cnp('r', 'Admin', 10, `${subjectXA}\n  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]\n    protocols: [{destinationNamedPort: dns}]`));
    expect(j.v('y/a', 'x/a', 53, 'UDP')).toBe('deny');
    expect(j.v('y/a', 'x/a', 53, 'TCP')).toBe('allow');
  });

  it('egress destinationNamedPort resolves on the destination pod: dns = TCP/53 on y/a, UDP/53 on x/a', () => {
    const j = judge(
      cnp('r', 'Admin', 10, '  subject:\n    pods:\n      namespaceSelector: {}\n      podSelector: {matchLabels: {pod: b}}\n  egress:\n  - action: Deny\n    to: [{namespaces: {}}]\n    protocols: [{destinationNamedPort: dns}]'),
    );
    expect(j.v('x/b', 'y/a', 53, 'TCP')).toBe('deny');
    expect(j.v('x/b', 'y/a', 53, 'UDP')).toBe('allow');
    expect(j.v('x/b', 'x/a', 53, 'UDP')).toBe('deny');
    expect(j.v('x/b', 'x/a', 53, 'TCP')).toBe('allow');
  });

  it('number entry matches exactly that port of that protocol', () => {
    const j = judge(cnp('r', 'Admin', 10, `${subjectXA}\n  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]\n    protocols: [{sctp: {destinationPort: {number: 9000}}}, {udp: {destinationPort: {number: 53}}}]`));
    expect(j.v('y/a', 'x/a', 9000, 'SCTP')).toBe('deny');
    expect(j.v('y/a', 'x/a', 9000, 'TCP')).toBe('allow');
    expect(j.v('y/a', 'x/a', 53, 'UDP')).toBe('deny');
    expect(j.v('y/a', 'x/a', 53, 'TCP')).toBe('allow');
  });

  it('egress to a node with protocols: port checked against the flow, nodes peer matches the host-network pod address', () => {
    const j = judge(cnp('r', 'Admin', 10, '  subject: {namespaces: {matchLabels: {team: a}}}\n  egress:\n  - action: Deny\n    to: [{nodes: {matchLabels: {role: worker}}}]\n    protocols: [{tcp: {destinationPort: {number: 9100}}}]'));
    expect(j.v('x/b', N1, 9100)).toBe('deny');
    expect(j.v('x/b', 'host/hn', 9100)).toBe('deny');
    expect(j.v('x/b', N1, 9101)).toBe('allow');
  });
});

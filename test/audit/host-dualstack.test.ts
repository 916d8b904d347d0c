/**
 * Dual-stack, host-network pods, nodes, the node-local ingress exception, loopback and pods without IPs.
 * Sources:
 * - SPEC types.go NetworkPolicySpec.ingress: "Traffic is allowed to a pod if there are no NetworkPolicies
 *   selecting the pod (and cluster policy otherwise allows the traffic), OR if the traffic source is the pod's
 *   local node, OR if the traffic matches at least one ingress rule across all of the NetworkPolicy objects".
 * - DOCS "NetworkPolicy and hostNetwork pods" (kubernetes/website#39875): option (b) "the network plugin ...
 *   ignores hostNetwork pods when matching podSelector and namespaceSelector; traffic to/from them is treated
 *   the same as all other traffic to/from the node IP".
 * - network-policy-api v1alpha2 types: subject/peers "host-networked pods are not included"; `nodes`:
 *   "selects the nodeIPs ... present in the node.Status.Addresses field"; `networks`: matches pod IPs too;
 *   docs change #390: "a pod -> its own Pod IP is not subject to CNP".
 * - DOCS: "a pod cannot block access to itself" (loopback); semantics §12 for families.
 */
import { describe, expect, it } from 'vitest';
import { cnp, docs, EXT, EXT_V6, judge, N1, N1_EXT, N1_V6, N2, np } from './helpers.js';

const DENY_ALL_X = np('x', 'deny', '{podSelector: {}, policyTypes: [Ingress, Egress]}');

describe('dual-stack', () => {
  it('selector peers match both families of a dual-stack pod', () => {
    const j = judge(np('x', 'p', '{podSelector: {matchLabels: {pod: a}}, ingress: [{from: [{podSelector: {matchLabels: {pod: b}}}]}]}'));
    expect(j.v('x/b', 'x/a', 80, 'TCP', 4)).toBe('allow');
    expect(j.v('x/b', 'x/a', 80, 'TCP', 6)).toBe('allow');
  });

  it('an IPv4 ipBlock never matches an IPv6 flow between the same pods', () => {
    const j = judge(np('x', 'p', '{podSelector: {matchLabels: {pod: a}}, ingress: [{from: [{ipBlock: {cidr: 10.244.1.2/32}}]}]}'));
    expect(j.v('x/b', 'x/a', 80, 'TCP', 4)).toBe('allow');
    expect(j.v('x/b', 'x/a', 80, 'TCP', 6)).toBe('deny');
  });

  it('CNP networks 0.0.0.0/0 Deny leaves IPv6 alone; ::/0 covers IPv6 (network-policy-api #248)', () => {
    const j = judge(cnp('n', 'Admin', 5, '  subject: {namespaces: {matchLabels: {team: a}}}\n  egress:\n  - action: Deny\n    to: [{networks: [0.0.0.0/0]}]'));
    expect(j.v('x/a', 'y/a', 80, 'TCP', 4)).toBe('deny');
    expect(j.v('x/a', 'y/a', 80, 'TCP', 6)).toBe('allow');
    expect(j.v('x/a', EXT_V6, 80, 'TCP', 6)).toBe('allow');
  });

  it('a flow mixing families is not a flow (InvalidFlowError)', () => {
    const j = judge();
    expect(() => j.ev.evaluate({ src: j.ev.cluster.pods[0]!.ips[0]!, dst: j.ev.cluster.pods[0]!.ips[1]!, protocol: 'TCP', dstPort: 80 })).toThrow();
  });
});

describe('loopback: a pod to its own IP', () => {
  it('allowed under deny-all in both directions, IPv4 and IPv6', () => {
    const j = judge(DENY_ALL_X);
    expect(j.v('x/a', 'x/a', 80, 'TCP', 4)).toBe('allow');
    expect(j.v('x/a', 'x/a', 80, 'TCP', 6)).toBe('allow');
    expect(j.flow('x/a', 'x/a').egress.reason).toBe('loopback');
  });
  it('allowed under an Admin CNP Deny-all (network-policy-api docs #390: own Pod IP not subject to CNP)', () => {
    const j = judge(cnp('d', 'Admin', 0, '  subject: {namespaces: {}}\n  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]\n  egress:\n  - action: Deny\n    to: [{networks: [0.0.0.0/0, "::/0"]}]'));
    expect(j.v('x/a', 'x/a')).toBe('allow');
    expect(j.v('x/a', 'x/b')).toBe('deny');
  });
});

describe('node-local ingress exception (NetworkPolicy only)', () => {
  const j = judge(DENY_ALL_X);
  it('x/a (on n1) accepts its own node: InternalIP, ExternalIP and IPv6 InternalIP', () => {
    expect(j.v(N1, 'x/a')).toBe('allow');
    expect(j.v(N1_EXT, 'x/a')).toBe('allow');
    expect(j.v(N1_V6, 'x/a', 80, 'TCP', 6)).toBe('allow');
    expect(j.flow(N1, 'x/a').ingress.reason).toBe('node-local');
  });
  it('...and a host-network pod on its own node (its address is the node address)', () => {
    expect(j.v('host/hn', 'x/a')).toBe('allow');
  });
  it('x/a does not accept the other node or its host-network pod', () => {
    expect(j.v(N2, 'x/a')).toBe('deny');
    expect(j.v('host/hn2', 'x/a')).toBe('deny');
  });
  it('x/b (on n2) accepts n2 but not n1', () => {
    expect(j.v(N2, 'x/b')).toBe('allow');
    expect(j.v(N1, 'x/b')).toBe('deny');
  });
  it('a pod on the same node is not the node: y/b (n1) -> x/a (n1) denied', () => {
    expect(j.v('y/b', 'x/a')).toBe('deny');
  });
  it('the exception is ingress only: x/a -> its own node is judged by x/a\'s egress policy', () => {
    expect(j.v('x/a', N1)).toBe('deny');
  });
});

describe('host-network pods', () => {
  it('are never isolated by NetworkPolicy (not selected by podSelector: {} of their namespace)', () => {
    const j = judge(np('host', 'deny', '{podSelector: {}, policyTypes: [Ingress, Egress]}'));
    expect(j.v('x/a', 'host/hn2', 9100)).toBe('allow');
    expect(j.v('host/hn2', 'x/a')).toBe('allow');
  });

  it('are never CNP subjects', () => {
    const j = judge(cnp('d', 'Admin', 0, '  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: host}}}\n  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]'));
    expect(j.v('x/a', 'host/hn2')).toBe('allow');
  });

  it('are not matched by CNP pods/namespaces peers, but are by nodes and networks', () => {
    const j = judge(
      docs(
        cnp('a', 'Admin', 1, '  subject: {namespaces: {matchLabels: {team: a}}}\n  egress:\n  - action: Deny\n    to: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {pod: a}}}}]'),
        cnp('b', 'Admin', 2, '  subject: {namespaces: {matchLabels: {team: a}}}\n  egress:\n  - action: Accept\n    to: [{nodes: {matchLabels: {role: infra}}}]\n  - action: Deny\n    to: [{networks: [10.244.100.0/24]}]'),
      ),
    );
    expect(j.v('x/b', 'host/hn2')).toBe('allow'); // nodes (n2 = infra) Accept
    expect(j.v('x/b', 'host/hn')).toBe('deny'); // n1 is worker: falls to networks Deny
    expect(j.v('x/b', 'y/a')).toBe('deny'); // pods peer
    expect(j.flow('x/b', 'host/hn2').egress.rule?.policy.name).toBe('b');
  });

  it('CNP nodes peer matches every status address of the node (ExternalIP too) and no pod IP', () => {
    const j = judge(cnp('n', 'Admin', 1, '  subject: {namespaces: {matchLabels: {team: a}}}\n  egress:\n  - action: Deny\n    to: [{nodes: {matchLabels: {role: worker}}}]'));
    expect(j.v('x/a', N1)).toBe('deny');
    expect(j.v('x/a', N1_EXT)).toBe('deny');
    expect(j.v('x/a', N1_V6, 80, 'TCP', 6)).toBe('deny');
    expect(j.v('x/a', N2)).toBe('allow');
    expect(j.v('x/a', 'y/b')).toBe('allow'); // y/b runs on n1 but is a pod, not a node address
  });

  it('CNP nodes: {} selects all nodes', () => {
    const j = judge(cnp('n', 'Admin', 1, '  subject: {namespaces: {matchLabels: {team: a}}}\n  egress:\n  - action: Deny\n    to: [{nodes: {}}]'));
    expect(j.v('x/a', N2)).toBe('deny');
    expect(j.v('x/a', EXT)).toBe('allow');
  });

  it('CNP networks match pod IPs and node IPs alike', () => {
    const j = judge(cnp('n', 'Admin', 1, '  subject: {namespaces: {matchLabels: {team: a}}}\n  egress:\n  - action: Deny\n    to: [{networks: [10.244.2.0/24, 10.244.100.2/32]}]'));
    expect(j.v('x/a', 'y/a')).toBe('deny');
    expect(j.v('x/a', N2)).toBe('deny');
    expect(j.v('x/a', 'z/a')).toBe('allow');
  });

  it('CNP networks with host bits (isCIDR accepts them) are masked', () => {
    const j = judge(cnp('n', 'Admin', 1, '  subject: {namespaces: {matchLabels: {team: a}}}\n  egress:\n  - action: Deny\n    to: [{networks: [10.244.2.77/24]}]'));
    expect(j.v('x/a', 'y/a')).toBe('deny');
  });

  it('a host-network pod as a client is node traffic: CNP ingress rules (pods/namespaces peers) never match it', () => {
    const j = judge(cnp('d', 'Admin', 0, '  subject: {namespaces: {matchLabels: {team: a}}}\n  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]'));
    expect(j.v('host/hn2', 'x/a')).toBe('allow');
    expect(j.v('y/a', 'x/a')).toBe('deny');
  });
});

describe('pods without IPs', () => {
  it('a selected pod without IPs does not break evaluation of others; selection still isolates the rest', () => {
    const j = judge(np('x', 'p', '{podSelector: {matchLabels: {pod: a}}, ingress: [{from: [{podSelector: {matchLabels: {pod: b}}}]}]}'));
    expect(j.v('x/b', 'x/a')).toBe('allow');
    expect(j.v('y/a', 'x/a')).toBe('deny');
  });
});

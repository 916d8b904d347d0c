/**
 * NetworkPolicy v1 semantics of the reference evaluator, one test per point of
 * docs/reference/networkpolicy-v1-semantics.md (section numbers in the test names) and of
 * Sources: SPEC = k8s.io/api networking/v1 types.go doc comments and
 * defaults.go; DOCS = kubernetes.io "Network Policies"; E2E = kubernetes test/e2e/network/netpol.
 */
import { describe, expect, it } from 'vitest';
import { probe } from './helpers.js';
import { EXTERNAL, EXTERNAL_V6, N1, N1_V6, N2, withPolicies } from './inventory.js';

const DENY_ALL_INGRESS_X = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-ingress, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress]}
`;

describe('§0 / §1.4 both ends: egress at the source AND ingress at the destination', () => {
  const p = probe(
    withPolicies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ingress-from-x-a, namespace: y}
spec:
  podSelector: {matchLabels: {pod: b}}
  policyTypes: [Ingress]
  ingress: [{from: [{namespaceSelector: {matchLabels: {team: a}}, podSelector: {matchLabels: {pod: a}}}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-to-y-a, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress: [{to: [{namespaceSelector: {matchLabels: {team: b}}, podSelector: {matchLabels: {pod: a}}}]}]
`),
  );

  it('§1.4 y/b admits x/a but x/a may not send to y/b: denied by egress (DOCS; E2E "client side egress")', () => {
    const v = p.check('x/a', 'y/b');
    expect(v.verdict).toBe('deny');
    expect(v.egress).toMatchObject({ verdict: 'deny', tier: 'NetworkPolicy', reason: 'isolated-no-match', subject: 'x/a' });
    expect(v.ingress).toMatchObject({ verdict: 'allow', tier: 'NetworkPolicy', reason: 'rule', subject: 'y/b' });
  });

  it('§1.4 only the isolated side is checked: x/b -> y/b is denied by y/b ingress alone', () => {
    const v = p.check('x/b', 'y/b');
    expect(v.verdict).toBe('deny');
    expect(v.egress).toMatchObject({ verdict: 'allow', tier: 'Default', reason: 'no-match' });
    expect(v.ingress).toMatchObject({ verdict: 'deny', reason: 'isolated-no-match' });
  });

  it('§1.4 allowed when both sides allow: x/a -> y/a', () => {
    const v = p.check('x/a', 'y/a');
    expect(v.verdict).toBe('allow');
    expect(v.egress.rule?.policy).toEqual({ kind: 'NetworkPolicy', namespace: 'x', name: 'egress-to-y-a' });
  });
});

describe('§1 isolation', () => {
  it('§1.1 a pod no policy selects is non-isolated: allowed, reason no-match (SPEC ingress/egress comments)', () => {
    const p = probe(withPolicies(DENY_ALL_INGRESS_X));
    const v = p.check('x/a', 'y/a');
    expect(v.verdict).toBe('allow');
    expect(v.ingress).toMatchObject({ tier: 'Default', reason: 'no-match', passed: [] });
    expect(v.ingress.isolatedBy).toBeUndefined();
  });

  it('§1.2 directions are independent: an Egress-only deny leaves ingress open (DOCS "Two Sorts of Pod Isolation")', () => {
    const p = probe(
      withPolicies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-egress, namespace: x}
spec: {podSelector: {matchLabels: {pod: a}}, policyTypes: [Egress]}
`),
    );
    expect(p.verdict('y/a', 'x/a')).toBe('allow');
    const out = p.check('x/a', 'y/a');
    expect(out.verdict).toBe('deny');
    expect(out.egress.isolatedBy).toEqual([{ kind: 'NetworkPolicy', namespace: 'x', name: 'deny-egress' }]);
  });

  it('§1.3 once isolated, only traffic matching some rule of some selecting policy is allowed (E2E "allow ingress traffic for a target")', () => {
    const p = probe(
      withPolicies(`${DENY_ALL_INGRESS_X}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all-to-a, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress: [{from: [{podSelector: {}, namespaceSelector: {}}]}]
`),
    );
    const toA = p.check('y/b', 'x/a');
    expect(toA.verdict).toBe('allow');
    expect(toA.ingress.rule).toEqual({
      tier: 'NetworkPolicy',
      policy: { kind: 'NetworkPolicy', namespace: 'x', name: 'allow-all-to-a' },
      ruleIndex: 0,
      action: 'Allow',
    });
    // both policies isolate x/a; listed by name
    expect(toA.ingress.isolatedBy?.map((r) => r.name)).toEqual(['allow-all-to-a', 'deny-ingress']);
    expect(p.verdict('y/b', 'x/b')).toBe('deny');
    expect(p.verdict('x/a', 'x/c')).toBe('deny');
  });

  it('§1.5 spec.podSelector selects only in the policy namespace (SPEC podSelector doc)', () => {
    const p = probe(
      withPolicies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-a, namespace: y}
spec: {podSelector: {matchLabels: {pod: a}}, policyTypes: [Ingress]}
`),
    );
    expect(p.verdict('x/c', 'y/a')).toBe('deny');
    expect(p.verdict('x/c', 'x/a')).toBe('allow');
    expect(p.verdict('x/c', 'z/a')).toBe('allow');
  });

  it('§1.6 podSelector {} and {matchLabels: {}} select every pod of the namespace', () => {
    const p = probe(
      withPolicies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: all, namespace: x}
spec: {podSelector: {matchLabels: {}}, policyTypes: [Ingress]}
`),
    );
    for (const dst of ['x/a', 'x/b', 'x/c']) expect(p.verdict('y/a', dst)).toBe('deny');
    expect(p.verdict('x/a', 'y/a')).toBe('allow');
  });
});

describe('§2 union of rules', () => {
  it('§2.1 policies OR: one allows ns y on TCP 81, another on TCP 80: both ports open (E2E stacked policies)', () => {
    const rule = (name: string, port: number) => `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ${name}, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: y}}}], ports: [{port: ${port}, protocol: TCP}]}]
`;
    const only81 = probe(withPolicies(rule('allow-81', 81)));
    expect(only81.verdict('y/a', 'x/a', 81)).toBe('allow');
    // §14 trap: the port-81 allow alone isolates x/a, so TCP/80 fails
    expect(only81.verdict('y/a', 'x/a', 80)).toBe('deny');
    const both = probe(withPolicies(`${rule('allow-81', 81)}\n---\n${rule('allow-80', 80)}`));
    expect(both.verdict('y/a', 'x/a', 80)).toBe('allow');
    expect(both.check('y/a', 'x/a', 80).ingress.rule?.policy.name).toBe('allow-80');
    expect(both.verdict('z/a', 'x/a', 80)).toBe('deny');
  });

  it('§2.1 within a rule, peers AND ports must both match (SPEC "must match both ports and from")', () => {
    const p = probe(
      withPolicies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress: [{from: [{podSelector: {matchLabels: {pod: b}}}], ports: [{port: 80}]}]
`),
    );
    expect(p.verdict('x/b', 'x/a', 80)).toBe('allow');
    expect(p.verdict('x/b', 'x/a', 81)).toBe('deny');
    expect(p.verdict('x/c', 'x/a', 80)).toBe('deny');
  });

  it('§2.2 adding a policy only adds: allow-port-80 plus allow-all allows everything (E2E "allow-all policy taking precedence")', () => {
    const p = probe(
      withPolicies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-ingress-port-80, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress], ingress: [{ports: [{port: 80}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-ingress, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress], ingress: [{}]}
`),
    );
    expect(p.verdict('y/a', 'x/a', 81)).toBe('allow');
    // the first match in (policy name, rule index) order is the one reported
    expect(p.check('y/a', 'x/a', 80).ingress.rule?.policy.name).toBe('allow-ingress');
  });
});

describe('§3 policyTypes defaulting (SPEC defaults.go SetDefaults_NetworkPolicy)', () => {
  it('§3.1/§3.3 egress rules and no policyTypes -> [Ingress, Egress]: ingress denied too', () => {
    const p = probe(
      withPolicies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-only-written, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  egress: [{to: [{namespaceSelector: {matchLabels: {team: b}}}]}]
`),
    );
    expect(p.verdict('x/a', 'y/b')).toBe('allow');
    expect(p.verdict('x/a', 'z/a')).toBe('deny');
    expect(p.check('z/a', 'x/a').ingress).toMatchObject({ verdict: 'deny', reason: 'isolated-no-match' });
  });

  it('§3.2 egress: [] and no policyTypes -> [Ingress] only: egress stays open', () => {
    const p = probe(
      withPolicies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec: {podSelector: {matchLabels: {pod: a}}, egress: []}
`),
    );
    expect(p.verdict('x/a', 'z/a')).toBe('allow');
    expect(p.verdict('z/a', 'x/a')).toBe('deny');
  });

  it('§3.4 explicit policyTypes is authoritative: ingress rules of an Egress-only policy are inert', () => {
    const p = probe(
      withPolicies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  ingress: [{from: [{podSelector: {matchLabels: {pod: b}}}]}]
  egress: [{}]
`),
    );
    expect(p.check('z/a', 'x/a').ingress).toMatchObject({ verdict: 'allow', tier: 'Default', reason: 'no-match' });
    expect(p.check('x/a', 'z/a').egress).toMatchObject({ verdict: 'allow', tier: 'NetworkPolicy', reason: 'rule' });
  });
});

describe('§4 empty versus absent', () => {
  it('§4 from absent matches every peer, external addresses and nodes included', () => {
    const p = probe(
      withPolicies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec: {podSelector: {matchLabels: {pod: a}}, policyTypes: [Ingress], ingress: [{ports: [{port: 80}]}]}
`),
    );
    expect(p.verdict(EXTERNAL, 'x/a', 80)).toBe('allow');
    expect(p.verdict(N2, 'x/a', 80)).toBe('allow');
    expect(p.verdict('y/a', 'x/a', 80)).toBe('allow');
    expect(p.verdict(EXTERNAL, 'x/a', 81)).toBe('deny');
  });

  it('§4 ingress: [] with Ingress in policyTypes denies everything, rule {} allows everything', () => {
    const deny = probe(withPolicies(DENY_ALL_INGRESS_X));
    expect(deny.verdict(EXTERNAL, 'x/a')).toBe('deny');
    const allow = probe(
      withPolicies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress], ingress: [{}]}
`),
    );
    expect(allow.verdict(EXTERNAL, 'x/a', 12345, 'UDP')).toBe('allow');
  });

  const peerCase = (peer: string) =>
    probe(
      withPolicies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress: [{from: [${peer}]}]
`),
    );

  it('§4 podSelector only: pods of the POLICY namespace', () => {
    const p = peerCase('{podSelector: {}}');
    expect(p.verdict('x/b', 'x/a')).toBe('allow');
    expect(p.verdict('y/b', 'x/a')).toBe('deny');
  });

  it('§4 namespaceSelector only: all pods of the selected namespaces', () => {
    const p = peerCase('{namespaceSelector: {matchLabels: {team: b}}}');
    expect(p.verdict('y/a', 'x/a')).toBe('allow');
    expect(p.verdict('y/b', 'x/a')).toBe('allow');
    expect(p.verdict('x/b', 'x/a')).toBe('deny');
  });

  it('§4/§14 namespaceSelector {} is every pod in every namespace, but never an external address or a node', () => {
    const p = peerCase('{namespaceSelector: {}}');
    expect(p.verdict('z/a', 'x/a')).toBe('allow');
    expect(p.verdict(EXTERNAL, 'x/a')).toBe('deny');
    expect(p.verdict(N2, 'x/a')).toBe('deny');
  });

  it('§4/§9.3 selector peers never match a host-network pod (its traffic is node traffic)', () => {
    const p = peerCase('{namespaceSelector: {}, podSelector: {}}');
    // host/agent lives at n1's address; x/a runs on n1 so use x/b (on n2) as the subject instead
    const q = probe(
      withPolicies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {pod: b}}
  policyTypes: [Ingress]
  ingress: [{from: [{namespaceSelector: {}, podSelector: {}}]}]
`),
    );
    const v = q.check('host/agent', 'x/b');
    expect(v.src).toMatchObject({ kind: 'node', pod: 'host/agent', node: 'n1' });
    expect(v.verdict).toBe('deny');
    expect(p.verdict('y/b', 'x/a')).toBe('allow');
  });
});

describe('§5 selectors', () => {
  it('§5.1 namespaceSelector AND podSelector in one peer (E2E "PodSelector and NamespaceSelector")', () => {
    const p = probe(
      withPolicies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [x]}]}
      podSelector: {matchLabels: {pod: b}}
`),
    );
    expect(p.verdict('y/b', 'x/a')).toBe('allow');
    expect(p.verdict('y/a', 'x/a')).toBe('deny');
    expect(p.verdict('x/b', 'x/a')).toBe('deny');
  });

  it('§5.1 two separate peers OR (E2E "PodSelector or NamespaceSelector")', () => {
    const p = probe(
      withPolicies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [x]}]}
    - podSelector: {matchLabels: {pod: b}}
`),
    );
    expect(p.verdict('y/a', 'x/a')).toBe('allow');
    expect(p.verdict('z/a', 'x/a')).toBe('allow');
    expect(p.verdict('x/b', 'x/a')).toBe('allow');
    expect(p.verdict('x/c', 'x/a')).toBe('deny');
  });

  it('§5.2 NotIn and DoesNotExist match objects that lack the key (DOCS Labels and Selectors)', () => {
    const p = probe(
      withPolicies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {matchExpressions: [{key: team, operator: NotIn, values: [a]}]}}]
  - from: [{namespaceSelector: {matchExpressions: [{key: team, operator: DoesNotExist}]}}]
`),
    );
    expect(p.verdict('y/a', 'x/a')).toBe('allow'); // team=b
    const fromZ = p.check('z/a', 'x/a'); // no team label: both rules match, the first is reported
    expect(fromZ.verdict).toBe('allow');
    expect(fromZ.ingress.rule?.ruleIndex).toBe(0);
    expect(p.verdict('x/b', 'x/a')).toBe('deny'); // team=a
  });

  it('§5.3 kubernetes.io/metadata.name selects a namespace by name, and a manifest cannot override it', () => {
    const p = probe(
      withPolicies(`
apiVersion: v1
kind: Namespace
metadata: {name: w, labels: {kubernetes.io/metadata.name: y}}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: w, labels: {pod: a}}
spec: {containers: [{name: c, image: agnhost}]}
status: {podIP: 10.244.4.1}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: y}}}]}]
`),
    );
    expect(p.verdict('y/b', 'x/a')).toBe('allow');
    expect(p.verdict('w/a', 'x/a')).toBe('deny');
  });
});

describe('§6 ipBlock', () => {
  const egressTo = (ipBlocks: string) =>
    withPolicies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress: [{to: [${ipBlocks}]}]
`);

  it('§6.1/§6.2 cidr minus except, matching pod IPs (E2E "except clause"; sloppy /4 parse)', () => {
    const p = probe(egressTo('{ipBlock: {cidr: 10.244.1.1/4, except: [10.244.1.2/32]}}'));
    expect(p.verdict('x/a', 'x/b')).toBe('deny');
    expect(p.verdict('x/a', 'y/a')).toBe('allow');
    expect(p.verdict('x/a', EXTERNAL)).toBe('allow');
    expect(p.verdict('x/a', '192.0.2.1')).toBe('deny'); // outside 0.0.0.0/4
  });

  it('§6.5 except carves only its own peer: another peer may still allow the address', () => {
    const p = probe(egressTo('{ipBlock: {cidr: 10.244.0.0/16, except: [10.244.2.0/24]}}, {ipBlock: {cidr: 10.244.2.1/32}}'));
    expect(p.verdict('x/a', 'y/a')).toBe('allow');
    expect(p.verdict('x/a', 'y/b')).toBe('deny');
  });

  it('§6.6/§12 an IPv4 ipBlock never matches IPv6 traffic, ::/0 is needed', () => {
    const v4only = probe(egressTo('{ipBlock: {cidr: 0.0.0.0/0}}'));
    expect(v4only.verdict('x/a', 'x/b', 80, 'TCP', 4)).toBe('allow');
    expect(v4only.verdict('x/a', 'x/b', 80, 'TCP', 6)).toBe('deny');
    const both = probe(egressTo('{ipBlock: {cidr: 0.0.0.0/0}}, {ipBlock: {cidr: "::/0"}}'));
    expect(both.verdict('x/a', 'x/b', 80, 'TCP', 6)).toBe('allow');
    expect(both.verdict('x/a', EXTERNAL_V6, 80, 'TCP', 6)).toBe('allow');
  });
});

describe('§7 ports and protocols', () => {
  const ingressPorts = (ports: string, selector = '{matchLabels: {pod: a}}') =>
    probe(
      withPolicies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: ${selector}
  policyTypes: [Ingress]
  ingress: [{ports: [${ports}]}]
`),
    );

  it('§7.1 protocol defaults to TCP: port 80 does not allow UDP/80', () => {
    const p = ingressPorts('{port: 80}');
    expect(p.verdict('y/a', 'x/a', 80, 'TCP')).toBe('allow');
    expect(p.verdict('y/a', 'x/a', 80, 'UDP')).toBe('deny');
  });

  it('§7.2 SCTP is not TCP (E2E "should not mistakenly treat protocol: SCTP as protocol: TCP")', () => {
    const p = ingressPorts('{port: 80, protocol: SCTP}');
    expect(p.verdict('y/a', 'x/a', 80, 'SCTP')).toBe('allow');
    expect(p.verdict('y/a', 'x/a', 80, 'TCP')).toBe('deny');
    expect(p.verdict('y/a', 'x/a', 81, 'TCP')).toBe('deny');
  });

  it('§7.3 a protocol with no port matches every port of it (E2E "any port ... specific protocol")', () => {
    const p = ingressPorts('{protocol: TCP}');
    expect(p.verdict('y/a', 'x/a', 1, 'TCP')).toBe('allow');
    expect(p.verdict('y/a', 'x/a', 65535, 'TCP')).toBe('allow');
    expect(p.verdict('y/a', 'x/a', 80, 'UDP')).toBe('deny');
  });

  it('§7.4 ingress named port resolves on the destination (the subject), per pod: web is 80 on x/a, 8080 on x/b', () => {
    const p = ingressPorts('{port: web}', '{}');
    expect(p.verdict('y/a', 'x/a', 80)).toBe('allow');
    expect(p.verdict('y/a', 'x/a', 8080)).toBe('deny');
    expect(p.verdict('y/a', 'x/b', 8080)).toBe('allow');
    expect(p.verdict('y/a', 'x/b', 80)).toBe('deny');
    expect(p.verdict('y/a', 'x/c', 80)).toBe('deny'); // x/c declares no name
  });

  it('§7.4 a named port matches only with the protocol of the entry: dns (TCP default) is not x/a UDP dns', () => {
    const tcp = ingressPorts('{port: dns}');
    expect(tcp.verdict('y/a', 'x/a', 53, 'TCP')).toBe('deny');
    expect(tcp.verdict('y/a', 'x/a', 53, 'UDP')).toBe('deny');
    const udp = ingressPorts('{port: dns, protocol: UDP}');
    expect(udp.verdict('y/a', 'x/a', 53, 'UDP')).toBe('allow');
    const sctp = ingressPorts('{port: assoc, protocol: SCTP}');
    expect(sctp.verdict('y/a', 'x/a', 9000, 'SCTP')).toBe('allow');
  });

  it('§7.4 egress named port resolves on the destination (the peer pod), not on the subject', () => {
    const p = probe(
      withPolicies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {pod: c}}
  policyTypes: [Egress]
  egress: [{ports: [{port: dns, protocol: TCP}]}]
`),
    );
    expect(p.verdict('x/c', 'y/a', 53, 'TCP')).toBe('allow'); // y/a: dns TCP 53
    expect(p.verdict('x/c', 'x/a', 53, 'TCP')).toBe('deny'); // x/a: dns is UDP
  });

  it('§7.5 a named port never matches a destination that is not a pod (external, node, host-network pod)', () => {
    const p = probe(
      withPolicies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {pod: c}}
  policyTypes: [Egress]
  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0}}], ports: [{port: metrics}, {port: web}]}]
`),
    );
    expect(p.verdict('x/c', EXTERNAL, 80)).toBe('deny');
    expect(p.verdict('x/c', N1, 9100)).toBe('deny'); // host/agent declares metrics, but is host-network
    expect(p.verdict('x/c', 'x/a', 80)).toBe('allow');
  });

  it('§7.6 endPort makes an inclusive range of its protocol', () => {
    const p = ingressPorts('{protocol: TCP, port: 32000, endPort: 32768}');
    expect(p.verdict('y/a', 'x/a', 31999)).toBe('deny');
    expect(p.verdict('y/a', 'x/a', 32000)).toBe('allow');
    expect(p.verdict('y/a', 'x/a', 32768)).toBe('allow');
    expect(p.verdict('y/a', 'x/a', 32769)).toBe('deny');
    expect(p.verdict('y/a', 'x/a', 32100, 'UDP')).toBe('deny');
  });

  it('§7.7 only the destination port counts; the source port is ignored', () => {
    const p = ingressPorts('{port: 80}');
    const src = p.c.pods.find((x) => x.namespace === 'y' && x.name === 'a')!.ips[0]!;
    const dst = p.c.pods.find((x) => x.namespace === 'x' && x.name === 'a')!.ips[0]!;
    expect(p.ev.evaluate({ src, dst, protocol: 'TCP', dstPort: 80, srcPort: 12345 }).verdict).toBe('allow');
    expect(p.ev.evaluate({ src, dst, protocol: 'TCP', dstPort: 12345, srcPort: 80 }).verdict).toBe('deny');
  });
});

describe('§9 node traffic, loopback, hostNetwork', () => {
  it('§9.1 ingress from the pod\'s own node is allowed even when isolated (SPEC types.go "OR if the traffic source is the pod\'s local node")', () => {
    const p = probe(withPolicies(DENY_ALL_INGRESS_X));
    const v = p.check(N1, 'x/a'); // x/a runs on n1
    expect(v.verdict).toBe('allow');
    expect(v.ingress).toMatchObject({ tier: 'NetworkPolicy', reason: 'node-local', verdict: 'allow' });
    expect(v.ingress.isolatedBy).toEqual([{ kind: 'NetworkPolicy', namespace: 'x', name: 'deny-ingress' }]);
    expect(p.check(N1_V6, 'x/a', 80, 'TCP', 6).ingress.reason).toBe('node-local');
    // the host-network pod on n1 shares n1's address
    expect(p.verdict('host/agent', 'x/a')).toBe('allow');
  });

  it('§9.1 another node is ordinary non-pod traffic: denied by the isolation', () => {
    const p = probe(withPolicies(DENY_ALL_INGRESS_X));
    expect(p.check(N2, 'x/a').ingress).toMatchObject({ verdict: 'deny', reason: 'isolated-no-match' });
  });

  it('§9.1 there is no egress exception: an egress-isolated pod cannot reach its own node', () => {
    const p = probe(
      withPolicies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-egress, namespace: x}
spec: {podSelector: {matchLabels: {pod: a}}, policyTypes: [Egress]}
`),
    );
    expect(p.check('x/a', N1).egress).toMatchObject({ verdict: 'deny', reason: 'isolated-no-match' });
  });

  it('§9.1 the node-local exception can be switched off (option nodeLocalIngress: false)', () => {
    const p = probe(withPolicies(DENY_ALL_INGRESS_X), { nodeLocalIngress: false });
    expect(p.check(N1, 'x/a').ingress).toMatchObject({ verdict: 'deny', reason: 'isolated-no-match' });
  });

  it('§9.2 a pod to its own IP is not subject to policy: both directions allow, reason loopback', () => {
    const p = probe(
      withPolicies(`${DENY_ALL_INGRESS_X}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-egress, namespace: x}
spec: {podSelector: {}, policyTypes: [Egress]}
`),
    );
    const v = p.check('x/a', 'x/a');
    expect(v.verdict).toBe('allow');
    expect(v.egress).toMatchObject({ reason: 'loopback', tier: 'Default', subject: 'x/a' });
    expect(v.ingress).toMatchObject({ reason: 'loopback', tier: 'Default', subject: 'x/a' });
    expect(p.check('x/a', 'x/a', 80, 'TCP', 6).verdict).toBe('allow');
    expect(p.verdict('x/a', 'x/b')).toBe('deny');
  });

  it('§9.3 (b) a host-network pod is never a subject: its own traffic is judged as node traffic', () => {
    const p = probe(
      withPolicies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: host}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
`),
    );
    const out = p.check('host/agent', 'y/a');
    expect(out.verdict).toBe('allow');
    expect(out.egress).toMatchObject({ reason: 'not-a-pod', tier: 'Default' });
    expect(out.egress.notes.join(' ')).toMatch(/host\/agent is a host-network pod/);
    const into = p.check('y/a', 'host/agent', 9100);
    expect(into.dst).toEqual({ kind: 'node', ip: N1, pod: 'host/agent', node: 'n1' });
    expect(into.verdict).toBe('allow');
  });

  it('§9.3 (b) only an ipBlock matches a host-network pod', () => {
    const p = probe(
      withPolicies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {pod: b}}
  policyTypes: [Ingress]
  ingress: [{from: [{ipBlock: {cidr: 10.244.100.0/24}}]}]
`),
    );
    expect(p.verdict('host/agent', 'x/b')).toBe('allow');
    expect(p.verdict('y/a', 'x/b')).toBe('deny');
  });
});

describe('§12 dual stack', () => {
  it('selector peers match a pod over both families; each flow is one family', () => {
    const p = probe(
      withPolicies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress: [{from: [{namespaceSelector: {matchLabels: {team: b}}, podSelector: {matchLabels: {pod: a}}}]}]
`),
    );
    expect(p.verdict('y/a', 'x/a', 80, 'TCP', 4)).toBe('allow');
    expect(p.verdict('y/a', 'x/a', 80, 'TCP', 6)).toBe('allow');
    expect(p.verdict('x/b', 'x/a', 80, 'TCP', 6)).toBe('deny');
    const v6 = p.check('y/a', 'x/a', 80, 'TCP', 6);
    expect(v6.src).toMatchObject({ kind: 'pod', pod: 'y/a', ip: 'fd00:10:244:2::1' });
  });

  it('a flow mixing families is refused with a stable code', () => {
    const p = probe(withPolicies(DENY_ALL_INGRESS_X));
    const src = p.c.pods.find((x) => x.name === 'a' && x.namespace === 'x')!.ips[0]!;
    const dst = p.c.pods.find((x) => x.name === 'a' && x.namespace === 'y')!.ips[1]!;
    expect(() => p.ev.evaluate({ src, dst, protocol: 'TCP', dstPort: 80 })).toThrow(
      expect.objectContaining({ code: 'ERR_PALISADE_INVALID_FLOW' }),
    );
    expect(() => p.ev.evaluate({ src, dst: src, protocol: 'TCP', dstPort: 0 })).toThrow(/dstPort/);
  });
});

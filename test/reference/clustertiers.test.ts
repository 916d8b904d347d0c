/**
 * Cluster-tier semantics (ClusterNetworkPolicy v1alpha2; AdminNetworkPolicy / BaselineAdminNetworkPolicy
 * v1alpha1) of the reference evaluator. Sources: the CRD doc comments of kubernetes-sigs/network-policy-api (cited as
 * CRD), docs/reference/network-policy-api.md §1.5 (cited as NPAPI §1.5).
 */
import { describe, expect, it } from 'vitest';
import { cluster, probe, Probe } from './helpers.js';
import { EXTERNAL, EXTERNAL_V6, N1, N1_V6, N2, withPolicies } from './inventory.js';
import type { Cluster, ClusterPolicy, ClusterRule } from '../../src/model/types.js';
import { applicablePolicies, equalPriorityGroups } from '../../src/reference/index.js';
import { FQDN_NOTE_SUFFIX } from '../../src/model/verdict.js';

const cnp = (name: string, tier: 'Admin' | 'Baseline', priority: number, body: string) => `
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: ${name}}
spec:
  tier: ${tier}
  priority: ${priority}
${body}
`;

const SUBJECT_X = `  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}`;

const NP_DENY_INGRESS_X = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-ingress, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress]}
`;
const NP_ALLOW_FROM_Y = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-from-y, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: y}}}]}]
`;

const ingressFromY = (action: string) => `${SUBJECT_X}
  ingress:
  - name: from-y
    action: ${action}
    from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: y}}}]`;

describe('tier order: Admin -> NetworkPolicy -> Baseline -> allow (NPAPI §1.5)', () => {
  it('an Admin Accept is final: a NetworkPolicy deny does not apply (CRD Accept: "No further ... rules will be processed")', () => {
    const p = probe(withPolicies(`${cnp('accept-y', 'Admin', 10, ingressFromY('Accept'))}---\n${NP_DENY_INGRESS_X}`));
    const v = p.check('y/a', 'x/a');
    expect(v.verdict).toBe('allow');
    expect(v.ingress).toMatchObject({ tier: 'Admin', reason: 'rule' });
    expect(v.ingress.rule).toEqual({
      tier: 'Admin',
      policy: { kind: 'ClusterNetworkPolicy', name: 'accept-y' },
      ruleIndex: 0,
      ruleName: 'from-y',
      action: 'Accept',
      priority: 10,
    });
    expect(v.ingress.isolatedBy).toBeUndefined();
    expect(p.verdict('z/a', 'x/a')).toBe('deny'); // not matched by Admin: the NetworkPolicy isolates
  });

  it('an Admin Deny is final: a NetworkPolicy allow does not apply (CRD Deny)', () => {
    const p = probe(withPolicies(`${cnp('deny-y', 'Admin', 10, ingressFromY('Deny'))}---\n${NP_ALLOW_FROM_Y}`));
    const v = p.check('y/a', 'x/a');
    expect(v.verdict).toBe('deny');
    expect(v.ingress).toMatchObject({ tier: 'Admin', reason: 'rule', rule: { action: 'Deny', ruleName: 'from-y' } });
  });

  it('Pass goes to the NetworkPolicy tier, which decides; the Pass is kept in `passed` (CRD Pass)', () => {
    const p = probe(withPolicies(`${cnp('pass-y', 'Admin', 10, ingressFromY('Pass'))}---\n${NP_ALLOW_FROM_Y}`));
    const v = p.check('y/a', 'x/a');
    expect(v.verdict).toBe('allow');
    expect(v.ingress).toMatchObject({ tier: 'NetworkPolicy', reason: 'rule' });
    expect(v.ingress.passed).toEqual([
      { tier: 'Admin', policy: { kind: 'ClusterNetworkPolicy', name: 'pass-y' }, ruleIndex: 0, ruleName: 'from-y', action: 'Pass', priority: 10 },
    ]);
  });

  it('Pass with no NetworkPolicy selecting the pod goes on to Baseline (NPAPI §1.5)', () => {
    const p = probe(
      withPolicies(`${cnp('pass-y', 'Admin', 10, ingressFromY('Pass'))}---\n${cnp('baseline-deny-y', 'Baseline', 5, ingressFromY('Deny'))}`),
    );
    const v = p.check('y/a', 'x/a');
    expect(v.verdict).toBe('deny');
    expect(v.ingress).toMatchObject({ tier: 'Baseline', rule: { policy: { name: 'baseline-deny-y' } } });
    expect(v.ingress.passed.map((r) => r.policy.name)).toEqual(['pass-y']);
  });

  it('a pod isolated by a NetworkPolicy never reaches Baseline (CRD tier: "v1.NetworkPolicy always makes a final decision for selected pods")', () => {
    const p = probe(withPolicies(`${NP_ALLOW_FROM_Y}---\n${cnp('baseline-deny-y', 'Baseline', 5, ingressFromY('Deny'))}`));
    expect(p.check('y/a', 'x/a').ingress).toMatchObject({ verdict: 'allow', tier: 'NetworkPolicy' });
    const q = probe(withPolicies(`${NP_DENY_INGRESS_X}---\n${cnp('baseline-accept-y', 'Baseline', 5, ingressFromY('Accept'))}`));
    expect(q.check('y/a', 'x/a').ingress).toMatchObject({ verdict: 'deny', tier: 'NetworkPolicy', reason: 'isolated-no-match' });
  });

  it('Baseline decides for pods no NetworkPolicy isolates; Baseline Pass goes to the default allow', () => {
    const deny = probe(withPolicies(cnp('b', 'Baseline', 5, ingressFromY('Deny'))));
    expect(deny.check('y/a', 'x/a').ingress).toMatchObject({ verdict: 'deny', tier: 'Baseline', reason: 'rule' });
    const pass = probe(
      withPolicies(`${cnp('b1', 'Baseline', 5, ingressFromY('Pass'))}---\n${cnp('b2', 'Baseline', 6, ingressFromY('Deny'))}`),
    );
    const v = pass.check('y/a', 'x/a');
    expect(v.ingress).toMatchObject({ verdict: 'allow', tier: 'Default', reason: 'no-match' });
    expect(v.ingress.passed).toEqual([expect.objectContaining({ tier: 'Baseline', action: 'Pass', policy: { kind: 'ClusterNetworkPolicy', name: 'b1' } })]);
  });

  it('nothing matching in any tier: default allow, reason no-match', () => {
    const p = probe(withPolicies(cnp('deny-y', 'Admin', 10, ingressFromY('Deny'))));
    expect(p.check('z/a', 'x/a').ingress).toMatchObject({ verdict: 'allow', tier: 'Default', reason: 'no-match', passed: [] });
  });

  it('an egress Accept does not bypass ingress at the destination (CRD Accept: "any ingress rules at the destination do apply")', () => {
    const p = probe(
      withPolicies(`${cnp(
        'egress-accept',
        'Admin',
        1,
        `  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: y}}}
  egress:
  - action: Accept
    to: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}]`,
      )}---\n${NP_DENY_INGRESS_X}`),
    );
    const v = p.check('y/a', 'x/a');
    expect(v.egress).toMatchObject({ verdict: 'allow', tier: 'Admin' });
    expect(v.ingress).toMatchObject({ verdict: 'deny', tier: 'NetworkPolicy' });
    expect(v.verdict).toBe('deny');
  });
});

describe('order inside a tier', () => {
  it('ascending priority: the lower number decides (CRD priority)', () => {
    const p = probe(
      withPolicies(`${cnp('accept-50', 'Admin', 50, ingressFromY('Accept'))}---\n${cnp('deny-60', 'Admin', 60, ingressFromY('Deny'))}`),
    );
    expect(p.check('y/a', 'x/a').ingress.rule?.policy.name).toBe('accept-50');
    const q = probe(
      withPolicies(`${cnp('accept-50', 'Admin', 50, ingressFromY('Accept'))}---\n${cnp('deny-40', 'Admin', 40, ingressFromY('Deny'))}`),
    );
    expect(q.verdict('y/a', 'x/a')).toBe('deny');
  });

  it('rules in written order, first match wins (CRD ingress: "the first rule written has the highest precedence")', () => {
    const rules = (first: string, second: string) =>
      cnp(
        'ordered',
        'Admin',
        1,
        `${SUBJECT_X}
  ingress:
  - {name: one, action: ${first}, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: y}}}]}
  - {name: two, action: ${second}, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: y}}}]}`,
      );
    expect(probe(withPolicies(rules('Accept', 'Deny'))).check('y/a', 'x/a').ingress.rule).toMatchObject({ ruleIndex: 0, ruleName: 'one', action: 'Accept' });
    expect(probe(withPolicies(rules('Deny', 'Accept'))).check('y/a', 'x/a').ingress.rule).toMatchObject({ ruleIndex: 0, ruleName: 'one', action: 'Deny' });
  });

  it('equal priorities: the documented total order is policy name, then rule index; lint gets the group', () => {
    const yaml = withPolicies(`${cnp('b-deny', 'Admin', 7, ingressFromY('Deny'))}---\n${cnp('a-accept', 'Admin', 7, ingressFromY('Accept'))}`);
    const p = probe(yaml);
    expect(p.check('y/a', 'x/a').ingress.rule?.policy.name).toBe('a-accept');
    expect(equalPriorityGroups(p.c)).toEqual([
      {
        tier: 'Admin',
        priority: 7,
        policies: [
          { kind: 'ClusterNetworkPolicy', name: 'a-accept' },
          { kind: 'ClusterNetworkPolicy', name: 'b-deny' },
        ],
      },
    ]);
    const distinct = probe(withPolicies(`${cnp('b', 'Admin', 7, ingressFromY('Deny'))}---\n${cnp('a', 'Baseline', 7, ingressFromY('Accept'))}`));
    expect(equalPriorityGroups(distinct.c)).toEqual([]);
  });

  it('a v1alpha1 BaselineAdminNetworkPolicy sorts after every Baseline CNP, even priority 1000 (BANP has no priority)', () => {
    const p = probe(
      withPolicies(`${cnp('last-cnp', 'Baseline', 1000, ingressFromY('Accept'))}---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}
  ingress: [{name: deny-y, action: Deny, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: y}}}]}]
`),
    );
    expect(p.check('y/a', 'x/a').ingress.rule).toMatchObject({ policy: { name: 'last-cnp' }, action: 'Accept' });
    const q = probe(
      withPolicies(`apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}
  ingress: [{name: deny-y, action: Deny, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: y}}}]}]
`),
    );
    expect(q.check('y/a', 'x/a').ingress).toMatchObject({
      verdict: 'deny',
      tier: 'Baseline',
      rule: { policy: { kind: 'BaselineAdminNetworkPolicy', name: 'default' }, ruleName: 'deny-y', action: 'Deny' },
    });
  });
});

describe('subjects', () => {
  it('namespaces subject: every pod of the selected namespaces (CRD subject.namespaces)', () => {
    const p = probe(withPolicies(cnp('d', 'Admin', 1, ingressFromY('Deny'))));
    expect(p.verdict('y/a', 'x/a')).toBe('deny');
    expect(p.verdict('y/a', 'x/c')).toBe('deny');
    expect(p.verdict('y/a', 'z/a')).toBe('allow');
  });

  it('pods subject: namespaceSelector AND podSelector (CRD NamespacedPod)', () => {
    const p = probe(
      withPolicies(
        cnp(
          'd',
          'Admin',
          1,
          `  subject: {pods: {namespaceSelector: {matchLabels: {team: a}}, podSelector: {matchLabels: {pod: a}}}}
  ingress: [{action: Deny, from: [{namespaces: {}}]}]`,
        ),
      ),
    );
    expect(p.verdict('y/b', 'x/a')).toBe('deny');
    expect(p.verdict('y/b', 'x/b')).toBe('allow');
    expect(p.verdict('x/b', 'y/a')).toBe('allow');
  });

  it('host-network pods are never subjects (CRD subject: "host-networked pods are not selected")', () => {
    const p = probe(
      withPolicies(
        cnp(
          'deny-everything-from-host',
          'Admin',
          1,
          `  subject: {namespaces: {}}
  egress: [{action: Deny, to: [{networks: [0.0.0.0/0]}]}]`,
        ),
      ),
    );
    expect(p.check('host/agent', 'y/a').egress).toMatchObject({ verdict: 'allow', reason: 'not-a-pod' });
    expect(p.check('y/a', 'host/agent').egress).toMatchObject({ verdict: 'deny', tier: 'Admin' });
  });
});

describe('peers', () => {
  const egressDeny = (peer: string, subjectPod = 'c') =>
    probe(
      withPolicies(
        cnp(
          'egress-peers',
          'Admin',
          1,
          `  subject: {pods: {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: x}}, podSelector: {matchLabels: {pod: ${subjectPod}}}}}
  egress:
  - name: the-rule
    action: Deny
    to: [${peer}]`,
        ),
      ),
    );

  it('namespaces peer: pods of selected namespaces, not host-network pods or other addresses', () => {
    const p = egressDeny('{namespaces: {}}');
    expect(p.verdict('x/c', 'y/a')).toBe('deny');
    expect(p.verdict('x/c', 'host/agent')).toBe('allow');
    expect(p.verdict('x/c', N2)).toBe('allow');
    expect(p.verdict('x/c', EXTERNAL)).toBe('allow');
  });

  it('pods peer: namespaceSelector AND podSelector', () => {
    const p = egressDeny('{pods: {namespaceSelector: {matchLabels: {team: b}}, podSelector: {matchLabels: {pod: a}}}}');
    expect(p.verdict('x/c', 'y/a')).toBe('deny');
    expect(p.verdict('x/c', 'y/b')).toBe('allow');
    expect(p.verdict('x/c', 'x/a')).toBe('allow');
  });

  it('nodes peer: every address in status.addresses of selected nodes, which covers host-network pods (CRD nodes)', () => {
    const p = egressDeny('{nodes: {matchLabels: {role: worker}}}', 'a');
    expect(p.verdict('x/a', N1)).toBe('deny');
    expect(p.verdict('x/a', N1_V6, 80, 'TCP', 6)).toBe('deny');
    expect(p.verdict('x/a', 'host/agent')).toBe('deny'); // lives at n1's address
    expect(p.verdict('x/a', N2)).toBe('allow'); // role=infra
    expect(p.verdict('x/a', 'z/a')).toBe('allow'); // a pod on n1 is not the node
  });

  it('networks peer: any address in the CIDRs, pod IPs included, per family (CRD networks; NPAPI §1.5 point 5)', () => {
    const p = egressDeny('{networks: [10.244.2.0/24]}');
    expect(p.verdict('x/c', 'y/a')).toBe('deny');
    expect(p.verdict('x/c', 'y/b')).toBe('deny');
    expect(p.verdict('x/c', 'z/a')).toBe('allow');
    expect(p.verdict('x/c', '10.244.2.77')).toBe('deny'); // no one's address, inside the CIDR
    expect(p.verdict('x/c', EXTERNAL)).toBe('allow');
  });

  it('networks peer: 0.0.0.0/0 does not cover IPv6, ::/0 does (network-policy-api #248)', () => {
    const v4 = probe(
      withPolicies(
        cnp(
          'n',
          'Admin',
          1,
          `  subject: {pods: {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: x}}, podSelector: {matchLabels: {pod: a}}}}
  egress: [{action: Deny, to: [{networks: [0.0.0.0/0]}]}]`,
        ),
      ),
    );
    expect(v4.verdict('x/a', 'y/a', 80, 'TCP', 4)).toBe('deny');
    expect(v4.verdict('x/a', 'y/a', 80, 'TCP', 6)).toBe('allow');
    expect(v4.verdict('x/a', EXTERNAL_V6, 80, 'TCP', 6)).toBe('allow');
    const both = probe(
      withPolicies(
        cnp(
          'n',
          'Admin',
          1,
          `  subject: {pods: {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: x}}, podSelector: {matchLabels: {pod: a}}}}
  egress: [{action: Deny, to: [{networks: [0.0.0.0/0, "::/0"]}]}]`,
        ),
      ),
    );
    expect(both.verdict('x/a', 'y/a', 80, 'TCP', 6)).toBe('deny');
    expect(both.verdict('x/a', EXTERNAL_V6, 80, 'TCP', 6)).toBe('deny');
  });

  it('domainNames peer matches nothing with no learned snapshot, and explain says so when the rule is examined', () => {
    const p = probe(
      withPolicies(`${cnp(
        'fqdn',
        'Admin',
        1,
        `  subject: {pods: {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: x}}, podSelector: {matchLabels: {pod: c}}}}
  egress:
  - {name: allow-example, action: Accept, to: [{domainNames: ["*.example.com"]}]}
  - {name: deny-rest, action: Deny, to: [{networks: [0.0.0.0/0]}]}`,
      )}`),
    );
    const v = p.check('x/c', EXTERNAL, 443);
    expect(v.verdict).toBe('deny');
    expect(v.egress.rule).toMatchObject({ ruleName: 'deny-rest', ruleIndex: 1 });
    expect(v.egress.notes).toEqual([`ClusterNetworkPolicy fqdn egress[0] (allow-example): ${FQDN_NOTE_SUFFIX}`]);
    // a direction that never examines that rule has no note
    expect(v.ingress.notes).toEqual([]);
  });
});

describe('fail closed on a peer or protocol entry with no known field (CRD peer doc: "fail closed")', () => {
  /** The loader cannot produce these from a valid manifest today; build them as a newer API would. */
  function withRule(base: Cluster, policyName: string, patch: (r: ClusterRule) => ClusterRule): Cluster {
    return {
      ...base,
      clusterPolicies: base.clusterPolicies.map((p): ClusterPolicy =>
        p.name === policyName ? { ...p, egress: p.egress.map(patch), ingress: p.ingress.map(patch) } : p,
      ),
    };
  }
  const base = cluster(
    withPolicies(
      cnp(
        'future',
        'Admin',
        1,
        `  subject: {pods: {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: x}}, podSelector: {matchLabels: {pod: c}}}}
  egress:
  - {name: r0, action: Accept, to: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: y}}}]}`,
      ),
    ),
  );
  const unknownPeer = { kind: 'unknown', fields: ['ipAddressSets'] } as const;
  const unknownProto = { kind: 'unknown', fields: ['icmp'] } as const;

  it('Accept rule with an unknown peer matches nothing, even where a known peer would match', () => {
    const c = withRule(base, 'future', (r) => ({ ...r, peers: [...r.peers, unknownPeer] }));
    const v = new Probe(c).check('x/c', 'y/a');
    expect(v.egress).toMatchObject({ verdict: 'allow', tier: 'Default', reason: 'no-match' });
    expect(v.egress.notes.join('\n')).toMatch(/future egress\[0\] \(r0\): has a peer with no known field; fail closed: this Accept rule matches nothing/);
  });

  it('Deny rule with an unknown peer denies everything', () => {
    const c = withRule(base, 'future', (r) => ({ ...r, action: 'Deny', peers: [unknownPeer] }));
    const p = new Probe(c);
    for (const dst of ['y/a', 'z/a', EXTERNAL, N1]) {
      const v = p.check('x/c', dst, 5353, 'UDP');
      expect(v.egress).toMatchObject({ verdict: 'deny', tier: 'Admin', rule: { action: 'Deny', failClosed: true } });
    }
  });

  it('Pass rule with an unknown peer is a "Deny all" rule, not a Pass', () => {
    const c = withRule(base, 'future', (r) => ({ ...r, action: 'Pass', peers: [unknownPeer] }));
    const v = new Probe(c).check('x/c', 'z/a');
    expect(v.egress).toMatchObject({ verdict: 'deny', tier: 'Admin', rule: { action: 'Deny', failClosed: true } });
    expect(v.egress.passed).toEqual([]);
    expect(v.egress.notes.join('\n')).toMatch(/this Pass rule is treated as "Deny all"/);
  });

  it('an unknown protocol entry fails closed the same way', () => {
    const accept = withRule(base, 'future', (r) => ({ ...r, protocols: [{ kind: 'port', protocol: 'TCP', portStart: 80, portEnd: 80 }, unknownProto] }));
    expect(new Probe(accept).check('x/c', 'y/a', 80).egress).toMatchObject({ verdict: 'allow', reason: 'no-match' });
    const deny = withRule(base, 'future', (r) => ({ ...r, action: 'Deny', protocols: [unknownProto] }));
    expect(new Probe(deny).check('x/c', 'z/a', 80).egress).toMatchObject({ verdict: 'deny', rule: { failClosed: true } });
  });
});

describe('protocols', () => {
  const ingressRule = (protocols: string, subjectPods = '{}') =>
    probe(
      withPolicies(
        cnp(
          'protos',
          'Admin',
          1,
          `  subject: {pods: {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: x}}, podSelector: ${subjectPods}}}
  ingress:
  - {name: r, action: Deny, from: [{namespaces: {}}], protocols: ${protocols}}`,
        ),
      ),
    );

  it('protocols unset: every port and protocol (CRD protocols)', () => {
    const p = probe(withPolicies(cnp('d', 'Admin', 1, ingressFromY('Deny'))));
    expect(p.verdict('y/a', 'x/a', 7, 'SCTP')).toBe('deny');
    expect(p.verdict('y/a', 'x/a', 65535, 'UDP')).toBe('deny');
  });

  it('tcp/udp/sctp number and inclusive range, each only its own protocol (CRD Port, range)', () => {
    const p = ingressRule('[{tcp: {destinationPort: {number: 80}}}, {udp: {destinationPort: {range: {start: 5000, end: 5010}}}}, {sctp: {destinationPort: {number: 9000}}}]');
    expect(p.verdict('y/a', 'x/a', 80, 'TCP')).toBe('deny');
    expect(p.verdict('y/a', 'x/a', 80, 'UDP')).toBe('allow');
    expect(p.verdict('y/a', 'x/a', 5000, 'UDP')).toBe('deny');
    expect(p.verdict('y/a', 'x/a', 5010, 'UDP')).toBe('deny');
    expect(p.verdict('y/a', 'x/a', 5011, 'UDP')).toBe('allow');
    expect(p.verdict('y/a', 'x/a', 5005, 'TCP')).toBe('allow');
    expect(p.verdict('y/a', 'x/a', 9000, 'SCTP')).toBe('deny');
    expect(p.verdict('y/a', 'x/a', 9000, 'TCP')).toBe('allow');
  });

  it('ingress destinationNamedPort resolves on the subject (the destination): name, protocol and number', () => {
    const p = ingressRule('[{destinationNamedPort: web}]');
    expect(p.verdict('y/a', 'x/a', 80)).toBe('deny');
    expect(p.verdict('y/a', 'x/b', 8080)).toBe('deny');
    expect(p.verdict('y/a', 'x/b', 80)).toBe('allow');
    expect(p.verdict('y/a', 'x/a', 80, 'UDP')).toBe('allow');
    const dns = ingressRule('[{destinationNamedPort: dns}]');
    expect(dns.verdict('y/b', 'x/a', 53, 'UDP')).toBe('deny');
    expect(dns.verdict('y/b', 'x/a', 53, 'TCP')).toBe('allow');
  });

  it('egress destinationNamedPort resolves on the peer pod (the destination), never on a non-pod', () => {
    const p = probe(
      withPolicies(
        cnp(
          'np',
          'Admin',
          1,
          `  subject: {pods: {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: x}}, podSelector: {matchLabels: {pod: c}}}}
  egress:
  - {action: Accept, to: [{namespaces: {}}], protocols: [{destinationNamedPort: dns}]}
  - {action: Deny, to: [{namespaces: {}}]}`,
        ),
      ),
    );
    expect(p.verdict('x/c', 'y/a', 53, 'TCP')).toBe('allow'); // y/a dns is TCP/53
    expect(p.verdict('x/c', 'x/a', 53, 'TCP')).toBe('deny'); // x/a dns is UDP/53
    expect(p.verdict('x/c', 'x/a', 53, 'UDP')).toBe('allow');
  });

  it('v1alpha1 AdminNetworkPolicy: Allow reads as Accept; ports portNumber / portRange / namedPort', () => {
    const p = probe(
      withPolicies(`apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: legacy}
spec:
  priority: 5
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}
  ingress:
  - {name: allow-80, action: Allow, from: [{namespaces: {}}], ports: [{portNumber: {protocol: TCP, port: 80}}]}
  - {name: allow-range, action: Allow, from: [{namespaces: {}}], ports: [{portRange: {protocol: UDP, start: 1000, end: 2000}}]}
  - {name: allow-web, action: Allow, from: [{namespaces: {}}], ports: [{namedPort: web}]}
  - {name: deny-rest, action: Deny, from: [{namespaces: {}}]}
---
${NP_DENY_INGRESS_X}`),
    );
    expect(p.check('y/a', 'x/a', 80).ingress.rule).toEqual({
      tier: 'Admin',
      policy: { kind: 'AdminNetworkPolicy', name: 'legacy' },
      ruleIndex: 0,
      ruleName: 'allow-80',
      action: 'Accept',
      priority: 5,
    });
    expect(p.check('y/a', 'x/a', 2000, 'UDP').ingress.rule?.ruleName).toBe('allow-range');
    expect(p.check('y/a', 'x/b', 8080).ingress.rule?.ruleName).toBe('allow-web');
    expect(p.check('y/a', 'x/b', 81).ingress.rule?.ruleName).toBe('deny-rest');
  });
});

describe('applicable policies (explain / lint helper)', () => {
  it('lists per direction the Admin and Baseline policies selecting the pod (in order) and the isolating NetworkPolicies', () => {
    const c = cluster(
      withPolicies(`${cnp('z-admin', 'Admin', 3, ingressFromY('Deny'))}---
${cnp('a-admin', 'Admin', 9, ingressFromY('Accept'))}---
${cnp('base', 'Baseline', 1, ingressFromY('Deny'))}---
${cnp('egress-only', 'Admin', 1, `${SUBJECT_X}\n  egress: [{action: Deny, to: [{namespaces: {}}]}]`)}---
${NP_DENY_INGRESS_X}`),
    );
    const xa = c.pods.find((p) => p.namespace === 'x' && p.name === 'a')!;
    const ing = applicablePolicies(c, xa, 'ingress');
    expect(ing.admin.map((p) => p.name)).toEqual(['z-admin', 'a-admin']);
    expect(ing.networkPolicies.map((p) => p.name)).toEqual(['deny-ingress']);
    expect(ing.baseline.map((p) => p.name)).toEqual(['base']);
    const eg = applicablePolicies(c, xa, 'egress');
    expect(eg.admin.map((p) => p.name)).toEqual(['egress-only']);
    expect(eg.networkPolicies).toEqual([]);
    const agent = c.pods.find((p) => p.name === 'agent')!;
    expect(applicablePolicies(c, agent, 'ingress')).toEqual({ admin: [], networkPolicies: [], baseline: [] });
  });
});

describe('endpoints', () => {
  it('classifies pod, node (with its host-network pod), external; the pod carries its node', () => {
    const p = probe(withPolicies(NP_DENY_INGRESS_X));
    const ip = (t: string) => p.c.pods.flatMap((x) => x.ips).find((i) => i.text === t) ?? p.c.nodes.flatMap((n) => n.addresses).find((i) => i.text === t)!;
    expect(p.ev.endpoint(ip('10.244.1.1'))).toEqual({ kind: 'pod', ip: '10.244.1.1', pod: 'x/a', node: 'n1' });
    expect(p.ev.endpoint(ip(N1))).toEqual({ kind: 'node', ip: N1, pod: 'host/agent', node: 'n1' });
    expect(p.ev.endpoint(ip(N2))).toEqual({ kind: 'node', ip: N2, node: 'n2' });
    expect(p.check('x/a', EXTERNAL).dst).toEqual({ kind: 'external', ip: EXTERNAL });
  });

  it('a host-network pod whose Node object is missing is still host traffic: kind node, its spec.nodeName (endpoints.ts rule 3)', () => {
    const p = probe(
      withPolicies(`
apiVersion: v1
kind: Pod
metadata: {name: agent2, namespace: host}
spec: {nodeName: n9, hostNetwork: true, containers: [{name: c, image: agent}]}
status: {podIP: 10.244.100.9}
`),
    );
    const v = p.check('x/a', 'host/agent2');
    expect(v.dst).toEqual({ kind: 'node', ip: '10.244.100.9', pod: 'host/agent2', node: 'n9' });
    expect(v.ingress.reason).toBe('not-a-pod');
  });

  it('two pods claiming one IP: the first by namespace/name owns it (documented in endpoints.ts)', () => {
    const p = probe(
      withPolicies(`
apiVersion: v1
kind: Pod
metadata: {name: dup, namespace: y, labels: {pod: dup}}
spec: {containers: [{name: c, image: agnhost}]}
status: {podIP: 10.244.3.1}
`),
    );
    // z/a and y/dup both claim 10.244.3.1: y/dup sorts first
    expect(p.check('x/a', '10.244.3.1').dst).toMatchObject({ kind: 'pod', pod: 'y/dup' });
  });
});

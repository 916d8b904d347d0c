/**
 * ClusterNetworkPolicy (v1alpha2) and AdminNetworkPolicy / BaselineAdminNetworkPolicy (v1alpha1) tiers.
 * Sources:
 * - network-policy-api apis/v1alpha2 clusternetworkpolicy_types.go: tier Admin -> NetworkPolicy -> Baseline;
 *   "v1.NetworkPolicy always makes a final decision for selected pods"; Pass "skips all further
 *   ClusterNetworkPolicy rules in the current tier"; priority "lower value means higher precedence";
 *   rules "are evaluated in order"; peers: "If an implementation sees no fields are set ... fail closed. For
 *   Accept rules ... matching no traffic. For Deny and Pass rules ... a 'Deny all' rule".
 * - apis/v1alpha1: ANP Allow/Deny/Pass; BANP singleton named default, Allow/Deny, applies "if not matched by any
 *   AdminNetworkPolicy or NetworkPolicy rules".
 * - conformance tests CNPAdminTierIntegration (Pass -> NP), CNPAdminTierPriorityField (priority patch),
 *   CNPAdminTierEgressSCTP ("swap rules" changes the verdict), CNPBaselineTier*.
 * - policy-assistant pkg/matcher/policy.go Resolve(): ANP lowest priority first match; NPv1 final if any
 *   NP targets the pod; then BANP; else allow.
 * - Palisade total order for equal priorities: priority, then policy name, then rule index.
 */
import { describe, expect, it } from 'vitest';
import { anp, banp, cnp, docs, EXT, judge, np } from './helpers.js';

const allFrom = (action: string) => `  - action: ${action}\n    from: [{namespaces: {}}]`;
const SUBJECT_X = '  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}';

describe('subjects', () => {
  it('namespaces subject selects every pod of the selected namespaces', () => {
    const j = judge(cnp('c', 'Admin', 1, `${SUBJECT_X}\n  ingress:\n${allFrom('Deny')}`));
    expect(j.v('y/a', 'x/a')).toBe('deny');
    expect(j.v('y/a', 'x/c')).toBe('deny');
    expect(j.v('x/a', 'y/a')).toBe('allow');
  });
  it('pods subject: namespaceSelector AND podSelector', () => {
    const j = judge(cnp('c', 'Admin', 1, `  subject:\n    pods:\n      namespaceSelector: {matchLabels: {team: a}}\n      podSelector: {matchLabels: {pod: a}}\n  ingress:\n${allFrom('Deny')}`));
    expect(j.v('y/a', 'x/a')).toBe('deny');
    expect(j.v('x/a', 'x/b')).toBe('allow');
    expect(j.v('x/a', 'y/a')).toBe('allow');
  });
  it('v1alpha2 pods subject without namespaceSelector: "if empty, it selects all Namespaces"', () => {
    const j = judge(cnp('c', 'Admin', 1, `  subject:\n    pods:\n      podSelector: {matchLabels: {pod: a}}\n  ingress:\n${allFrom('Deny')}`));
    expect(j.v('x/b', 'y/a')).toBe('deny');
    expect(j.v('x/b', 'z/a')).toBe('deny');
    expect(j.v('x/a', 'x/b')).toBe('allow');
  });
  it('selecting a pod does not isolate it (no implicit isolation in cluster tiers)', () => {
    const j = judge(cnp('c', 'Admin', 1, `${SUBJECT_X}\n  ingress:\n  - action: Deny\n    from: [{namespaces: {matchLabels: {team: b}}}]`));
    expect(j.v('z/a', 'x/a')).toBe('allow');
    expect(j.v('y/a', 'x/a')).toBe('deny');
  });
  it('a CNP with only ingress rules does not affect egress', () => {
    const j = judge(cnp('c', 'Admin', 1, `${SUBJECT_X}\n  ingress:\n${allFrom('Deny')}`));
    expect(j.v('x/a', 'z/a')).toBe('allow');
  });
});

describe('tier order and Pass', () => {
  it('Admin Accept beats a NetworkPolicy deny-all; Admin Deny beats a NetworkPolicy allow', () => {
    const j = judge(
      docs(
        cnp('c', 'Admin', 1, `${SUBJECT_X}\n  ingress:\n  - action: Accept\n    from: [{namespaces: {matchLabels: {team: b}}}]\n  - action: Deny\n    from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: z}}}]`),
        np('x', 'deny', '{podSelector: {}, ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: z}}}]}]}'),
      ),
    );
    expect(j.v('y/a', 'x/a')).toBe('allow');
    expect(j.v('z/a', 'x/a')).toBe('deny');
    expect(j.v('ghost/g', 'x/a')).toBe('deny'); // not matched by Admin; NP isolates and does not allow ghost
  });

  it('Admin Accept on egress does not bypass ingress at the destination', () => {
    const j = judge(
      docs(
        cnp('c', 'Admin', 1, `${SUBJECT_X}\n  egress:\n  - action: Accept\n    to: [{namespaces: {}}]`),
        np('y', 'deny', '{podSelector: {}, policyTypes: [Ingress]}'),
      ),
    );
    expect(j.v('x/a', 'y/a')).toBe('deny');
    expect(j.v('x/a', 'z/a')).toBe('allow');
  });

  it('Admin Pass then NetworkPolicy isolation: NP decides (allow if a rule matches, else deny), Baseline not reached', () => {
    const j = judge(
      docs(
        cnp('c', 'Admin', 1, `${SUBJECT_X}\n  ingress:\n${allFrom('Pass')}`),
        np('x', 'np', '{podSelector: {matchLabels: {pod: a}}, ingress: [{from: [{namespaceSelector: {matchLabels: {team: b}}}]}]}'),
        cnp('base', 'Baseline', 1, `${SUBJECT_X}\n  ingress:\n${allFrom('Deny')}`),
      ),
    );
    expect(j.v('y/a', 'x/a')).toBe('allow');
    expect(j.v('z/a', 'x/a')).toBe('deny');
    expect(j.flow('z/a', 'x/a').ingress.tier).toBe('NetworkPolicy');
    expect(j.v('y/a', 'x/b')).toBe('deny'); // x/b not isolated by NP: Pass -> Baseline Deny
    expect(j.flow('y/a', 'x/b').ingress.tier).toBe('Baseline');
  });

  it('Pass skips the rest of the Admin tier, including other Admin policies of lower precedence', () => {
    const j = judge(
      docs(
        cnp('a1', 'Admin', 1, `${SUBJECT_X}\n  ingress:\n${allFrom('Pass')}`),
        cnp('a2', 'Admin', 2, `${SUBJECT_X}\n  ingress:\n${allFrom('Deny')}`),
      ),
    );
    expect(j.v('y/a', 'x/a')).toBe('allow');
  });

  it('Pass in the Baseline tier goes to the default allow, skipping later Baseline rules', () => {
    const j = judge(
      docs(
        cnp('b1', 'Baseline', 1, `${SUBJECT_X}\n  ingress:\n${allFrom('Pass')}`),
        cnp('b2', 'Baseline', 2, `${SUBJECT_X}\n  ingress:\n${allFrom('Deny')}`),
      ),
    );
    const f = j.flow('y/a', 'x/a');
    expect(f.verdict).toBe('allow');
    expect(f.ingress.tier).toBe('Default');
  });

  it('multiple Baseline CNPs: ascending priority, first match wins', () => {
    const j = judge(
      docs(
        cnp('b-low', 'Baseline', 50, `${SUBJECT_X}\n  ingress:\n${allFrom('Accept')}`),
        cnp('b-high', 'Baseline', 5, `${SUBJECT_X}\n  ingress:\n  - action: Deny\n    from: [{namespaces: {matchLabels: {team: b}}}]`),
      ),
    );
    expect(j.v('y/a', 'x/a')).toBe('deny');
    expect(j.v('z/a', 'x/a')).toBe('allow');
  });

  it('NetworkPolicy isolation hides Baseline entirely, even its Accept', () => {
    const j = judge(
      docs(
        np('x', 'deny', '{podSelector: {}, policyTypes: [Ingress]}'),
        cnp('b', 'Baseline', 1, `${SUBJECT_X}\n  ingress:\n${allFrom('Accept')}`),
      ),
    );
    expect(j.v('y/a', 'x/a')).toBe('deny');
  });

  it('within one policy, rule order decides (swap changes the verdict; conformance "swap rules")', () => {
    const a = judge(cnp('c', 'Admin', 1, `${SUBJECT_X}\n  ingress:\n${allFrom('Accept')}\n${allFrom('Deny')}`));
    const b = judge(cnp('c', 'Admin', 1, `${SUBJECT_X}\n  ingress:\n${allFrom('Deny')}\n${allFrom('Accept')}`));
    expect(a.v('y/a', 'x/a')).toBe('allow');
    expect(b.v('y/a', 'x/a')).toBe('deny');
  });
});

describe('equal priorities: total order priority, name, rule index', () => {
  it('same priority: the policy whose name sorts first decides', () => {
    const j = judge(
      docs(
        cnp('b-accept', 'Admin', 7, `${SUBJECT_X}\n  ingress:\n${allFrom('Accept')}`),
        cnp('a-deny', 'Admin', 7, `${SUBJECT_X}\n  ingress:\n${allFrom('Deny')}`),
      ),
    );
    expect(j.v('y/a', 'x/a')).toBe('deny');
    expect(j.flow('y/a', 'x/a').ingress.rule?.policy.name).toBe('a-deny');
  });
  it('priority beats name', () => {
    const j = judge(
      docs(
        cnp('z-accept', 'Admin', 6, `${SUBJECT_X}\n  ingress:\n${allFrom('Accept')}`),
        cnp('a-deny', 'Admin', 7, `${SUBJECT_X}\n  ingress:\n${allFrom('Deny')}`),
      ),
    );
    expect(j.v('y/a', 'x/a')).toBe('allow');
  });
  it('priority 0 and 1000 are the ends of the range', () => {
    const j = judge(
      docs(
        cnp('last', 'Admin', 1000, `${SUBJECT_X}\n  ingress:\n${allFrom('Accept')}`),
        cnp('first', 'Admin', 0, `${SUBJECT_X}\n  ingress:\n${allFrom('Deny')}`),
      ),
    );
    expect(j.v('y/a', 'x/a')).toBe('deny');
  });
});

describe('v1alpha1 AdminNetworkPolicy / BaselineAdminNetworkPolicy', () => {
  it('ANP Allow reads as Accept and beats a NetworkPolicy deny', () => {
    const j = judge(
      docs(
        anp('a', 3, `${SUBJECT_X}\n  ingress:\n  - action: Allow\n    from: [{namespaces: {matchLabels: {team: b}}}]`),
        np('x', 'deny', '{podSelector: {}, policyTypes: [Ingress]}'),
      ),
    );
    expect(j.v('y/a', 'x/a')).toBe('allow');
    expect(j.flow('y/a', 'x/a').ingress.rule?.action).toBe('Accept');
    expect(j.v('z/a', 'x/a')).toBe('deny');
  });

  it('ANP and CNP Admin share one priority order', () => {
    const j = judge(
      docs(
        anp('anp', 5, `${SUBJECT_X}\n  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]`),
        cnp('cnp', 'Admin', 4, `${SUBJECT_X}\n  ingress:\n${allFrom('Accept')}`),
      ),
    );
    expect(j.v('y/a', 'x/a')).toBe('allow');
  });

  it('ANP ports: portNumber (default TCP), portRange inclusive, namedPort', () => {
    const j = judge(
      anp('a', 3, `${SUBJECT_X}\n  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]\n    ports: [{portNumber: {port: 80}}, {portRange: {protocol: UDP, start: 100, end: 200}}, {namedPort: dns}]`),
    );
    expect(j.v('y/a', 'x/a', 80)).toBe('deny');
    expect(j.v('y/a', 'x/a', 80, 'UDP')).toBe('allow');
    expect(j.v('y/a', 'x/a', 100, 'UDP')).toBe('deny');
    expect(j.v('y/a', 'x/a', 200, 'UDP')).toBe('deny');
    expect(j.v('y/a', 'x/a', 201, 'UDP')).toBe('allow');
    expect(j.v('y/a', 'x/a', 53, 'UDP')).toBe('deny'); // namedPort dns = UDP/53 on x/a
  });

  it('BANP applies after NetworkPolicy: Deny for pods no NP selects', () => {
    const j = judge(
      docs(
        banp(`${SUBJECT_X}\n  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]`),
        np('x', 'allow-b', '{podSelector: {matchLabels: {pod: b}}, ingress: [{}]}'),
      ),
    );
    expect(j.v('y/a', 'x/a')).toBe('deny');
    expect(j.v('y/a', 'x/b')).toBe('allow');
  });

  it('a v1alpha1 BANP sorts after every Baseline CNP (even priority 1000)', () => {
    const j = judge(
      docs(
        banp(`${SUBJECT_X}\n  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]`),
        cnp('b', 'Baseline', 1000, `${SUBJECT_X}\n  ingress:\n  - action: Accept\n    from: [{namespaces: {matchLabels: {team: b}}}]`),
      ),
    );
    expect(j.v('y/a', 'x/a')).toBe('allow');
    expect(j.v('z/a', 'x/a')).toBe('deny');
  });

  it('ANP Pass goes to NP, then to BANP', () => {
    const j = judge(
      docs(
        anp('a', 1, `${SUBJECT_X}\n  ingress:\n  - action: Pass\n    from: [{namespaces: {matchLabels: {team: b}}}]\n  - action: Allow\n    from: [{namespaces: {}}]`),
        banp(`${SUBJECT_X}\n  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]`),
      ),
    );
    expect(j.v('y/a', 'x/a')).toBe('deny');
    expect(j.v('z/a', 'x/a')).toBe('allow');
  });
});

describe('fail closed and domainNames', () => {
  // The peer "{}" is what an implementation built against an older CRD sees for a peer type it does not
  // know (the CRD itself requires exactly one field; see disagreements.test.ts for validation).
  it('empty peer in an Accept rule: matches nothing (later rules still apply)', () => {
    const j = judge(cnp('c', 'Admin', 1, `${SUBJECT_X}\n  ingress:\n  - action: Accept\n    from: [{}]\n  - action: Deny\n    from: [{namespaces: {matchLabels: {team: b}}}]`));
    expect(j.v('y/a', 'x/a')).toBe('deny');
    expect(j.v('z/a', 'x/a')).toBe('allow');
  });
  it('empty peer in a Deny rule: deny all (even peers the other entries would not match)', () => {
    const j = judge(cnp('c', 'Admin', 1, `${SUBJECT_X}\n  egress:\n  - action: Deny\n    to: [{}, {namespaces: {matchLabels: {team: b}}}]`));
    expect(j.v('x/a', 'z/a')).toBe('deny');
    expect(j.v('x/a', EXT)).toBe('deny');
  });
  it('empty peer in a Pass rule: deny all (not Pass)', () => {
    const j = judge(
      docs(
        cnp('c', 'Admin', 1, `${SUBJECT_X}\n  egress:\n  - action: Pass\n    to: [{}]`),
        np('x', 'allow', '{podSelector: {}, policyTypes: [Egress], egress: [{}]}'),
      ),
    );
    expect(j.v('x/a', 'z/a')).toBe('deny');
  });
  it('empty protocol entry in a Deny rule: deny all ports', () => {
    const j = judge(cnp('c', 'Admin', 1, `${SUBJECT_X}\n  ingress:\n  - action: Deny\n    from: [{namespaces: {matchLabels: {team: b}}}]\n    protocols: [{}]`));
    expect(j.v('y/a', 'x/a', 9, 'UDP')).toBe('deny');
  });
  it('domainNames match nothing (Accept rule falls through to the next rule), with a note', () => {
    const j = judge(cnp('c', 'Admin', 1, `${SUBJECT_X}\n  egress:\n  - action: Accept\n    to: [{domainNames: [example.com, "*.example.org"]}]\n  - action: Deny\n    to: [{networks: [0.0.0.0/0]}]`));
    const f = j.flow('x/a', EXT, 443);
    expect(f.verdict).toBe('deny');
    expect(f.egress.notes.join(' ')).toMatch(/domainNames/);
  });
});

/**
 * AdminNetworkPolicy / BaselineAdminNetworkPolicy v1alpha1. Source: the CRDs in
 * the v1alpha1 experimental CRDs of kubernetes-sigs/network-policy-api (v0.1.8; OpenAPI schema and
 * x-kubernetes-validations), unless a test name says otherwise.
 */
import { describe, expect, it } from 'vitest';
import { anp, banp, expectAccepted, expectRejected, expectWarning } from './helpers.js';

const many = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
const ingressPorts = (ports: unknown[]) => ({ ingress: [{ action: 'Allow', from: [{ namespaces: {} }], ports }] });

describe('AdminNetworkPolicy spec', () => {
  it('rejects priority 1001 (maximum 1000)', () => {
    expectRejected(anp({ priority: 1001 }), 'CNP_PRIORITY_OUT_OF_RANGE', 'spec.priority');
  });
  it('rejects a missing priority (required [priority, subject])', () => {
    expectRejected(anp({ priority: undefined }), 'FIELD_REQUIRED', 'spec.priority');
  });
  it('rejects a tier field (not in v1alpha1)', () => {
    expectRejected(anp({ tier: 'Admin' }), 'FIELD_UNKNOWN', 'spec.tier');
  });
  it('rejects subject pods without namespaceSelector (v1alpha1 NamespacedPod requires both)', () => {
    expectRejected(anp({ subject: { pods: { podSelector: {} } } }), 'FIELD_REQUIRED', 'spec.subject.pods.namespaceSelector');
  });
  it('rejects a peer pods without namespaceSelector', () => {
    expectRejected(anp({ egress: [{ action: 'Deny', to: [{ pods: { podSelector: {} } }] }] }), 'FIELD_REQUIRED', 'spec.egress[0].to[0].pods.namespaceSelector');
  });
  it('rejects 101 ingress rules (maxItems 100) and accepts 100', () => {
    const rule = { action: 'Deny', from: [{ namespaces: {} }] };
    expectRejected(anp({ ingress: many(101, () => rule) }), 'TOO_MANY_ITEMS', 'spec.ingress');
    expectAccepted(anp({ ingress: many(100, () => rule) }));
  });
  it('rejects 101 peers (maxItems 100) and accepts 100', () => {
    expectRejected(anp({ egress: [{ action: 'Deny', to: many(101, () => ({ namespaces: {} })) }] }), 'TOO_MANY_ITEMS', 'spec.egress[0].to');
    expectAccepted(anp({ egress: [{ action: 'Deny', to: many(100, () => ({ namespaces: {} })) }] }));
  });
  it('rejects 101 ports (maxItems 100) and accepts 100', () => {
    expectRejected(anp(ingressPorts(many(101, (i) => ({ portNumber: { port: i + 1 } })))), 'TOO_MANY_ITEMS', 'spec.ingress[0].ports');
    expectAccepted(anp(ingressPorts(many(100, (i) => ({ portNumber: { port: i + 1 } })))));
  });
  it('rejects action Accept (enum Allow|Deny|Pass) and accepts the three', () => {
    expectRejected(anp({ ingress: [{ action: 'Accept', from: [{ namespaces: {} }] }] }), 'CNP_ACTION_INVALID', 'spec.ingress[0].action');
    expectAccepted(anp({ ingress: ['Allow', 'Deny', 'Pass'].map((action) => ({ action, from: [{ namespaces: {} }] })) }));
  });
  it('rejects `protocols` (a v1alpha2 field)', () => {
    expectRejected(anp({ ingress: [{ action: 'Deny', from: [{ namespaces: {} }], protocols: [] }] }), 'FIELD_UNKNOWN', 'spec.ingress[0].protocols');
  });
  it('rejects a rule name of 101 characters (maxLength 100)', () => {
    expectRejected(anp({ ingress: [{ name: 'x'.repeat(101), action: 'Deny', from: [{ namespaces: {} }] }] }), 'CNP_RULE_NAME_TOO_LONG', 'spec.ingress[0].name');
  });
  it('an empty peer fails closed (v1alpha1 doc: "fail closed"), normalized to unknown', () => {
    const r = expectWarning(anp({ egress: [{ action: 'Deny', to: [{}] }] }), 'PEER_UNKNOWN_FAILS_CLOSED', 'spec.egress[0].to[0]');
    expect(r.cluster?.clusterPolicies[0]?.egress[0]?.peers[0]?.kind).toBe('unknown');
  });
  it('accepts domainNames in an Allow rule, rejects them in a Deny rule', () => {
    expectAccepted(anp({ egress: [{ action: 'Allow', to: [{ domainNames: ['*.example.com'] }] }] }));
    expectWarning(anp({ egress: [{ action: 'Deny', to: [{ domainNames: ['example.com'] }] }] }), 'CNP_DOMAIN_NAMES_REQUIRE_ACCEPT', 'spec.egress[0].to[0].domainNames');
  });
  it('rejects networks with 26 entries (maxItems 25 in v1alpha1 too)', () => {
    expectRejected(anp({ egress: [{ action: 'Deny', to: [{ networks: many(26, (i) => `10.${i}.0.0/16`) }] }] }), 'TOO_MANY_ITEMS', 'spec.egress[0].to[0].networks');
  });
  it('rejects an invalid network (CEL isCIDR(self))', () => {
    expectRejected(anp({ egress: [{ action: 'Deny', to: [{ networks: ['10.0.0.0/40'] }] }] }), 'CIDR_INVALID', 'spec.egress[0].to[0].networks[0]');
  });
});

describe('v1alpha1 ports (exactly one of portNumber / portRange / namedPort)', () => {
  const P = 'spec.ingress[0].ports[0]';
  it('rejects portNumber and namedPort together (maxProperties 1)', () => {
    expectRejected(anp(ingressPorts([{ portNumber: { port: 80 }, namedPort: 'web' }])), 'CNP_PROTOCOL_NOT_ONE_OF', P);
  });
  it('an empty port entry fails closed (warning)', () => {
    expectWarning(anp(ingressPorts([{}])), 'PROTOCOL_UNKNOWN_FAILS_CLOSED', P);
  });
  it('rejects portNumber.port 0 (minimum 1)', () => {
    expectRejected(anp(ingressPorts([{ portNumber: { protocol: 'TCP', port: 0 } }])), 'PORT_OUT_OF_RANGE', `${P}.portNumber.port`);
  });
  it('rejects portNumber.port 65536 (maximum 65535)', () => {
    expectRejected(anp(ingressPorts([{ portNumber: { port: 65536 } }])), 'PORT_OUT_OF_RANGE', `${P}.portNumber.port`);
  });
  it('rejects a missing portNumber.port (required [port, protocol])', () => {
    expectRejected(anp(ingressPorts([{ portNumber: { protocol: 'UDP' } }])), 'FIELD_REQUIRED', `${P}.portNumber.port`);
  });
  it('rejects protocol "udp" (core/v1 Protocol; case-sensitive)', () => {
    expectRejected(anp(ingressPorts([{ portNumber: { protocol: 'udp', port: 53 } }])), 'PROTOCOL_INVALID', `${P}.portNumber.protocol`);
  });
  it('accepts an absent protocol (CRD default TCP)', () => {
    const r = expectAccepted(anp(ingressPorts([{ portNumber: { port: 80 } }])));
    expect(r.cluster?.clusterPolicies[0]?.ingress[0]?.protocols?.[0]).toMatchObject({ kind: 'port', protocol: 'TCP', portStart: 80, portEnd: 80 });
  });
  it('rejects portRange start 0 and end 65536 (minimum 1, maximum 65535)', () => {
    expectRejected(anp(ingressPorts([{ portRange: { start: 0, end: 10 } }])), 'PORT_OUT_OF_RANGE', `${P}.portRange.start`);
    expectRejected(anp(ingressPorts([{ portRange: { start: 10, end: 65536 } }])), 'PORT_OUT_OF_RANGE', `${P}.portRange.end`);
  });
  it('rejects a portRange without start (required [end, start])', () => {
    expectRejected(anp(ingressPorts([{ portRange: { end: 10 } }])), 'FIELD_REQUIRED', `${P}.portRange.start`);
  });
  it('accepts start == end, and start > end with a warning: the v1alpha1 CRD has no start < end CEL rule', () => {
    expectAccepted(anp(ingressPorts([{ portRange: { protocol: 'SCTP', start: 80, end: 80 } }])));
    expectWarning(anp(ingressPorts([{ portRange: { start: 90, end: 80 } }])), 'CNP_PORT_RANGE_EMPTY', `${P}.portRange`);
  });
  it('rejects an unknown portNumber field', () => {
    expectRejected(anp(ingressPorts([{ portNumber: { port: 80, endPort: 90 } }])), 'FIELD_UNKNOWN', `${P}.portNumber.endPort`);
  });
});

describe('v1alpha1 CEL: named ports with non-pod peers', () => {
  it('ANP: rejects networks with namedPort in one egress rule (networks/nodes/domainNames CEL)', () => {
    expectRejected(anp({ egress: [{ action: 'Allow', to: [{ networks: ['10.0.0.0/8'] }], ports: [{ namedPort: 'web' }] }] }), 'CNP_NAMED_PORT_WITH_NON_POD_PEER', 'spec.egress[0]');
  });
  it('ANP: rejects domainNames with namedPort', () => {
    expectRejected(anp({ egress: [{ action: 'Allow', to: [{ domainNames: ['example.com'] }], ports: [{ namedPort: 'web' }] }] }), 'CNP_NAMED_PORT_WITH_NON_POD_PEER', 'spec.egress[0]');
  });
  it('BANP: rejects nodes with namedPort (networks/nodes CEL)', () => {
    expectRejected(banp({ egress: [{ action: 'Deny', to: [{ nodes: {} }], ports: [{ namedPort: 'web' }] }] }), 'CNP_NAMED_PORT_WITH_NON_POD_PEER', 'spec.egress[0]');
  });
  it('accepts namedPort with pods peers', () => {
    expectAccepted(banp({ egress: [{ action: 'Allow', to: [{ pods: { namespaceSelector: {}, podSelector: {} } }], ports: [{ namedPort: 'dns' }] }] }));
  });
});

describe('BaselineAdminNetworkPolicy', () => {
  it('rejects a name other than "default" (CEL self.metadata.name == \'default\')', () => {
    expectRejected(banp({}, { name: 'baseline' }), 'BANP_NAME_NOT_DEFAULT', 'metadata.name');
  });
  it('rejects action Pass (enum Allow|Deny)', () => {
    expectRejected(banp({ ingress: [{ action: 'Pass', from: [{ namespaces: {} }] }] }), 'CNP_ACTION_INVALID', 'spec.ingress[0].action');
  });
  it('rejects a priority field (BANP has none)', () => {
    expectRejected(banp({ priority: 5 }), 'FIELD_UNKNOWN', 'spec.priority');
  });
  it('rejects domainNames in an egress peer (BaselineAdminNetworkPolicyEgressPeer has none)', () => {
    expectRejected(banp({ egress: [{ action: 'Allow', to: [{ domainNames: ['example.com'] }] }] }), 'CNP_PEER_FIELD_NOT_ALLOWED', 'spec.egress[0].to[0].domainNames');
  });
  it('rejects 101 egress rules (maxItems 100)', () => {
    expectRejected(banp({ egress: many(101, () => ({ action: 'Deny', to: [{ namespaces: {} }] })) }), 'TOO_MANY_ITEMS', 'spec.egress');
  });
  it('accepts a BANP with nodes and networks peers', () => {
    expectAccepted(banp({ egress: [{ action: 'Deny', to: [{ nodes: {} }, { networks: ['0.0.0.0/0', '::/0'] }] }] }));
  });
});

/**
 * ClusterNetworkPolicy v1alpha2. Source of every rule: the CRD
 * config/crd/experimental/policy.networking.k8s.io_clusternetworkpolicies.yaml of kubernetes-sigs/network-policy-api
 * (network-policy-api @0eec1b0e; OpenAPI schema and x-kubernetes-validations), unless a test
 * name says otherwise. The experimental channel (nodes, domainNames) is accepted.
 */
import { describe, expect, it } from 'vitest';
import { cnp, expectAccepted, expectRejected, expectWarning } from './helpers.js';

const accept = (to: unknown[], extra: Record<string, unknown> = {}) => ({ egress: [{ action: 'Accept', to, ...extra }] });
const ingressFrom = (from: unknown[], extra: Record<string, unknown> = {}) => ({ ingress: [{ action: 'Accept', from, ...extra }] });
const tcp = (destinationPort: unknown) => ({ tcp: { destinationPort } });
const withProtocols = (protocols: unknown[]) => ingressFrom([{ namespaces: {} }], { protocols });
const many = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

describe('spec (tier, priority, subject)', () => {
  it('rejects a missing tier (required)', () => {
    expectRejected(cnp({ tier: undefined }), 'FIELD_REQUIRED', 'spec.tier');
  });
  it('rejects a tier other than Admin|Baseline (enum)', () => {
    expectRejected(cnp({ tier: 'admin' }), 'CNP_TIER_INVALID', 'spec.tier');
  });
  it('rejects a missing priority (required)', () => {
    expectRejected(cnp({ priority: undefined }), 'FIELD_REQUIRED', 'spec.priority');
  });
  it('rejects priority 1001 (maximum 1000)', () => {
    expectRejected(cnp({ priority: 1001 }), 'CNP_PRIORITY_OUT_OF_RANGE', 'spec.priority');
  });
  it('rejects priority -1 (minimum 0)', () => {
    expectRejected(cnp({ priority: -1 }), 'CNP_PRIORITY_OUT_OF_RANGE', 'spec.priority');
  });
  it('rejects a non-integer priority (type integer)', () => {
    expectRejected(cnp({ priority: 1.5 }), 'FIELD_TYPE', 'spec.priority');
  });
  it('accepts priorities 0 and 1000 and tier Baseline', () => {
    expectAccepted(cnp({ priority: 0 }));
    expectAccepted(cnp({ priority: 1000, tier: 'Baseline' }));
  });
  it('rejects a missing subject (required)', () => {
    expectRejected(cnp({ subject: undefined }), 'FIELD_REQUIRED', 'spec.subject');
  });
  it('rejects an empty subject (minProperties 1)', () => {
    expectRejected(cnp({ subject: {} }), 'CNP_SUBJECT_NOT_ONE_OF', 'spec.subject');
  });
  it('rejects a subject with namespaces and pods (maxProperties 1)', () => {
    expectRejected(cnp({ subject: { namespaces: {}, pods: { podSelector: {} } } }), 'CNP_SUBJECT_NOT_ONE_OF', 'spec.subject');
  });
  it('rejects subject pods without podSelector (NamespacedPod required [podSelector])', () => {
    expectRejected(cnp({ subject: { pods: { namespaceSelector: {} } } }), 'FIELD_REQUIRED', 'spec.subject.pods.podSelector');
  });
  it('accepts subject pods without namespaceSelector (v1alpha2 requires only podSelector)', () => {
    expectAccepted(cnp({ subject: { pods: { podSelector: { matchLabels: { app: 'web' } } } } }));
  });
  it('rejects an unknown spec field', () => {
    expectRejected(cnp({ prio: 3 }), 'FIELD_UNKNOWN', 'spec.prio');
  });
  it('rejects a missing spec (root required [metadata, spec])', () => {
    expectRejected('apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: c}\n', 'FIELD_REQUIRED', 'spec');
  });
});

describe('rules', () => {
  it('rejects 26 ingress rules (maxItems 25)', () => {
    expectRejected(cnp({ ingress: many(26, () => ({ action: 'Deny', from: [{ namespaces: {} }] })) }), 'TOO_MANY_ITEMS', 'spec.ingress');
  });
  it('rejects 26 egress rules (maxItems 25) and accepts 25', () => {
    const rule = { action: 'Deny', to: [{ namespaces: {} }] };
    expectRejected(cnp({ egress: many(26, () => rule) }), 'TOO_MANY_ITEMS', 'spec.egress');
    expectAccepted(cnp({ egress: many(25, () => rule) }));
  });
  it('rejects a missing action (required)', () => {
    expectRejected(cnp({ ingress: [{ from: [{ namespaces: {} }] }] }), 'FIELD_REQUIRED', 'spec.ingress[0].action');
  });
  it('rejects action Allow (enum Accept|Deny|Pass; Allow is v1alpha1)', () => {
    expectRejected(cnp({ ingress: [{ action: 'Allow', from: [{ namespaces: {} }] }] }), 'CNP_ACTION_INVALID', 'spec.ingress[0].action');
  });
  it('accepts Accept, Deny and Pass', () => {
    expectAccepted(cnp({ ingress: ['Accept', 'Deny', 'Pass'].map((action) => ({ action, from: [{ namespaces: {} }] })) }));
  });
  it('rejects a rule name of 101 characters (maxLength 100) and accepts 100', () => {
    expectRejected(cnp({ ingress: [{ name: 'n'.repeat(101), action: 'Deny', from: [{ namespaces: {} }] }] }), 'CNP_RULE_NAME_TOO_LONG', 'spec.ingress[0].name');
    expectAccepted(cnp({ ingress: [{ name: 'n'.repeat(100), action: 'Deny', from: [{ namespaces: {} }] }] }));
  });
  it('rejects a missing from (required [action, from])', () => {
    expectRejected(cnp({ ingress: [{ action: 'Deny' }] }), 'FIELD_REQUIRED', 'spec.ingress[0].from');
  });
  it('rejects a missing to (required [action, to])', () => {
    expectRejected(cnp({ egress: [{ action: 'Deny' }] }), 'FIELD_REQUIRED', 'spec.egress[0].to');
  });
  it('rejects an empty from (minItems 1)', () => {
    expectRejected(cnp(ingressFrom([])), 'TOO_FEW_ITEMS', 'spec.ingress[0].from');
  });
  it('rejects 26 to peers (maxItems 25)', () => {
    expectRejected(cnp(accept(many(26, () => ({ namespaces: {} })))), 'TOO_MANY_ITEMS', 'spec.egress[0].to');
  });
  it('rejects `ports` in a v1alpha2 rule (renamed protocols; unknown field)', () => {
    expectRejected(cnp(ingressFrom([{ namespaces: {} }], { ports: [{ portNumber: { port: 80 } }] })), 'FIELD_UNKNOWN', 'spec.ingress[0].ports');
  });
});

describe('peers', () => {
  it('rejects an ingress peer with namespaces and pods (maxProperties 1)', () => {
    expectRejected(cnp(ingressFrom([{ namespaces: {}, pods: { podSelector: {} } }])), 'CNP_PEER_NOT_ONE_OF', 'spec.ingress[0].from[0]');
  });
  it('rejects an egress peer with networks and nodes (maxProperties 1)', () => {
    expectRejected(cnp(accept([{ networks: ['10.0.0.0/8'], nodes: {} }])), 'CNP_PEER_NOT_ONE_OF', 'spec.egress[0].to[0]');
  });
  it('an empty peer fails closed: a warning, not an error, and normalization yields kind unknown', () => {
    const r = expectWarning(cnp(accept([{}])), 'PEER_UNKNOWN_FAILS_CLOSED', 'spec.egress[0].to[0]');
    expect(r.cluster?.clusterPolicies[0]?.egress[0]?.peers[0]?.kind).toBe('unknown');
  });
  it('a peer with only a field of a newer API version fails closed (warning)', () => {
    const r = expectWarning(cnp(ingressFrom([{ serviceAccounts: { name: 'x' } }])), 'PEER_UNKNOWN_FAILS_CLOSED', 'spec.ingress[0].from[0]');
    expect(r.cluster?.clusterPolicies[0]?.ingress[0]?.peers[0]?.kind).toBe('unknown');
  });
  it('rejects a known peer field beside an unknown one', () => {
    expectRejected(cnp(ingressFrom([{ namespaces: {}, serviceAccounts: {} }])), 'FIELD_UNKNOWN', 'spec.ingress[0].from[0].serviceAccounts');
  });
  it('rejects an egress-only peer (nodes) in an ingress rule', () => {
    expectRejected(cnp(ingressFrom([{ nodes: {} }])), 'CNP_PEER_FIELD_NOT_ALLOWED', 'spec.ingress[0].from[0].nodes');
  });
  it('rejects networks in an ingress rule', () => {
    expectRejected(cnp(ingressFrom([{ networks: ['10.0.0.0/8'] }])), 'CNP_PEER_FIELD_NOT_ALLOWED', 'spec.ingress[0].from[0].networks');
  });
  it('rejects pods peer without podSelector', () => {
    expectRejected(cnp(accept([{ pods: { namespaceSelector: {} } }])), 'FIELD_REQUIRED', 'spec.egress[0].to[0].pods.podSelector');
  });
  it('accepts every egress peer kind of the experimental channel', () => {
    expectAccepted(
      cnp(
        accept([
          { namespaces: { matchLabels: { a: 'b' } } },
          { pods: { namespaceSelector: {}, podSelector: {} } },
          { nodes: { matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' }] } },
          { networks: ['10.0.0.0/8', '::/0'] },
          { domainNames: ['kubernetes.io', '*.example.com', 'my_host.example.org.'] },
        ]),
      ),
    );
  });
});

describe('networks (MinItems 1, MaxItems 25, list-type set, maxLength 43, CEL isCIDR(self))', () => {
  it('rejects an empty list', () => {
    expectRejected(cnp(accept([{ networks: [] }])), 'TOO_FEW_ITEMS', 'spec.egress[0].to[0].networks');
  });
  it('rejects 26 entries', () => {
    expectRejected(cnp(accept([{ networks: many(26, (i) => `10.${i}.0.0/16`) }])), 'TOO_MANY_ITEMS', 'spec.egress[0].to[0].networks');
  });
  it('rejects a duplicate entry (x-kubernetes-list-type: set)', () => {
    expectRejected(cnp(accept([{ networks: ['10.0.0.0/8', '10.0.0.0/8'] }])), 'LIST_DUPLICATE', 'spec.egress[0].to[0].networks[1]');
  });
  it('rejects a string longer than 43 characters (maxLength)', () => {
    expectRejected(cnp(accept([{ networks: ['ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128'] }])), 'CIDR_TOO_LONG', 'spec.egress[0].to[0].networks[0]');
  });
  const bad = ['10.0.0.0', '10.0.0.0/33', 'fd00::/129', '010.0.0.0/8', '10.0.0.0/08', '::ffff:10.0.0.0/104', 'fe80::1%eth0/64', 'example.com'];
  it.each(bad)('rejects %s (isCIDR: netip.ParsePrefix without zone or IPv4-mapped address)', (c) => {
    expectRejected(cnp(accept([{ networks: ['192.168.0.0/16', c] }])), 'CIDR_INVALID', 'spec.egress[0].to[0].networks[1]');
  });
  it('accepts host bits (isCIDR does not check them), with a warning naming the masked prefix', () => {
    const r = expectWarning(cnp(accept([{ networks: ['10.1.2.3/8'] }])), 'CIDR_HOST_BITS_SET', 'spec.egress[0].to[0].networks[0]');
    expect(r.cluster?.clusterPolicies[0]?.egress[0]?.peers[0]).toMatchObject({ kind: 'networks', cidrs: [{ text: '10.0.0.0/8' }] });
  });
  it('accepts 0.0.0.0/0, ::/0, a /32 and a /128', () => {
    expectAccepted(cnp(accept([{ networks: ['0.0.0.0/0', '::/0', '10.244.1.5/32', 'fd00:10:244::5/128'] }])));
  });
});

describe('domainNames (MinItems 1, MaxItems 25, list-type set, pattern; Accept only)', () => {
  it('rejects an empty list', () => {
    expectRejected(cnp(accept([{ domainNames: [] }])), 'TOO_FEW_ITEMS', 'spec.egress[0].to[0].domainNames');
  });
  it('rejects 26 entries', () => {
    expectRejected(cnp(accept([{ domainNames: many(26, (i) => `h${i}.example.com`) }])), 'TOO_MANY_ITEMS', 'spec.egress[0].to[0].domainNames');
  });
  it('rejects a duplicate (list-type set)', () => {
    expectRejected(cnp(accept([{ domainNames: ['a.example.com', 'a.example.com'] }])), 'LIST_DUPLICATE', 'spec.egress[0].to[0].domainNames[1]');
  });
  const bad = ['kubernetes', 'www.*.example.com', '*example.com', '-a.example.com', 'a..example.com', '*', 'a.example.com..', 'http://example.com'];
  it.each(bad)('rejects %s (DomainName pattern)', (d) => {
    expectRejected(cnp(accept([{ domainNames: ['ok.example.com', d] }])), 'CNP_DOMAIN_NAME_INVALID', 'spec.egress[0].to[0].domainNames[1]');
  });
  it('rejects domainNames in a Deny rule ("DomainNames is only supported for Accept rules")', () => {
    expectWarning(cnp({ egress: [{ action: 'Deny', to: [{ domainNames: ['example.com'] }] }] }), 'CNP_DOMAIN_NAMES_REQUIRE_ACCEPT', 'spec.egress[0].to[0].domainNames');
  });
  it('rejects domainNames in a Pass rule', () => {
    expectWarning(cnp({ egress: [{ action: 'Pass', to: [{ domainNames: ['example.com'] }] }] }), 'CNP_DOMAIN_NAMES_REQUIRE_ACCEPT', 'spec.egress[0].to[0].domainNames');
  });
  it('warns for domainNames in the Baseline tier (NPEP-133 after network-policy-api PR #366; not enforced by the CRD)', () => {
    expectWarning(cnp({ tier: 'Baseline', ...accept([{ domainNames: ['example.com'] }]) }), 'CNP_DOMAIN_NAMES_BASELINE_TIER', 'spec.egress[0].to[0].domainNames');
  });
});

describe('protocols (MinItems 1, MaxItems 25; exactly one of tcp/udp/sctp/destinationNamedPort)', () => {
  it('rejects an empty list', () => {
    expectRejected(cnp(withProtocols([])), 'TOO_FEW_ITEMS', 'spec.ingress[0].protocols');
  });
  it('rejects 26 entries', () => {
    expectRejected(cnp(withProtocols(many(26, (i) => tcp({ number: i + 1 })))), 'TOO_MANY_ITEMS', 'spec.ingress[0].protocols');
  });
  it('rejects tcp and udp in one entry (maxProperties 1)', () => {
    expectRejected(cnp(withProtocols([{ ...tcp({ number: 80 }), udp: { destinationPort: { number: 53 } } }])), 'CNP_PROTOCOL_NOT_ONE_OF', 'spec.ingress[0].protocols[0]');
  });
  it('NPEP-187: an empty entry fails closed (warning, normalized to unknown)', () => {
    const r = expectWarning(cnp(withProtocols([{}])), 'PROTOCOL_UNKNOWN_FAILS_CLOSED', 'spec.ingress[0].protocols[0]');
    expect(r.cluster?.clusterPolicies[0]?.ingress[0]?.protocols?.[0]?.kind).toBe('unknown');
  });
  it('NPEP-187: an entry with only a newer protocol (icmp) fails closed (warning)', () => {
    expectWarning(cnp(withProtocols([{ icmp: { type: 8 } }])), 'PROTOCOL_UNKNOWN_FAILS_CLOSED', 'spec.ingress[0].protocols[0]');
  });
  it('rejects a known protocol beside an unknown field', () => {
    expectRejected(cnp(withProtocols([{ ...tcp({ number: 80 }), icmp: {} }])), 'FIELD_UNKNOWN', 'spec.ingress[0].protocols[0].icmp');
  });
  it('rejects tcp without destinationPort (tcp minProperties 1)', () => {
    expectRejected(cnp(withProtocols([{ tcp: {} }])), 'FIELD_REQUIRED', 'spec.ingress[0].protocols[0].tcp.destinationPort');
  });
  it('rejects an empty destinationPort (minProperties 1)', () => {
    expectRejected(cnp(withProtocols([{ udp: { destinationPort: {} } }])), 'CNP_DESTINATION_PORT_NOT_ONE_OF', 'spec.ingress[0].protocols[0].udp.destinationPort');
  });
  it('rejects number and range together (maxProperties 1)', () => {
    expectRejected(
      cnp(withProtocols([{ sctp: { destinationPort: { number: 80, range: { start: 1, end: 2 } } } }])),
      'CNP_DESTINATION_PORT_NOT_ONE_OF',
      'spec.ingress[0].protocols[0].sctp.destinationPort',
    );
  });
  it('rejects number 0 (minimum 1)', () => {
    expectRejected(cnp(withProtocols([tcp({ number: 0 })])), 'PORT_OUT_OF_RANGE', 'spec.ingress[0].protocols[0].tcp.destinationPort.number');
  });
  it('rejects number 65536 (maximum 65535)', () => {
    expectRejected(cnp(withProtocols([tcp({ number: 65536 })])), 'PORT_OUT_OF_RANGE', 'spec.ingress[0].protocols[0].tcp.destinationPort.number');
  });
  it('rejects range start 0 (minimum 1)', () => {
    expectRejected(cnp(withProtocols([tcp({ range: { start: 0, end: 10 } })])), 'PORT_OUT_OF_RANGE', 'spec.ingress[0].protocols[0].tcp.destinationPort.range.start');
  });
  it('rejects range end 65536 (maximum 65535)', () => {
    expectRejected(cnp(withProtocols([tcp({ range: { start: 10, end: 65536 } })])), 'PORT_OUT_OF_RANGE', 'spec.ingress[0].protocols[0].tcp.destinationPort.range.end');
  });
  it('rejects a range without end (required [end, start])', () => {
    expectRejected(cnp(withProtocols([tcp({ range: { start: 10 } })])), 'FIELD_REQUIRED', 'spec.ingress[0].protocols[0].tcp.destinationPort.range.end');
  });
  it('rejects range start == end (CEL self.start < self.end)', () => {
    expectRejected(cnp(withProtocols([tcp({ range: { start: 80, end: 80 } })])), 'CNP_PORT_RANGE_START_NOT_BELOW_END', 'spec.ingress[0].protocols[0].tcp.destinationPort.range');
  });
  it('rejects range start > end (CEL self.start < self.end), for udp and sctp too', () => {
    for (const p of ['udp', 'sctp']) {
      expectRejected(
        cnp(withProtocols([{ [p]: { destinationPort: { range: { start: 90, end: 80 } } } }])),
        'CNP_PORT_RANGE_START_NOT_BELOW_END',
        `spec.ingress[0].protocols[0].${p}.destinationPort.range`,
      );
    }
  });
  it('rejects an inverted range in an egress rule too (the CEL rule is on every range)', () => {
    expectRejected(
      cnp(accept([{ namespaces: {} }], { protocols: [tcp({ number: 80 }), tcp({ range: { start: 2000, end: 1000 } })] })),
      'CNP_PORT_RANGE_START_NOT_BELOW_END',
      'spec.egress[0].protocols[1].tcp.destinationPort.range',
    );
  });
  it('accepts number 1 and 65535, a range 1..65535, and a valid destinationNamedPort', () => {
    expectAccepted(cnp(withProtocols([tcp({ number: 1 }), { udp: { destinationPort: { number: 65535 } } }, { sctp: { destinationPort: { range: { start: 1, end: 65535 } } } }, { destinationNamedPort: 'web' }])));
  });
  it('warns that a destinationNamedPort that is not an IANA_SVC_NAME matches nothing (plain string in the CRD)', () => {
    expectWarning(cnp(withProtocols([{ destinationNamedPort: 'Web_Port' }])), 'NAMED_PORT_NEVER_MATCHES', 'spec.ingress[0].protocols[0].destinationNamedPort');
  });
});

describe('CEL on egress rules: networks/nodes/domainNames peer cannot be set with namedPorts', () => {
  for (const peer of [{ networks: ['10.0.0.0/8'] }, { nodes: {} }, { domainNames: ['example.com'] }]) {
    const k = Object.keys(peer)[0];
    it(`rejects ${k} with destinationNamedPort in the same rule`, () => {
      expectRejected(cnp(accept([{ namespaces: {} }, peer], { protocols: [tcp({ number: 80 }), { destinationNamedPort: 'web' }] })), 'CNP_NAMED_PORT_WITH_NON_POD_PEER', 'spec.egress[0]');
    });
  }
  it('accepts destinationNamedPort with pods and namespaces peers, and networks with numeric ports', () => {
    expectAccepted(
      cnp({
        egress: [
          { action: 'Accept', to: [{ namespaces: {} }, { pods: { podSelector: {} } }], protocols: [{ destinationNamedPort: 'web' }] },
          { action: 'Deny', to: [{ networks: ['0.0.0.0/0'] }], protocols: [tcp({ number: 80 })] },
        ],
      }),
    );
  });
  it('the rule is per rule: a named port in another rule does not count', () => {
    expectAccepted(
      cnp({
        egress: [
          { action: 'Accept', to: [{ namespaces: {} }], protocols: [{ destinationNamedPort: 'web' }] },
          { action: 'Accept', to: [{ networks: ['10.0.0.0/8'] }] },
        ],
      }),
    );
  });
});

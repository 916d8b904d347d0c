/**
 * NetworkPolicy v1 validation. Source of every rule: kubernetes pkg/apis/networking/validation/
 * validation.go (ValidateNetworkPolicySpec / Peer / Port / IPBlock) and apimachinery
 * ValidateLabelSelector, unless a test name says otherwise.
 */
import { describe, expect, it } from 'vitest';
import { expectAccepted, expectNoProblem, expectRejected, expectWarning, np } from './helpers.js';

const ingressPort = (port: Record<string, unknown>) => ({ ingress: [{ ports: [port] }] });
const ingressPeer = (peer: unknown) => ({ ingress: [{ from: [peer] }] });
const egressPeer = (peer: unknown) => ({ egress: [{ to: [peer] }], policyTypes: ['Egress'] });

describe('NetworkPolicy ports (ValidateNetworkPolicyPort)', () => {
  const rejected: [string, Record<string, unknown>, string, string][] = [
    ['protocol not TCP/UDP/SCTP (NotSupported)', { protocol: 'ICMP', port: 80 }, 'PROTOCOL_INVALID', 'spec.ingress[0].ports[0].protocol'],
    ['protocol is case-sensitive: "tcp" is rejected', { protocol: 'tcp', port: 80 }, 'PROTOCOL_INVALID', 'spec.ingress[0].ports[0].protocol'],
    ['numeric port 0 (IsValidPortNum)', { port: 0 }, 'PORT_OUT_OF_RANGE', 'spec.ingress[0].ports[0].port'],
    ['numeric port 65536 (IsValidPortNum)', { port: 65536 }, 'PORT_OUT_OF_RANGE', 'spec.ingress[0].ports[0].port'],
    ['named port longer than 15 (IsValidPortName)', { port: 'a-very-long-port-name' }, 'PORT_NAME_INVALID', 'spec.ingress[0].ports[0].port'],
    ['named port with upper case (IsValidPortName)', { port: 'Http' }, 'PORT_NAME_INVALID', 'spec.ingress[0].ports[0].port'],
    ['named port without a letter: "80" as a string (IsValidPortName)', { port: '80' }, 'PORT_NAME_INVALID', 'spec.ingress[0].ports[0].port'],
    ['named port with "--" (IsValidPortName)', { port: 'my--port' }, 'PORT_NAME_INVALID', 'spec.ingress[0].ports[0].port'],
    ['named port with a leading hyphen (IsValidPortName)', { port: '-http' }, 'PORT_NAME_INVALID', 'spec.ingress[0].ports[0].port'],
    ['named port with a trailing hyphen (IsValidPortName)', { port: 'http-' }, 'PORT_NAME_INVALID', 'spec.ingress[0].ports[0].port'],
    ['endPort without port', { endPort: 90 }, 'NP_ENDPORT_WITHOUT_PORT', 'spec.ingress[0].ports[0].endPort'],
    ['endPort with a named port', { port: 'http', endPort: 90 }, 'NP_ENDPORT_WITH_NAMED_PORT', 'spec.ingress[0].ports[0].endPort'],
    ['endPort < port', { port: 90, endPort: 80 }, 'NP_ENDPORT_BEFORE_PORT', 'spec.ingress[0].ports[0].endPort'],
    ['endPort > 65535 (IsValidPortNum)', { port: 90, endPort: 70000 }, 'PORT_OUT_OF_RANGE', 'spec.ingress[0].ports[0].endPort'],
    ['port of the wrong type (IntOrString)', { port: true }, 'FIELD_TYPE', 'spec.ingress[0].ports[0].port'],
    ['endPort must be an integer (int32)', { port: 80, endPort: '90' }, 'FIELD_TYPE', 'spec.ingress[0].ports[0].endPort'],
    ['unknown field in a port (strict schema)', { port: 80, prot: 'TCP' }, 'FIELD_UNKNOWN', 'spec.ingress[0].ports[0].prot'],
  ];
  it.each(rejected)('rejects %s', (_name, port, code, path) => {
    expectRejected(np(ingressPort(port)), code, path);
  });

  it('accepts the neighbours: TCP/UDP/SCTP, 1 and 65535, a valid name, endPort == port', () => {
    expectAccepted(
      np({
        ingress: [
          {
            ports: [
              { protocol: 'TCP', port: 1 },
              { protocol: 'UDP', port: 65535 },
              { protocol: 'SCTP' },
              { port: 'serve-80-tcp' },
              { port: 'dns' },
              { port: 32000, endPort: 32000 },
              { protocol: 'TCP', port: 32000, endPort: 32768 },
            ],
          },
        ],
      }),
    );
  });

  it('reports the endPort path in an egress rule too', () => {
    expectRejected(np({ egress: [{ ports: [{ port: 100, endPort: 99 }] }] }), 'NP_ENDPORT_BEFORE_PORT', 'spec.egress[0].ports[0].endPort');
  });
});

describe('NetworkPolicy peers (ValidateNetworkPolicyPeer)', () => {
  it('rejects a peer with no field: "must specify a peer"', () => {
    expectRejected(np(ingressPeer({})), 'NP_PEER_EMPTY', 'spec.ingress[0].from[0]');
  });
  it('rejects a peer whose only selector is null (nil pointer in Go)', () => {
    expectRejected(np(egressPeer({ podSelector: null })), 'NP_PEER_EMPTY', 'spec.egress[0].to[0]');
  });
  it('rejects ipBlock with podSelector: "may not specify both ipBlock and another peer"', () => {
    expectRejected(np(ingressPeer({ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} })), 'NP_PEER_IPBLOCK_WITH_SELECTOR', 'spec.ingress[0].from[0]');
  });
  it('rejects ipBlock with namespaceSelector', () => {
    expectRejected(np(egressPeer({ ipBlock: { cidr: '10.0.0.0/8' }, namespaceSelector: {} })), 'NP_PEER_IPBLOCK_WITH_SELECTOR', 'spec.egress[0].to[0]');
  });
  it('accepts podSelector AND namespaceSelector in one peer, and `{}` selectors', () => {
    expectAccepted(np(ingressPeer({ podSelector: {}, namespaceSelector: { matchLabels: { team: 'a' } } })));
  });
  it('rejects an unknown peer field (strict schema)', () => {
    expectRejected(np(ingressPeer({ podSelector: {}, serviceSelector: {} })), 'FIELD_UNKNOWN', 'spec.ingress[0].from[0].serviceSelector');
  });
  it('validates a peer podSelector as a label selector', () => {
    expectRejected(
      np(ingressPeer({ podSelector: { matchExpressions: [{ key: 'a', operator: 'Equals', values: ['b'] }] } })),
      'SELECTOR_OPERATOR_INVALID',
      'spec.ingress[0].from[0].podSelector.matchExpressions[0].operator',
    );
  });
});

describe('NetworkPolicy ipBlock (ValidateIPBlock)', () => {
  it('rejects an ipBlock without cidr (Required)', () => {
    expectRejected(np(ingressPeer({ ipBlock: { except: ['10.0.0.0/24'] } })), 'FIELD_REQUIRED', 'spec.ingress[0].from[0].ipBlock.cidr');
  });
  it('rejects an empty cidr (Required)', () => {
    expectRejected(np(ingressPeer({ ipBlock: { cidr: '' } })), 'FIELD_REQUIRED', 'spec.ingress[0].from[0].ipBlock.cidr');
  });
  const badCidrs = ['10.0.0.0', '10.0.0.0/33', '10.0.0.256/8', 'fd00::/129', 'not-a-cidr', '10.0.0.0/8/8', '010.0.0.0/8'];
  it.each(badCidrs)('rejects the invalid cidr %s (IsValidCIDRForLegacyField)', (c) => {
    expectRejected(np(ingressPeer({ ipBlock: { cidr: c } })), 'CIDR_INVALID', 'spec.ingress[0].from[0].ipBlock.cidr');
  });
  it('rejects an invalid except entry', () => {
    expectRejected(np(ingressPeer({ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16', 'bogus'] } })), 'CIDR_INVALID', 'spec.ingress[0].from[0].ipBlock.except[1]');
  });
  it('accepts host bits set, sloppy parsing as upstream e2e uses it (podIP/4), with a warning naming the prefix', () => {
    const r = expectWarning(np(egressPeer({ ipBlock: { cidr: '10.244.0.10/4', except: ['10.244.0.11/32'] } })), 'CIDR_HOST_BITS_SET', 'spec.egress[0].to[0].ipBlock.cidr');
    expect(r.problems.find((p) => p.code === 'CIDR_HOST_BITS_SET')?.message).toContain('0.0.0.0/4');
  });
  it('accepts IPv6 cidr and except', () => {
    expectNoProblem(np(ingressPeer({ ipBlock: { cidr: 'fd00:10:244::/48', except: ['fd00:10:244:1::/64'] } })), 'CIDR_HOST_BITS_SET');
  });
  const notSubsets: [string, string, string][] = [
    ['outside cidr', '10.0.0.0/8', '11.0.0.0/16'],
    ['equal to cidr (not strict)', '10.0.0.0/8', '10.0.0.0/8'],
    ['wider than cidr', '10.1.0.0/16', '10.0.0.0/8'],
    ['other family', '10.0.0.0/8', 'fd00::/64'],
    ['equal prefix written with host bits', '10.0.0.0/8', '10.1.2.3/8'],
  ];
  it.each(notSubsets)('rejects an except %s: "must be a strict subset of cidr"', (_n, cidr, except) => {
    expectRejected(np(ingressPeer({ ipBlock: { cidr, except: [except] } })), 'NP_EXCEPT_NOT_STRICT_SUBSET', 'spec.ingress[0].from[0].ipBlock.except[0]');
  });
  it('accepts a strict subset in second place and reports the bad one by index', () => {
    expectAccepted(np(ingressPeer({ ipBlock: { cidr: '10.0.0.0/8', except: ['10.0.0.0/9', '10.128.0.0/9'] } })));
    expectRejected(np(ingressPeer({ ipBlock: { cidr: '10.0.0.0/8', except: ['10.0.0.0/9', '11.0.0.0/9'] } })), 'NP_EXCEPT_NOT_STRICT_SUBSET', 'spec.ingress[0].from[0].ipBlock.except[1]');
  });
  it('rejects unknown ipBlock fields', () => {
    expectRejected(np(ingressPeer({ ipBlock: { cidr: '10.0.0.0/8', excepts: [] } })), 'FIELD_UNKNOWN', 'spec.ingress[0].from[0].ipBlock.excepts');
  });
});

describe('NetworkPolicy policyTypes (ValidateNetworkPolicySpec)', () => {
  it('rejects a value other than Ingress/Egress (NotSupported)', () => {
    expectRejected(np({ policyTypes: ['Ingress', 'ingress'] }), 'NP_POLICY_TYPE_INVALID', 'spec.policyTypes[1]');
  });
  it('rejects more than two entries: "may not specify more than two policyTypes"', () => {
    expectRejected(np({ policyTypes: ['Ingress', 'Egress', 'Ingress'] }), 'NP_POLICY_TYPES_TOO_MANY', 'spec.policyTypes');
  });
  it('accepts a duplicate, as upstream does (atomic list, no Duplicate check), with a warning', () => {
    expectWarning(np({ policyTypes: ['Egress', 'Egress'] }), 'NP_POLICY_TYPE_DUPLICATE', 'spec.policyTypes[1]');
  });
  it('accepts [Ingress, Egress], [Egress] and an empty list', () => {
    expectAccepted(np({ policyTypes: ['Ingress', 'Egress'] }));
    expectAccepted(np({ policyTypes: ['Egress'] }));
    expectAccepted(np({ policyTypes: [] }));
  });
});

describe('NetworkPolicy structure (OpenAPI schema, strict)', () => {
  it('rejects an unknown spec field', () => {
    expectRejected(np({ podSelector: {}, ingres: [] }), 'FIELD_UNKNOWN', 'spec.ingres');
  });
  it('rejects an unknown rule field', () => {
    expectRejected(np({ ingress: [{ to: [] }] }), 'FIELD_UNKNOWN', 'spec.ingress[0].to');
  });
  it('rejects an unknown top-level field', () => {
    expectRejected(np({}) + 'specs: {}\n', 'FIELD_UNKNOWN', 'specs');
  });
  it('rejects a rule list that is not a list', () => {
    expectRejected(np({ ingress: { from: [] } }), 'FIELD_TYPE', 'spec.ingress');
  });
  // encoding/json (sigs.k8s.io/json) decodes a null element into the zero rule {}: allow all.
  it('reads a null rule as the empty rule (allow all), as the API server decodes it', () => {
    const r = expectAccepted(np({ policyTypes: ['Egress'], egress: [null] }));
    expect(r.cluster!.networkPolicies[0]!.egress).toEqual([{ peers: null, ports: null }]);
  });
  it('validates spec.podSelector as a label selector', () => {
    expectRejected(np({ podSelector: { matchLabels: { 'bad key!': 'x' } } }), 'LABEL_KEY_INVALID', 'spec.podSelector.matchLabels["bad key!"]');
  });
  it('accepts an absent spec.podSelector (the zero value selects every pod) and a status field', () => {
    expectAccepted(np({ ingress: [{}] }) + 'status: {}\n');
  });
});

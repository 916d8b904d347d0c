/**
 * PalisadeClusterNetworkPolicy (policy.palisade.dev/v1alpha1). Source of every rule: its CRD,
 * deploy/crds/policy.palisade.dev_palisadeclusternetworkpolicies.yaml (OpenAPI schema and
 * x-kubernetes-validations), and docs/extension-kind.md; the CNP rules it inherits are checked
 * for parity with ClusterNetworkPolicy at the end.
 */
import { describe, expect, it } from 'vitest';
import { cnp, expectAccepted, expectRejected, parse, pcnp } from './helpers.js';

const egress = (rule: Record<string, unknown>) => ({ egress: [{ action: 'Deny', to: [{ namespaces: {} }], ...rule }] });
const ingress = (rule: Record<string, unknown>) => ({ ingress: [{ action: 'Deny', from: [{ namespaces: {} }], ...rule }] });
const svc = (namespace: string, name: string) => ({ namespace, name });

describe('PalisadeClusterNetworkPolicy: every new field, accepted', () => {
  it('accepts a policy with every new field', () => {
    expectAccepted(
      pcnp({
        subject: { pods: { namespaceSelector: {}, podSelector: {}, nodeSelector: { matchLabels: { role: 'infra' } } } },
        ingress: [{ action: 'Accept', from: [{ entities: ['Cluster'] }, { nodes: {} }, { networks: ['10.0.0.0/8'] }], protocols: [{ udp: { sourcePort: { number: 53 } } }] }],
        egress: [
          { action: 'Deny', to: [{ services: [svc('default', 'kubernetes')] }], protocols: [{ tcp: { destinationPort: { number: 443 }, sourcePort: { range: { start: 1024, end: 1024 } } } }] },
          { action: 'Redirect', redirect: { service: svc('kube-system', 'metadata-proxy'), port: 8080 }, to: [{ networks: ['169.254.169.254/32'] }] },
        ],
      }),
    );
  });
  it('accepts a nodes subject and a services subject with ingress rules', () => {
    expectAccepted(pcnp({ subject: { nodes: { matchLabels: { dmz: 'true' } } }, ...egress({}) }));
    expectAccepted(pcnp({ subject: { services: [svc('shop', 'web')] }, ...ingress({}) }));
  });
});

describe('PalisadeClusterNetworkPolicy: the new rules, rejected', () => {
  it('rejects two subjects (one of namespaces, pods, nodes, services)', () => {
    expectRejected(pcnp({ subject: { nodes: {}, namespaces: {} } }), 'CNP_SUBJECT_NOT_ONE_OF', 'spec.subject');
  });
  it('rejects nodeSelector on a pods peer (subject only)', () => {
    expectRejected(pcnp(egress({ to: [{ pods: { podSelector: {}, nodeSelector: {} } }] })), 'FIELD_UNKNOWN', 'spec.egress[0].to[0].pods.nodeSelector');
  });
  it('rejects a bad nodeSelector like any label selector', () => {
    expectRejected(pcnp({ subject: { pods: { podSelector: {}, nodeSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } } } }), 'SELECTOR_VALUES_REQUIRED', 'spec.subject.pods.nodeSelector.matchExpressions[0].values');
  });
  it('Redirect requires redirect, and redirect requires Redirect (CEL on egress rules)', () => {
    expectRejected(pcnp(egress({ action: 'Redirect' })), 'PCNP_REDIRECT_MISMATCH', 'spec.egress[0]');
    expectRejected(pcnp(egress({ action: 'Deny', redirect: { service: svc('a', 'b') } })), 'PCNP_REDIRECT_MISMATCH', 'spec.egress[0]');
  });
  it('Redirect is egress only (ingress action enum; no redirect field in ingress rules)', () => {
    expectRejected(pcnp(ingress({ action: 'Redirect' })), 'CNP_ACTION_INVALID', 'spec.ingress[0].action');
    expectRejected(pcnp(ingress({ redirect: { service: svc('a', 'b') } })), 'FIELD_UNKNOWN', 'spec.ingress[0].redirect');
  });
  it('checks the redirect target: a Service reference and a port', () => {
    expectRejected(pcnp(egress({ action: 'Redirect', redirect: {} })), 'FIELD_REQUIRED', 'spec.egress[0].redirect.service');
    expectRejected(pcnp(egress({ action: 'Redirect', redirect: { service: svc('a', 'b'), port: 70000 } })), 'PORT_OUT_OF_RANGE', 'spec.egress[0].redirect.port');
    expectRejected(pcnp(egress({ action: 'Redirect', redirect: { service: svc('a', '1b') } })), 'PCNP_SERVICE_REF_INVALID', 'spec.egress[0].redirect.service.name');
  });
  it('a services subject has ingress rules only (CEL on spec)', () => {
    expectRejected(pcnp({ subject: { services: [svc('a', 'b')] }, ...egress({}) }), 'PCNP_SERVICES_SUBJECT_EGRESS', 'spec.egress');
  });
  it('services: 1..25 entries, namespace a DNS-1123 label, name a DNS-1035 label, no repeats (list-map)', () => {
    expectRejected(pcnp({ subject: { services: [] }, ...ingress({}) }), 'TOO_FEW_ITEMS', 'spec.subject.services');
    expectRejected(pcnp(egress({ to: [{ services: [svc('Bad_NS', 'b')] }] })), 'PCNP_SERVICE_REF_INVALID', 'spec.egress[0].to[0].services[0].namespace');
    expectRejected(pcnp(egress({ to: [{ services: [svc('a', 'b'), svc('a', 'b')] }] })), 'LIST_DUPLICATE', 'spec.egress[0].to[0].services[1]');
    expectRejected(pcnp(egress({ to: [{ services: [{ namespace: 'a' }] }] })), 'FIELD_REQUIRED', 'spec.egress[0].to[0].services[0].name');
    expectRejected(pcnp(egress({ to: [{ services: Array.from({ length: 26 }, (_, i) => svc('a', `s${i}`)) }] })), 'TOO_MANY_ITEMS', 'spec.egress[0].to[0].services');
  });
  it('services peers in ingress too (`from: services`: the Service\'s endpoints as sources, docs/extension-kind.md), checked as in egress', () => {
    expectAccepted(pcnp(ingress({ from: [{ services: [svc('a', 'b')] }] })));
    expectRejected(pcnp(ingress({ from: [{ services: [svc('Bad_NS', 'b')] }] })), 'PCNP_SERVICE_REF_INVALID', 'spec.ingress[0].from[0].services[0].namespace');
    expectRejected(pcnp(ingress({ from: [{ services: [] }] })), 'TOO_FEW_ITEMS', 'spec.ingress[0].from[0].services');
    // still a PalisadeClusterNetworkPolicy field: a ClusterNetworkPolicy ingress peer with it is unknown there
  });
  it('entities: enum Cluster, list-type set', () => {
    expectRejected(pcnp(egress({ to: [{ entities: ['World'] }] })), 'PCNP_ENTITY_INVALID', 'spec.egress[0].to[0].entities[0]');
    expectRejected(pcnp(egress({ to: [{ entities: [] }] })), 'TOO_FEW_ITEMS', 'spec.egress[0].to[0].entities');
    expectRejected(pcnp(egress({ to: [{ entities: ['Cluster', 'Cluster'] }] })), 'TOO_MANY_ITEMS', 'spec.egress[0].to[0].entities');
  });
  it('sourcePort: exactly one of number or range, ports, start <= end (CEL)', () => {
    const sp = (sourcePort: unknown) => pcnp(egress({ protocols: [{ tcp: { sourcePort } }] }));
    expectRejected(sp({}), 'PCNP_SOURCE_PORT_NOT_ONE_OF', 'spec.egress[0].protocols[0].tcp.sourcePort');
    expectRejected(sp({ number: 1, range: { start: 1, end: 2 } }), 'PCNP_SOURCE_PORT_NOT_ONE_OF', 'spec.egress[0].protocols[0].tcp.sourcePort');
    expectRejected(sp({ number: 0 }), 'PORT_OUT_OF_RANGE', 'spec.egress[0].protocols[0].tcp.sourcePort.number');
    expectRejected(sp({ range: { start: 2000, end: 1000 } }), 'PCNP_SOURCE_PORT_RANGE_INVERTED', 'spec.egress[0].protocols[0].tcp.sourcePort.range');
    expectAccepted(sp({ range: { start: 1000, end: 1000 } }));
  });
  it('a tcp/udp/sctp entry sets destinationPort or sourcePort (minProperties 1)', () => {
    expectRejected(pcnp(egress({ protocols: [{ udp: {} }] })), 'FIELD_REQUIRED', 'spec.egress[0].protocols[0].udp');
  });
  it('destinationPort keeps the CNP rule start < end', () => {
    expectRejected(pcnp(egress({ protocols: [{ tcp: { destinationPort: { range: { start: 5, end: 5 } } } }] })), 'CNP_PORT_RANGE_START_NOT_BELOW_END', 'spec.egress[0].protocols[0].tcp.destinationPort.range');
  });
  it('named ports do not go with services or entities peers in egress (extended CNP CEL)', () => {
    expectRejected(pcnp(egress({ to: [{ entities: ['Cluster'] }], protocols: [{ destinationNamedPort: 'web' }] })), 'CNP_NAMED_PORT_WITH_NON_POD_PEER', 'spec.egress[0]');
    expectRejected(pcnp(egress({ to: [{ services: [svc('a', 'b')] }], protocols: [{ destinationNamedPort: 'web' }] })), 'CNP_NAMED_PORT_WITH_NON_POD_PEER', 'spec.egress[0]');
  });
  it('a nodes subject has no named ports in ingress (CEL on spec)', () => {
    expectRejected(pcnp({ subject: { nodes: {} }, ...ingress({ protocols: [{ destinationNamedPort: 'web' }] }) }), 'PCNP_NAMED_PORT_NODE_SUBJECT', 'spec.ingress[0]');
  });
});

describe('the upstream kinds do not read the new fields', () => {
  it('a ClusterNetworkPolicy with a services peer: no known field, fails closed (a newer API)', () => {
    const r = parse(cnp(egress({ to: [{ services: [svc('a', 'b')] }] })));
    expect(r.problems.map((p) => [p.code, p.path])).toEqual([['PEER_UNKNOWN_FAILS_CLOSED', 'spec.egress[0].to[0]']]);
    expect(r.cluster?.clusterPolicies[0]?.egress[0]?.peers[0]?.kind).toBe('unknown');
  });
  it('a ClusterNetworkPolicy with sourcePort, nodeSelector, Redirect or a nodes subject is rejected', () => {
    expectRejected(cnp(egress({ protocols: [{ tcp: { destinationPort: { number: 1 }, sourcePort: { number: 2 } } }] })), 'FIELD_UNKNOWN', 'spec.egress[0].protocols[0].tcp.sourcePort');
    expectRejected(cnp({ subject: { pods: { podSelector: {}, nodeSelector: {} } } }), 'FIELD_UNKNOWN', 'spec.subject.pods.nodeSelector');
    expectRejected(cnp(egress({ action: 'Redirect', redirect: { service: svc('a', 'b') } })), 'CNP_ACTION_INVALID', 'spec.egress[0].action');
    expectRejected(cnp({ subject: { nodes: {} } }), 'FIELD_UNKNOWN', 'spec.subject.nodes');
  });
});

describe('validation parity: a ClusterNetworkPolicy and the same spec as PalisadeClusterNetworkPolicy give the same problems', () => {
  // invalid and warned CNP specs across the CNP rules; the kind-independent parts of each problem must match
  const specs: Record<string, unknown>[] = [
    { tier: 'admin' },
    { priority: 1001 },
    { subject: {} },
    { subject: { pods: { namespaceSelector: {} } } },
    egress({ action: 'Allow' }),
    egress({ name: 'x'.repeat(101) }),
    egress({ to: [] }),
    egress({ to: [{}] }),
    egress({ to: [{ namespaces: {}, pods: { podSelector: {} } }] }),
    egress({ to: [{ networks: ['10.0.0.1/8', 'nope'] }] }),
    egress({ to: [{ domainNames: ['*.*.example.com'] }] }),
    egress({ to: [{ networks: ['10.0.0.0/8'] }], protocols: [{ destinationNamedPort: 'web' }] }),
    egress({ protocols: [{}] }),
    egress({ protocols: [{ tcp: { destinationPort: {} } }] }),
    egress({ protocols: [{ tcp: { destinationPort: { range: { start: 9, end: 3 } } } }] }),
    egress({ protocols: [{ tcp: { destinationPort: { number: 1 } }, udp: { destinationPort: { number: 1 } } }] }),
    egress({ protocols: [{ destinationNamedPort: 'Not_A_Name' }] }),
    ingress({ from: [{ domainNames: ['example.com'] }] }),
    { tier: 'Baseline', ...egress({ action: 'Accept', to: [{ domainNames: ['example.com'] }] }) },
  ];
  it.each(specs.map((s, i) => [i, s] as const))('spec %i', (_i, spec) => {
    const kindless = (y: string) => parse(y).problems.map((p) => ({ code: p.code, severity: p.severity, path: p.path, name: p.object?.name }));
    const upstream = kindless(cnp(spec));
    expect(upstream.length).toBeGreaterThan(0);
    expect(kindless(pcnp(spec))).toEqual(upstream);
  });
});

describe('Service addresses the Cluster entity holds', () => {
  const service = (spec: Record<string, unknown>) =>
    `apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: a}\nspec: ${JSON.stringify({ ports: [{ port: 80 }], ...spec })}\n`;
  it('rejects an externalIPs entry that is not an IP (core ValidateService)', () => {
    expectRejected(service({ externalIPs: ['10.0.0.1', 'nope'] }), 'IP_INVALID', 'spec.externalIPs[1]');
  });
  it('reads externalIPs and status.loadBalancer.ingress IPs', () => {
    const r = expectAccepted(`${service({ clusterIP: '10.96.0.1', externalIPs: ['192.0.2.1'] })}status: {loadBalancer: {ingress: [{ip: 198.51.100.1}, {hostname: lb.example.com}]}}\n`);
    const svc = r.cluster!.services[0]!;
    expect([svc.clusterIPs, svc.externalIPs, svc.loadBalancerIPs].map((l) => (l ?? []).map((a) => a.text))).toEqual([['10.96.0.1'], ['192.0.2.1'], ['198.51.100.1']]);
  });
});

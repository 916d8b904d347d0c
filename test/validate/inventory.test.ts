/**
 * Inventory kinds. Sources: kubernetes pkg/apis/core/validation (validateContainerPorts,
 * validatePodIPs, ValidateService ports / clusterIPs), discovery validation (EndpointSlice
 * addressType and addresses), and the Node address types InternalIP / ExternalIP.
 */
import { describe, expect, it } from 'vitest';
import { doc, expectAccepted, expectRejected } from './helpers.js';

const pod = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) =>
  doc({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'x' }, spec, status });
const ports = (...p: Record<string, unknown>[]) => ({ containers: [{ name: 'c', ports: p }] });
const node = (addresses: unknown[]) => doc({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, status: { addresses } });
const svc = (spec: Record<string, unknown>) => doc({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'x' }, spec });
const slice = (o: Record<string, unknown>) => doc({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 's-1', namespace: 'x' }, ...o });

describe('Pod container ports (validateContainerPorts)', () => {
  const P = 'spec.containers[0].ports[0]';
  it('rejects containerPort 0 and 65536', () => {
    expectRejected(pod(ports({ containerPort: 0 })), 'PORT_OUT_OF_RANGE', `${P}.containerPort`);
    expectRejected(pod(ports({ containerPort: 65536 })), 'PORT_OUT_OF_RANGE', `${P}.containerPort`);
  });
  it('rejects a missing containerPort (Required)', () => {
    expectRejected(pod(ports({ name: 'web' })), 'FIELD_REQUIRED', `${P}.containerPort`);
  });
  it('rejects protocol "tcp" (NotSupported; case-sensitive)', () => {
    expectRejected(pod(ports({ containerPort: 80, protocol: 'tcp' })), 'PROTOCOL_INVALID', `${P}.protocol`);
  });
  it('rejects a port name that is not an IANA_SVC_NAME', () => {
    expectRejected(pod(ports({ containerPort: 80, name: 'serve_80' })), 'PORT_NAME_INVALID', `${P}.name`);
  });
  it('rejects a duplicate port name in one container (Duplicate)', () => {
    expectRejected(pod(ports({ containerPort: 80, name: 'web' }, { containerPort: 81, name: 'web' })), 'POD_PORT_NAME_DUPLICATE', 'spec.containers[0].ports[1].name');
  });
  it('checks initContainers too', () => {
    expectRejected(pod({ initContainers: [{ name: 'i', ports: [{ containerPort: 70000 }] }] }), 'PORT_OUT_OF_RANGE', 'spec.initContainers[0].ports[0].containerPort');
  });
  it('rejects a non-boolean hostNetwork', () => {
    expectRejected(pod({ hostNetwork: 'true' }), 'FIELD_TYPE', 'spec.hostNetwork');
  });
  it('accepts named TCP/UDP/SCTP ports and reads them', () => {
    const r = expectAccepted(pod(ports({ containerPort: 80, name: 'serve-80-tcp' }, { containerPort: 53, name: 'dns', protocol: 'UDP' }, { containerPort: 81, protocol: 'SCTP' })));
    expect(r.cluster?.pods[0]?.containerPorts).toHaveLength(3);
  });
});

describe('Pod IPs (validatePodIPs)', () => {
  it('rejects an invalid podIP', () => {
    expectRejected(pod({}, { podIP: '10.244.1' }), 'IP_INVALID', 'status.podIP');
  });
  it('rejects an invalid podIPs entry', () => {
    expectRejected(pod({}, { podIPs: [{ ip: '10.244.1.5' }, { ip: 'fd00::g' }] }), 'IP_INVALID', 'status.podIPs[1].ip');
  });
  it('rejects two IPs of one family: "may specify no more than one IP for each IP family"', () => {
    expectRejected(pod({}, { podIPs: [{ ip: '10.244.1.5' }, { ip: '10.244.1.6' }] }), 'POD_IPS_FAMILY', 'status.podIPs');
  });
  it('rejects three IPs', () => {
    expectRejected(pod({}, { podIPs: [{ ip: '10.244.1.5' }, { ip: 'fd00:10:244::5' }, { ip: '10.244.1.7' }] }), 'POD_IPS_FAMILY', 'status.podIPs');
  });
  it('rejects podIP different from podIPs[0] (they are the same field in v1)', () => {
    expectRejected(pod({}, { podIP: '10.244.1.9', podIPs: [{ ip: '10.244.1.5' }] }), 'POD_IP_MISMATCH', 'status.podIP');
  });
  it('accepts a dual-stack pair with a matching podIP', () => {
    const r = expectAccepted(pod({}, { podIP: '10.244.1.5', podIPs: [{ ip: '10.244.1.5' }, { ip: 'fd00:10:244::5' }] }));
    expect(r.cluster?.pods[0]?.ips.map((i) => i.text)).toEqual(['10.244.1.5', 'fd00:10:244::5']);
  });
});

describe('Node addresses', () => {
  it('rejects an InternalIP that is not an IP', () => {
    expectRejected(node([{ type: 'InternalIP', address: 'node-1' }]), 'NODE_ADDRESS_INVALID', 'status.addresses[0].address');
  });
  it('rejects an ExternalIP that is not an IP', () => {
    expectRejected(node([{ type: 'Hostname', address: 'node-1' }, { type: 'ExternalIP', address: '300.1.1.1' }]), 'NODE_ADDRESS_INVALID', 'status.addresses[1].address');
  });
  it('accepts Hostname entries and IPv4/IPv6 addresses', () => {
    expectAccepted(node([{ type: 'Hostname', address: 'node-1' }, { type: 'InternalIP', address: '172.18.0.2' }, { type: 'InternalIP', address: 'fc00:f853:ccd:e793::2' }]));
  });
});

describe('Service', () => {
  it('rejects port 0 (IsValidPortNum)', () => {
    expectRejected(svc({ ports: [{ port: 0 }] }), 'PORT_OUT_OF_RANGE', 'spec.ports[0].port');
  });
  it('rejects a port name that is not a DNS-1123 label', () => {
    expectRejected(svc({ ports: [{ name: 'Web', port: 80 }] }), 'SERVICE_PORT_NAME_INVALID', 'spec.ports[0].name');
  });
  it('rejects a bad targetPort name and protocol', () => {
    expectRejected(svc({ ports: [{ port: 80, targetPort: 'web_port' }] }), 'PORT_NAME_INVALID', 'spec.ports[0].targetPort');
    expectRejected(svc({ ports: [{ port: 80, protocol: 'HTTP' }] }), 'PROTOCOL_INVALID', 'spec.ports[0].protocol');
  });
  it('rejects an invalid clusterIP', () => {
    expectRejected(svc({ clusterIP: '10.96.0.300' }), 'IP_INVALID', 'spec.clusterIP');
  });
  it('rejects an invalid selector label value', () => {
    expectRejected(svc({ selector: { app: 'a b' } }), 'LABEL_VALUE_INVALID', 'spec.selector["app"]');
  });
  it('accepts a headless service and named targetPort', () => {
    expectAccepted(svc({ clusterIP: 'None', clusterIPs: ['None'], ports: [{ name: 'http', port: 80, targetPort: 'web' }], selector: { app: 'web' } }));
  });
});

describe('EndpointSlice', () => {
  it('rejects an unknown addressType', () => {
    expectRejected(slice({ addressType: 'IP' }), 'ENDPOINTSLICE_ADDRESS_TYPE_INVALID', 'addressType');
  });
  it('rejects a missing addressType (required)', () => {
    expectRejected(slice({}), 'FIELD_REQUIRED', 'addressType');
  });
  it('rejects an address of the wrong family', () => {
    expectRejected(slice({ addressType: 'IPv4', endpoints: [{ addresses: ['fd00::1'] }] }), 'IP_INVALID', 'endpoints[0].addresses[0]');
  });
  it('rejects an endpoint without addresses (minItems 1)', () => {
    expectRejected(slice({ addressType: 'IPv4', endpoints: [{ addresses: [] }] }), 'TOO_FEW_ITEMS', 'endpoints[0].addresses');
  });
  it('rejects a port of 65536', () => {
    expectRejected(slice({ addressType: 'IPv4', ports: [{ port: 65536 }] }), 'PORT_OUT_OF_RANGE', 'ports[0].port');
  });
  it('accepts a valid slice', () => {
    expectAccepted(slice({ addressType: 'IPv6', endpoints: [{ addresses: ['fd00:10:244::5'] }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }));
  });
});

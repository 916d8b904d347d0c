/**
 * Inventory kinds (Namespace, Pod, Node, Service, EndpointSlice): the fields Palisade reads,
 * checked as kubernetes pkg/apis/core/validation and discovery/validation do, and nothing
 * more. Unknown fields are not checked here (these schemas are large and Palisade ignores
 * what it does not read).
 * - Pod: container ports (validateContainerPorts: containerPort 1..65535, protocol, IANA_SVC_NAME
 *   names unique per container), hostNetwork boolean, status.podIP / podIPs valid IPs, at most
 *   one per family (validatePodIPs), podIPs[0] equal to podIP when both are set.
 * - Node: an InternalIP / ExternalIP address must be an IP.
 * - Service: ports (port, protocol, DNS-1123 label names, targetPort, nodePort), cluster IPs,
 *   external IPs, status.loadBalancer.ingress[].ip, selector labels (all read by `services`
 *   peers and subjects, docs/extension-semantics.md).
 * - EndpointSlice: addressType, endpoint addresses of that family, conditions (booleans; every
 *   listed endpoint counts whatever they say), ports.
 * Pure.
 * Cost: one pass over the input, linear in its size. Thread-safety: pure functions, no shared
 * state; problems go only to the Reporter passed in.
 */
import type { Reporter } from './reporter.js';
import type { KnownKind } from '../model/kinds.js';
import { parseIp, type IpAddr } from '../model/ip.js';
import { arrayAt, boolAt, field, index, intAt, objectAt, present, stringAt } from './fields.js';
import { checkPortName, checkPortNumber, checkProtocol } from './ports.js';
import { dns1123Label } from './names.js';
import { validateLabelMap } from './selectors.js';

export function validateInventoryObject(r: Reporter, kind: KnownKind): void {
  switch (kind) {
    case 'Pod':
      return validatePod(r);
    case 'Node':
      return validateNode(r);
    case 'Service':
      return validateService(r);
    case 'EndpointSlice':
      return validateEndpointSlice(r);
    default:
      return; // Namespace: metadata only
  }
}

function checkIp(r: Reporter, v: unknown, path: string, isRequired = false): IpAddr | undefined {
  const s = stringAt(r, v, path, isRequired);
  if (s === undefined) return undefined;
  const ip = parseIp(s);
  if (!ip) r.error('IP_INVALID', path, `${JSON.stringify(s)} is not a valid IPv4 or IPv6 address`);
  return ip ?? undefined;
}

function validatePod(r: Reporter): void {
  const spec = objectAt(r, r.obj.spec, 'spec');
  if (spec) {
    boolAt(r, spec.hostNetwork, 'spec.hostNetwork');
    stringAt(r, spec.nodeName, 'spec.nodeName');
    for (const list of ['containers', 'initContainers'] as const) {
      const listPath = field('spec', list);
      (arrayAt(r, spec[list], listPath) ?? []).forEach((c, i) => {
        const cPath = index(listPath, i);
        const container = objectAt(r, c, cPath, true);
        if (container) validateContainerPorts(r, container.ports, field(cPath, 'ports'));
      });
    }
  }
  const status = objectAt(r, r.obj.status, 'status');
  if (!status) return;
  const podIP = checkIp(r, status.podIP, 'status.podIP');
  const ipsPath = 'status.podIPs';
  const list = arrayAt(r, status.podIPs, ipsPath) ?? [];
  const ips: IpAddr[] = [];
  list.forEach((e, i) => {
    const o = objectAt(r, e, index(ipsPath, i), true);
    if (!o) return;
    const ip = checkIp(r, o.ip, field(index(ipsPath, i), 'ip'), true);
    if (ip) ips.push(ip);
  });
  if (ips.length === list.length && list.length > 1) {
    const families = new Set(ips.map((ip) => ip.family));
    if (list.length > 2 || families.size !== list.length) {
      r.error('POD_IPS_FAMILY', ipsPath, 'may specify no more than one IP for each IP family');
    }
  }
  const first = ips[0];
  if (podIP && first && list.length === ips.length && (podIP.family !== first.family || podIP.value !== first.value)) {
    r.error('POD_IP_MISMATCH', 'status.podIP', `${podIP.text} differs from status.podIPs[0] ${first.text}; the two must agree`);
  }
}

/** validateContainerPorts (per container). */
function validateContainerPorts(r: Reporter, v: unknown, path: string): void {
  const names = new Set<string>();
  (arrayAt(r, v, path) ?? []).forEach((pv, i) => {
    const pPath = index(path, i);
    const p = objectAt(r, pv, pPath, true);
    if (!p) return;
    const name = stringAt(r, p.name, field(pPath, 'name'));
    if (name !== undefined && name !== '' && checkPortName(r, name, field(pPath, 'name'))) {
      if (names.has(name)) r.error('POD_PORT_NAME_DUPLICATE', field(pPath, 'name'), `port name ${JSON.stringify(name)} is used twice in this container`);
      names.add(name);
    }
    const port = intAt(r, p.containerPort, field(pPath, 'containerPort'), true);
    if (port !== undefined) checkPortNumber(r, port, field(pPath, 'containerPort'));
    const hostPort = intAt(r, p.hostPort, field(pPath, 'hostPort'));
    if (hostPort !== undefined && hostPort !== 0) checkPortNumber(r, hostPort, field(pPath, 'hostPort'));
    const protocol = stringAt(r, p.protocol, field(pPath, 'protocol'));
    if (protocol !== undefined) checkProtocol(r, protocol, field(pPath, 'protocol'));
  });
}

const IP_ADDRESS_TYPES = ['InternalIP', 'ExternalIP'];

function validateNode(r: Reporter): void {
  const status = objectAt(r, r.obj.status, 'status');
  if (!status) return;
  (arrayAt(r, status.addresses, 'status.addresses') ?? []).forEach((a, i) => {
    const aPath = index('status.addresses', i);
    const o = objectAt(r, a, aPath, true);
    if (!o) return;
    const type = stringAt(r, o.type, field(aPath, 'type'), true);
    const address = stringAt(r, o.address, field(aPath, 'address'), true);
    if (type !== undefined && address !== undefined && IP_ADDRESS_TYPES.includes(type) && !parseIp(address)) {
      r.error('NODE_ADDRESS_INVALID', field(aPath, 'address'), `a ${type} address must be an IP address, got ${JSON.stringify(address)}`);
    }
  });
}

function validateService(r: Reporter): void {
  const spec = objectAt(r, r.obj.spec, 'spec');
  if (!spec) return;
  validateLabelMap(r, spec.selector, 'spec.selector');
  const clusterIP = stringAt(r, spec.clusterIP, 'spec.clusterIP');
  if (clusterIP !== undefined && clusterIP !== '' && clusterIP !== 'None') checkIp(r, clusterIP, 'spec.clusterIP');
  (arrayAt(r, spec.clusterIPs, 'spec.clusterIPs', { maxItems: 2 }) ?? []).forEach((ip, i) => {
    if (ip !== 'None' && ip !== '') checkIp(r, ip, index('spec.clusterIPs', i), true);
  });
  // the Cluster entity holds them (model/entities.ts): an address that is not one would be dropped silently
  (arrayAt(r, spec.externalIPs, 'spec.externalIPs') ?? []).forEach((ip, i) => void checkIp(r, ip, index('spec.externalIPs', i), true));
  const status = objectAt(r, r.obj.status, 'status');
  const lb = status ? objectAt(r, status.loadBalancer, 'status.loadBalancer') : undefined;
  const lbPath = 'status.loadBalancer.ingress';
  (lb ? arrayAt(r, lb.ingress, lbPath) ?? [] : []).forEach((ev, i) => {
    const e = objectAt(r, ev, index(lbPath, i), true);
    if (e) checkIp(r, e.ip, field(index(lbPath, i), 'ip'));
  });
  (arrayAt(r, spec.ports, 'spec.ports') ?? []).forEach((pv, i) => {
    const pPath = index('spec.ports', i);
    const p = objectAt(r, pv, pPath, true);
    if (!p) return;
    const name = stringAt(r, p.name, field(pPath, 'name'));
    if (name !== undefined && name !== '') {
      const errs = dns1123Label(name);
      if (errs.length > 0) r.error('SERVICE_PORT_NAME_INVALID', field(pPath, 'name'), `${JSON.stringify(name)}: ${errs.join('; ')}`);
    }
    const port = intAt(r, p.port, field(pPath, 'port'), true);
    if (port !== undefined) checkPortNumber(r, port, field(pPath, 'port'));
    const protocol = stringAt(r, p.protocol, field(pPath, 'protocol'));
    if (protocol !== undefined) checkProtocol(r, protocol, field(pPath, 'protocol'));
    const tp = p.targetPort;
    const tpPath = field(pPath, 'targetPort');
    if (typeof tp === 'number' && Number.isInteger(tp)) checkPortNumber(r, tp, tpPath);
    else if (typeof tp === 'string') checkPortName(r, tp, tpPath);
    else if (present(tp)) r.error('FIELD_TYPE', tpPath, 'must be an integer port number or a port name');
    const nodePort = intAt(r, p.nodePort, field(pPath, 'nodePort'));
    if (nodePort !== undefined && nodePort !== 0) checkPortNumber(r, nodePort, field(pPath, 'nodePort'));
  });
}

const ADDRESS_TYPES = ['IPv4', 'IPv6', 'FQDN'];

function validateEndpointSlice(r: Reporter): void {
  const addressType = stringAt(r, r.obj.addressType, 'addressType', true);
  if (addressType !== undefined && !ADDRESS_TYPES.includes(addressType)) {
    r.error('ENDPOINTSLICE_ADDRESS_TYPE_INVALID', 'addressType', `${JSON.stringify(addressType)} is not supported: must be IPv4, IPv6 or FQDN`);
  }
  (arrayAt(r, r.obj.endpoints, 'endpoints') ?? []).forEach((ev, i) => {
    const ePath = index('endpoints', i);
    const e = objectAt(r, ev, ePath, true);
    if (!e) return;
    const cPath = field(ePath, 'conditions');
    const conditions = objectAt(r, e.conditions, cPath);
    if (conditions) for (const c of ['ready', 'serving', 'terminating']) boolAt(r, conditions[c], field(cPath, c));
    const aPath = field(ePath, 'addresses');
    (arrayAt(r, e.addresses, aPath, { required: true, minItems: 1, maxItems: 100 }) ?? []).forEach((a, j) => {
      if (addressType !== 'IPv4' && addressType !== 'IPv6') {
        stringAt(r, a, index(aPath, j), true);
        return;
      }
      const ip = checkIp(r, a, index(aPath, j), true);
      const want = addressType === 'IPv4' ? 4 : 6;
      if (ip && ip.family !== want) r.error('IP_INVALID', index(aPath, j), `${ip.text} is not an ${addressType} address (addressType)`);
    });
  });
  (arrayAt(r, r.obj.ports, 'ports') ?? []).forEach((pv, i) => {
    const pPath = index('ports', i);
    const p = objectAt(r, pv, pPath, true);
    if (!p) return;
    const port = intAt(r, p.port, field(pPath, 'port'));
    if (port !== undefined) checkPortNumber(r, port, field(pPath, 'port'));
    const protocol = stringAt(r, p.protocol, field(pPath, 'protocol'));
    if (protocol !== undefined) checkProtocol(r, protocol, field(pPath, 'protocol'));
    stringAt(r, p.name, field(pPath, 'name'));
  });
}

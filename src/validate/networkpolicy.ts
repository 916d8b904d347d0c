/**
 * NetworkPolicy (networking.k8s.io/v1) spec, as kubernetes pkg/apis/networking/validation
 * validation.go checks it (ValidateNetworkPolicySpec, ValidateNetworkPolicyPeer,
 * ValidateNetworkPolicyPort, ValidateIPBlock), plus the structural checks of the OpenAPI schema
 * (JSON types; unknown fields are errors, as with `kubectl apply --validate=strict`).
 *
 * Deliberate differences: duplicate policyTypes are accepted as upstream does, with a warning;
 * IPv4 octets with leading zeros are rejected (upstream's strict IP validation for new
 * objects); an `except` of the other family (even IPv4-mapped IPv6) is never a subset.
 * Pure.
 * Cost: one pass over the input, linear in its size. Thread-safety: pure functions, no shared
 * state; problems go only to the Reporter passed in.
 */
import type { Reporter } from './reporter.js';
import { cidrCovers } from '../model/ip.js';
import {
  TOP_LEVEL_FIELDS,
  arrayAt,
  field,
  index,
  intAt,
  objectAt,
  onlyFields,
  present,
  stringAt,
} from './fields.js';
import { validateLabelSelector } from './selectors.js';
import { checkSloppyCidr } from './cidr.js';
import { checkPortName, checkPortNumber, checkProtocol } from './ports.js';

export function validateNetworkPolicy(r: Reporter): void {
  onlyFields(r, r.obj, '', TOP_LEVEL_FIELDS);
  // spec is optional in the Go type: an absent spec is the zero value (select all, Ingress).
  const spec = objectAt(r, r.obj.spec, 'spec');
  if (!spec) return;
  onlyFields(r, spec, 'spec', ['podSelector', 'ingress', 'egress', 'policyTypes']);
  validateLabelSelector(r, spec.podSelector, 'spec.podSelector');
  validateRules(r, spec.ingress, 'spec.ingress', 'from');
  validateRules(r, spec.egress, 'spec.egress', 'to');
  validatePolicyTypes(r, spec.policyTypes);
}

function validateRules(r: Reporter, v: unknown, path: string, peersField: 'from' | 'to'): void {
  (arrayAt(r, v, path) ?? []).forEach((rv, i) => {
    const rulePath = index(path, i);
    // A null element decodes to the zero rule `{}` (allow all), as encoding/json does upstream.
    if (rv === null) return;
    const rule = objectAt(r, rv, rulePath, true);
    if (!rule) return;
    onlyFields(r, rule, rulePath, [peersField, 'ports']);
    const portsPath = field(rulePath, 'ports');
    (arrayAt(r, rule.ports, portsPath) ?? []).forEach((p, j) => validatePort(r, p, index(portsPath, j)));
    const peersPath = field(rulePath, peersField);
    (arrayAt(r, rule[peersField], peersPath) ?? []).forEach((p, j) => validatePeer(r, p, index(peersPath, j)));
  });
}

/** ValidateNetworkPolicyPort. */
function validatePort(r: Reporter, v: unknown, path: string): void {
  const p = objectAt(r, v, path, true);
  if (!p) return;
  onlyFields(r, p, path, ['protocol', 'port', 'endPort']);
  const protocol = stringAt(r, p.protocol, field(path, 'protocol'));
  if (protocol !== undefined) checkProtocol(r, protocol, field(path, 'protocol'));

  const portPath = field(path, 'port');
  const endPath = field(path, 'endPort');
  const port = p.port;
  const endPort = intAt(r, p.endPort, endPath);
  if (!present(port)) {
    if (endPort !== undefined) r.error('NP_ENDPORT_WITHOUT_PORT', endPath, 'may not be specified when `port` is not specified');
    return;
  }
  if (typeof port === 'string') {
    checkPortName(r, port, portPath);
    if (endPort !== undefined) r.error('NP_ENDPORT_WITH_NAMED_PORT', endPath, 'may not be specified when `port` is non-numeric');
    return;
  }
  if (typeof port !== 'number' || !Number.isInteger(port)) {
    r.error('FIELD_TYPE', portPath, 'must be an integer port number or a port name');
    return;
  }
  checkPortNumber(r, port, portPath);
  if (endPort !== undefined) {
    if (endPort < port) r.error('NP_ENDPORT_BEFORE_PORT', endPath, `must be greater than or equal to \`port\` (${endPort} < ${port})`);
    checkPortNumber(r, endPort, endPath);
  }
}

/** ValidateNetworkPolicyPeer. */
function validatePeer(r: Reporter, v: unknown, path: string): void {
  const peer = objectAt(r, v, path, true);
  if (!peer) return;
  onlyFields(r, peer, path, ['podSelector', 'namespaceSelector', 'ipBlock']);
  let count = 0;
  if (present(peer.podSelector)) {
    count++;
    validateLabelSelector(r, peer.podSelector, field(path, 'podSelector'));
  }
  if (present(peer.namespaceSelector)) {
    count++;
    validateLabelSelector(r, peer.namespaceSelector, field(path, 'namespaceSelector'));
  }
  if (present(peer.ipBlock)) {
    count++;
    validateIpBlock(r, peer.ipBlock, field(path, 'ipBlock'));
  }
  if (count === 0) {
    r.error('NP_PEER_EMPTY', path, 'must specify a peer: podSelector, namespaceSelector and/or ipBlock');
  } else if (count > 1 && present(peer.ipBlock)) {
    r.error('NP_PEER_IPBLOCK_WITH_SELECTOR', path, 'may not specify both ipBlock and another peer');
  }
}

/** ValidateIPBlock: cidr required and valid; every except a strict subset of cidr. */
function validateIpBlock(r: Reporter, v: unknown, path: string): void {
  const b = objectAt(r, v, path);
  if (!b) return;
  onlyFields(r, b, path, ['cidr', 'except']);
  const cidrPath = field(path, 'cidr');
  const text = stringAt(r, b.cidr, cidrPath);
  if (text === undefined || text === '') {
    if (!present(b.cidr) || text === '') r.error('FIELD_REQUIRED', cidrPath, 'is required');
    return;
  }
  const cidr = checkSloppyCidr(r, text, cidrPath);
  if (!cidr) return;
  const exceptPath = field(path, 'except');
  (arrayAt(r, b.except, exceptPath) ?? []).forEach((e, i) => {
    const ePath = index(exceptPath, i);
    const et = stringAt(r, e, ePath, true);
    if (et === undefined) return;
    const ex = checkSloppyCidr(r, et, ePath);
    if (!ex) return;
    if (!cidrCovers(cidr, ex) || ex.prefixLen <= cidr.prefixLen) {
      r.error('NP_EXCEPT_NOT_STRICT_SUBSET', ePath, `${et} must be a strict subset of \`cidr\` ${text} (same family, inside it, longer prefix)`);
    }
  });
}

/** ValidateNetworkPolicySpec, policyTypes part. */
function validatePolicyTypes(r: Reporter, v: unknown): void {
  const path = 'spec.policyTypes';
  const types = arrayAt(r, v, path);
  if (!types) return;
  if (types.length > 2) {
    r.error('NP_POLICY_TYPES_TOO_MANY', path, `may not specify more than two policyTypes (has ${types.length})`);
    return;
  }
  const seen = new Set<string>();
  types.forEach((t, i) => {
    const s = stringAt(r, t, index(path, i), true);
    if (s === undefined) return;
    if (s !== 'Ingress' && s !== 'Egress') {
      r.error('NP_POLICY_TYPE_INVALID', index(path, i), `${JSON.stringify(s)} is not supported: must be Ingress or Egress (case-sensitive)`);
    } else if (seen.has(s)) {
      r.warn('NP_POLICY_TYPE_DUPLICATE', index(path, i), `${s} is listed twice (accepted by the API server; has no effect)`);
    }
    seen.add(s);
  });
}

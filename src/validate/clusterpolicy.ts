/**
 * ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2) and the v1alpha1
 * AdminNetworkPolicy / BaselineAdminNetworkPolicy, as their CRDs validate them
 * (network-policy-api CRDs, experimental channel: `nodes`, `domainNames`, `namedPort` accepted):
 * the OpenAPI schema (types, enums, min/max, minItems/maxItems, exactly-one-of via
 * minProperties/maxProperties, list-type set) and every `x-kubernetes-validations` CEL rule.
 *
 * Decisions beyond the CRDs (docs/problem-codes.md):
 * - A peer or protocol entry with no field this API version knows (`{}`, or only a field of a
 *   newer version) is accepted with a warning: it fails closed (NPEP-187; v1alpha1
 *   "fail closed" doc). Two known fields, or a known field beside an unknown one, are errors.
 * - A peer field that exists in this API family but not in this position (`nodes` in an
 *   ingress peer, `domainNames` in a BANP) is an error: normalization would otherwise read it.
 * - domainNames outside an Accept/Allow rule is an error (the field's doc: "only supported for
 *   Accept rules"; no CEL enforces it); in the Baseline tier it is a warning (NPEP-133 after
 *   PR #366 scopes FQDN to the Admin tier; neither the CRD nor the Go types enforce it).
 * - Label selectors are checked as apimachinery does (selectors.ts), though the CRD does not.
 * - v1alpha1 `protocol` (no enum in the CRD) must be TCP, UDP or SCTP; a v1alpha1 portRange
 *   with start > end (no CEL in v1alpha1) is accepted with a warning: it matches no port.
 * Pure.
 * Cost: one pass over the input, linear in its size. Thread-safety: pure functions, no shared
 * state; problems go only to the Reporter passed in.
 */
import type { Reporter } from './reporter.js';
import type { KnownKind } from '../model/kinds.js';
import {
  TOP_LEVEL_FIELDS,
  arrayAt,
  field,
  index,
  intAt,
  isObj,
  objectAt,
  onlyFields,
  presentKeys,
  stringAt,
  type Obj,
} from './fields.js';
import { validateLabelSelector } from './selectors.js';
import { checkCelCidr } from './cidr.js';
import { checkPortNumber, checkProtocol } from './ports.js';
import { portName } from './names.js';

type ClusterKind = Extract<KnownKind, 'ClusterNetworkPolicy' | 'AdminNetworkPolicy' | 'BaselineAdminNetworkPolicy'>;

/** What differs between the three CRDs. */
interface Flavor {
  readonly kind: ClusterKind;
  readonly v1alpha1: boolean;
  readonly specFields: readonly string[];
  /** maxItems of ingress/egress, from/to and protocols/ports */
  readonly maxItems: number;
  readonly actions: readonly string[];
  readonly acceptAction: string;
  readonly protocolsField: 'protocols' | 'ports';
  readonly protocolFields: readonly string[];
  readonly namedPortField: string;
  readonly ingressPeerFields: readonly string[];
  readonly egressPeerFields: readonly string[];
  /** v1alpha1 NamespacedPod requires namespaceSelector; v1alpha2 only podSelector */
  readonly podsRequireNamespaceSelector: boolean;
}

const ALL_PEER_FIELDS = ['namespaces', 'pods', 'nodes', 'networks', 'domainNames'];

const FLAVORS: Readonly<Record<ClusterKind, Flavor>> = {
  ClusterNetworkPolicy: {
    kind: 'ClusterNetworkPolicy',
    v1alpha1: false,
    specFields: ['tier', 'priority', 'subject', 'ingress', 'egress'],
    maxItems: 25,
    actions: ['Accept', 'Deny', 'Pass'],
    acceptAction: 'Accept',
    protocolsField: 'protocols',
    protocolFields: ['tcp', 'udp', 'sctp', 'destinationNamedPort'],
    namedPortField: 'destinationNamedPort',
    ingressPeerFields: ['namespaces', 'pods'],
    egressPeerFields: ['namespaces', 'pods', 'nodes', 'networks', 'domainNames'],
    podsRequireNamespaceSelector: false,
  },
  AdminNetworkPolicy: {
    kind: 'AdminNetworkPolicy',
    v1alpha1: true,
    specFields: ['priority', 'subject', 'ingress', 'egress'],
    maxItems: 100,
    actions: ['Allow', 'Deny', 'Pass'],
    acceptAction: 'Allow',
    protocolsField: 'ports',
    protocolFields: ['portNumber', 'portRange', 'namedPort'],
    namedPortField: 'namedPort',
    ingressPeerFields: ['namespaces', 'pods'],
    egressPeerFields: ['namespaces', 'pods', 'nodes', 'networks', 'domainNames'],
    podsRequireNamespaceSelector: true,
  },
  BaselineAdminNetworkPolicy: {
    kind: 'BaselineAdminNetworkPolicy',
    v1alpha1: true,
    specFields: ['subject', 'ingress', 'egress'],
    maxItems: 100,
    actions: ['Allow', 'Deny'],
    acceptAction: 'Allow',
    protocolsField: 'ports',
    protocolFields: ['portNumber', 'portRange', 'namedPort'],
    namedPortField: 'namedPort',
    ingressPeerFields: ['namespaces', 'pods'],
    egressPeerFields: ['namespaces', 'pods', 'nodes', 'networks'],
    podsRequireNamespaceSelector: true,
  },
};

/** networks / domainNames: MinItems 1, MaxItems 25 in every version. */
const PEER_LIST_MAX = 25;
const RULE_NAME_MAX = 100;
/** DomainName pattern, verbatim from the CRD (including its `A-z` ranges). */
const DOMAIN_NAME = /^(\*\.)?([a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?$/;

export function validateClusterPolicy(r: Reporter, kind: KnownKind): void {
  const f = FLAVORS[kind as ClusterKind];
  if (!f) return;
  onlyFields(r, r.obj, '', TOP_LEVEL_FIELDS);

  if (f.kind === 'BaselineAdminNetworkPolicy') {
    // CEL on the root: self.metadata.name == 'default'
    const name = isObj(r.obj.metadata) ? r.obj.metadata.name : undefined;
    if (typeof name === 'string' && name !== 'default') {
      r.error('BANP_NAME_NOT_DEFAULT', 'metadata.name', `a BaselineAdminNetworkPolicy must be named "default" (a singleton), not ${JSON.stringify(name)}`);
    }
  }

  const spec = objectAt(r, r.obj.spec, 'spec', true);
  if (!spec) return;
  onlyFields(r, spec, 'spec', f.specFields);

  let tier: string | undefined;
  if (f.kind === 'ClusterNetworkPolicy') {
    tier = stringAt(r, spec.tier, 'spec.tier', true);
    if (tier !== undefined && tier !== 'Admin' && tier !== 'Baseline') {
      r.error('CNP_TIER_INVALID', 'spec.tier', `${JSON.stringify(tier)} is not supported: must be Admin or Baseline`);
    }
  } else {
    tier = f.kind === 'AdminNetworkPolicy' ? 'Admin' : 'Baseline';
  }
  if (f.kind !== 'BaselineAdminNetworkPolicy') {
    const priority = intAt(r, spec.priority, 'spec.priority', true);
    if (priority !== undefined && (priority < 0 || priority > 1000)) {
      r.error('CNP_PRIORITY_OUT_OF_RANGE', 'spec.priority', `must be between 0 and 1000, inclusive (got ${priority})`);
    }
  }

  validateSubject(r, spec.subject, f);
  const ctx = { f, tier };
  for (const dir of ['ingress', 'egress'] as const) {
    const path = `spec.${dir}`;
    (arrayAt(r, spec[dir], path, { maxItems: f.maxItems }) ?? []).forEach((rule, i) => validateRule(r, rule, index(path, i), dir, ctx));
  }
}

function validateSubject(r: Reporter, v: unknown, f: Flavor): void {
  const path = 'spec.subject';
  const s = objectAt(r, v, path, true);
  if (!s) return;
  onlyFields(r, s, path, ['namespaces', 'pods']);
  const known = presentKeys(s).filter((k) => k === 'namespaces' || k === 'pods');
  if (known.length !== 1) {
    r.error('CNP_SUBJECT_NOT_ONE_OF', path, `must set exactly one of namespaces or pods (has ${known.length === 0 ? 'none' : known.join(' and ')})`);
  }
  validateLabelSelector(r, s.namespaces, field(path, 'namespaces'));
  validatePodsSelector(r, s.pods, field(path, 'pods'), f);
}

/** NamespacedPod: podSelector required; namespaceSelector required in v1alpha1 only. */
function validatePodsSelector(r: Reporter, v: unknown, path: string, f: Flavor): void {
  const p = objectAt(r, v, path);
  if (!p) return;
  onlyFields(r, p, path, ['namespaceSelector', 'podSelector']);
  validateLabelSelector(r, p.namespaceSelector, field(path, 'namespaceSelector'), f.podsRequireNamespaceSelector);
  validateLabelSelector(r, p.podSelector, field(path, 'podSelector'), true);
}

interface Ctx {
  readonly f: Flavor;
  readonly tier: string | undefined;
}

function validateRule(r: Reporter, v: unknown, path: string, dir: 'ingress' | 'egress', ctx: Ctx): void {
  const { f } = ctx;
  const rule = objectAt(r, v, path, true);
  if (!rule) return;
  const peersField = dir === 'ingress' ? 'from' : 'to';
  onlyFields(r, rule, path, ['name', 'action', peersField, f.protocolsField]);

  const name = stringAt(r, rule.name, field(path, 'name'));
  if (name !== undefined && name.length > RULE_NAME_MAX) {
    r.error('CNP_RULE_NAME_TOO_LONG', field(path, 'name'), `must be no more than ${RULE_NAME_MAX} characters, has ${name.length}`);
  }
  const action = stringAt(r, rule.action, field(path, 'action'), true);
  if (action !== undefined && !f.actions.includes(action)) {
    r.error('CNP_ACTION_INVALID', field(path, 'action'), `${JSON.stringify(action)} is not supported for a ${f.kind} rule: must be ${f.actions.join(', ')}`);
  }

  const peersPath = field(path, peersField);
  const peers = arrayAt(r, rule[peersField], peersPath, { required: true, minItems: 1, maxItems: f.maxItems }) ?? [];
  const allowed = dir === 'ingress' ? f.ingressPeerFields : f.egressPeerFields;
  peers.forEach((p, i) => validatePeer(r, p, index(peersPath, i), allowed, action, ctx));

  const protoPath = field(path, f.protocolsField);
  const protocols = arrayAt(r, rule[f.protocolsField], protoPath, { minItems: 1, maxItems: f.maxItems }) ?? [];
  protocols.forEach((p, i) => (f.v1alpha1 ? validateV1alpha1Port(r, p, index(protoPath, i), f) : validateProtocol(r, p, index(protoPath, i), f)));

  // CEL on egress rules: !(self.to.exists(peer, has(peer.networks) || has(peer.nodes) [|| has(peer.domainNames)])
  //   && has(self.protocols) && self.protocols.exists(protocol, has(protocol.destinationNamedPort)))
  if (dir === 'egress') {
    const nonPod: readonly string[] = f.egressPeerFields.filter((k) => k === 'networks' || k === 'nodes' || k === 'domainNames');
    const hasNonPodPeer = peers.some((p) => isObj(p) && presentKeys(p).some((k) => nonPod.includes(k)));
    const hasNamedPort = protocols.some((p) => isObj(p) && presentKeys(p).includes(f.namedPortField));
    if (hasNonPodPeer && hasNamedPort) {
      r.error(
        'CNP_NAMED_PORT_WITH_NON_POD_PEER',
        path,
        `${nonPod.join('/')} peers cannot be combined with ${f.namedPortField} in one rule: those peers have no named ports`,
      );
    }
  }
}

function validatePeer(r: Reporter, v: unknown, path: string, allowed: readonly string[], action: string | undefined, ctx: Ctx): void {
  const { f } = ctx;
  const peer = objectAt(r, v, path, true);
  if (!peer) return;
  const keys = presentKeys(peer);
  const here = keys.filter((k) => allowed.includes(k));
  const elsewhere = keys.filter((k) => ALL_PEER_FIELDS.includes(k) && !allowed.includes(k));
  const unknown = keys.filter((k) => !ALL_PEER_FIELDS.includes(k));
  for (const k of elsewhere) {
    r.error('CNP_PEER_FIELD_NOT_ALLOWED', field(path, k), `${k} is not a peer of this kind here; allowed: ${allowed.join(', ')}`);
  }
  if (here.length === 0 && elsewhere.length === 0) {
    r.warn(
      'PEER_UNKNOWN_FAILS_CLOSED',
      path,
      keys.length === 0
        ? 'empty peer: fails closed (an Accept/Allow rule matches nothing with it; a Deny or Pass rule denies all)'
        : `no known peer field (${keys.join(', ')}; a newer API version?): fails closed (an Accept/Allow rule matches nothing with it; a Deny or Pass rule denies all)`,
    );
    return;
  }
  for (const k of unknown) r.error('FIELD_UNKNOWN', field(path, k), `unknown peer field; allowed here: ${allowed.join(', ')}`);
  if (here.length + elsewhere.length > 1) {
    r.error('CNP_PEER_NOT_ONE_OF', path, `must set exactly one of ${allowed.join(', ')} (has ${[...here, ...elsewhere].join(' and ')})`);
  }
  for (const k of here) {
    const at = field(path, k);
    switch (k) {
      case 'namespaces':
      case 'nodes':
        validateLabelSelector(r, peer[k], at);
        break;
      case 'pods':
        validatePodsSelector(r, peer[k], at, f);
        break;
      case 'networks':
        validateNetworks(r, peer[k], at);
        break;
      case 'domainNames':
        validateDomainNames(r, peer[k], at, action, ctx);
        break;
    }
  }
}

function validateNetworks(r: Reporter, v: unknown, path: string): void {
  const list = arrayAt(r, v, path, { minItems: 1, maxItems: PEER_LIST_MAX }) ?? [];
  const seen = new Set<string>();
  list.forEach((e, i) => {
    const at = index(path, i);
    const text = stringAt(r, e, at, true);
    if (text === undefined) return;
    checkCelCidr(r, text, at);
    duplicate(r, seen, text, at);
  });
}

function validateDomainNames(r: Reporter, v: unknown, path: string, action: string | undefined, ctx: Ctx): void {
  const list = arrayAt(r, v, path, { minItems: 1, maxItems: PEER_LIST_MAX }) ?? [];
  const seen = new Set<string>();
  list.forEach((e, i) => {
    const at = index(path, i);
    const text = stringAt(r, e, at, true);
    if (text === undefined) return;
    if (!DOMAIN_NAME.test(text)) {
      r.error('CNP_DOMAIN_NAME_INVALID', at, `${JSON.stringify(text)} is not a domain name (e.g. kubernetes.io or *.kubernetes.io; '*' only as the first label)`);
    }
    duplicate(r, seen, text, at);
  });
  if (action !== undefined && action !== ctx.f.acceptAction && ctx.f.actions.includes(action)) {
    // No CEL rule enforces this, so the API server stores the object; the rule denies nothing,
    // because domainNames peers match nothing until FQDN support lands.
    r.warn('CNP_DOMAIN_NAMES_REQUIRE_ACCEPT', path, `domainNames is only supported in ${ctx.f.acceptAction} rules, not ${action}: this peer matches nothing`);
  }
  if (ctx.tier === 'Baseline') {
    r.warn('CNP_DOMAIN_NAMES_BASELINE_TIER', path, 'domainNames is scoped to the Admin tier (NPEP-133, network-policy-api PR #366)');
  }
}

/** x-kubernetes-list-type: set — the API server rejects repeated values. */
function duplicate(r: Reporter, seen: Set<string>, value: string, path: string): void {
  if (seen.has(value)) r.error('LIST_DUPLICATE', path, `duplicate value ${JSON.stringify(value)} in a set`);
  seen.add(value);
}

/** Exactly one of the known fields; none known: warning, fails closed. Returns the one field. */
function oneOfEntry(r: Reporter, e: Obj, path: string, known: readonly string[]): string | undefined {
  const keys = presentKeys(e);
  const here = keys.filter((k) => known.includes(k));
  if (here.length === 0) {
    r.warn(
      'PROTOCOL_UNKNOWN_FAILS_CLOSED',
      path,
      keys.length === 0
        ? 'empty entry: fails closed (an Accept/Allow rule matches nothing with it; a Deny or Pass rule denies all)'
        : `no known field (${keys.join(', ')}; a newer API version?): fails closed (an Accept/Allow rule matches nothing with it; a Deny or Pass rule denies all)`,
    );
    return undefined;
  }
  for (const k of keys) if (!known.includes(k)) r.error('FIELD_UNKNOWN', field(path, k), `unknown field; allowed here: exactly one of ${known.join(', ')}`);
  if (here.length > 1) {
    r.error('CNP_PROTOCOL_NOT_ONE_OF', path, `must set exactly one of ${known.join(', ')} (has ${here.join(' and ')})`);
    return undefined;
  }
  return here[0];
}

/** v1alpha2 ClusterNetworkPolicyProtocol. */
function validateProtocol(r: Reporter, v: unknown, path: string, f: Flavor): void {
  const e = objectAt(r, v, path, true);
  if (!e) return;
  const which = oneOfEntry(r, e, path, f.protocolFields);
  if (which === undefined) return;
  const at = field(path, which);
  if (which === 'destinationNamedPort') {
    const name = stringAt(r, e[which], at);
    if (name !== undefined) checkNamedPort(r, name, at);
    return;
  }
  // tcp / udp / sctp: { destinationPort } with MinProperties 1
  const proto = objectAt(r, e[which], at);
  if (!proto) return;
  onlyFields(r, proto, at, ['destinationPort']);
  const dpPath = field(at, 'destinationPort');
  const dp = objectAt(r, proto.destinationPort, dpPath, true);
  if (!dp) return;
  onlyFields(r, dp, dpPath, ['number', 'range']);
  const set = presentKeys(dp).filter((k) => k === 'number' || k === 'range');
  if (set.length !== 1) {
    r.error('CNP_DESTINATION_PORT_NOT_ONE_OF', dpPath, `must set exactly one of number or range (has ${set.length === 0 ? 'none' : 'both'})`);
  }
  const n = intAt(r, dp.number, field(dpPath, 'number'));
  if (n !== undefined) checkPortNumber(r, n, field(dpPath, 'number'));
  const rangePath = field(dpPath, 'range');
  const range = objectAt(r, dp.range, rangePath);
  if (range) {
    onlyFields(r, range, rangePath, ['start', 'end']);
    const [start, end] = rangeBounds(r, range, rangePath);
    // CEL on range: self.start < self.end
    if (start !== undefined && end !== undefined && !(start < end)) {
      r.error('CNP_PORT_RANGE_START_NOT_BELOW_END', rangePath, `start must be less than end (start ${start}, end ${end})`);
    }
  }
}

function rangeBounds(r: Reporter, range: Obj, path: string): [number | undefined, number | undefined] {
  const start = intAt(r, range.start, field(path, 'start'), true);
  const end = intAt(r, range.end, field(path, 'end'), true);
  const okStart = start !== undefined && checkPortNumber(r, start, field(path, 'start'));
  const okEnd = end !== undefined && checkPortNumber(r, end, field(path, 'end'));
  return [okStart ? start : undefined, okEnd ? end : undefined];
}

/** v1alpha1 AdminNetworkPolicyPort: exactly one of portNumber, portRange, namedPort. */
function validateV1alpha1Port(r: Reporter, v: unknown, path: string, f: Flavor): void {
  const e = objectAt(r, v, path, true);
  if (!e) return;
  const which = oneOfEntry(r, e, path, f.protocolFields);
  if (which === undefined) return;
  const at = field(path, which);
  if (which === 'namedPort') {
    const name = stringAt(r, e[which], at);
    if (name !== undefined) checkNamedPort(r, name, at);
    return;
  }
  const o = objectAt(r, e[which], at);
  if (!o) return;
  // protocol has `default: TCP`, so an absent protocol is defaulted before `required` applies.
  const protocol = stringAt(r, o.protocol, field(at, 'protocol'));
  if (protocol !== undefined) checkProtocol(r, protocol, field(at, 'protocol'));
  if (which === 'portNumber') {
    onlyFields(r, o, at, ['protocol', 'port']);
    const port = intAt(r, o.port, field(at, 'port'), true);
    if (port !== undefined) checkPortNumber(r, port, field(at, 'port'));
    return;
  }
  onlyFields(r, o, at, ['protocol', 'start', 'end']);
  const [start, end] = rangeBounds(r, o, at);
  // The v1alpha1 CRD has no start < end rule; an inverted range is stored and matches nothing.
  if (start !== undefined && end !== undefined && start > end) {
    r.warn('CNP_PORT_RANGE_EMPTY', at, `start ${start} is greater than end ${end}: the range matches no port`);
  }
}

/** A named port is a plain string in the CRDs; one that is not an IANA_SVC_NAME can match no container port. */
function checkNamedPort(r: Reporter, name: string, path: string): void {
  const errs = portName(name);
  if (errs.length > 0) {
    r.warn('NAMED_PORT_NEVER_MATCHES', path, `${JSON.stringify(name)} is not a valid container port name (${errs.join('; ')}): it matches no port`);
  }
}

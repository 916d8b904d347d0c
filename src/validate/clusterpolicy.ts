/**
 * ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2), the v1alpha1
 * AdminNetworkPolicy / BaselineAdminNetworkPolicy, and Palisade's PalisadeClusterNetworkPolicy
 * (policy.palisade.dev/v1alpha1: every CNP rule plus its own, extension.ts), as their CRDs validate them
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
import { portMatchNotOneOf, portMatchRange, checkPortNumber, checkProtocol, portRangeBounds } from './ports.js';
import { portName } from './names.js';
import { validateEntities, validateExtensionRule, validateExtensionSpec, validateServiceRefs, validateSourcePort } from './extension.js';

type ClusterKind = Extract<KnownKind, 'ClusterNetworkPolicy' | 'AdminNetworkPolicy' | 'BaselineAdminNetworkPolicy' | 'PalisadeClusterNetworkPolicy'>;

/** What differs between the four CRDs. */
interface Flavor {
  readonly kind: ClusterKind;
  readonly v1alpha1: boolean;
  /** PalisadeClusterNetworkPolicy: the CNP rules plus its own fields (extension.ts) */
  readonly extended: boolean;
  readonly specFields: readonly string[];
  /** maxItems of ingress/egress, from/to and protocols/ports */
  readonly maxItems: number;
  readonly subjectFields: readonly string[];
  /** fields of a `pods` subject (a `pods` peer has namespaceSelector and podSelector only) */
  readonly podsSubjectFields: readonly string[];
  readonly actions: readonly string[];
  /** actions allowed in egress rules only */
  readonly egressOnlyActions: readonly string[];
  /** rule fields beyond name, action, from/to and protocols/ports, per direction */
  readonly extraRuleFields: Readonly<Record<'ingress' | 'egress', readonly string[]>>;
  readonly acceptAction: string;
  readonly protocolsField: 'protocols' | 'ports';
  readonly protocolFields: readonly string[];
  /** fields of a v1alpha2 tcp/udp/sctp entry */
  readonly transportFields: readonly string[];
  readonly namedPortField: string;
  /** every peer field of this kind, in any position */
  readonly allPeerFields: readonly string[];
  readonly ingressPeerFields: readonly string[];
  readonly egressPeerFields: readonly string[];
  /** v1alpha1 NamespacedPod requires namespaceSelector; v1alpha2 only podSelector */
  readonly podsRequireNamespaceSelector: boolean;
}

const CNP_PEER_FIELDS = ['namespaces', 'pods', 'nodes', 'networks', 'domainNames'];

const CNP: Flavor = {
  kind: 'ClusterNetworkPolicy',
  v1alpha1: false,
  extended: false,
  specFields: ['tier', 'priority', 'subject', 'ingress', 'egress'],
  maxItems: 25,
  subjectFields: ['namespaces', 'pods'],
  podsSubjectFields: ['namespaceSelector', 'podSelector'],
  actions: ['Accept', 'Deny', 'Pass'],
  egressOnlyActions: [],
  extraRuleFields: { ingress: [], egress: [] },
  acceptAction: 'Accept',
  protocolsField: 'protocols',
  protocolFields: ['tcp', 'udp', 'sctp', 'destinationNamedPort'],
  transportFields: ['destinationPort'],
  namedPortField: 'destinationNamedPort',
  allPeerFields: CNP_PEER_FIELDS,
  ingressPeerFields: ['namespaces', 'pods'],
  egressPeerFields: ['namespaces', 'pods', 'nodes', 'networks', 'domainNames'],
  podsRequireNamespaceSelector: false,
};

const FLAVORS: Readonly<Record<ClusterKind, Flavor>> = {
  ClusterNetworkPolicy: CNP,
  // docs/extension-kind.md: every CNP rule, plus its own fields (checked in extension.ts)
  PalisadeClusterNetworkPolicy: {
    ...CNP,
    kind: 'PalisadeClusterNetworkPolicy',
    extended: true,
    subjectFields: ['namespaces', 'pods', 'nodes', 'services'],
    podsSubjectFields: ['namespaceSelector', 'podSelector', 'nodeSelector'],
    actions: ['Accept', 'Deny', 'Pass', 'Redirect'],
    egressOnlyActions: ['Redirect'],
    extraRuleFields: { ingress: [], egress: ['redirect'] },
    transportFields: ['destinationPort', 'sourcePort'],
    allPeerFields: [...CNP_PEER_FIELDS, 'services', 'entities'],
    // a superset: nodes, networks, Services (their endpoints) and the Cluster entity as sources too (S4 from outside, S20)
    ingressPeerFields: ['namespaces', 'pods', 'nodes', 'networks', 'services', 'entities'],
    egressPeerFields: ['namespaces', 'pods', 'nodes', 'networks', 'domainNames', 'services', 'entities'],
  },
  AdminNetworkPolicy: {
    kind: 'AdminNetworkPolicy',
    v1alpha1: true,
    extended: false,
    specFields: ['priority', 'subject', 'ingress', 'egress'],
    maxItems: 100,
    subjectFields: ['namespaces', 'pods'],
    podsSubjectFields: ['namespaceSelector', 'podSelector'],
    actions: ['Allow', 'Deny', 'Pass'],
    egressOnlyActions: [],
    extraRuleFields: { ingress: [], egress: [] },
    transportFields: [],
    allPeerFields: CNP_PEER_FIELDS,
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
    extended: false,
    specFields: ['subject', 'ingress', 'egress'],
    maxItems: 100,
    subjectFields: ['namespaces', 'pods'],
    podsSubjectFields: ['namespaceSelector', 'podSelector'],
    actions: ['Allow', 'Deny'],
    egressOnlyActions: [],
    extraRuleFields: { ingress: [], egress: [] },
    transportFields: [],
    allPeerFields: CNP_PEER_FIELDS,
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
  if (!f.v1alpha1) {
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
  if (f.extended) validateExtensionSpec(r, spec);
}

function validateSubject(r: Reporter, v: unknown, f: Flavor): void {
  const path = 'spec.subject';
  const s = objectAt(r, v, path, true);
  if (!s) return;
  onlyFields(r, s, path, f.subjectFields);
  const known = presentKeys(s).filter((k) => f.subjectFields.includes(k));
  if (known.length !== 1) {
    r.error('CNP_SUBJECT_NOT_ONE_OF', path, `must set exactly one of ${f.subjectFields.join(', ')} (has ${known.length === 0 ? 'none' : known.join(' and ')})`);
  }
  validateLabelSelector(r, s.namespaces, field(path, 'namespaces'));
  validatePodsSelector(r, s.pods, field(path, 'pods'), f, f.podsSubjectFields);
  if (f.extended) {
    validateLabelSelector(r, s.nodes, field(path, 'nodes'));
    validateServiceRefs(r, s.services, field(path, 'services'));
  }
}

/** NamespacedPod: podSelector required; namespaceSelector required in v1alpha1 only. */
function validatePodsSelector(r: Reporter, v: unknown, path: string, f: Flavor, fields: readonly string[] = ['namespaceSelector', 'podSelector']): void {
  const p = objectAt(r, v, path);
  if (!p) return;
  onlyFields(r, p, path, fields);
  validateLabelSelector(r, p.namespaceSelector, field(path, 'namespaceSelector'), f.podsRequireNamespaceSelector);
  validateLabelSelector(r, p.podSelector, field(path, 'podSelector'), true);
  if (fields.includes('nodeSelector')) validateLabelSelector(r, p.nodeSelector, field(path, 'nodeSelector'));
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
  onlyFields(r, rule, path, ['name', 'action', peersField, f.protocolsField, ...f.extraRuleFields[dir]]);

  const name = stringAt(r, rule.name, field(path, 'name'));
  if (name !== undefined && name.length > RULE_NAME_MAX) {
    r.error('CNP_RULE_NAME_TOO_LONG', field(path, 'name'), `must be no more than ${RULE_NAME_MAX} characters, has ${name.length}`);
  }
  const action = stringAt(r, rule.action, field(path, 'action'), true);
  const actions = dir === 'ingress' ? f.actions.filter((a) => !f.egressOnlyActions.includes(a)) : f.actions;
  if (action !== undefined && !actions.includes(action)) {
    const egressOnly = f.egressOnlyActions.includes(action) ? ` (${action} is for egress rules only)` : '';
    r.error('CNP_ACTION_INVALID', field(path, 'action'), `${JSON.stringify(action)} is not supported for a ${f.kind} ${dir} rule${egressOnly}: must be ${actions.join(', ')}`);
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
  if (f.extended) validateExtensionRule(r, rule, path, dir, action);

  if (dir === 'egress') {
    const nonPod: readonly string[] = f.egressPeerFields.filter((k) => NON_POD_PEERS.includes(k));
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

/** Peers that are not pods: a named port (resolved on a destination pod) cannot go with them. */
const NON_POD_PEERS: readonly string[] = ['networks', 'nodes', 'domainNames', 'services', 'entities'];

function validatePeer(r: Reporter, v: unknown, path: string, allowed: readonly string[], action: string | undefined, ctx: Ctx): void {
  const { f } = ctx;
  const peer = objectAt(r, v, path, true);
  if (!peer) return;
  const keys = presentKeys(peer);
  const here = keys.filter((k) => allowed.includes(k));
  const elsewhere = keys.filter((k) => f.allPeerFields.includes(k) && !allowed.includes(k));
  const unknown = keys.filter((k) => !f.allPeerFields.includes(k));
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
      case 'services':
        validateServiceRefs(r, peer[k], at);
        break;
      case 'entities':
        validateEntities(r, peer[k], at);
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
    // because domainNames peers match only in Accept rules (docs/fqdn.md §1).
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
  // tcp / udp / sctp: { destinationPort } with MinProperties 1 (PalisadeClusterNetworkPolicy:
  // { destinationPort?, sourcePort? }, still MinProperties 1)
  const proto = objectAt(r, e[which], at);
  if (!proto) return;
  onlyFields(r, proto, at, f.transportFields);
  if (f.extended) {
    validateSourcePort(r, proto.sourcePort, field(at, 'sourcePort'));
    if (proto.destinationPort === undefined || proto.destinationPort === null) {
      if (proto.sourcePort === undefined || proto.sourcePort === null) r.error('FIELD_REQUIRED', at, 'must set destinationPort or sourcePort (minProperties: 1)');
      return;
    }
  }
  const dpPath = field(at, 'destinationPort');
  const dp = objectAt(r, proto.destinationPort, dpPath, true);
  if (!dp) return;
  const notOneOf = portMatchNotOneOf(r, dp, dpPath);
  if (notOneOf !== undefined) r.error('CNP_DESTINATION_PORT_NOT_ONE_OF', dpPath, notOneOf);
  const range = portMatchRange(r, dp, dpPath);
  // CEL on range: self.start < self.end
  if (range && !(range.start < range.end)) {
    r.error('CNP_PORT_RANGE_START_NOT_BELOW_END', range.path, `start must be less than end (start ${range.start}, end ${range.end})`);
  }
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
  const [start, end] = portRangeBounds(r, o, at);
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

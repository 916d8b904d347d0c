/**
 * The fields PalisadeClusterNetworkPolicy (policy.palisade.dev/v1alpha1, docs/extension-kind.md)
 * adds to ClusterNetworkPolicy, as its CRD validates them
 * (deploy/crds/policy.palisade.dev_palisadeclusternetworkpolicies.yaml: OpenAPI schema and
 * x-kubernetes-validations). `clusterpolicy.ts` applies every CNP rule to the kind first and
 * calls these for the new fields; each check names the CEL rule or schema keyword it mirrors.
 *
 * - `services` (subject, ingress and egress peer, `redirect.service`): 1..25 `{namespace, name}` entries,
 *   namespace a DNS-1123 label, name a DNS-1035 label (a Service name), list-map keyed by both.
 * - `entities`: 1..1 of the enum `Cluster`, list-type set.
 * - `sourcePort`: exactly one of `number`, `range`; `range.start <= range.end` (a one-port
 *   range is allowed here, unlike `destinationPort`, whose CNP rule stays `start < end`).
 * - `redirect` is set iff `action` is `Redirect` (egress rules only: ingress rules have neither).
 * - A `services` subject has ingress rules only; a `nodes` subject cannot use
 *   `destinationNamedPort` in ingress rules (the destination is the node, which has no named ports).
 * Pure; problems go only to the Reporter passed in. Cost: linear in the fields checked.
 */
import type { Reporter } from './reporter.js';
import { arrayAt, field, index, intAt, isObj, objectAt, onlyFields, stringAt, type Obj } from './fields.js';
import { dns1035Label, dns1123Label } from './names.js';
import { checkPortNumber, portMatchNotOneOf, portMatchRange } from './ports.js';
import { CLUSTER_ENTITIES } from '../model/types.js';

const SERVICES_MAX = 25;

/** A list of Service references (subject `services`, peer `services`); absent is fine here. */
export function validateServiceRefs(r: Reporter, v: unknown, path: string): void {
  if (v === undefined || v === null) return;
  const list = arrayAt(r, v, path, { minItems: 1, maxItems: SERVICES_MAX }) ?? [];
  const seen = new Set<string>();
  list.forEach((e, i) => {
    const at = index(path, i);
    const ref = validateServiceRef(r, e, at, true);
    if (!ref) return;
    const key = `${ref.namespace}/${ref.name}`;
    // x-kubernetes-list-type: map, keys namespace and name
    if (seen.has(key)) r.error('LIST_DUPLICATE', at, `duplicate Service ${key}`);
    seen.add(key);
  });
}

function validateServiceRef(r: Reporter, v: unknown, path: string, required: boolean): { namespace: string; name: string } | undefined {
  const o = objectAt(r, v, path, required);
  if (!o) return undefined;
  onlyFields(r, o, path, ['namespace', 'name']);
  const namespace = stringAt(r, o.namespace, field(path, 'namespace'), true);
  const name = stringAt(r, o.name, field(path, 'name'), true);
  if (namespace !== undefined) {
    const errs = dns1123Label(namespace);
    if (errs.length > 0) r.error('PCNP_SERVICE_REF_INVALID', field(path, 'namespace'), `${JSON.stringify(namespace)} is not a namespace name: ${errs.join('; ')}`);
  }
  if (name !== undefined) {
    const errs = dns1035Label(name);
    if (errs.length > 0) r.error('PCNP_SERVICE_REF_INVALID', field(path, 'name'), `${JSON.stringify(name)} is not a Service name: ${errs.join('; ')}`);
  }
  return namespace !== undefined && name !== undefined ? { namespace, name } : undefined;
}

/** `entities`: enum Cluster, list-type set, 1..1 items. */
export function validateEntities(r: Reporter, v: unknown, path: string): void {
  const list = arrayAt(r, v, path, { minItems: 1, maxItems: CLUSTER_ENTITIES.length }) ?? [];
  const seen = new Set<string>();
  list.forEach((e, i) => {
    const at = index(path, i);
    const text = stringAt(r, e, at, true);
    if (text === undefined) return;
    if (!(CLUSTER_ENTITIES as readonly string[]).includes(text)) {
      r.error('PCNP_ENTITY_INVALID', at, `${JSON.stringify(text)} is not an entity: must be one of ${CLUSTER_ENTITIES.join(', ')}`);
    }
    if (seen.has(text)) r.error('LIST_DUPLICATE', at, `duplicate value ${JSON.stringify(text)} in a set`);
    seen.add(text);
  });
}

/** `sourcePort`: { number } | { range: { start, end } }, start <= end. Absent is fine. */
export function validateSourcePort(r: Reporter, v: unknown, path: string): void {
  if (v === undefined || v === null) return;
  const sp = objectAt(r, v, path);
  if (!sp) return;
  const notOneOf = portMatchNotOneOf(r, sp, path);
  if (notOneOf !== undefined) r.error('PCNP_SOURCE_PORT_NOT_ONE_OF', path, notOneOf);
  const range = portMatchRange(r, sp, path);
  // CEL on the source range: self.start <= self.end
  if (range && range.start > range.end) {
    r.error('PCNP_SOURCE_PORT_RANGE_INVERTED', range.path, `start must not be greater than end (start ${range.start}, end ${range.end})`);
  }
}

/** One rule's own fields: `redirect` iff action Redirect (egress; ingress rules have no `redirect`). */
export function validateExtensionRule(r: Reporter, rule: Obj, path: string, dir: 'ingress' | 'egress', action: string | undefined): void {
  if (dir !== 'egress') return;
  const redirectPath = field(path, 'redirect');
  const hasRedirect = rule.redirect !== undefined && rule.redirect !== null;
  // CEL on egress rules: has(self.redirect) == (self.action == 'Redirect')
  if (action !== undefined && hasRedirect !== (action === 'Redirect')) {
    r.error(
      'PCNP_REDIRECT_MISMATCH',
      path,
      action === 'Redirect' ? 'a Redirect rule must set redirect (the Service to send the traffic to)' : `redirect is only for Redirect rules, not ${action}`,
    );
  }
  if (!hasRedirect) return;
  const red = objectAt(r, rule.redirect, redirectPath);
  if (!red) return;
  onlyFields(r, red, redirectPath, ['service', 'port']);
  validateServiceRef(r, red.service, field(redirectPath, 'service'), true);
  const port = intAt(r, red.port, field(redirectPath, 'port'));
  if (port !== undefined) checkPortNumber(r, port, field(redirectPath, 'port'));
}

/** Rules across the spec (CEL on spec). */
export function validateExtensionSpec(r: Reporter, spec: Obj): void {
  const subject = isObj(spec.subject) ? spec.subject : {};
  const has = (k: string): boolean => subject[k] !== undefined && subject[k] !== null;
  // CEL: !has(self.subject.services) || !has(self.egress) || size(self.egress) == 0
  if (has('services') && Array.isArray(spec.egress) && spec.egress.length > 0) {
    r.error('PCNP_SERVICES_SUBJECT_EGRESS', 'spec.egress', 'a services subject has ingress rules only: it is the traffic to the Services, which sends nothing');
  }
  // CEL: !has(self.subject.nodes) || !self.ingress.exists(rule, has(rule.protocols) &&
  //      rule.protocols.exists(p, has(p.destinationNamedPort)))
  if (has('nodes') && Array.isArray(spec.ingress)) {
    spec.ingress.forEach((rule, i) => {
      if (!isObj(rule) || !Array.isArray(rule.protocols)) return;
      if (rule.protocols.some((p) => isObj(p) && p.destinationNamedPort !== undefined && p.destinationNamedPort !== null)) {
        r.error('PCNP_NAMED_PORT_NODE_SUBJECT', index('spec.ingress', i), 'destinationNamedPort cannot be used in an ingress rule of a nodes subject: the destination is the node, which declares no named ports');
      }
    });
  }
}

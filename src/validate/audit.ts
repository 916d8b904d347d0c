/**
 * The audit mark (model/audit.ts): `metadata.annotations["policy.palisade.dev/audit"]`.
 * - On a policy kind the value must parse ("all", "ingress/N", "egress/N", rule names,
 *   comma-separated) and every item must name a rule the policy has: an error otherwise
 *   (AUDIT_ANNOTATION_INVALID, AUDIT_RULE_UNKNOWN), because a typo would silently log nothing for
 *   the flows an auditor asked to see.
 * - A rule name on a NetworkPolicy is an error too: NetworkPolicy rules have no names.
 * - On any other kind it means nothing: a warning (AUDIT_ANNOTATION_IGNORED).
 * A value that is not a string is already a FIELD_TYPE error (validateMetadata).
 * Pure. Cost: linear in the annotation and the rules. Thread-safety: problems go only to the Reporter.
 */
import { AUDIT_ANNOTATION, parseAuditItems, resolveAuditItems } from '../model/audit.js';
import type { KnownKind } from '../model/kinds.js';
import { isObj, mapKey } from './fields.js';
import type { Reporter } from './reporter.js';

const POLICY_KINDS: ReadonlySet<KnownKind> = new Set(['NetworkPolicy', 'ClusterNetworkPolicy', 'AdminNetworkPolicy', 'BaselineAdminNetworkPolicy', 'PalisadeClusterNetworkPolicy']);

const ruleNames = (list: unknown): (string | undefined)[] =>
  Array.isArray(list) ? list.map((r) => (isObj(r) && typeof r.name === 'string' ? r.name : undefined)) : [];

export function validateAuditMark(r: Reporter, kind: KnownKind): void {
  const meta = r.obj.metadata;
  if (!isObj(meta) || !isObj(meta.annotations)) return;
  if (!Object.prototype.hasOwnProperty.call(meta.annotations, AUDIT_ANNOTATION)) return;
  const value = meta.annotations[AUDIT_ANNOTATION];
  if (typeof value !== 'string') return;
  const path = mapKey('metadata.annotations', AUDIT_ANNOTATION);
  if (!POLICY_KINDS.has(kind)) {
    r.warn('AUDIT_ANNOTATION_IGNORED', path, `${AUDIT_ANNOTATION} marks policy rules only; on a ${kind} it is ignored`);
    return;
  }
  const parsed = parseAuditItems(value);
  if ('error' in parsed) {
    r.error('AUDIT_ANNOTATION_INVALID', path, parsed.error);
    return;
  }
  if (kind === 'NetworkPolicy') {
    const named = parsed.items.find((i) => i.kind === 'name');
    if (named && named.kind === 'name') {
      r.error('AUDIT_ANNOTATION_INVALID', path, `NetworkPolicy rules have no names: use "ingress/N" or "egress/N" instead of ${JSON.stringify(named.name)}`);
      return;
    }
  }
  const spec = isObj(r.obj.spec) ? r.obj.spec : {};
  const { unknown } = resolveAuditItems(parsed.items, { ingress: ruleNames(spec.ingress), egress: ruleNames(spec.egress) });
  for (const u of unknown) r.error('AUDIT_RULE_UNKNOWN', path, `names no rule of this policy: ${u}`);
}

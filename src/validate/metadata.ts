/**
 * metadata of every known kind, as apimachinery `ValidateObjectMeta` checks it with the
 * kind's name function:
 * - name required; Namespace: DNS-1123 label (ValidateNamespaceName); Service: DNS-1035 label
 *   (ValidateServiceName); every other kind here, custom resources included: DNS-1123
 *   subdomain (NameIsDNSSubdomain; ValidateNetworkPolicyName, ValidatePodName, ...).
 * - namespace, when present on a namespaced kind, a DNS-1123 label. On a cluster-scoped kind the
 *   API server clears it (EnsureObjectNamespaceMatchesRequestNamespace): a warning.
 * - labels: ValidateLabels; annotations: keys are qualified names (ValidateAnnotations).
 * - Namespace: the control plane sets `kubernetes.io/metadata.name` to the name, overriding
 *   any other value (namespace strategy PrepareForCreate): a warning when the file disagrees.
 * Pure.
 * Cost: one pass over the input, linear in its size. Thread-safety: pure functions, no shared
 * state; problems go only to the Reporter passed in.
 */
import type { Reporter } from './reporter.js';
import { NAMESPACED, type KnownKind } from '../model/kinds.js';
import { NAMESPACE_NAME_LABEL } from '../model/types.js';
import { field, mapKey, objectAt, stringAt, stringMapAt } from './fields.js';
import { dns1035Label, dns1123Label, dns1123Subdomain, qualifiedName } from './names.js';
import { validateLabelMap } from './selectors.js';

function nameRule(kind: KnownKind): { check: (v: string) => string[]; what: string } {
  if (kind === 'Namespace') return { check: dns1123Label, what: 'a DNS-1123 label' };
  if (kind === 'Service') return { check: dns1035Label, what: 'a DNS-1035 label' };
  return { check: dns1123Subdomain, what: 'a DNS-1123 subdomain' };
}

export function validateMetadata(r: Reporter, kind: KnownKind): void {
  const meta = objectAt(r, r.obj.metadata, 'metadata');
  if (!meta) {
    if (r.obj.metadata === undefined || r.obj.metadata === null) {
      r.error('METADATA_NAME_REQUIRED', 'metadata.name', 'every object needs a name');
    }
    return;
  }

  const name = stringAt(r, meta.name, 'metadata.name');
  if (name === undefined || name === '') {
    if (meta.name === undefined || meta.name === null || meta.name === '') {
      r.error('METADATA_NAME_REQUIRED', 'metadata.name', 'every object needs a name (generateName is not resolved from files)');
    }
  } else {
    const rule = nameRule(kind);
    const errs = rule.check(name);
    if (errs.length > 0) r.error('METADATA_NAME_INVALID', 'metadata.name', `${JSON.stringify(name)} must be ${rule.what} for a ${kind}: ${errs.join('; ')}`);
  }

  const ns = stringAt(r, meta.namespace, 'metadata.namespace');
  if (ns !== undefined && ns !== '') {
    if (!NAMESPACED.has(kind)) {
      r.warn('METADATA_NAMESPACE_IGNORED', 'metadata.namespace', `${kind} is cluster-scoped; the namespace ${JSON.stringify(ns)} is ignored`);
    } else {
      const errs = dns1123Label(ns);
      if (errs.length > 0) r.error('METADATA_NAMESPACE_INVALID', 'metadata.namespace', `${JSON.stringify(ns)} is not a valid namespace name: ${errs.join('; ')}`);
    }
  }

  validateLabelMap(r, meta.labels, 'metadata.labels');
  for (const [k] of stringMapAt(r, meta.annotations, 'metadata.annotations')) {
    const errs = qualifiedName(k.toLowerCase());
    if (errs.length > 0) r.error('ANNOTATION_KEY_INVALID', mapKey('metadata.annotations', k), `invalid annotation key ${JSON.stringify(k)}: ${errs.join('; ')}`);
  }

  if (kind === 'Namespace' && typeof name === 'string' && name !== '') {
    const labels = meta.labels;
    if (typeof labels === 'object' && labels !== null && !Array.isArray(labels)) {
      const v = (labels as Record<string, unknown>)[NAMESPACE_NAME_LABEL];
      if (typeof v === 'string' && v !== name) {
        r.warn(
          'NAMESPACE_NAME_LABEL_OVERRIDDEN',
          mapKey(field('metadata', 'labels'), NAMESPACE_NAME_LABEL),
          `the control plane sets ${NAMESPACE_NAME_LABEL}=${name} on this namespace; the value ${JSON.stringify(v)} is overridden`,
        );
      }
    }
  }
}

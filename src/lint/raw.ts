/**
 * Facts that normalization erases but lint needs: which NetworkPolicies had no `policyTypes` in
 * the manifest (defaulting fills it in, semantics doc §3.1). Read from the raw objects. Pure.
 */
import type { RawObject } from '../model/kinds.js';

/** `namespace/name` of every NetworkPolicy whose spec.policyTypes is absent or empty. */
export function policyTypesDefaulted(objects: readonly RawObject[]): Set<string> {
  const out = new Set<string>();
  for (const { obj } of objects) {
    if (obj.kind !== 'NetworkPolicy') continue;
    const meta = (obj.metadata ?? {}) as Record<string, unknown>;
    const spec = (obj.spec ?? {}) as Record<string, unknown>;
    const types = spec.policyTypes;
    if (Array.isArray(types) && types.length > 0) continue;
    const ns = typeof meta.namespace === 'string' ? meta.namespace : 'default';
    out.add(`${ns}/${String(meta.name)}`);
  }
  return out;
}

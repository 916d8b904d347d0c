/**
 * The staged mark (model/staged.ts): `metadata.annotations["policy.palisade.dev/staged"]`.
 * - On a policy kind the value must be exactly "true" or "false": anything else ("yes", "True",
 *   "") is an error, because reading it either way could enforce a policy its author meant only
 *   to stage, or silently never enforce one meant to be live.
 * - On any other kind it means nothing: a warning, so a misplaced mark does not go unnoticed.
 * A value that is not a string is already a FIELD_TYPE error (validateMetadata).
 * Pure. Cost: one map lookup. Thread-safety: problems go only to the Reporter passed in.
 */
import type { KnownKind } from '../model/kinds.js';
import { STAGED_ANNOTATION } from '../model/staged.js';
import { mapKey } from './fields.js';
import type { Reporter } from './reporter.js';

const POLICY_KINDS: ReadonlySet<KnownKind> = new Set(['NetworkPolicy', 'ClusterNetworkPolicy', 'AdminNetworkPolicy', 'BaselineAdminNetworkPolicy', 'PalisadeClusterNetworkPolicy']);

export function validateStagedMark(r: Reporter, kind: KnownKind): void {
  const meta = r.obj.metadata;
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return;
  const annotations = (meta as Record<string, unknown>).annotations;
  if (typeof annotations !== 'object' || annotations === null || Array.isArray(annotations)) return;
  if (!Object.prototype.hasOwnProperty.call(annotations, STAGED_ANNOTATION)) return;
  const value = (annotations as Record<string, unknown>)[STAGED_ANNOTATION];
  if (typeof value !== 'string') return;
  const path = mapKey('metadata.annotations', STAGED_ANNOTATION);
  if (!POLICY_KINDS.has(kind)) {
    r.warn('STAGED_ANNOTATION_IGNORED', path, `${STAGED_ANNOTATION} marks policies only; on a ${kind} it is ignored`);
    return;
  }
  if (value !== 'true' && value !== 'false') {
    r.error(
      'STAGED_ANNOTATION_INVALID',
      path,
      `must be "true" (staged: reported, not enforced) or "false" (in force), got ${JSON.stringify(value)}`,
    );
  }
}

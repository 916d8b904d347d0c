/**
 * Validation like the API server: the OpenAPI schema and the validation rules of each kind.
 * Every check returns problems (code, file, object, field path); nothing throws. An object with
 * any error is rejected whole.
 *
 * The per-kind validators live beside this file; docs/problem-codes.md lists every code.
 */
import type { Problem } from '../model/problems.js';
import type { ObjectRef } from '../model/types.js';
import type { RawObject } from '../model/kinds.js';
import type { KnownKind } from '../model/kinds.js';
import { Reporter } from './reporter.js';
import { validateMetadata } from './metadata.js';
import { validateNetworkPolicy } from './networkpolicy.js';
import { validateClusterPolicy } from './clusterpolicy.js';
import { validateInventoryObject } from './inventory.js';
import { validateStagedMark } from './staged.js';
import { validateAuditMark } from './audit.js';

export function objectRef(raw: RawObject, kind: string): ObjectRef {
  const meta = (raw.obj.metadata ?? {}) as Record<string, unknown>;
  const name = typeof meta.name === 'string' ? meta.name : '<unnamed>';
  // `namespace: ""` is unset (omitempty); kubectl fills in the request namespace.
  const namespace = typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : undefined;
  return namespace !== undefined ? { kind, namespace, name } : { kind, name };
}

/** All problems of one object of a known kind. */
export function validateObject(raw: RawObject, kind: KnownKind): Problem[] {
  const r = new Reporter(raw, objectRef(raw, kind));
  validateMetadata(r, kind);
  validateStagedMark(r, kind);
  validateAuditMark(r, kind);
  switch (kind) {
    case 'NetworkPolicy':
      validateNetworkPolicy(r);
      break;
    case 'ClusterNetworkPolicy':
    case 'AdminNetworkPolicy':
    case 'BaselineAdminNetworkPolicy':
    case 'PalisadeClusterNetworkPolicy':
      validateClusterPolicy(r, kind);
      break;
    default:
      validateInventoryObject(r, kind);
  }
  return r.problems;
}

// PLACEHOLDER: being written by the validation work (issue 2, build point 3).
import type { Reporter } from './reporter.js';
import type { KnownKind } from '../manifests/kinds.js';
export function validateMetadata(r: Reporter, kind: KnownKind): void {
  void r;
}

/**
 * Labels and label selectors (metav1.LabelSelector), as apimachinery's
 * `ValidateLabels` / `ValidateLabelSelector` / `ValidateLabelSelectorRequirement` check them:
 * keys are qualified names, values are label values, operators are In / NotIn / Exists /
 * DoesNotExist, In and NotIn need values, Exists and DoesNotExist take none.
 *
 * The network-policy-api CRDs do not repeat these checks in their schema (the API server would
 * store `operator: Foo`), but every implementation fails to convert such a selector, so Palisade
 * rejects it for every kind. Pure.
 * Cost: one pass over the input, linear in its size. Thread-safety: pure functions, no shared
 * state; problems go only to the Reporter passed in.
 */
import type { Reporter } from './reporter.js';
import { arrayAt, field, index, mapKey, objectAt, onlyFields, stringAt, stringMapAt } from './fields.js';
import { labelValue, qualifiedName } from './names.js';

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/** A label key (LABEL_KEY_INVALID) at `path`. */
export function checkLabelKey(r: Reporter, key: string, path: string): void {
  const errs = qualifiedName(key);
  if (errs.length > 0) r.error('LABEL_KEY_INVALID', path, `invalid label key ${JSON.stringify(key)}: ${errs.join('; ')}`);
}

/** A label value (LABEL_VALUE_INVALID) at `path`. */
export function checkLabelValue(r: Reporter, value: string, path: string): void {
  const errs = labelValue(value);
  if (errs.length > 0) r.error('LABEL_VALUE_INVALID', path, `invalid label value ${JSON.stringify(value)}: ${errs.join('; ')}`);
}

/** metadata.labels, matchLabels, a Service selector: a map of valid keys to valid values. */
export function validateLabelMap(r: Reporter, v: unknown, path: string): void {
  for (const [k, val] of stringMapAt(r, v, path)) {
    const at = mapKey(path, k);
    checkLabelKey(r, k, at);
    checkLabelValue(r, val, at);
  }
}

/** A metav1.LabelSelector at `path` (absent is fine: callers decide whether it is required). */
export function validateLabelSelector(r: Reporter, v: unknown, path: string, isRequired = false): void {
  const s = objectAt(r, v, path, isRequired);
  if (!s) return;
  onlyFields(r, s, path, ['matchLabels', 'matchExpressions']);
  validateLabelMap(r, s.matchLabels, field(path, 'matchLabels'));
  const exprs = arrayAt(r, s.matchExpressions, field(path, 'matchExpressions')) ?? [];
  exprs.forEach((e, i) => validateRequirement(r, e, index(field(path, 'matchExpressions'), i)));
}

function validateRequirement(r: Reporter, v: unknown, path: string): void {
  const req = objectAt(r, v, path, true);
  if (!req) return;
  onlyFields(r, req, path, ['key', 'operator', 'values']);
  const key = stringAt(r, req.key, field(path, 'key'), true);
  if (key !== undefined) checkLabelKey(r, key, field(path, 'key'));
  const op = stringAt(r, req.operator, field(path, 'operator'), true);
  const valuesPath = field(path, 'values');
  const values = arrayAt(r, req.values, valuesPath) ?? [];
  if (op !== undefined) {
    if (!OPERATORS.includes(op)) {
      r.error('SELECTOR_OPERATOR_INVALID', field(path, 'operator'), `${JSON.stringify(op)} is not a valid selector operator (In, NotIn, Exists, DoesNotExist)`);
    } else if ((op === 'In' || op === 'NotIn') && values.length === 0) {
      r.error('SELECTOR_VALUES_REQUIRED', valuesPath, `must be specified when operator is ${op}`);
    } else if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0) {
      r.error('SELECTOR_VALUES_FORBIDDEN', valuesPath, `may not be specified when operator is ${op}`);
    }
  }
  values.forEach((val, i) => {
    const s = stringAt(r, val, index(valuesPath, i), true);
    if (s !== undefined) checkLabelValue(r, s, index(valuesPath, i));
  });
}

/**
 * Structural checks shared by every validator: JSON types, required fields, unknown fields,
 * list lengths, and the field-path syntax of problems.
 *
 * Paths: JSON field names joined by `.`, 0-based list indexes in `[i]`, and map keys (labels,
 * matchLabels) as a JSON-quoted key in brackets: `metadata.labels["app.kubernetes.io/name"]`.
 *
 * `null` counts as absent everywhere: Go decodes a JSON null into a nil pointer / empty value,
 * and the API server prunes nulls of non-nullable CRD fields before validation.
 * Pure functions over the raw object; problems go to the Reporter.
 * Cost: one pass over the input, linear in its size. Thread-safety: pure functions, no shared
 * state; problems go only to the Reporter passed in.
 */
import type { Reporter } from './reporter.js';

export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const present = (v: unknown): boolean => v !== undefined && v !== null;

export const field = (path: string, key: string): string => (path ? `${path}.${key}` : key);
export const index = (path: string, i: number): string => `${path}[${i}]`;
export const mapKey = (path: string, key: string): string => `${path}[${JSON.stringify(key)}]`;

const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function typeError(r: Reporter, path: string, want: string, v: unknown): void {
  r.error('FIELD_TYPE', path, `must be ${want}, got ${typeName(v)}`);
}

function required(r: Reporter, path: string): void {
  r.error('FIELD_REQUIRED', path, 'is required');
}

/** An object field; reports FIELD_TYPE for anything else and FIELD_REQUIRED when required and absent. */
export function objectAt(r: Reporter, v: unknown, path: string, isRequired = false): Obj | undefined {
  if (!present(v)) {
    if (isRequired) required(r, path);
    return undefined;
  }
  if (!isObj(v)) {
    typeError(r, path, 'an object', v);
    return undefined;
  }
  return v;
}

export interface ListLimits {
  readonly required?: boolean;
  readonly minItems?: number;
  readonly maxItems?: number;
}

/** A list field with OpenAPI minItems / maxItems (TOO_FEW_ITEMS / TOO_MANY_ITEMS at the list). */
export function arrayAt(r: Reporter, v: unknown, path: string, limits: ListLimits = {}): unknown[] | undefined {
  if (!present(v)) {
    if (limits.required) required(r, path);
    return undefined;
  }
  if (!Array.isArray(v)) {
    typeError(r, path, 'a list', v);
    return undefined;
  }
  if (limits.minItems !== undefined && v.length < limits.minItems) {
    r.error('TOO_FEW_ITEMS', path, `must have at least ${limits.minItems} item(s), has ${v.length}`);
  }
  if (limits.maxItems !== undefined && v.length > limits.maxItems) {
    r.error('TOO_MANY_ITEMS', path, `must have at most ${limits.maxItems} items, has ${v.length}`);
  }
  return v;
}

export function stringAt(r: Reporter, v: unknown, path: string, isRequired = false): string | undefined {
  if (!present(v)) {
    if (isRequired) required(r, path);
    return undefined;
  }
  if (typeof v !== 'string') {
    typeError(r, path, 'a string', v);
    return undefined;
  }
  return v;
}

/** An integer field (OpenAPI `type: integer`; YAML `80.5` or `"80"` is a type error). */
export function intAt(r: Reporter, v: unknown, path: string, isRequired = false): number | undefined {
  if (!present(v)) {
    if (isRequired) required(r, path);
    return undefined;
  }
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    typeError(r, path, 'an integer', v);
    return undefined;
  }
  return v;
}

export function boolAt(r: Reporter, v: unknown, path: string): boolean | undefined {
  if (!present(v)) return undefined;
  if (typeof v !== 'boolean') {
    typeError(r, path, 'a boolean', v);
    return undefined;
  }
  return v;
}

/** A map of string to string (labels, matchLabels, Service selector): every value must be a string. */
export function stringMapAt(r: Reporter, v: unknown, path: string): [string, string][] {
  const m = objectAt(r, v, path);
  if (!m) return [];
  const out: [string, string][] = [];
  for (const [k, val] of Object.entries(m)) {
    if (typeof val !== 'string') {
      typeError(r, mapKey(path, k), 'a string', val);
      continue;
    }
    out.push([k, val]);
  }
  return out;
}

/**
 * Unknown fields are errors (FIELD_UNKNOWN), as `kubectl apply --validate=strict` reports them:
 * the API server would silently drop (prune) them, so the object it stores would differ from
 * the file, and Palisade must not enforce something other than what the file says.
 */
export function onlyFields(r: Reporter, o: Obj, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) {
      r.error('FIELD_UNKNOWN', field(path, k), `unknown field; allowed here: ${allowed.join(', ')}`);
    }
  }
}

/** The top-level fields every policy object may carry (status is printed by `kubectl get -o yaml`). */
export const TOP_LEVEL_FIELDS = ['apiVersion', 'kind', 'metadata', 'spec', 'status'] as const;

/** Keys of `o` whose value is present (not undefined / null), in written order. */
export const presentKeys = (o: Obj): string[] => Object.keys(o).filter((k) => present(o[k]));

/**
 * Port numbers, port names and protocols, shared by every kind:
 * numbers 1..65535 (IsValidPortNum), names IANA_SVC_NAME (IsValidPortName), protocols exactly
 * TCP, UDP or SCTP (case-sensitive, as validation.go and core/v1 Protocol require). Pure.
 * Cost: one pass over the input, linear in its size. Thread-safety: pure functions, no shared
 * state; problems go only to the Reporter passed in.
 */
import type { Reporter } from './reporter.js';
import { portName } from './names.js';
import { field, intAt, objectAt, onlyFields, presentKeys, type Obj } from './fields.js';

export const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];

export function checkPortNumber(r: Reporter, n: number, path: string): boolean {
  if (n < 1 || n > 65535) {
    r.error('PORT_OUT_OF_RANGE', path, `must be between 1 and 65535, inclusive (got ${n})`);
    return false;
  }
  return true;
}

export function checkPortName(r: Reporter, name: string, path: string): boolean {
  const errs = portName(name);
  if (errs.length > 0) {
    r.error('PORT_NAME_INVALID', path, `${JSON.stringify(name)} is not a valid port name (IANA_SVC_NAME): ${errs.join('; ')}`);
    return false;
  }
  return true;
}

export function checkProtocol(r: Reporter, p: string, path: string): boolean {
  if (!PROTOCOLS.includes(p)) {
    r.error('PROTOCOL_INVALID', path, `${JSON.stringify(p)} is not supported: must be TCP, UDP or SCTP (case-sensitive)`);
    return false;
  }
  return true;
}

/**
 * A `{ number } | { range: { start, end } }` port match (CNP `destinationPort`, PCNP
 * `sourcePort`), in two steps so that each caller emits its own code:
 * `portMatchNotOneOf` checks the fields and says why the match does not set exactly one of
 * `number`, `range` (undefined: it does); `portMatchRange` checks every number is a port and
 * returns the range's bounds when both are valid (the caller checks how they must relate).
 */
export function portMatchNotOneOf(r: Reporter, m: Obj, path: string): string | undefined {
  onlyFields(r, m, path, ['number', 'range']);
  const set = presentKeys(m).filter((k) => k === 'number' || k === 'range');
  return set.length === 1 ? undefined : `must set exactly one of number or range (has ${set.length === 0 ? 'none' : 'both'})`;
}

export function portMatchRange(r: Reporter, m: Obj, path: string): { start: number; end: number; path: string } | undefined {
  const n = intAt(r, m.number, field(path, 'number'));
  if (n !== undefined) checkPortNumber(r, n, field(path, 'number'));
  const rangePath = field(path, 'range');
  const range = objectAt(r, m.range, rangePath);
  if (!range) return undefined;
  onlyFields(r, range, rangePath, ['start', 'end']);
  const [start, end] = portRangeBounds(r, range, rangePath);
  return start !== undefined && end !== undefined ? { start, end, path: rangePath } : undefined;
}

/** `start` and `end` of a port range, each required and a port; undefined where not. */
export function portRangeBounds(r: Reporter, range: Obj, path: string): [number | undefined, number | undefined] {
  const start = intAt(r, range.start, field(path, 'start'), true);
  const end = intAt(r, range.end, field(path, 'end'), true);
  const okStart = start !== undefined && checkPortNumber(r, start, field(path, 'start'));
  const okEnd = end !== undefined && checkPortNumber(r, end, field(path, 'end'));
  return [okStart ? start : undefined, okEnd ? end : undefined];
}

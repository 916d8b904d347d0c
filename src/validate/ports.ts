/**
 * Port numbers, port names and protocols, shared by every kind:
 * numbers 1..65535 (IsValidPortNum), names IANA_SVC_NAME (IsValidPortName), protocols exactly
 * TCP, UDP or SCTP (case-sensitive, as validation.go and core/v1 Protocol require). Pure.
 * Cost: one pass over the input, linear in its size. Thread-safety: pure functions, no shared
 * state; problems go only to the Reporter passed in.
 */
import type { Reporter } from './reporter.js';
import { portName } from './names.js';

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

/**
 * Problems found in input: a union keyed on a stable `code`, each with the file, the object and
 * the field path (`spec.ingress[0].ports[0].endPort`). Stages return problems; the public API and
 * the CLI throw or print them once (habit 3).
 */
import type { ObjectRef } from './types.js';

export type Severity = 'error' | 'warning';

export interface Problem {
  /** stable, UPPER_SNAKE, e.g. `NP_ENDPORT_BEFORE_PORT`; listed in docs/problem-codes.md */
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly file: string;
  /** 1-based line of the object's document (or of the YAML error) when known */
  readonly line?: number;
  readonly object?: ObjectRef;
  /** field path inside the object, e.g. `spec.ingress[0].ports[0].endPort` */
  readonly path?: string;
}

export function formatObject(o: ObjectRef): string {
  return o.namespace ? `${o.kind} ${o.namespace}/${o.name}` : `${o.kind} ${o.name}`;
}

/** `file:line: error CODE: Kind ns/name: path: message` */
export function formatProblem(p: Problem): string {
  const where = p.line ? `${p.file}:${p.line}` : p.file;
  const obj = p.object ? ` ${formatObject(p.object)}:` : '';
  const path = p.path ? ` ${p.path}:` : '';
  return `${where}: ${p.severity} ${p.code}:${obj}${path} ${p.message}`;
}

export const hasErrors = (ps: readonly Problem[]): boolean => ps.some((p) => p.severity === 'error');

/** Thrown once at the public API when input is invalid; carries every problem. */
export class InvalidInputError extends Error {
  readonly code = 'PALISADE_INVALID_INPUT';
  constructor(readonly problems: readonly Problem[]) {
    super(
      `invalid input (${problems.filter((p) => p.severity === 'error').length} problem(s)):\n` +
        problems.map((p) => '  ' + formatProblem(p)).join('\n'),
    );
    this.name = 'InvalidInputError';
  }
}

/** Collects the problems of one object, each stamped with its file, line and object reference. */
import type { Problem, ProblemCode, Severity } from '../model/problems.js';
import type { ObjectRef } from '../model/types.js';
import type { RawObject } from '../model/kinds.js';

export class Reporter {
  readonly problems: Problem[] = [];
  constructor(
    readonly raw: RawObject,
    readonly object: ObjectRef,
  ) {}

  get obj(): Record<string, unknown> {
    return this.raw.obj;
  }

  error(code: ProblemCode, path: string, message: string): void {
    this.add('error', code, path, message);
  }

  warn(code: ProblemCode, path: string, message: string): void {
    this.add('warning', code, path, message);
  }

  private add(severity: Severity, code: ProblemCode, path: string, message: string): void {
    this.problems.push({
      code,
      severity,
      message,
      file: this.raw.file,
      ...(this.raw.line !== undefined ? { line: this.raw.line } : {}),
      object: this.object,
      ...(path ? { path } : {}),
    });
  }
}

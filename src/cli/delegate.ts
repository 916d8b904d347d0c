/**
 * `palisade compile` and `palisade classbench` are written elsewhere (src/rules/command.ts,
 * src/classbench/command.ts). They are loaded with a dynamic import so this CLI builds and runs
 * while they do not exist yet: a missing module prints "not available in this build" and exits 1.
 * Any other failure inside them is an internal error (exit 1, with the stack).
 */
import { EXIT_INTERNAL, EXIT_OK, type Io } from './io.js';

export interface DelegateTarget {
  readonly command: string;
  /** module path relative to this file */
  readonly module: string;
  readonly exportName: string;
}

export const COMPILE: DelegateTarget = { command: 'compile', module: '../rules/command.js', exportName: 'runCompile' };
export const CLASSBENCH: DelegateTarget = { command: 'classbench', module: '../classbench/command.js', exportName: 'runClassbench' };

type CommandFn = (argv: readonly string[]) => number | void | Promise<number | void>;

export async function runDelegate(t: DelegateTarget, argv: readonly string[], io: Io): Promise<number> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(t.module)) as Record<string, unknown>;
  } catch (e) {
    if (isThisModuleMissing(e, t.module)) {
      io.err(`palisade ${t.command}: not available in this build (${t.module.replace(/^\.\.\//, 'src/').replace(/\.js$/, '.ts')} is missing)\n`);
      return EXIT_INTERNAL;
    }
    throw e;
  }
  const fn = mod[t.exportName];
  if (typeof fn !== 'function') {
    io.err(`palisade ${t.command}: not available in this build (${t.module} has no ${t.exportName})\n`);
    return EXIT_INTERNAL;
  }
  const r = await (fn as CommandFn)(argv);
  return typeof r === 'number' ? r : EXIT_OK;
}

/** True when the import failed because the target module itself is missing (not one it imports). */
function isThisModuleMissing(e: unknown, spec: string): boolean {
  const err = e as { code?: unknown; message?: unknown };
  const msg = typeof err?.message === 'string' ? err.message : '';
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' && !/Cannot find module|Failed to load url|Does the file exist/i.test(msg)) return false;
  const first = /['"]([^'"]+)['"]/.exec(msg)?.[1] ?? '';
  const stem = spec.replace(/^(\.\.\/)+/, '').replace(/\.js$/, ''); // rules/command
  return first.includes(stem);
}

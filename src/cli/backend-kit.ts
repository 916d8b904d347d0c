/**
 * What a backend's own command (backends/ebpf/command.ts, the last one) needs from the CLI: where
 * it writes, how it refuses a `--backend` that is not its own, how it loads manifests, how it
 * prints a kernel failure. The one CLI (apply.ts, enforce.ts, stats.ts) does not use it; this file
 * goes when backends/ebpf/command.ts does (a temporary exception in ARCHITECTURE.md's table).
 */
import { safeLoadCluster } from '../manifests/cluster.js';
import { formatProblem, hasErrors } from '../model/problems.js';
import type { Cluster } from '../model/types.js';
import { UsageError } from './args.js';
import { processIo, type Io } from './io.js';

export type CommandIo = Io;
export const stdIo: CommandIo = processIo;

/** `--backend X` is accepted (the dispatcher passes it through) only when X is this backend. */
export function checkBackend(own: string, given: string | undefined): void {
  if (given !== undefined && given !== own) throw new UsageError(`--backend ${given}: this command is the ${own} backend's`);
}

/** A kernel or native failure as one line: `CODE: message`. */
export function describeFailure(e: unknown): string {
  const err = e as { code?: string; message?: string };
  return `${err.code ? `${err.code}: ` : ''}${err.message ?? String(e)}`.trim();
}

/** Load and validate; prints every problem; undefined when any is an error (nothing is used). */
export function loadForBackend(paths: readonly string[], io: CommandIo): Cluster | undefined {
  const r = safeLoadCluster(paths);
  for (const p of r.problems) io.err(`${formatProblem(p)}\n`);
  if (!r.cluster || hasErrors(r.problems)) return undefined;
  return r.cluster;
}

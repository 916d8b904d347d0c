/**
 * Loading manifests for a command: every problem goes to stderr in the one format
 * (`file:line: severity CODE: Kind ns/name: path: message`); on any error the command uses
 * nothing and exits 2.
 */
import { safeLoadCluster } from '../manifests/cluster.js';
import { formatProblem, type Problem } from '../model/problems.js';
import type { Cluster } from '../model/types.js';
import { UsageError } from './args.js';
import type { Io } from './io.js';

export interface Loaded {
  /** absent when the input has an error */
  readonly cluster?: Cluster;
  readonly problems: readonly Problem[];
}

/** Load `paths`, print every problem (errors and warnings) on stderr. */
export function loadForCommand(paths: readonly string[], io: Io): Loaded {
  if (paths.length === 0) throw new UsageError('-f PATH is required (files or directories of manifests)');
  const r = safeLoadCluster(paths);
  printProblems(r.problems, io);
  return r.cluster ? { cluster: r.cluster, problems: r.problems } : { problems: r.problems };
}

export function printProblems(problems: readonly Problem[], io: Io): void {
  if (problems.length > 0) io.err(problems.map((p) => formatProblem(p) + '\n').join(''));
}

export function countSummary(problems: readonly Problem[]): string {
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  return `${errors} error(s), ${warnings} warning(s)`;
}

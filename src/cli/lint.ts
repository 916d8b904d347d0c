/**
 * `palisade lint` and `palisade validate`.
 * validate: every problem of the input (errors and warnings) plus the lint warnings; exit 2 if
 * any error. lint: the lint warnings (and any input problem); exit 0 unless the input is invalid.
 * Everything goes to stderr in the one problem format; stdout gets a one-line summary.
 */
import { lint, policyTypesDefaulted } from '../lint/index.js';
import { loadPaths } from '../manifests/load.js';
import type { Cluster } from '../model/types.js';
import type { Problem } from '../model/problems.js';
import { loweringProblems } from '../rules/refusals.js';
import { formatFlags, parseArgs } from './args.js';
import { EXIT_INVALID, EXIT_OK, type Io } from './io.js';
import { countSummary, loadForCommand, printProblems } from './load.js';

export const LINT_FLAGS = {
  file: { kind: 'list', short: 'f', value: 'PATH...', help: 'manifest files or directories (repeatable)' },
  help: { kind: 'boolean', short: 'h', help: 'show this help' },
} as const;

export const VALIDATE_HELP = `Usage: palisade validate -f PATH...

Validates manifests the way the API server does (schema and CRD validation rules) and prints
every problem as  file:line: severity CODE: Kind ns/name: path: message  on stderr, followed by
the lint warnings (see palisade lint --help). Exit status 2 if any error, else 0.

${formatFlags(LINT_FLAGS)}
`;

export const LINT_HELP = `Usage: palisade lint -f PATH...

Warns about surprising defaults and likely mistakes (each a warning with a code, the policy and
a field path):
  LINT_NP_ALLOWS_NOTHING      a NetworkPolicy isolates pods and allows nothing (fine if a default deny is intended)
  LINT_NP_IMPLICIT_INGRESS    egress rules without policyTypes: ingress is isolated (and denied) too
  LINT_EGRESS_BLOCKS_DNS      egress isolation leaves no way to DNS (UDP/TCP 53)
  LINT_EQUAL_PRIORITY         cluster policies share a priority in one tier (order: priority, name, rule index)
  LINT_NETWORKS_IPV4_ONLY     networks: 0.0.0.0/0 without ::/0 (LINT_NETWORKS_IPV6_ONLY: the reverse)
  LINT_NAMED_PORT_UNDECLARED  a named port no pod declares
  LINT_SELECTS_NOTHING        a policy's podSelector / subject selects no pod
  LINT_PEER_SELECTS_NOTHING   a peer selects no namespace, pod or node
Exit status 0 unless the input is invalid (2).

${formatFlags(LINT_FLAGS)}
`;

export function lintCluster(cluster: Cluster, paths: readonly string[]): Problem[] {
  return lint(cluster, { policyTypesDefaulted: policyTypesDefaulted(loadPaths(paths).objects) });
}

export async function runValidate(argv: readonly string[], io: Io): Promise<number> {
  return runLintLike(argv, io, VALIDATE_HELP, 'valid');
}

export async function runLint(argv: readonly string[], io: Io): Promise<number> {
  return runLintLike(argv, io, LINT_HELP, 'lint');
}

async function runLintLike(argv: readonly string[], io: Io, help: string, what: 'valid' | 'lint'): Promise<number> {
  const a = parseArgs(argv, LINT_FLAGS);
  if (a.help) {
    io.out(help);
    return EXIT_OK;
  }
  const { cluster, problems } = loadForCommand(a.file, io);
  if (!cluster) {
    io.out(`invalid: ${countSummary(problems)}; nothing was used\n`);
    return EXIT_INVALID;
  }
  // rules the engine would refuse (one case depends on the inventory): errors, nothing is used
  const refused = loweringProblems(cluster);
  const lints = lintCluster(cluster, a.file);
  printProblems([...refused, ...lints], io);
  const objects =
    `${cluster.namespaces.length} namespace(s), ${cluster.pods.length} pod(s), ${cluster.nodes.length} node(s), ` +
    `${cluster.networkPolicies.length} NetworkPolicy(ies), ${cluster.clusterPolicies.length} cluster policy(ies)`;
  if (refused.length > 0) {
    io.out(`invalid: ${countSummary([...problems, ...refused, ...lints])}; nothing was used\n`);
    return EXIT_INVALID;
  }
  io.out(`${what === 'valid' ? 'valid' : 'lint'}: ${objects}; ${countSummary([...problems, ...lints])}\n`);
  return EXIT_OK;
}

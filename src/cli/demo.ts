/**
 * `palisade demo` (what `npm start` runs): a built-in example (examples/s11-deny-with-priorities, deny rules with
 * priorities) put in force for real.
 *
 * - As root: builds the example's node in network namespaces, enforces with nftables, sends one
 *   real probe per cell of the truth table, prints the observed matrix beside the expected one
 *   (the reference evaluator's) and a few deny-log lines, and cleans up (demo-enforce.ts).
 *   Exit 0 when observed = expected, 1 otherwise (or on a failure), 130 when interrupted.
 * - Otherwise (not root, or a prerequisite is missing, or PALISADE_DEMO_NO_ENFORCE=1 is set):
 *   prints the computed truth table and one flow explained, and says why it did not enforce.
 *   Exit 0.
 *
 * PALISADE_DEMO_NO_ENFORCE=1 forces the second path even as root (the tests use it; also handy
 * on a machine where creating namespaces is unwanted).
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { safeLoadCluster } from '../manifests/cluster.js';
import { computeMatrix, matrixEndpoints } from '../matrix/index.js';
import { formatProblem, hasErrors } from '../model/problems.js';
import { ReferenceEvaluator } from '../reference/evaluate.js';
import { packageRoot } from '../topology/assets.js';
import { CNI_PATH } from '../topology/cni.js';
import { runCheck } from './check.js';
import { runMatrix } from './matrix.js';
import { EXIT_INVALID, EXIT_OK, type Io } from './io.js';

/** examples/s11-deny-with-priorities (deny rules with priorities): Admin-tier Accept, Deny and Pass, then a NetworkPolicy. */
export const DEMO_EXAMPLE = 's11-deny-with-priorities';
/** the ports of the example's truth table (examples/s11-deny-with-priorities/expected.txt) */
export const DEMO_PORTS = [80, 5432, 9187] as const;
/** set to 1 to print the computed matrix and skip enforcing, even as root */
export const NO_ENFORCE_ENV = 'PALISADE_DEMO_NO_ENFORCE';

export function exampleDir(name: string): string {
  return join(packageRoot(), 'examples', name);
}

const HELP = `Usage: palisade demo

Runs the built-in example examples/${DEMO_EXAMPLE} (deny rules with priorities).
As root: builds the node in network namespaces (one per pod, wired by the CNI ptp plugin),
enforces with nftables, probes every pair of pods with real connections, prints the observed
matrix beside the expected one and a few deny-log lines, then removes everything
(exit 0 when observed = expected, 1 otherwise).
Not as root (or with ${NO_ENFORCE_ENV}=1): prints the computed matrix and one explained flow,
and says why it did not enforce.
`;

/** Why the demo cannot enforce here, or undefined when it can. */
export async function whyNotEnforce(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (env[NO_ENFORCE_ENV] === '1') return `${NO_ENFORCE_ENV}=1 is set`;
  if (process.getuid?.() !== 0) {
    return 'not running as root: creating network namespaces and nftables rules needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN); run `sudo npm start` to see it enforced';
  }
  for (const plugin of ['ptp', 'host-local']) {
    if (!existsSync(join(CNI_PATH, plugin))) return `the CNI plugin ${CNI_PATH}/${plugin} is missing (Debian/Ubuntu: apt-get install containernetworking-plugins)`;
  }
  try {
    const { nativeNftables } = await import('../native/binding.js');
    nativeNftables();
  } catch (e) {
    return `the native addon with the nftables backend cannot be loaded (${e instanceof Error ? e.message : String(e)}); run \`npm run setup\``;
  }
  return undefined;
}

export async function runDemo(argv: readonly string[], io: Io): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(HELP);
    return EXIT_OK;
  }
  const dir = exampleDir(DEMO_EXAMPLE);
  const shown = relative(process.cwd(), dir) || dir;
  io.out(`Palisade demo: examples/${DEMO_EXAMPLE} (deny rules with priorities)\n\n`);
  const reason = await whyNotEnforce();
  if (reason !== undefined) return computedOnly(shown, reason, io);

  const loaded = safeLoadCluster([dir]);
  for (const p of loaded.problems) io.err(`${formatProblem(p)}\n`);
  if (!loaded.cluster || hasErrors(loaded.problems)) return EXIT_INVALID;
  const cluster = loaded.cluster;
  const expected = computeMatrix(new ReferenceEvaluator(cluster), matrixEndpoints(cluster), { ports: DEMO_PORTS, protocols: ['TCP'] });
  const { runEnforcedDemo } = await import('./demo-enforce.js');
  return runEnforcedDemo(cluster, expected, io);
}

async function computedOnly(shown: string, reason: string, io: Io): Promise<number> {
  const matrixArgs = ['-f', shown, '--port', DEMO_PORTS.join(',')];
  io.out(`$ palisade matrix ${matrixArgs.join(' ')}\n`);
  const m = await runMatrix(matrixArgs, io);
  if (m !== EXIT_OK) return m;
  io.out('(rows: from, columns: to; "." allowed, "X" denied)\n');
  const checkArgs = ['-f', shown, '--from', 'backend/api', '--to', 'db/postgres', '--port', '9187'];
  io.out(`\n$ palisade check ${checkArgs.join(' ')}\n`);
  const c = await runCheck(checkArgs, io);
  io.out(`\nNot enforced: ${reason}.\nThis is the computed matrix only; as root the demo builds the node in network namespaces, enforces with nftables and compares real probes with it.\n`);
  return c;
}

/**
 * `palisade matrix`: the truth table of every ordered pair of pods (host-network pods included,
 * at their node addresses), per port and protocol. Text like the upstream e2e truth
 * tables; JSON `{"cells":[{from,to,port,protocol,verdict,egress,ingress,...}]}` with the
 * explanation of every cell.
 */
import { formatFlags, parseArgs } from './args.js';
import { selectEvaluator, ENGINE_FLAG } from './engine.js';
import { EXIT_INVALID, EXIT_OK, type Io } from './io.js';
import { toJson } from './json.js';
import { loadForCommand } from './load.js';
import { parseGridFlags } from './options.js';
import { computeMatrix, matrixCells, matrixEndpoints, formatMatrixText, type Matrix } from '../matrix/index.js';
import { hasStaged } from '../model/staged.js';
import type { Cluster } from '../model/types.js';
import { renderMatrixPage } from './html-view.js';

export const MATRIX_FLAGS = {
  file: { kind: 'list', short: 'f', value: 'PATH...', help: 'manifest files or directories (repeatable)' },
  port: { kind: 'list', value: 'N[,N...]', help: 'destination ports (default 80)' },
  protocol: { kind: 'list', value: 'P[,P...]', help: 'TCP, UDP, SCTP (default TCP)' },
  'ip-family': { kind: 'string', value: '4|6', help: 'only this family (default: per pair, the first both ends have, IPv4 first)' },
  external: { kind: 'list', value: 'IP[,IP...]', help: 'also include these addresses (e.g. 169.254.169.254) as rows and columns' },
  'src-port': { kind: 'string', value: 'N', help: 'the flows\' source port (rules with a sourcePort; default: none, which no sourcePort matches)' },
  output: { kind: 'string', short: 'o', value: 'text|json|html', help: 'output format (default text); html: one self-contained page' },
  engine: ENGINE_FLAG,
  help: { kind: 'boolean', short: 'h', help: 'show this help' },
} as const;

export const MATRIX_HELP = `Usage: palisade matrix -f PATH... [--port N[,N...]] [--protocol P[,P...]] [--ip-family 4|6] [--external IP,...] [--src-port N] [-o text|json|html]

The truth table: for each port and protocol, every ordered pair of pods (host-network pods
included, at their node addresses). Rows are sources, columns destinations;
"." allowed, "X" denied, "-" no address of a common family.
JSON: {"cells":[{"from","to","port","protocol","verdict","egress","ingress","family","srcIp","dstIp"}]}
with each direction's explanation.
HTML: one self-contained page (no network access needed): the tables with filters by namespace,
port and protocol; a click on a cell shows the explanation of both directions. "palisade serve"
serves the same page live for a manifest directory.

${formatFlags(MATRIX_FLAGS)}
`;

export async function runMatrix(argv: readonly string[], io: Io): Promise<number> {
  const a = parseArgs(argv, MATRIX_FLAGS);
  if (a.help) {
    io.out(MATRIX_HELP);
    return EXIT_OK;
  }
  const { query, output, engine, external } = parseGridFlags(a);

  const { cluster } = loadForCommand(a.file, io);
  if (!cluster) return EXIT_INVALID;

  const evaluator = selectEvaluator(engine, cluster, io);
  const endpoints = matrixEndpoints(cluster, external);
  const m = computeMatrix(evaluator, endpoints, query);
  if (output === 'html') io.out(renderMatrixPage(m, evaluator, { title: 'Palisade truth table', subtitle: matrixSubtitle(a.file, cluster, m) }));
  else io.out(output === 'json' ? toJson({ cells: matrixCells(m) }) : formatMatrixText(m));
  return EXIT_OK;
}

/** The lines under a page's title: where the data came from and what it covers. */
export function matrixSubtitle(paths: readonly string[], cluster: Cluster, m: Matrix): string[] {
  const grids = m.grids.map((g) => `${g.protocol}/${g.port}`).join(', ');
  const staged = hasStaged(cluster) ? '; staged policies are not in force (palisade diff --staged shows what they would change)' : '';
  return [
    `manifests: ${paths.join(' ')}`,
    `${m.endpoints.length} endpoint(s) · ${grids}${m.family !== undefined ? ` · IPv${m.family}` : ''} · ` +
      `${cluster.networkPolicies.length} NetworkPolicy(ies), ${cluster.clusterPolicies.length} cluster policy(ies)${staged}`,
  ];
}

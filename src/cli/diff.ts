/**
 * `palisade diff`: every (source, destination, port, protocol) whose verdict changes between
 * two manifest sets (`-f BEFORE -f AFTER`, or `--before ... --after ...`), or between the
 * policies in force and the same with the staged policies in force (`-f DIR --staged`), grouped
 * by the policy rule the change is owed to (src/diff, reference/cause.ts). examples/s21-staged-approval: what an
 * admin reads before approving a change. Text, JSON, or one HTML page.
 * The endpoints are those of the truth table (`palisade matrix`): every pod of each side's
 * inventory, plus `--external` addresses; a pod present on one side only is named, not compared.
 */
import { diffMatrices, differingPolicies, type MatrixDiff } from '../diff/compute.js';
import { computeMatrix, matrixEndpoints, type Matrix, type MatrixQuery } from '../matrix/index.js';
import type { IpAddr } from '../model/ip.js';
import { hasStaged, stagedPredicate, withStagedInForce } from '../model/staged.js';
import type { Cluster } from '../model/types.js';
import type { Evaluator } from '../model/verdict.js';
import { formatFlags, parseArgs, UsageError } from './args.js';
import { FILE_WORDS, formatDiffText, STAGED_WORDS, type DiffWords } from './diff-text.js';
import { selectEvaluator, type EngineName, ENGINE_FLAG } from './engine.js';
import { renderDiffPage, type PageContext } from './html-view.js';
import { EXIT_INVALID, EXIT_OK, type Io } from './io.js';
import { toJson } from './json.js';
import { loadForCommand } from './load.js';
import { parseGridFlags } from './options.js';

export const DIFF_FLAGS = {
  file: { kind: 'list', short: 'f', value: 'PATH', help: 'BEFORE then AFTER (a file or directory each); with --staged, the manifests' },
  before: { kind: 'list', value: 'PATH...', help: 'the manifests before the change (instead of the first -f)' },
  after: { kind: 'list', value: 'PATH...', help: 'the manifests after the change (instead of the second -f)' },
  staged: { kind: 'boolean', help: 'compare the policies in force with the same plus the staged policies in force' },
  port: { kind: 'list', value: 'N[,N...]', help: 'destination ports (default 80)' },
  protocol: { kind: 'list', value: 'P[,P...]', help: 'TCP, UDP, SCTP (default TCP)' },
  'ip-family': { kind: 'string', value: '4|6', help: 'only this family (default: per pair, the first both ends have, IPv4 first)' },
  external: { kind: 'list', value: 'IP[,IP...]', help: 'also include these addresses as sources and destinations' },
  output: { kind: 'string', short: 'o', value: 'text|json|html', help: 'output format (default text); html: one self-contained page' },
  engine: ENGINE_FLAG,
  help: { kind: 'boolean', short: 'h', help: 'show this help' },
} as const;

export const DIFF_HELP = `Usage: palisade diff -f BEFORE -f AFTER [--port N,...] [--protocol P,...] [-o text|json|html]
       palisade diff --before PATH... --after PATH... [...]
       palisade diff -f PATH... --staged [...]

Every (source, destination, port, protocol) of the truth table whose verdict changes, grouped by
what the change is owed to: the policy rule that now decides (or the NetworkPolicy isolation
that now denies), or, when the change is a removal, the rule that decided before. Each flow shows
its verdict before -> after and what decided on each side.
--staged compares the policies in force with the same cluster where every staged policy
(annotation policy.palisade.dev/staged: "true") is in force: what promoting them would change.
JSON: {"mode","compared","changes":[{from,to,port,protocol,before,after,causes}],"groups":[...]}
with before/after as the cells of palisade matrix -o json.

${formatFlags(DIFF_FLAGS)}

Exit status: 0 the question was answered (with or without changes), 2 invalid input, 1 internal error.
`;

export interface DiffResult {
  readonly mode: 'files' | 'staged';
  readonly diff: MatrixDiff;
  readonly before: Matrix;
  readonly after: Matrix;
  readonly beforeEvaluator: Evaluator;
  readonly afterEvaluator: Evaluator;
  readonly words: DiffWords;
}

/** The diff of two clusters over the truth table's endpoints (both sides answered by `engine`). */
export function diffClusters(
  before: Cluster,
  after: Cluster,
  mode: 'files' | 'staged',
  q: MatrixQuery,
  external: readonly IpAddr[],
  engine: EngineName,
  io: Io,
): DiffResult {
  const beforeEvaluator = selectEvaluator(engine, before, io);
  const afterEvaluator = selectEvaluator(engine, after, mode === 'staged' ? silent(io) : io);
  const bm = computeMatrix(beforeEvaluator, matrixEndpoints(before, external), q);
  const am = computeMatrix(afterEvaluator, matrixEndpoints(after, external), q);
  // staged: `after` is `withStagedInForce(before)`, so the differing policies are the staged ones
  const differs = mode === 'staged' ? stagedPredicate(before) : differingPolicies(before, after);
  return {
    mode,
    diff: diffMatrices(bm, am, differs),
    before: bm,
    after: am,
    beforeEvaluator,
    afterEvaluator,
    words: mode === 'staged' ? STAGED_WORDS : FILE_WORDS,
  };
}

/** The second engine's notices would repeat the first's. */
const silent = (io: Io): Io => ({ out: io.out, err: () => {} });

export async function runDiff(argv: readonly string[], io: Io): Promise<number> {
  const a = parseArgs(argv, DIFF_FLAGS);
  if (a.help) {
    io.out(DIFF_HELP);
    return EXIT_OK;
  }
  const { query: q, output, engine, external } = parseGridFlags(a);
  const sides = chooseSides(a);

  let result: DiffResult;
  if (sides.mode === 'staged') {
    const { cluster } = loadForCommand(sides.paths, io);
    if (!cluster) return EXIT_INVALID;
    if (!hasStaged(cluster)) io.err('palisade diff: notice: no policy is marked staged (policy.palisade.dev/staged: "true"); nothing can change\n');
    result = diffClusters(cluster, withStagedInForce(cluster), 'staged', q, external, engine, io);
  } else {
    const before = loadForCommand(sides.before, io).cluster;
    const after = loadForCommand(sides.after, io).cluster;
    if (!before || !after) return EXIT_INVALID;
    result = diffClusters(before, after, 'files', q, external, engine, io);
  }

  if (output === 'json') io.out(toJson(diffJson(result, sides)));
  else if (output === 'html') io.out(renderDiffPage(result.diff, result, result.words, diffPageContext(result, sides)));
  else io.out(formatDiffText(result.diff, result.words));
  return EXIT_OK;
}

export type DiffSidesArg = { readonly mode: 'staged'; readonly paths: readonly string[] } | { readonly mode: 'files'; readonly before: readonly string[]; readonly after: readonly string[] };

function chooseSides(a: { file: string[]; before: string[]; after: string[]; staged: boolean }): DiffSidesArg {
  if (a.staged) {
    if (a.before.length > 0 || a.after.length > 0) throw new UsageError('--staged compares one manifest set with itself: use -f PATH..., not --before/--after');
    if (a.file.length === 0) throw new UsageError('--staged needs -f PATH... (the manifests)');
    return { mode: 'staged', paths: a.file };
  }
  if (a.before.length > 0 || a.after.length > 0) {
    if (a.file.length > 0) throw new UsageError('give either -f BEFORE -f AFTER or --before/--after, not both');
    if (a.before.length === 0 || a.after.length === 0) throw new UsageError('--before and --after go together');
    return { mode: 'files', before: a.before, after: a.after };
  }
  if (a.file.length !== 2) {
    throw new UsageError(
      `-f takes exactly two paths, BEFORE and AFTER (got ${a.file.length}); for several paths per side use --before PATH... --after PATH...; for staged policies add --staged`,
    );
  }
  return { mode: 'files', before: [a.file[0]!], after: [a.file[1]!] };
}

export function diffJson(r: DiffResult, sides: DiffSidesArg): unknown {
  const d = r.diff;
  return {
    mode: r.mode,
    ...(sides.mode === 'staged' ? { paths: sides.paths } : { before: sides.before, after: sides.after }),
    compared: d.compared,
    incomparable: d.incomparable,
    onlyBefore: d.onlyBefore,
    onlyAfter: d.onlyAfter,
    changes: d.changes,
    groups: d.groups.map((g) => ({
      cause: g.cause,
      opened: g.opened,
      closed: g.closed,
      flows: g.changes.map((c) => ({ from: c.from, to: c.to, port: c.port, protocol: c.protocol, before: c.before.verdict, after: c.after.verdict })),
    })),
  };
}

export function diffPageContext(r: DiffResult, sides: DiffSidesArg): PageContext {
  const d = r.diff;
  const opened = d.changes.filter((c) => c.after.verdict === 'allow').length;
  const what = sides.mode === 'staged' ? `manifests: ${sides.paths.join(' ')} (enforced vs with staged policies in force)` : `before: ${sides.before.join(' ')} · after: ${sides.after.join(' ')}`;
  return {
    title: sides.mode === 'staged' ? 'Palisade diff: staged policies' : 'Palisade diff',
    subtitle: [
      what,
      `${d.changes.length} flow(s) change verdict: ${opened} opened, ${d.changes.length - opened} closed, of ${d.compared} compared · ` +
        r.after.grids.map((g) => `${g.protocol}/${g.port}`).join(', '),
    ],
  };
}

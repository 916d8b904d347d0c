/**
 * Truth tables and diffs -> the HTML page model (src/html/model.ts), with each cell's
 * explanation computed by the same text code as `palisade check` (explain-text.ts), so a click
 * in the page shows exactly what the command line prints. Pure.
 * Cost: one explanation text per cell (deduplicated in the page).
 */
import type { ChangeGroup, MatrixDiff, VerdictChange } from '../diff/compute.js';
import { renderPage } from '../html/page.js';
import type { CellMark, CellView, EndpointView, GridView, PageModel } from '../html/model.js';
import type { Matrix, MatrixCell } from '../matrix/compute.js';
import type { MatrixEndpoint } from '../matrix/endpoints.js';
import { parseIp, type IpAddr } from '../model/ip.js';
import type { Evaluator, FlowVerdict } from '../model/verdict.js';
import { formatCause, formatChange, type DiffWords } from './diff-text.js';
import { formatFlowVerdict } from './explain-text.js';

/** What a page says about where its data came from. */
export interface PageContext {
  readonly title: string;
  readonly subtitle: readonly string[];
  readonly problems?: readonly string[];
  readonly live?: PageModel['live'];
  readonly links?: PageModel['links'];
}

/** The FlowVerdict a matrix cell stands for (the endpoints described by the engine that answered). */
export function cellVerdict(c: MatrixCell, ev: Pick<Evaluator, 'endpoint'>): FlowVerdict {
  const src = parseIp(c.srcIp) as IpAddr;
  const dst = parseIp(c.dstIp) as IpAddr;
  return {
    verdict: c.verdict,
    flow: { src, dst, protocol: c.protocol, dstPort: c.port },
    src: ev.endpoint(src),
    dst: ev.endpoint(dst),
    egress: c.egress,
    ingress: c.ingress,
  };
}

class Texts {
  readonly list: string[] = [];
  private readonly index = new Map<string, number>();
  add(text: string): number {
    let i = this.index.get(text);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(text);
      this.index.set(text, i);
    }
    return i;
  }
}

const endpointViews = (es: readonly MatrixEndpoint[]): EndpointView[] =>
  es.map((e) => ({ label: e.label, namespace: e.kind === 'address' ? '' : (e.label.split('/')[0] ?? ''), kind: e.kind }));

const cellTitle = (c: MatrixCell): string => `${c.from} -> ${c.to} ${c.protocol}/${c.port}`;

export function matrixPageModel(m: Matrix, ev: Pick<Evaluator, 'endpoint'>, ctx: PageContext): PageModel {
  const texts = new Texts();
  const grids: GridView[] = m.grids.map((g) => ({
    port: g.port,
    protocol: g.protocol,
    ...(m.family !== undefined ? { family: m.family } : {}),
    cells: g.rows.map((row) =>
      row.map((c): CellView | null =>
        c === null ? null : { mark: c.verdict, title: cellTitle(c), detail: texts.add(formatFlowVerdict(cellVerdict(c, ev))) },
      ),
    ),
  }));
  return { kind: 'matrix', endpoints: endpointViews(m.endpoints), grids, texts: texts.list, ...pageExtras(ctx) };
}

export function renderMatrixPage(m: Matrix, ev: Pick<Evaluator, 'endpoint'>, ctx: PageContext): string {
  return renderPage(matrixPageModel(m, ev, ctx));
}

export interface DiffSides {
  readonly before: Matrix;
  readonly after: Matrix;
  readonly beforeEvaluator: Pick<Evaluator, 'endpoint'>;
  readonly afterEvaluator: Pick<Evaluator, 'endpoint'>;
}

/** The diff page: the after matrix with changed cells marked, and the changes grouped by cause. */
export function diffPageModel(d: MatrixDiff, sides: DiffSides, words: DiffWords, ctx: PageContext): PageModel {
  const texts = new Texts();
  const changed = new Map<string, VerdictChange>();
  for (const ch of d.changes) changed.set(`${ch.from}\u0000${ch.to}\u0000${ch.port}\u0000${ch.protocol}`, ch);
  const grids: GridView[] = sides.after.grids.map((g) => ({
    port: g.port,
    protocol: g.protocol,
    ...(sides.after.family !== undefined ? { family: sides.after.family } : {}),
    cells: g.rows.map((row) =>
      row.map((c): CellView | null => {
        if (c === null) return null;
        const ch = changed.get(`${c.from}\u0000${c.to}\u0000${c.port}\u0000${c.protocol}`);
        if (!ch) {
          const text = `unchanged (${c.verdict})\n\n${formatFlowVerdict(cellVerdict(c, sides.afterEvaluator))}`;
          return { mark: c.verdict, title: cellTitle(c), detail: texts.add(text) };
        }
        const mark: CellMark = ch.after.verdict === 'allow' ? 'opened' : 'closed';
        const text =
          `${ch.before.verdict} -> ${ch.after.verdict}, owed to:\n${ch.causes.map((x) => `  ${formatCause(x, words)}`).join('\n')}\n\n` +
          `${words.beforeName}:\n${formatFlowVerdict(cellVerdict(ch.before, sides.beforeEvaluator))}\n` +
          `${words.afterName}:\n${formatFlowVerdict(cellVerdict(ch.after, sides.afterEvaluator))}`;
        return { mark, title: cellTitle(c), detail: texts.add(text) };
      }),
    ),
  }));
  return {
    kind: 'diff',
    endpoints: endpointViews(sides.after.endpoints),
    grids,
    texts: texts.list,
    groups: d.groups.map((g) => groupView(g, words)),
    ...pageExtras(ctx),
  };
}

export function renderDiffPage(d: MatrixDiff, sides: DiffSides, words: DiffWords, ctx: PageContext): string {
  return renderPage(diffPageModel(d, sides, words, ctx));
}

function groupView(g: ChangeGroup, words: DiffWords): { heading: string; body: string } {
  const counts = [g.opened > 0 ? `opens ${g.opened}` : '', g.closed > 0 ? `closes ${g.closed}` : ''].filter(Boolean).join(', ');
  return { heading: `${formatCause(g.cause, words)}: ${counts}`, body: g.changes.map((c) => formatChange(c, words)).join('') };
}

function pageExtras(ctx: PageContext): Pick<PageModel, 'title' | 'subtitle' | 'problems' | 'live' | 'links'> {
  return {
    title: ctx.title,
    subtitle: ctx.subtitle,
    ...(ctx.problems && ctx.problems.length > 0 ? { problems: ctx.problems } : {}),
    ...(ctx.live ? { live: ctx.live } : {}),
    ...(ctx.links ? { links: ctx.links } : {}),
  };
}

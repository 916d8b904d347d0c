/**
 * One self-contained HTML page for a truth table or a diff: inline CSS and script,
 * no external resource (a Content-Security-Policy forbids every fetch except, on served pages,
 * the page's own generation poll), so the file opens anywhere, offline.
 *
 * What it shows: one table per (port, protocol), rows = sources, columns = destinations, each
 * cell a mark that reads without colour ("✓" allowed, "✗" denied on a hatched ground, "–" no
 * common address family; diff pages "✗→✓" opened, "✓→✗" closed, with a heavy border); filters
 * by namespace, port and protocol; a click (or Enter) on a cell shows the explanation of both
 * directions, embedded per cell so no server is needed.
 *
 * Invariants: the tables are rendered here as static HTML (readable with scripts off); every
 * string of the model is escaped (`escapeHtml`), and the embedded JSON cannot close its script
 * element (`<` is written as \u003c). Output depends only on the model (no clock).
 * Pure. Cost: linear in cells plus the texts.
 */
import { PAGE_CSS, PAGE_SCRIPT } from './assets.js';
import type { CellMark, CellView, PageModel } from './model.js';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** JSON safe inside a <script> element: no `</script>`, no `<!--`. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export const MARK_TEXT: Record<CellMark, string> = { allow: '✓', deny: '✗', opened: '✗→✓', closed: '✓→✗' };
const MARK_WORD: Record<CellMark, string> = { allow: 'allowed', deny: 'denied', opened: 'opened (was denied)', closed: 'closed (was allowed)' };
const NONE_TEXT = '–';

export function renderPage(m: PageModel): string {
  const namespaces = [...new Set(m.endpoints.map((e) => e.namespace))];
  const ports = [...new Set(m.grids.map((g) => g.port))];
  const protocols = [...new Set(m.grids.map((g) => g.protocol))];
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; connect-src ${m.live ? "'self'" : "'none'"}`;
  const out: string[] = [];
  out.push(
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(m.title)}</title>`,
    `<style>${PAGE_CSS}</style>`,
    '</head>',
    `<body data-kind="${m.kind}"${m.live ? ` data-live-path="${escapeHtml(m.live.path)}" data-generation="${m.live.generation}"` : ''}>`,
    '<header>',
    `<h1>${escapeHtml(m.title)}</h1>`,
  );
  for (const line of m.subtitle) out.push(`<p class="sub">${escapeHtml(line)}</p>`);
  if (m.links && m.links.length > 0) {
    out.push(`<nav>${m.links.map((l) => `<a href="${escapeHtml(l.href)}">${escapeHtml(l.text)}</a>`).join(' · ')}</nav>`);
  }
  out.push('</header>');
  if (m.problems && m.problems.length > 0) {
    out.push(
      '<section class="problems" role="alert"><h2>The manifests have problems; showing the last good state</h2><pre>' +
        escapeHtml(m.problems.join('\n')) +
        '</pre></section>',
    );
  }
  out.push('<form id="filters" class="filters" aria-label="filters">');
  out.push(
    `<fieldset><legend>Namespaces</legend>${namespaces
      .map(
        (ns) =>
          `<label><input type="checkbox" name="ns" value="${escapeHtml(ns)}" checked> ${escapeHtml(ns === '' ? '(addresses)' : ns)}</label>`,
      )
      .join('')}</fieldset>`,
  );
  out.push(
    `<label>Port <select name="port"><option value="">all</option>${ports
      .map((p) => `<option value="${p}">${p}</option>`)
      .join('')}</select></label>`,
  );
  out.push(
    `<label>Protocol <select name="protocol"><option value="">all</option>${protocols
      .map((p) => `<option value="${escapeHtml(p)}">${escapeHtml(p)}</option>`)
      .join('')}</select></label>`,
  );
  if (m.kind === 'diff') out.push('<label><input type="checkbox" name="changed"> changed cells only</label>');
  out.push('</form>');
  out.push(legend(m.kind));

  out.push('<div class="layout"><main>');
  if (m.groups) {
    out.push('<section class="groups"><h2>Changes by cause</h2>');
    if (m.groups.length === 0) out.push('<p>No verdict changes.</p>');
    for (const g of m.groups) out.push(`<details open><summary>${escapeHtml(g.heading)}</summary><pre>${escapeHtml(g.body)}</pre></details>`);
    out.push('</section>');
  }
  for (const g of m.grids) {
    const caption = `${g.protocol}/${g.port}${g.family !== undefined ? ` IPv${g.family}` : ''}`;
    out.push(`<section class="grid" data-port="${g.port}" data-protocol="${escapeHtml(g.protocol)}">`);
    out.push(`<table${m.endpoints.length > 8 ? ' class="many"' : ''}><caption>${escapeHtml(caption)}</caption>`);
    out.push(
      `<thead><tr><th class="corner" scope="col">from \\ to</th>${m.endpoints
        .map((e, j) => `<th scope="col" class="col" data-col="${j}" data-ns="${escapeHtml(e.namespace)}"><span>${escapeHtml(e.label)}</span></th>`)
        .join('')}</tr></thead><tbody>`,
    );
    g.cells.forEach((row, i) => {
      const from = m.endpoints[i]!;
      out.push(`<tr data-row="${i}" data-ns="${escapeHtml(from.namespace)}"><th scope="row">${escapeHtml(from.label)}</th>`);
      row.forEach((c, j) => out.push(cell(c, g.port, g.protocol, from.label, m.endpoints[j]!.label, from.namespace, m.endpoints[j]!.namespace, j)));
      out.push('</tr>');
    });
    out.push('</tbody></table></section>');
  }
  out.push('</main>');
  out.push(
    '<aside id="detail" aria-live="polite"><h2>Explanation</h2><p id="detail-title" class="hint">Click a cell to see which tier, policy and rule decided each direction.</p><pre id="detail-text"></pre></aside>',
  );
  out.push('</div>');
  out.push(`<script id="palisade-data" type="application/json">${scriptJson({ texts: m.texts })}</script>`);
  out.push(`<script>${PAGE_SCRIPT}</script>`);
  out.push('</body>', '</html>', '');
  return out.join('\n');
}

function cell(c: CellView | null, port: number, protocol: string, from: string, to: string, nsFrom: string, nsTo: string, col: number): string {
  const common = `data-col="${col}" data-ns="${escapeHtml(nsTo)}" data-from="${escapeHtml(from)}" data-to="${escapeHtml(to)}" data-from-ns="${escapeHtml(nsFrom)}" data-port="${port}" data-protocol="${escapeHtml(protocol)}"`;
  if (c === null) return `<td class="cell none" ${common} data-verdict="none" title="no address of a common family">${NONE_TEXT}</td>`;
  const verdict = c.mark === 'allow' || c.mark === 'opened' ? 'allow' : 'deny';
  const changed = c.mark === 'opened' || c.mark === 'closed';
  return (
    `<td class="cell ${c.mark}" ${common} data-verdict="${verdict}"${changed ? ' data-changed="1"' : ''} data-detail="${c.detail}" ` +
    `tabindex="0" role="button" aria-label="${escapeHtml(`${c.title} (${MARK_WORD[c.mark]})`)}" title="${escapeHtml(c.title)}">${MARK_TEXT[c.mark]}</td>`
  );
}

function legend(kind: 'matrix' | 'diff'): string {
  const items: [string, string, string][] = [
    ['allow', MARK_TEXT.allow, 'allowed'],
    ['deny', MARK_TEXT.deny, 'denied'],
  ];
  if (kind === 'diff') items.push(['opened', MARK_TEXT.opened, 'opened by the change'], ['closed', MARK_TEXT.closed, 'closed by the change']);
  items.push(['none', NONE_TEXT, 'no address of a common family']);
  return `<p class="legend">${items.map(([cls, mark, text]) => `<span class="key"><span class="cell ${cls}">${mark}</span> ${text}</span>`).join('')}<span class="key">rows: from (source) · columns: to (destination)</span></p>`;
}

/**
 * The inline style sheet and script of the HTML pages (page.ts). Plain strings, so the page
 * needs no file beside it. Marks read in grey scale: every verdict has its own glyph, and
 * denied cells a hatched ground, changed cells a heavy border, on top of colour.
 * The script only filters, shows the embedded explanation of a clicked cell, and on served
 * pages polls the generation to reload; it builds DOM with textContent, never HTML strings.
 */

export const PAGE_CSS = `
:root { --fg:#1b1b1b; --muted:#5a5a5a; --line:#9a9a9a; --allow:#e3f3e3; --deny-a:#e79c9c; --deny-b:#fff; --panel:#f6f6f6; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); margin: 0; padding: 16px 20px; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 15px; margin: 0 0 8px; }
.sub { margin: 0; color: var(--muted); }
nav { margin-top: 6px; }
nav a { color: #1f4f99; }
.filters { display: flex; flex-wrap: wrap; gap: 10px 20px; align-items: center; margin: 12px 0 6px; padding: 8px 10px; border: 1px solid var(--line); border-radius: 4px; background: var(--panel); }
.filters fieldset { border: 0; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: center; }
.filters legend { float: left; font-weight: 600; margin-right: 8px; padding: 0; }
.filters label { white-space: nowrap; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 18px; color: var(--muted); margin: 6px 0 12px; }
.legend .cell { display: inline-block; min-width: 34px; padding: 1px 6px; border: 1px solid var(--line); text-align: center; font-size: 15px; font-weight: 700; }
.layout { display: flex; gap: 20px; align-items: flex-start; }
main { flex: 1 1 auto; min-width: 0; }
aside { flex: 0 0 420px; position: sticky; top: 12px; max-height: calc(100vh - 24px); overflow: auto; border: 1px solid var(--line); border-radius: 4px; padding: 10px 12px; background: var(--panel); }
aside pre { white-space: pre-wrap; word-break: break-word; font: 12.5px/1.45 ui-monospace, "DejaVu Sans Mono", Menlo, monospace; margin: 0; }
aside .hint { color: var(--muted); margin: 0 0 6px; }
#detail-title { font-weight: 600; color: var(--fg); }
section.grid { margin: 0 0 20px; overflow-x: auto; }
table { border-collapse: collapse; }
caption { text-align: left; font-weight: 700; font-size: 15px; padding: 2px 0 6px; }
th, td { border: 1px solid var(--line); }
th { background: var(--panel); font-weight: 600; padding: 4px 8px; text-align: left; white-space: nowrap; }
th.corner { color: var(--muted); font-weight: 400; font-style: italic; }
table.many th.col span { writing-mode: vertical-rl; transform: rotate(180deg); display: inline-block; }
td.cell { min-width: 44px; height: 30px; padding: 2px 6px; text-align: center; font-size: 17px; font-weight: 700; cursor: pointer; }
.cell.allow { background: var(--allow); color: #145214; }
.cell.deny { background: repeating-linear-gradient(135deg, var(--deny-a) 0 5px, var(--deny-b) 5px 10px); color: #5a0000; text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 2px #fff; font-size: 19px; }
.cell.opened { background: var(--allow); color: #145214; outline: 3px double #145214; outline-offset: -5px; }
.cell.closed { background: repeating-linear-gradient(135deg, #d98c8c 0 4px, #fff 4px 6px), #fff; color: #4d0000; outline: 3px solid #4d0000; outline-offset: -5px; }
.cell.none { background: repeating-linear-gradient(90deg, #eee 0 2px, #fff 2px 6px); color: var(--muted); cursor: default; font-weight: 400; }
td.cell:focus-visible, td.cell.selected { box-shadow: inset 0 0 0 3px #1f4f99; }
td.cell.dim { opacity: 0.35; }
.groups details { margin: 0 0 8px; border: 1px solid var(--line); border-radius: 4px; padding: 4px 8px; }
.groups summary { font-weight: 600; cursor: pointer; }
.groups pre { font: 12.5px/1.45 ui-monospace, "DejaVu Sans Mono", Menlo, monospace; white-space: pre-wrap; margin: 6px 0 2px; }
.problems { border: 2px solid #6b0000; padding: 8px 12px; margin: 10px 0; background: #fff4f4; }
.problems pre { white-space: pre-wrap; margin: 0; }
@media (max-width: 1000px) { .layout { flex-direction: column; } aside { position: static; flex-basis: auto; width: 100%; } }
`;

export const PAGE_SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('palisade-data').textContent);
  var form = document.getElementById('filters');
  var titleEl = document.getElementById('detail-title');
  var textEl = document.getElementById('detail-text');
  var selected = null;

  function apply() {
    var nss = {};
    form.querySelectorAll('input[name=ns]').forEach(function (i) { if (i.checked) nss[i.value] = true; });
    var port = form.elements.port.value;
    var proto = form.elements.protocol.value;
    var changedOnly = form.elements.changed ? form.elements.changed.checked : false;
    document.querySelectorAll('section.grid').forEach(function (s) {
      s.hidden = (port !== '' && s.dataset.port !== port) || (proto !== '' && s.dataset.protocol !== proto);
    });
    document.querySelectorAll('section.grid tr[data-row]').forEach(function (r) { r.hidden = !nss[r.dataset.ns]; });
    document.querySelectorAll('section.grid th.col, section.grid td.cell').forEach(function (c) { c.hidden = !nss[c.dataset.ns]; });
    document.querySelectorAll('section.grid td.cell').forEach(function (c) {
      c.classList.toggle('dim', changedOnly && !c.dataset.changed);
    });
  }

  function show(cell) {
    if (!cell || cell.dataset.detail === undefined) return;
    if (selected) selected.classList.remove('selected');
    selected = cell;
    cell.classList.add('selected');
    titleEl.textContent = cell.getAttribute('aria-label');
    textEl.textContent = data.texts[Number(cell.dataset.detail)];
  }

  form.addEventListener('change', apply);
  form.addEventListener('submit', function (e) { e.preventDefault(); });
  document.addEventListener('click', function (e) {
    var cell = e.target.closest ? e.target.closest('td.cell') : null;
    if (cell) show(cell);
  });
  document.addEventListener('keydown', function (e) {
    if ((e.key === 'Enter' || e.key === ' ') && e.target.matches && e.target.matches('td.cell')) { e.preventDefault(); show(e.target); }
  });
  apply();

  var live = document.body.dataset.livePath;
  if (live) {
    var generation = document.body.dataset.generation;
    setInterval(function () {
      fetch(live, { cache: 'no-store' }).then(function (r) { return r.text(); }).then(function (g) {
        if (g.trim() !== generation) location.reload();
      }).catch(function () {});
    }, 1500);
  }
})();
`;

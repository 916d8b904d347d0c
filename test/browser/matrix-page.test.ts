/**
 * The HTML pages in a real browser: headless Chromium from Debian (`chromium`, installed by
 * scripts/setup.sh) driven by playwright-core, a fresh profile per run, every request other than
 * the page itself (and, when served, its own origin) aborted and counted.
 *
 * - `palisade matrix -f examples/s11-deny-with-priorities -o html` opened from file://: every
 *   pod is shown as a row and a column of every table; the cells that read "✗" (by table
 *   caption, column header and row header, as a person reads them) are exactly the denied cells
 *   of `palisade matrix -o json`; a click on a cell shows the explanation of both directions,
 *   exactly what `palisade check` prints; the namespace and port filters hide what they should.
 *   A screenshot is taken (docs/matrix-s11.png when PALISADE_UPDATE_SCREENSHOT=1).
 * - The same page served by `palisade serve` on 127.0.0.1, and the staged diff page of examples/s21-staged-approval.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type RunningServer } from '../../src/cli/serve.js';
import { example, palisade, ROOT } from '../cli/helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const S11 = example('s11-deny-with-priorities');
const S21 = example('s21-staged-approval');
// relative, so that the page (and the committed screenshot) names the example as a reader types it
const ARGV = ['-f', relative(process.cwd(), S11) || S11, '--port', '80,5432,9187'];
const PODS = ['backend/api', 'db/postgres', 'frontend/web', 'monitoring/prometheus'];

let work: string;
let context: BrowserContext;
const blocked: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup.sh as root (it installs the Debian package chromium)`);
  work = mkdtempSync(join(tmpdir(), 'pal-browser-'));
  context = await chromium.launchPersistentContext(join(work, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 760 },
    offline: false,
  });
}, 60_000);

afterAll(async () => {
  await context?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A page that may load only `allowed` URL prefixes; anything else is aborted and recorded. */
async function openPage(url: string, allowed: readonly string[]): Promise<Page> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.route('**/*', (route) => {
    const u = route.request().url();
    if (allowed.some((a) => u.startsWith(a))) return route.continue();
    blocked.push(u);
    return route.abort();
  });
  await page.goto(url);
  expect(errors).toEqual([]);
  return page;
}

interface SeenCell {
  grid: string;
  from: string;
  to: string;
  mark: string;
}

/** Read the tables as a person does: caption, column headers, row header, the mark in the cell. */
async function readTables(page: Page): Promise<{ grids: string[]; rows: string[][]; cols: string[][]; cells: SeenCell[] }> {
  return page.evaluate(() => {
    const grids: string[] = [];
    const rows: string[][] = [];
    const cols: string[][] = [];
    const cells: { grid: string; from: string; to: string; mark: string }[] = [];
    const visible = (el: Element): boolean => (el as HTMLElement).offsetParent !== null;
    for (const table of Array.from(document.querySelectorAll('section.grid table'))) {
      if (!visible(table)) continue;
      const grid = (table.querySelector('caption') as HTMLElement).innerText.trim();
      grids.push(grid);
      const heads = Array.from(table.querySelectorAll('thead th')).filter(visible).map((th) => (th as HTMLElement).innerText.trim());
      const colLabels = heads.slice(1);
      cols.push(colLabels);
      const rowLabels: string[] = [];
      for (const tr of Array.from(table.querySelectorAll('tbody tr')).filter(visible)) {
        const from = (tr.querySelector('th') as HTMLElement).innerText.trim();
        rowLabels.push(from);
        const tds = Array.from(tr.querySelectorAll('td')).filter(visible);
        tds.forEach((td, j) => cells.push({ grid, from, to: colLabels[j] as string, mark: (td as HTMLElement).innerText.trim() }));
      }
      rows.push(rowLabels);
    }
    return { grids, rows, cols, cells };
  });
}

describe('palisade matrix -o html in Chromium (file://)', () => {
  let file: string;
  let page: Page;
  let denied: string[];

  beforeAll(async () => {
    const html = await palisade('matrix', ...ARGV, '-o', 'html');
    expect(html.code).toBe(0);
    file = join(work, 's11.html');
    writeFileSync(file, html.stdout);
    const json = await palisade('matrix', ...ARGV, '-o', 'json');
    const cells = JSON.parse(json.stdout).cells as { from: string; to: string; port: number; protocol: string; verdict: string }[];
    denied = cells.filter((c) => c.verdict === 'deny').map((c) => `${c.protocol}/${c.port} ${c.from} -> ${c.to}`).sort();
    page = await openPage(pathToFileURL(file).href, [pathToFileURL(file).href]);
  });

  it('shows every pod as a row and a column of every table', async () => {
    const t = await readTables(page);
    expect(t.grids).toEqual(['TCP/80', 'TCP/5432', 'TCP/9187']);
    for (const r of t.rows) expect(r).toEqual(PODS);
    for (const c of t.cols) expect(c).toEqual(PODS);
    expect(t.cells).toHaveLength(3 * PODS.length * PODS.length);
  });

  it('the cells that read "✗" are exactly the denied cells of palisade matrix -o json', async () => {
    const t = await readTables(page);
    expect(new Set(t.cells.map((c) => c.mark))).toEqual(new Set(['✓', '✗']));
    const seen = t.cells.filter((c) => c.mark === '✗').map((c) => `${c.grid} ${c.from} -> ${c.to}`).sort();
    expect(denied.length).toBeGreaterThan(0);
    expect(seen).toEqual(denied);
  });

  it('a click on a cell shows the explanation of both directions, as palisade check prints it', async () => {
    await page.locator('section.grid[data-port="5432"] td.cell[data-from="frontend/web"][data-to="db/postgres"]').click();
    const title = await page.locator('#detail-title').innerText();
    const text = await page.locator('#detail-text').innerText();
    expect(title).toBe('frontend/web -> db/postgres TCP/5432 (denied)');
    expect(text).toContain('egress (at the source, frontend/web): deny');
    expect(text).toContain('Admin tier: AdminNetworkPolicy frontend-not-to-db-port egress[0] "no-direct-db": Deny, priority 5');
    expect(text).toContain('ingress (at the destination, db/postgres): deny');
    expect(text).toContain('Admin tier: ClusterNetworkPolicy protect-db ingress[2] "deny-everyone-else": Deny, priority 20');
    const check = await palisade('check', '-f', S11, '--from', 'frontend/web', '--to', 'db/postgres', '--port', '5432');
    expect(text.trim()).toBe(check.stdout.trim());
    const shot = process.env.PALISADE_UPDATE_SCREENSHOT === '1' ? join(ROOT, 'docs', 'matrix-s11.png') : join(work, 'matrix-s11.png');
    await page.screenshot({ path: shot, fullPage: true });
    const png = readFileSync(shot);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.length).toBeGreaterThan(10_000);
  });

  it('filters by namespace, port and protocol', async () => {
    await page.locator('input[name="ns"][value="monitoring"]').uncheck();
    let t = await readTables(page);
    for (const r of t.rows) expect(r).toEqual(['backend/api', 'db/postgres', 'frontend/web']);
    for (const c of t.cols) expect(c).toEqual(['backend/api', 'db/postgres', 'frontend/web']);
    await page.locator('select[name="port"]').selectOption('5432');
    t = await readTables(page);
    expect(t.grids).toEqual(['TCP/5432']);
    await page.locator('select[name="protocol"]').selectOption('TCP');
    expect((await readTables(page)).grids).toEqual(['TCP/5432']);
    await page.locator('input[name="ns"][value="monitoring"]').check();
    await page.locator('select[name="port"]').selectOption('');
    expect((await readTables(page)).grids).toHaveLength(3);
  });

  it('the committed screenshot is there (docs/matrix-s11.png)', () => {
    const png = readFileSync(join(ROOT, 'docs', 'matrix-s11.png'));
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  });

  it('asked for nothing from the network', () => {
    expect(blocked).toEqual([]);
  });
});

describe('palisade serve in Chromium (127.0.0.1)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServe({
      paths: [S21],
      host: '127.0.0.1',
      port: 0,
      query: { ports: [80, 9187], protocols: ['TCP'] },
      external: [],
      engine: 'reference',
      io: { out: () => {}, err: () => {} },
    });
  });
  afterAll(async () => server?.close());

  it('the served matrix: every pod, the denied cells of -o json, a click explains', async () => {
    const page = await openPage(server.url, [server.url]);
    const t = await readTables(page);
    for (const r of t.rows) expect(r).toEqual(PODS);
    const json = await palisade('matrix', '-f', S21, '--port', '80,9187', '-o', 'json');
    const denied = (JSON.parse(json.stdout).cells as { from: string; to: string; port: number; protocol: string; verdict: string }[])
      .filter((c) => c.verdict === 'deny')
      .map((c) => `${c.protocol}/${c.port} ${c.from} -> ${c.to}`)
      .sort();
    expect(t.cells.filter((c) => c.mark === '✗').map((c) => `${c.grid} ${c.from} -> ${c.to}`).sort()).toEqual(denied);
    await page.locator('section.grid[data-port="9187"] td.cell[data-from="backend/api"][data-to="db/postgres"]').click();
    const text = await page.locator('#detail-text').innerText();
    expect(text).toContain('passed: Admin tier: ClusterNetworkPolicy protect-db ingress[1] "backend-rest-to-netpol": Pass, priority 20');
    await page.close();
  });

  it('the staged diff page: changed cells marked, a click shows both sides and the staged cause', async () => {
    const page = await openPage(new URL('/diff', server.url).href, [server.url]);
    const t = await readTables(page);
    const changed = t.cells.filter((c) => c.mark.includes('→')).map((c) => `${c.grid} ${c.from} -> ${c.to} ${c.mark}`).sort();
    expect(changed).toEqual([
      'TCP/80 frontend/web -> monitoring/prometheus ✓→✗',
      'TCP/9187 frontend/web -> backend/api ✓→✗',
      'TCP/9187 frontend/web -> db/postgres ✗→✓',
      'TCP/9187 frontend/web -> monitoring/prometheus ✓→✗',
    ]);
    await page.locator('section.grid[data-port="9187"] td.cell[data-from="frontend/web"][data-to="db/postgres"]').click();
    const text = await page.locator('#detail-text').innerText();
    expect(text).toContain('deny -> allow, owed to:');
    expect(text).toContain('ingress, Admin tier: ClusterNetworkPolicy web-reads-postgres-metrics ingress[0] "from-web-dashboard": Accept, priority 15 (staged)');
    expect(text).toContain('enforced:\nfrontend/web (10.244.1.20) -> db/postgres (10.244.2.10) TCP/9187: DENIED');
    expect(text).toContain('with staged in force:\nfrontend/web (10.244.1.20) -> db/postgres (10.244.2.10) TCP/9187: ALLOWED');
    await page.locator('input[name="changed"]').check();
    expect(await page.locator('td.cell.dim').count()).toBe(t.cells.length - 4);
    await page.close();
  });

  it('asked for nothing outside its own origin', () => {
    expect(blocked).toEqual([]);
  });
});

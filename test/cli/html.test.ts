/**
 * The HTML pages (src/html, src/cli/html-view.ts): `palisade matrix -o html` holds exactly the
 * cells of `-o json` (every endpoint, the same verdicts, each cell's explanation as `check`
 * prints it), needs nothing from the network, and every string of the model is escaped, the
 * embedded JSON included, so no label, rule name or explanation can inject markup or script.
 * The page in a real browser: test/browser/matrix-page.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { renderPage } from '../../src/html/page.js';
import type { PageModel } from '../../src/html/model.js';
import { example, palisade } from './helpers.js';

const S11 = example('s11-deny-with-priorities');

interface JsonCell {
  from: string;
  to: string;
  port: number;
  protocol: string;
  verdict: string;
}

const unescape = (s: string): string => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

describe('palisade matrix -o html', () => {
  it('holds every endpoint and exactly the cells of -o json; each explanation as palisade check prints it', async () => {
    const argv = ['-f', S11, '--port', '80,5432,9187', '--protocol', 'TCP,UDP'];
    const json = await palisade('matrix', ...argv, '-o', 'json');
    const html = await palisade('matrix', ...argv, '-o', 'html');
    expect(html.code).toBe(0);
    const cells: JsonCell[] = JSON.parse(json.stdout).cells;
    const page = html.stdout;
    for (const label of ['backend/api', 'db/postgres', 'frontend/web', 'monitoring/prometheus']) {
      expect(page).toContain(`<th scope="row">${label}</th>`);
      expect(page).toContain(`<span>${label}</span></th>`);
    }
    const tds = [...page.matchAll(/<td class="cell (\w+)" [^>]*data-from="([^"]+)" data-to="([^"]+)" [^>]*data-port="(\d+)" data-protocol="(\w+)" data-verdict="(\w+)"[^>]*data-detail="(\d+)"/g)].map((m) => ({
      mark: m[1],
      from: unescape(m[2]!),
      to: unescape(m[3]!),
      port: Number(m[4]),
      protocol: m[5],
      verdict: m[6],
      detail: Number(m[7]),
    }));
    expect(tds.map(({ from, to, port, protocol, verdict }) => ({ from, to, port, protocol, verdict }))).toEqual(
      cells.map(({ from, to, port, protocol, verdict }) => ({ from, to, port, protocol, verdict })),
    );
    expect(tds.filter((t) => t.mark === 'deny').length).toBe(cells.filter((c) => c.verdict === 'deny').length);
    // the embedded explanation of a cell is check's text for the same flow
    const data = JSON.parse(/<script id="palisade-data" type="application\/json">(.*?)<\/script>/s.exec(page)![1]!) as { texts: string[] };
    const cell = tds.find((t) => t.from === 'backend/api' && t.to === 'db/postgres' && t.port === 9187 && t.protocol === 'TCP')!;
    const check = await palisade('check', '-f', S11, '--from', 'backend/api', '--to', 'db/postgres', '--port', '9187');
    expect(data.texts[cell.detail]).toBe(check.stdout);
  });

  it('needs no network: no external reference, and a Content-Security-Policy that forbids fetching', async () => {
    const { stdout } = await palisade('matrix', '-f', S11, '-o', 'html');
    expect(stdout).not.toMatch(/(src|href|action)\s*=\s*["']?(https?:|\/\/)/i);
    expect(stdout).not.toMatch(/@import|url\(\s*["']?(https?:|\/\/)/i);
    expect(stdout).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; connect-src 'none'"`);
  });
});

describe('renderPage escapes every string', () => {
  const evil = `</script><script>alert(1)</script><img src=x onerror=alert(2)>"'&`;
  const model: PageModel = {
    kind: 'matrix',
    title: evil,
    subtitle: [evil],
    endpoints: [{ label: evil, namespace: evil, kind: 'pod' }],
    grids: [{ port: 80, protocol: 'TCP', cells: [[{ mark: 'deny', title: evil, detail: 0 }]] }],
    texts: [evil + '\u2028<!--'],
    groups: [{ heading: evil, body: evil }],
    problems: [evil],
  };
  const page = renderPage(model);

  it('no markup from the model reaches the page', () => {
    expect(page.match(/<script/g)).toHaveLength(2); // the data element and the page script
    expect(page).not.toContain('<img');
    // outside the JSON data element (checked below), not even the attribute text survives unescaped
    const markup = page.replace(/<script id="palisade-data"[\s\S]*?<\/script>/, '');
    expect(markup).not.toContain('onerror=alert(2)>');
    expect(page).toContain('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('the embedded JSON cannot close its element, and still reads back exactly', () => {
    const raw = /<script id="palisade-data" type="application\/json">(.*?)<\/script>/s.exec(page)![1]!;
    expect(raw).not.toContain('<');
    expect(JSON.parse(raw).texts[0]).toBe(evil + '\u2028<!--');
  });
});

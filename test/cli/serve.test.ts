/**
 * `palisade serve`: serves the matrix page and the staged diff page of a manifest directory on
 * loopback (a real HTTP server on 127.0.0.1, port picked by the kernel), the same cells as
 * `palisade matrix -o json`; reloads when a file changes; keeps the last good pages with the
 * problems shown when a change is invalid; refuses non-loopback addresses unless asked, requests
 * addressed to another host (DNS rebinding), and anything but GET/HEAD.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopback, parseAddress, startServe, type RunningServer } from '../../src/cli/serve.js';
import { captureIo, example, palisade } from './helpers.js';

const S21 = example('s21-staged-approval');
let dir: string;
let server: RunningServer;
const io = captureIo();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pal-serve-'));
  cpSync(S21, dir, { recursive: true });
  server = await startServe({
    paths: [dir],
    host: '127.0.0.1',
    port: 0,
    query: { ports: [80, 9187], protocols: ['TCP'] },
    external: [],
    engine: 'reference',
    io,
    debounceMs: 50,
    pollMs: 200,
  });
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

function get(path: string, opts: { method?: string; host?: string } = {}): Promise<{ status: number; type: string; body: string }> {
  const url = new URL(path, server.url);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.host ? { host: opts.host } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function until(cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}

describe('palisade serve', () => {
  it('listens on 127.0.0.1 and serves the matrix page with every pod', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const r = await get('/');
    expect(r.status).toBe(200);
    expect(r.type).toBe('text/html; charset=utf-8');
    for (const pod of ['backend/api', 'db/postgres', 'frontend/web', 'monitoring/prometheus']) expect(r.body).toContain(`<th scope="row">${pod}</th>`);
    expect(r.body).toContain('data-live-path="/generation"');
  });

  it('/matrix.json is palisade matrix -o json', async () => {
    const r = await get('/matrix.json');
    const cli = await palisade('matrix', '-f', dir, '--port', '80,9187', '-o', 'json', '--engine', 'reference');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual(JSON.parse(cli.stdout));
  });

  it('/diff is the staged diff page; /diff.json palisade diff --staged -o json', async () => {
    const page = await get('/diff');
    expect(page.status).toBe(200);
    expect(page.body.match(/data-changed="1"/g)).toHaveLength(4);
    const r = await get('/diff.json');
    const cli = await palisade('diff', '-f', dir, '--staged', '--port', '80,9187', '-o', 'json', '--engine', 'reference');
    expect(JSON.parse(r.body)).toEqual(JSON.parse(cli.stdout));
  });

  it('refuses other hosts in Host (DNS rebinding), other methods, unknown paths', async () => {
    expect((await get('/', { host: 'evil.example:80' })).status).toBe(403);
    expect((await get('/', { method: 'POST' })).status).toBe(405);
    expect((await get('/etc/passwd')).status).toBe(404);
    expect((await get('/', { host: `localhost:${new URL(server.url).port}` })).status).toBe(200);
  });

  it('reloads on change; an invalid change keeps the last good page and shows the problems', async () => {
    const file = join(dir, 'policies.yaml');
    const good = readFileSync(file, 'utf8');
    const g0 = server.generation();
    // promote the staged ClusterNetworkPolicy: frontend/web -> db/postgres TCP/9187 opens
    writeFileSync(file, good.replace(/  annotations:\n    policy\.palisade\.dev\/staged: "true"\nspec:\n  tier: Admin\n  priority: 15/, 'spec:\n  tier: Admin\n  priority: 15'));
    await until(async () => server.generation() > g0);
    await until(async () => (await get('/generation')).body.trim() === String(server.generation()));
    const cells = JSON.parse((await get('/matrix.json')).body).cells as { from: string; to: string; port: number; verdict: string }[];
    expect(cells.find((c) => c.from === 'frontend/web' && c.to === 'db/postgres' && c.port === 9187)?.verdict).toBe('allow');

    const g1 = server.generation();
    writeFileSync(file, good.replace('priority: 15', 'priority: 15000'));
    await until(async () => server.generation() > g1);
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('The manifests have problems; showing the last good state');
    expect(page.body).toMatch(/error [A-Z_]+: ClusterNetworkPolicy web-reads-postgres-metrics: spec\.priority/);
    const still = JSON.parse((await get('/matrix.json')).body).cells as { from: string; to: string; port: number; verdict: string }[];
    expect(still.find((c) => c.from === 'frontend/web' && c.to === 'db/postgres' && c.port === 9187)?.verdict).toBe('allow');

    const g2 = server.generation();
    writeFileSync(file, good);
    await until(async () => server.generation() > g2);
    const back = await get('/');
    expect(back.body).not.toContain('The manifests have problems');
    const cells2 = JSON.parse((await get('/matrix.json')).body).cells as { from: string; to: string; port: number; verdict: string }[];
    expect(cells2.find((c) => c.from === 'frontend/web' && c.to === 'db/postgres' && c.port === 9187)?.verdict).toBe('deny');
  });
});

describe('palisade serve: addresses', () => {
  it('binds loopback only unless asked', async () => {
    const r = await palisade('serve', '-f', S21, '--address', '0.0.0.0:0');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('0.0.0.0 is not a loopback address');
    expect(r.stderr).toContain('--allow-non-loopback');
  });
  it('parses HOST:PORT and [v6]:PORT; knows loopback', () => {
    expect(parseAddress('127.0.0.1:7480')).toEqual({ host: '127.0.0.1', port: 7480 });
    expect(parseAddress('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(() => parseAddress('example.com:80')).toThrow(/not an IP address or localhost/);
    expect(() => parseAddress('127.0.0.1')).toThrow(/HOST:PORT/);
    expect([isLoopback('127.0.0.1'), isLoopback('127.9.9.9'), isLoopback('::1'), isLoopback('localhost'), isLoopback('10.0.0.1'), isLoopback('::')]).toEqual([
      true,
      true,
      true,
      true,
      false,
      false,
    ]);
  });
});

/**
 * `palisade serve`: the HTML pages of `matrix -o html` and `diff --staged -o html`, served live
 * for a manifest directory. Every change of the files is reloaded (src/enforce/watch.ts: the
 * enforce loop's watcher, debounce and last-good-state rule, with page rendering as the
 * "enforcer"); the open page polls `/generation` and reloads itself. Invalid input keeps the last
 * good pages, with the problems shown on top.
 *
 * Safety: binds 127.0.0.1 by default and refuses any non-loopback address unless
 * `--allow-non-loopback` is given (the pages show the cluster's whole policy). Requests whose
 * Host header names another host are refused (a DNS-rebinding page cannot read them). GET and
 * HEAD only; no request reaches the file system or a shell. This file and the watcher are the
 * only I/O of the command.
 * Routes: `/` matrix page, `/diff` staged diff page, `/matrix.json`, `/diff.json`, `/generation`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import { startEnforceLoop, type EnforceLoop } from '../enforce/watch.js';
import { computeMatrix, matrixCells, matrixEndpoints, type MatrixQuery } from '../matrix/index.js';
import type { IpAddr } from '../model/ip.js';
import { formatProblem } from '../model/problems.js';
import { withStagedInForce } from '../model/staged.js';
import type { Cluster } from '../model/types.js';
import { formatFlags, parseArgs, parsePortList, UsageError } from './args.js';
import { diffClusters, diffJson, diffPageContext, type DiffSidesArg } from './diff.js';
import { parseEngine, selectEvaluator, type EngineName, ENGINE_FLAG } from './engine.js';
import { renderDiffPage, renderMatrixPage } from './html-view.js';
import { EXIT_OK, type Io } from './io.js';
import { toJson } from './json.js';
import { matrixSubtitle } from './matrix.js';
import { parseAddressList, parseFamily, parseProtocolList } from './options.js';
import { escapeHtml } from '../html/page.js';

export const SERVE_FLAGS = {
  file: { kind: 'list', short: 'f', value: 'PATH...', help: 'manifest files or directories, watched for changes' },
  address: { kind: 'string', value: 'HOST:PORT', help: 'where to listen (default 127.0.0.1:7480; port 0 picks a free one)' },
  'allow-non-loopback': { kind: 'boolean', help: 'allow an address other than loopback (the pages show every policy)' },
  port: { kind: 'list', value: 'N[,N...]', help: 'destination ports (default 80)' },
  protocol: { kind: 'list', value: 'P[,P...]', help: 'TCP, UDP, SCTP (default TCP)' },
  'ip-family': { kind: 'string', value: '4|6', help: 'only this family' },
  external: { kind: 'list', value: 'IP[,IP...]', help: 'also include these addresses as rows and columns' },
  engine: ENGINE_FLAG,
  help: { kind: 'boolean', short: 'h', help: 'show this help' },
} as const;

export const SERVE_HELP = `Usage: palisade serve -f PATH... [--address 127.0.0.1:PORT] [--port N,...] [--protocol P,...]

Serves, live, the page of palisade matrix -o html (at /) and of palisade diff --staged -o html
(at /diff) for the manifests, reloading them on every change (an open page reloads itself);
invalid input keeps the last good pages and shows the problems. Also /matrix.json and /diff.json.
Listens on loopback only unless --allow-non-loopback. Stops on Ctrl-C.

${formatFlags(SERVE_FLAGS)}
`;

export const DEFAULT_ADDRESS = '127.0.0.1:7480';

export interface ServeOptions {
  readonly paths: readonly string[];
  readonly host: string;
  readonly port: number;
  readonly query: MatrixQuery;
  readonly external: readonly IpAddr[];
  readonly engine: EngineName;
  readonly io: Io;
  /** watcher timings (tests shorten them) */
  readonly debounceMs?: number;
  readonly pollMs?: number;
}

export interface RunningServer {
  readonly url: string;
  /** bumps on every reload attempt (applied or rejected) */
  generation(): number;
  /** reload now (the watcher does it on its own) */
  reload(): Promise<void>;
  close(): Promise<void>;
}

/** `HOST:PORT` or `[v6]:PORT`. */
export function parseAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (!m) throw new UsageError(`--address: ${JSON.stringify(text)} is not HOST:PORT (e.g. 127.0.0.1:7480)`);
  const host = (m[1] ?? m[2]) as string;
  const port = Number(m[3]);
  if (port > 65535) throw new UsageError(`--address: ${port} is not a port (0..65535)`);
  if (host !== 'localhost' && isIP(host) === 0) throw new UsageError(`--address: ${JSON.stringify(host)} is not an IP address or localhost`);
  return { host, port };
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

interface State {
  cluster?: Cluster;
  problems: string[];
  generation: number;
  cache: Map<string, { type: string; body: string }>;
}

export async function startServe(o: ServeOptions): Promise<RunningServer> {
  const state: State = { problems: [], generation: 0, cache: new Map() };
  const sides: DiffSidesArg = { mode: 'staged', paths: o.paths };
  const loop: EnforceLoop = startEnforceLoop({
    paths: o.paths,
    debounceMs: o.debounceMs ?? 150,
    pollMs: o.pollMs ?? 700,
    enforcer: {
      apply: async (cluster) => {
        state.cluster = cluster;
        return { summary: 'pages', ms: 0 };
      },
    },
    onEvent: (e) => {
      state.generation++;
      state.cache.clear();
      if (e.type === 'applied') {
        state.problems = [];
        if (e.warnings.length > 0) o.io.err(e.warnings.map((p) => formatProblem(p) + '\n').join(''));
        o.io.err(`palisade serve: loaded (generation ${state.generation})\n`);
      } else if (e.type === 'rejected') {
        state.problems = e.problems.filter((p) => p.severity === 'error').map(formatProblem);
        o.io.err(`palisade serve: invalid input; keeping the last good state\n${e.problems.map((p) => formatProblem(p) + '\n').join('')}`);
      } else {
        state.problems = [`internal error: ${e.error.message}`];
        o.io.err(`palisade serve: internal error: ${e.error.message}\n`);
      }
    },
  });
  await loop.ready;

  const quiet: Io = { out: o.io.out, err: () => {} };
  const render = (route: string): { type: string; body: string } | undefined => {
    const c = state.cluster;
    const live = { path: '/generation', generation: state.generation };
    const links = [
      { href: '/', text: 'matrix' },
      { href: '/diff', text: 'staged diff' },
      { href: '/matrix.json', text: 'matrix.json' },
      { href: '/diff.json', text: 'diff.json' },
    ];
    if (route === '/generation') return { type: 'text/plain; charset=utf-8', body: `${state.generation}\n` };
    if (!c) {
      if (route === '/' || route === '/diff') return { type: 'text/html; charset=utf-8', body: problemPage(state.problems, live.generation) };
      return undefined;
    }
    const cached = state.cache.get(route);
    if (cached) return cached;
    let out: { type: string; body: string } | undefined;
    if (route === '/' || route === '/matrix.json') {
      const ev = selectEvaluator(o.engine, c, quiet);
      const m = computeMatrix(ev, matrixEndpoints(c, o.external), o.query);
      out =
        route === '/'
          ? {
              type: 'text/html; charset=utf-8',
              body: renderMatrixPage(m, ev, { title: 'Palisade truth table', subtitle: matrixSubtitle(o.paths, c, m), problems: state.problems, live, links }),
            }
          : { type: 'application/json', body: toJson({ cells: matrixCells(m) }) };
    } else if (route === '/diff' || route === '/diff.json') {
      const r = diffClusters(c, withStagedInForce(c), 'staged', o.query, o.external, o.engine, quiet);
      out =
        route === '/diff'
          ? { type: 'text/html; charset=utf-8', body: renderDiffPage(r.diff, r, r.words, { ...diffPageContext(r, sides), problems: state.problems, live, links }) }
          : { type: 'application/json', body: toJson(diffJson(r, sides)) };
    }
    if (out) state.cache.set(route, out);
    return out;
  };

  const server: Server = createServer((req, res) => handle(req, res, render, o.host));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const hostText = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${hostText}:${addr.port}/`,
    generation: () => state.generation,
    reload: () => loop.reload(),
    async close() {
      await loop.stop();
      // an open page keeps its connection alive: drop it, or close would wait for it
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function handle(req: IncomingMessage, res: ServerResponse, render: (route: string) => { type: string; body: string } | undefined, host: string): void {
  const headers = { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...headers, Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
    return;
  }
  // Bound to loopback, answer only requests addressed to loopback: a page on another site that
  // rebinds its name to 127.0.0.1 sends its own name in Host.
  const hostHeader = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  if (isLoopback(host) && !isLoopback(hostHeader)) {
    res.writeHead(403, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }).end('this server answers only requests to a loopback address\n');
    return;
  }
  const route = (req.url ?? '/').split('?')[0] as string;
  let page: { type: string; body: string } | undefined;
  try {
    page = render(route);
  } catch (e) {
    res.writeHead(500, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }).end(`internal error: ${(e as Error).message}\n`);
    return;
  }
  if (!page) {
    res.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }).end('not found: try / or /diff\n');
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Type': page.type });
  res.end(req.method === 'HEAD' ? undefined : page.body);
}

function problemPage(problems: readonly string[], generation: number): string {
  return (
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Palisade: invalid input</title></head>` +
    `<body data-live-path="/generation" data-generation="${generation}"><h1>The manifests have problems; nothing is shown</h1>` +
    `<pre>${escapeHtml(problems.join('\n'))}</pre>` +
    `<script>setInterval(function(){fetch('/generation',{cache:'no-store'}).then(function(r){return r.text()}).then(function(g){if(g.trim()!==document.body.dataset.generation)location.reload()}).catch(function(){})},1500)</script>` +
    `</body></html>\n`
  );
}

export async function runServe(argv: readonly string[], io: Io): Promise<number> {
  const a = parseArgs(argv, SERVE_FLAGS);
  if (a.help) {
    io.out(SERVE_HELP);
    return EXIT_OK;
  }
  if (a.file.length === 0) throw new UsageError('-f PATH is required (files or directories of manifests)');
  const { host, port } = parseAddress(a.address ?? DEFAULT_ADDRESS);
  if (!isLoopback(host) && !a['allow-non-loopback']) {
    throw new UsageError(`--address: ${host} is not a loopback address; the pages show every policy of the cluster. Add --allow-non-loopback to serve it there anyway`);
  }
  const ports = a.port.length > 0 ? parsePortList(a.port, '--port') : [80];
  const protocols = a.protocol.length > 0 ? parseProtocolList(a.protocol) : (['TCP'] as const);
  const family = parseFamily(a['ip-family']);
  const query: MatrixQuery = { ports: [...new Set(ports)], protocols: [...new Set(protocols)], ...(family !== undefined ? { family } : {}) };
  const s = await startServe({ paths: a.file, host, port, query, external: parseAddressList(a.external, '--external'), engine: parseEngine(a.engine), io });
  if (!isLoopback(host)) io.err(`palisade serve: warning: serving on ${host}, not loopback; anyone who can reach it sees every policy\n`);
  io.out(`serving ${s.url} (matrix) and ${s.url}diff (staged diff); Ctrl-C stops\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await s.close();
  return EXIT_OK;
}

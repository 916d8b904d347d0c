/**
 * The node agent's connection to the Kubernetes API server: one HTTPS agent (cluster CA, client
 * certificate when the kubeconfig has one), a bearer token, plain requests and watch streams.
 *
 * Library vs ours (src/agent/README.md, "Kubernetes client: library vs ours"):
 * - `@kubernetes/client-node` 1.4 parses the kubeconfig (contexts, inline and file CA / client
 *   certificates, paths relative to the file, exec and auth-provider plugins) and derives the
 *   in-cluster server URL from KUBERNETES_SERVICE_HOST/PORT (IPv6 brackets, http ports).
 * - Requests and watch streams are ours, on node:https: the library's watch has no timeout and
 *   gives no access to the chunk boundaries the informer batches on, and its token file is
 *   re-read only every 60 s (and the kubeconfig `tokenFile` field not at all).
 *
 * Invariants:
 * - A token file is re-read when its mtime or size changes (checked before every request, one
 *   stat) and once more after a 401, and the request is retried once with the new token; a
 *   second 401 is returned to the caller.
 * - `request` never throws on an HTTP status; it throws only on transport failure (connection,
 *   TLS, timeout, abort) with code ERR_PALISADE_KUBE_TRANSPORT (the abort keeps its AbortError).
 * - `watchChunks` throws KubeApiError (ERR_PALISADE_KUBE_HTTP) when the watch is not opened (any
 *   status but 200); after that it yields, per read from the socket, the JSON lines completed by it.
 * Cost: one stat per request when a token file is used; connections are kept alive and reused.
 * Thread-safety: single event loop; one client may serve any number of concurrent requests.
 */
import { readFileSync, statSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { dirname, isAbsolute, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';

/** The service-account files a pod gets; `KubeClient.inCluster({ dir })` reads them elsewhere in tests. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

export interface KubeRequest {
  readonly method: string;
  /** an absolute API path: `/api/v1/pods` */
  readonly path: string;
  readonly query?: Query;
  /** sent as JSON */
  readonly body?: unknown;
  readonly signal?: AbortSignal;
  /** the whole request, headers to last byte; default 60 s */
  readonly timeoutMs?: number;
  /** default application/json; `application/merge-patch+json` for a PATCH */
  readonly contentType?: string;
}

export interface KubeResponse {
  readonly status: number;
  /** the decoded JSON body, or the text when it is not JSON */
  readonly body: unknown;
}

export interface KubeClientConfig {
  /** `https://HOST:PORT` (http only when explicitly given, as the in-cluster loader does for ports 80/8080) */
  readonly server: string;
  /** PEM of the CA that signed the server's certificate; without it, the system roots */
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  readonly skipTLSVerify?: boolean;
  readonly tlsServerName?: string;
  /** a fixed bearer token */
  readonly token?: string;
  /** a bearer token file, re-read when it changes (wins over `token`) */
  readonly tokenFile?: string;
  /** an Authorization header from elsewhere (the library's exec / auth-provider plugins) */
  readonly authorize?: () => Promise<string | undefined>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly userAgent?: string;
}

/** An HTTP status the caller did not expect, with the Status object the server sent. */
export class KubeApiError extends Error {
  readonly code = 'ERR_PALISADE_KUBE_HTTP';
  constructor(
    readonly status: number,
    readonly path: string,
    readonly body: unknown,
  ) {
    super(`${path}: HTTP ${status}${statusMessage(body)}`);
    this.name = 'KubeApiError';
  }
  /** the Status `reason` (`Expired`, `NotFound`, `Unauthorized`), when the body is a Status */
  get reason(): string | undefined {
    const b = this.body as { reason?: unknown } | undefined;
    return typeof b?.reason === 'string' ? b.reason : undefined;
  }
}

function statusMessage(body: unknown): string {
  const b = body as { message?: unknown } | undefined;
  return b && typeof b.message === 'string' ? `: ${b.message}` : '';
}

function configError(message: string, cause?: unknown): Error {
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code: 'ERR_PALISADE_KUBE_CONFIG' });
}

function transportError(server: string, path: string, e: unknown): Error {
  const err = e as { name?: string; code?: string; message?: string };
  if (err?.name === 'AbortError') return e as Error;
  return Object.assign(new Error(`${server}${path}: ${err?.code ? `${err.code}: ` : ''}${err?.message ?? String(e)}`, { cause: e }), {
    code: 'ERR_PALISADE_KUBE_TRANSPORT',
    transportCode: err?.code,
  });
}

export class KubeClient {
  readonly server: URL;
  private readonly agent: HttpAgent;
  private readonly tls: boolean;
  private token: string | undefined;
  private tokenStamp = '';
  /** token file re-reads (changes seen and 401 retries); for tests and logs */
  tokenReads = 0;

  constructor(private readonly config: KubeClientConfig) {
    let url: URL;
    try {
      url = new URL(config.server);
    } catch (e) {
      throw configError(`the API server address ${JSON.stringify(config.server)} is not a URL`, e);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw configError(`the API server address ${config.server} is neither https nor http`);
    this.server = url;
    this.tls = url.protocol === 'https:';
    this.agent = this.tls
      ? new HttpsAgent({
          keepAlive: true,
          ...(config.ca ? { ca: config.ca } : {}),
          ...(config.cert ? { cert: config.cert } : {}),
          ...(config.key ? { key: config.key } : {}),
          ...(config.tlsServerName ? { servername: config.tlsServerName } : {}),
          rejectUnauthorized: !config.skipTLSVerify,
        })
      : new HttpAgent({ keepAlive: true });
    this.token = config.token;
    if (config.tokenFile) this.readTokenFile(true);
  }

  /**
   * A client from a kubeconfig file: its current context (or `context`). The library parses it;
   * `tokenFile` (and the older `token-file`) is taken from the file's user entry and re-read here.
   */
  static fromKubeconfig(path: string, opts: { context?: string } = {}): KubeClient {
    const kc = new KubeConfig();
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
      kc.loadFromString(text);
      kc.makePathsAbsolute(dirname(path));
      if (opts.context) kc.setCurrentContext(opts.context);
    } catch (e) {
      throw configError(`kubeconfig ${path}: ${(e as Error).message}`, e);
    }
    const cluster = kc.getCurrentCluster();
    const user = kc.getCurrentUser();
    if (!cluster) throw configError(`kubeconfig ${path}: the current context ${JSON.stringify(kc.getCurrentContext())} names no cluster (field contexts[].context.cluster)`);
    if (!cluster.server) throw configError(`kubeconfig ${path}: cluster ${cluster.name} has no server (field clusters[].cluster.server)`);
    let tls: { ca?: Buffer; cert?: Buffer; key?: Buffer };
    try {
      tls = {
        ...pem('ca', cluster.caFile, cluster.caData),
        ...pem('cert', user?.certFile, user?.certData),
        ...pem('key', user?.keyFile, user?.keyData),
      };
    } catch (e) {
      throw configError(`kubeconfig ${path}: cluster ${cluster.name} / user ${user?.name ?? '-'}: ${(e as Error).message}`, e);
    }
    const tokenFile = rawTokenFile(text, user?.name, dirname(path));
    const plugin = user && (user.exec || user.authProvider) && !tokenFile;
    return new KubeClient({
      server: cluster.server,
      ...(tls.ca ? { ca: tls.ca } : {}),
      ...(tls.cert ? { cert: tls.cert } : {}),
      ...(tls.key ? { key: tls.key } : {}),
      ...(cluster.skipTLSVerify ? { skipTLSVerify: true } : {}),
      ...(cluster.tlsServerName ? { tlsServerName: cluster.tlsServerName } : {}),
      ...(tokenFile ? { tokenFile } : user?.token ? { token: user.token } : {}),
      ...(plugin
        ? {
            authorize: async () => {
              const o: { headers?: Record<string, string> } = { headers: {} };
              await kc.applyToHTTPSOptions(o as never);
              return o.headers?.Authorization;
            },
          }
        : {}),
    });
  }

  /**
   * The in-cluster client: the pod's service-account token and CA (`dir`, default
   * SERVICE_ACCOUNT_DIR) and KUBERNETES_SERVICE_HOST/PORT (`env`, default process.env).
   */
  static inCluster(opts: { dir?: string; env?: NodeJS.ProcessEnv } = {}): KubeClient {
    const env = opts.env ?? process.env;
    const dir = opts.dir ?? SERVICE_ACCOUNT_DIR;
    const host = env.KUBERNETES_SERVICE_HOST;
    const port = env.KUBERNETES_SERVICE_PORT;
    if (!host || !port) throw configError('not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (give --kubeconfig)');
    // the library builds the URL (scheme by port, IPv6 brackets) from the environment it reads
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    const kc = new KubeConfig();
    try {
      process.env.KUBERNETES_SERVICE_HOST = host;
      process.env.KUBERNETES_SERVICE_PORT = port;
      kc.loadFromCluster();
    } finally {
      restoreEnv('KUBERNETES_SERVICE_HOST', saved.host);
      restoreEnv('KUBERNETES_SERVICE_PORT', saved.port);
    }
    const server = kc.getCurrentCluster()?.server;
    if (!server) throw configError('the in-cluster configuration names no server');
    let ca: Buffer | undefined;
    try {
      ca = server.startsWith('https:') ? readFileSync(join(dir, 'ca.crt')) : undefined;
    } catch (e) {
      throw configError(`in-cluster CA ${join(dir, 'ca.crt')}: ${(e as Error).message}`, e);
    }
    return new KubeClient({ server, ...(ca ? { ca } : {}), tokenFile: join(dir, 'token') });
  }

  /** One request; the body comes back decoded. Throws only on transport failure. */
  async request(r: KubeRequest): Promise<KubeResponse> {
    const signal = r.signal ? AbortSignal.any([r.signal, AbortSignal.timeout(r.timeoutMs ?? 60_000)]) : AbortSignal.timeout(r.timeoutMs ?? 60_000);
    const payload = r.body === undefined ? undefined : Buffer.from(JSON.stringify(r.body));
    for (let attempt = 0; ; attempt++) {
      const res = await this.open(r.method, r.path, r.query, signal, payload, r.contentType);
      const text = await readAll(res).catch((e: unknown) => {
        throw transportError(this.config.server, r.path, e);
      });
      if (res.statusCode === 401 && attempt === 0 && this.refreshAfter401()) continue;
      return { status: res.statusCode ?? 0, body: decodeBody(text) };
    }
  }

  /** A watch (or any streamed list): the decoded objects, one at a time. */
  async *watchStream(path: string, query: Query, signal: AbortSignal): AsyncIterable<unknown> {
    for await (const chunk of this.watchChunks(path, query, signal)) yield* chunk;
  }

  /**
   * A watch stream as batches: every JSON line completed by one read from the socket. The
   * iteration ends when the server closes the stream; it throws on abort and transport errors,
   * and KubeApiError when the watch is refused (any status but 200).
   */
  async *watchChunks(path: string, query: Query, signal: AbortSignal): AsyncIterable<unknown[]> {
    let res: IncomingMessage;
    for (let attempt = 0; ; attempt++) {
      res = await this.open('GET', path, query, signal, undefined, undefined);
      if (res.statusCode === 200) break;
      const text = await readAll(res).catch((e: unknown) => {
        throw transportError(this.config.server, path, e);
      });
      if (res.statusCode === 401 && attempt === 0 && this.refreshAfter401()) continue;
      throw new KubeApiError(res.statusCode ?? 0, path, decodeBody(text));
    }
    const decoder = new StringDecoder('utf8');
    let pending = '';
    try {
      for await (const data of res) {
        pending += decoder.write(data as Buffer);
        const nl = pending.lastIndexOf('\n');
        if (nl < 0) continue;
        const lines = pending.slice(0, nl).split('\n');
        pending = pending.slice(nl + 1);
        const batch = decodeLines(lines, path);
        if (batch.length > 0) yield batch;
      }
    } catch (e) {
      throw transportError(this.config.server, path, e);
    } finally {
      res.destroy();
    }
    const rest = decodeLines([pending + decoder.end()], path);
    if (rest.length > 0) yield rest;
  }

  /** Close the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private async open(method: string, path: string, query: Query | undefined, signal: AbortSignal, payload: Buffer | undefined, contentType: string | undefined): Promise<IncomingMessage> {
    if (this.config.tokenFile) this.readTokenFile(false);
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': this.config.userAgent ?? 'palisade-agent', ...this.config.headers };
    const auth = this.config.authorize ? await this.config.authorize() : this.token ? `Bearer ${this.token}` : undefined;
    if (auth) headers.Authorization = auth;
    if (payload) {
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const url = new URL(path + queryString(query), this.server);
    const send = this.tls ? httpsRequest : httpRequest;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(url, { method, headers, agent: this.agent, signal }, resolve);
      req.on('error', (e) => reject(transportError(this.config.server, path, e)));
      req.end(payload);
    });
  }

  /** Re-read the token file when it changed (or `force`); true when a token was (re)read. */
  private readTokenFile(force: boolean): boolean {
    const file = this.config.tokenFile!;
    let stamp: string;
    try {
      const st = statSync(file);
      stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch (e) {
      if (this.token !== undefined && !force) return false; // keep the last token while the file is being replaced
      throw configError(`token file ${file}: ${(e as Error).message}`, e);
    }
    if (!force && stamp === this.tokenStamp) return false;
    this.token = readFileSync(file, 'utf8').trim();
    this.tokenStamp = stamp;
    this.tokenReads++;
    return true;
  }

  private refreshAfter401(): boolean {
    if (this.config.tokenFile) {
      try {
        return this.readTokenFile(true);
      } catch {
        return false;
      }
    }
    return this.config.authorize !== undefined;
  }
}

/** A PEM from a file (made absolute by the library) or base64 data, as the kubeconfig gives it. */
function pem(field: 'ca' | 'cert' | 'key', file: string | undefined | null, data: string | undefined | null): { ca?: Buffer; cert?: Buffer; key?: Buffer } {
  if (file) return { [field]: readFileSync(file) };
  if (data) return { [field]: Buffer.from(data, 'base64') };
  return {};
}

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/** The kubeconfig user's token file, which the library's parser does not keep. */
function rawTokenFile(text: string, userName: string | undefined, root: string): string | undefined {
  if (!userName) return undefined;
  const doc = parseYaml(text) as { users?: { name?: string; user?: Record<string, unknown> }[] } | null;
  const u = doc?.users?.find((x) => x?.name === userName)?.user;
  const f = u?.tokenFile ?? u?.['token-file'];
  if (typeof f !== 'string' || f === '') return undefined;
  return isAbsolute(f) ? f : join(root, f);
}

function queryString(q: Query | undefined): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

async function readAll(res: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of res) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function decodeBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function decodeLines(lines: readonly string[], path: string): unknown[] {
  const out: unknown[] = [];
  for (const line of lines) {
    const t = line.trim();
    if (t === '') continue;
    try {
      out.push(JSON.parse(t));
    } catch (e) {
      throw Object.assign(new Error(`${path}: a watch event is not JSON: ${t.slice(0, 200)}`, { cause: e }), { code: 'ERR_PALISADE_KUBE_DECODE' });
    }
  }
  return out;
}

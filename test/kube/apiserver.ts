/**
 * A test Kubernetes API server on loopback that speaks the real wire format, for the informer,
 * the client library check and the agent's end-to-end tests (no kube-apiserver binary or
 * container engine is in reach on this machine).
 *
 * What it serves (the shapes of k8s.io/apimachinery: APIVersions, APIGroupList, APIResourceList,
 * typed lists, watch events, Status):
 * - discovery: /version, /api, /api/v1, /apis, /apis/GROUP/VERSION (404 for a group version
 *   with no installed resource);
 * - per resource (src/agent/kube/resources.ts, plus core and events.k8s.io Events for the
 *   agent's reports): list with a resourceVersion, `limit` / `continue` over a snapshot taken
 *   at the first page (410 Expired once history is expired), `fieldSelector` / `labelSelector`
 *   equality; get, create (POST), replace (PUT), merge patch (PATCH, also on `/status`), delete;
 * - watch (`?watch=true`): chunked newline-delimited JSON, from `resourceVersion` (history
 *   replayed; an ERROR event with a 410 Status when it is older than the kept history; none or
 *   "0" = synthetic ADDED for the current state), BOOKMARK every `bookmarkMs` when
 *   `allowWatchBookmarks=true`, the stream ended after `timeoutSeconds`;
 * - TLS with a CA it makes with openssl (execFile, no shell), a bearer token (401 Status
 *   otherwise) or a client certificate signed by that CA;
 * - optional resources (CRDs) 404 until `installResource`.
 * Objects get uid, resourceVersion (one counter for all resources, like etcd), creationTimestamp
 * and a managedFields entry, as the real server adds them.
 *
 * Faults: closeWatches() ends every watch; expireHistory() forgets history and continue
 * snapshots and sends open watches an ERROR 410; stall(ms) makes watch streams (open and new)
 * silent for ms, holding their events until it ends (stall(0) ends it); slow(ms) delays every
 * response and watch write by ms; rotateToken(t) makes only t valid.
 * Single event loop; the state is plain maps; cost per watch write O(watchers).
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RESOURCES, apiVersionOf, type ResourceName, type WatchedResourceInfo } from '../../src/agent/kube/resources.js';

const run = promisify(execFile);

export type ServedResource = ResourceName | 'events' | 'events.k8s.io';
const SERVED: Record<ServedResource, WatchedResourceInfo> = {
  ...RESOURCES,
  events: { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true, optional: false },
  'events.k8s.io': { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true, optional: false },
};

export type Obj = { apiVersion?: string; kind?: string; metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string; labels?: Record<string, string>; [k: string]: unknown }; [k: string]: unknown };

export interface TestApiServerOptions {
  /** default: a random one */
  readonly token?: string;
  /** default 1000 ms */
  readonly bookmarkMs?: number;
  /** watch events kept for resumption; older resourceVersions get 410 (default 10,000) */
  readonly historyLimit?: number;
  /** also make a client certificate (signed by the CA) that authenticates without a token */
  readonly clientCert?: boolean;
  /** how a watch from an expired resourceVersion is refused: an ERROR event (the watch cache's way, default) or HTTP 410 */
  readonly expiredWatch?: 'event' | 'http';
  /** optional resources installed from the start (default none) */
  readonly installed?: readonly ResourceName[];
}

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly auth: 'token' | 'cert' | 'none';
  status: number;
}

interface Watcher {
  readonly resource: ServedResource;
  readonly namespace: string | undefined;
  readonly match: (o: Obj) => boolean;
  readonly res: ServerResponse;
  readonly bookmarks: boolean;
  held: string[];
  timers: NodeJS.Timeout[];
}

interface HistoryEntry {
  readonly rv: number;
  readonly resource: ServedResource;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly obj: Obj;
}

export interface TestTls {
  readonly dir: string;
  readonly caPem: string;
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
  readonly clientCertPem?: string;
  readonly clientKeyPem?: string;
}

/** A CA, a server certificate for 127.0.0.1 / localhost, and optionally a client certificate. */
export async function makeTestTls(clientCert: boolean): Promise<TestTls> {
  const dir = mkdtempSync(join(tmpdir(), 'pal-kube-tls-'));
  const p = (f: string): string => join(dir, f);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '2', '-subj', '/CN=palisade-test-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  writeFileSync(p('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  await run('openssl', ['req', ...ec, '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=localhost']);
  await run('openssl', ['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('server.crt'), '-days', '2', '-extfile', p('server.ext')]);
  let client: { clientCertPem: string; clientKeyPem: string } | undefined;
  if (clientCert) {
    writeFileSync(p('client.ext'), 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
    await run('openssl', ['req', ...ec, '-keyout', p('client.key'), '-out', p('client.csr'), '-subj', '/O=system:nodes/CN=system:node:palisade']);
    await run('openssl', ['x509', '-req', '-in', p('client.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('client.crt'), '-days', '2', '-extfile', p('client.ext')]);
    client = { clientCertPem: readFileSync(p('client.crt'), 'utf8'), clientKeyPem: readFileSync(p('client.key'), 'utf8') };
  }
  return { dir, caPem: readFileSync(p('ca.crt'), 'utf8'), serverCertPem: readFileSync(p('server.crt'), 'utf8'), serverKeyPem: readFileSync(p('server.key'), 'utf8'), ...client };
}

export interface KubeconfigOptions {
  /** write the token to a file and name it with `tokenFile` (default: inline `token`) */
  readonly tokenFile?: boolean;
  /** name the CA by file (`certificate-authority`) instead of inline data */
  readonly caFile?: boolean;
  /** authenticate with the client certificate instead of a token */
  readonly clientCert?: boolean;
  /** a CA to trust other than the server's (to prove a wrong CA fails) */
  readonly caPem?: string;
}

export type TestApiServer = Awaited<ReturnType<typeof startTestApiServer>>;

export async function startTestApiServer(opts: TestApiServerOptions = {}) {
  const tls = await makeTestTls(opts.clientCert ?? false);
  let token = opts.token ?? randomBytes(16).toString('hex');
  const bookmarkMs = opts.bookmarkMs ?? 1000;
  const historyLimit = opts.historyLimit ?? 10_000;
  let rv = 100;
  /** a watch from a resourceVersion below this cannot be served (its events are gone) */
  let floorRv = rv;
  const history: HistoryEntry[] = [];
  const store = new Map<ServedResource, Map<string, Obj>>();
  const installed = new Set<ServedResource>();
  for (const [name, info] of Object.entries(SERVED) as [ServedResource, WatchedResourceInfo][]) if (!info.optional) installed.add(name);
  for (const name of opts.installed ?? []) installed.add(name);
  const watchers = new Set<Watcher>();
  const snapshots = new Map<string, { rv: number; items: Obj[] }>();
  const requests: RequestRecord[] = [];
  let stalledUntil = 0;
  let stallTimer: NodeJS.Timeout | undefined;
  let slowMs = 0;
  let bookmarksSent = 0;
  /** watch requests a stall holds before their headers; opened when it ends */
  const pendingOpens = new Set<() => void>();

  const objects = (r: ServedResource): Map<string, Obj> => {
    let m = store.get(r);
    if (!m) store.set(r, (m = new Map()));
    return m;
  };
  const keyOf = (o: Obj): string => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name);
  const clone = <T>(o: T): T => structuredClone(o);

  // ---- watch delivery -------------------------------------------------------------------
  const stalled = (): boolean => performance.now() < stalledUntil;
  function write(w: Watcher, line: string): void {
    if (stalled()) {
      w.held.push(line);
      return;
    }
    if (slowMs > 0) {
      const t = setTimeout(() => {
        if (!w.res.writableEnded) w.res.write(line);
      }, slowMs);
      w.timers.push(t);
    } else if (!w.res.writableEnded) w.res.write(line);
  }
  function endWatch(w: Watcher): void {
    watchers.delete(w);
    for (const t of w.timers) clearTimeout(t);
    if (!w.res.writableEnded) w.res.end();
  }
  function flushHeld(): void {
    for (const w of [...pendingOpens]) w();
    for (const w of watchers) {
      const lines = w.held;
      w.held = [];
      for (const l of lines) write(w, l);
    }
  }
  function eventLine(type: string, obj: unknown): string {
    return JSON.stringify({ type, object: obj }) + '\n';
  }
  function publish(resource: ServedResource, type: HistoryEntry['type'], obj: Obj): void {
    history.push({ rv, resource, type, obj: clone(obj) });
    while (history.length > historyLimit) floorRv = history.shift()!.rv;
    for (const w of watchers) {
      if (w.resource !== resource) continue;
      if (w.namespace && obj.metadata.namespace !== w.namespace) continue;
      if (!w.match(obj)) continue;
      write(w, eventLine(type, obj));
    }
  }

  // ---- the store ------------------------------------------------------------------------
  function stamp(resource: ServedResource, obj: Obj, prev: Obj | undefined): Obj {
    const info = SERVED[resource];
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    rv++;
    const o = clone(obj);
    o.apiVersion = apiVersionOf(info);
    o.kind = info.kind;
    o.metadata = {
      ...o.metadata,
      uid: prev?.metadata.uid ?? randomUUID(),
      resourceVersion: String(rv),
      creationTimestamp: (prev?.metadata.creationTimestamp as string | undefined) ?? now,
      generation: ((prev?.metadata.generation as number | undefined) ?? 0) + 1,
      managedFields: [{ manager: 'palisade-test', operation: prev ? 'Update' : 'Create', apiVersion: o.apiVersion, time: now, fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': {} }, 'f:spec': {} } }],
    };
    if (!info.namespaced) delete o.metadata.namespace;
    else if (!o.metadata.namespace) o.metadata.namespace = 'default';
    return o;
  }
  function requireInstalled(resource: ServedResource): void {
    if (!installed.has(resource)) throw httpError(404, 'NotFound', `the server could not find the requested resource (${resource} is not installed)`);
  }
  function create(resource: ServedResource, obj: Obj): Obj {
    requireInstalled(resource);
    if (!obj?.metadata?.name) throw httpError(422, 'Invalid', 'metadata.name: Required value');
    const m = objects(resource);
    const key = SERVED[resource].namespaced ? `${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}` : obj.metadata.name;
    if (m.has(key)) throw httpError(409, 'AlreadyExists', `${resource} "${obj.metadata.name}" already exists`);
    const o = stamp(resource, obj, undefined);
    m.set(keyOf(o), o);
    publish(resource, 'ADDED', o);
    return clone(o);
  }
  function update(resource: ServedResource, obj: Obj): Obj {
    requireInstalled(resource);
    const m = objects(resource);
    const info = SERVED[resource];
    const key = info.namespaced ? `${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}` : obj.metadata.name;
    const prev = m.get(key);
    if (!prev) throw httpError(404, 'NotFound', `${resource} "${obj.metadata.name}" not found`);
    const o = stamp(resource, obj, prev);
    m.set(key, o);
    publish(resource, 'MODIFIED', o);
    return clone(o);
  }
  function remove(resource: ServedResource, name: string, namespace?: string): Obj {
    requireInstalled(resource);
    const m = objects(resource);
    const key = SERVED[resource].namespaced ? `${namespace ?? 'default'}/${name}` : name;
    const prev = m.get(key);
    if (!prev) throw httpError(404, 'NotFound', `${resource} "${name}" not found`);
    m.delete(key);
    rv++;
    const o = clone(prev);
    o.metadata.resourceVersion = String(rv);
    publish(resource, 'DELETED', o);
    return clone(o);
  }
  function get(resource: ServedResource, name: string, namespace?: string): Obj | undefined {
    const key = SERVED[resource].namespaced ? `${namespace ?? 'default'}/${name}` : name;
    const o = objects(resource).get(key);
    return o ? clone(o) : undefined;
  }

  // ---- HTTP -------------------------------------------------------------------------------
  class HttpError extends Error {
    constructor(
      readonly status: number,
      readonly reason: string,
      message: string,
    ) {
      super(message);
    }
  }
  function httpError(status: number, reason: string, message: string): HttpError {
    return new HttpError(status, reason, message);
  }
  const statusObject = (code: number, reason: string, message: string) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  function sendJson(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    const go = (): void => {
      if (res.writableEnded) return;
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (slowMs > 0) setTimeout(go, slowMs);
    else go();
  }

  function discovery(path: string): unknown | undefined {
    const serverAddressByClientCIDRs = [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}` }];
    if (path === '/version') return { major: '1', minor: '33', gitVersion: 'v1.33.0-palisade-test', platform: 'linux/amd64' };
    if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs };
    const groups = new Map<string, Set<string>>();
    for (const r of installed) {
      const info = SERVED[r];
      if (info.group === '') continue;
      if (!groups.has(info.group)) groups.set(info.group, new Set());
      groups.get(info.group)!.add(info.version);
    }
    if (path === '/apis') {
      return {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [...groups].map(([name, versions]) => {
          const vs = [...versions].sort().reverse().map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
          return { name, versions: vs, preferredVersion: vs[0] };
        }),
      };
    }
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
    if (!m) return undefined;
    const group = m[2] ?? '';
    const version = m[1] ?? m[3]!;
    const rs = [...installed].map((r) => SERVED[r]).filter((i) => i.group === group && i.version === version);
    if (rs.length === 0) return undefined;
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group === '' ? version : `${group}/${version}`,
      resources: rs.map((i) => ({ name: i.plural, singularName: i.kind.toLowerCase(), namespaced: i.namespaced, kind: i.kind, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] })),
    };
  }

  interface Route {
    readonly resource: ServedResource;
    readonly namespace: string | undefined;
    readonly name: string | undefined;
    readonly sub: string | undefined;
  }
  function route(path: string): Route | undefined {
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(path);
    if (!m) {
      // /api/v1/namespaces/NAME is the namespace itself, not a namespace scope
      const ns = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(path);
      return ns ? { resource: 'namespaces', namespace: undefined, name: decodeURIComponent(ns[1]!), sub: undefined } : undefined;
    }
    const group = m[2] ?? '';
    const version = m[1] ?? m[3]!;
    const entry = (Object.entries(SERVED) as [ServedResource, WatchedResourceInfo][]).find(([, i]) => i.group === group && i.version === version && i.plural === m[5]);
    if (!entry) return undefined;
    if (m[4] !== undefined && !entry[1].namespaced) return undefined;
    return { resource: entry[0], namespace: m[4] && decodeURIComponent(m[4]), name: m[6] && decodeURIComponent(m[6]), sub: m[7] };
  }

  function matcher(q: URLSearchParams): (o: Obj) => boolean {
    const field = parseSelector(q.get('fieldSelector') ?? '');
    const label = parseSelector(q.get('labelSelector') ?? '');
    return (o) =>
      field.every(({ key, op, value }) => (op === '=' ? String(dig(o, key) ?? '') === value : String(dig(o, key) ?? '') !== value)) &&
      label.every(({ key, op, value }) => {
        const v = o.metadata.labels?.[key];
        return op === 'exists' ? v !== undefined : op === '=' ? v === value : v !== value;
      });
  }

  function list(r: Route, q: URLSearchParams, res: ServerResponse): void {
    const info = SERVED[r.resource];
    const limit = Number(q.get('limit') ?? 0);
    const cont = q.get('continue');
    let snap: { rv: number; items: Obj[] };
    let offset = 0;
    let id: string;
    if (cont) {
      let tok: { id?: string; offset?: number };
      try {
        tok = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')) as typeof tok;
      } catch {
        throw httpError(400, 'BadRequest', 'invalid continue token');
      }
      const s = tok.id ? snapshots.get(tok.id) : undefined;
      if (!s) throw httpError(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      snap = s;
      offset = tok.offset ?? 0;
      id = tok.id!;
    } else {
      const match = matcher(q);
      const items = [...objects(r.resource).values()].filter((o) => (!r.namespace || o.metadata.namespace === r.namespace) && match(o)).sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
      snap = { rv, items: items.map(clone) };
      id = randomUUID();
    }
    const page = limit > 0 ? snap.items.slice(offset, offset + limit) : snap.items.slice(offset);
    const next = offset + page.length;
    const metadata: Record<string, unknown> = { resourceVersion: String(snap.rv) };
    if (next < snap.items.length) {
      snapshots.set(id, snap);
      metadata.continue = Buffer.from(JSON.stringify({ id, offset: next })).toString('base64url');
      metadata.remainingItemCount = snap.items.length - next;
    } else snapshots.delete(id);
    // built-in types' list items carry no apiVersion/kind on the wire; custom resources' do
    const items = page.map((o) => {
      if (info.optional) return o;
      const { apiVersion: _a, kind: _k, ...rest } = o;
      return rest;
    });
    sendJson(res, 200, { kind: `${info.kind}List`, apiVersion: apiVersionOf(info), metadata, items });
  }

  function watch(r: Route, q: URLSearchParams, req: IncomingMessage, res: ServerResponse): void {
    const info = SERVED[r.resource];
    const w: Watcher = { resource: r.resource, namespace: r.namespace, match: matcher(q), res, bookmarks: q.get('allowWatchBookmarks') === 'true', held: [], timers: [] };
    const from = q.get('resourceVersion');
    const open = (): void => {
      if (res.writableEnded || req.destroyed) return;
      if (from && from !== '0' && Number(from) < floorRv && opts.expiredWatch === 'http') {
        sendJson(res, 410, statusObject(410, 'Expired', `too old resource version: ${from} (${floorRv})`));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      res.flushHeaders();
      watchers.add(w);
      res.on('close', () => endWatch(w));
      if (!from || from === '0') {
        for (const o of objects(r.resource).values()) if ((!r.namespace || o.metadata.namespace === r.namespace) && w.match(o)) write(w, eventLine('ADDED', o));
      } else if (Number(from) < floorRv) {
        write(w, eventLine('ERROR', statusObject(410, 'Expired', `too old resource version: ${from} (${floorRv})`)));
        setImmediate(() => endWatch(w));
        return;
      } else {
        for (const h of history) {
          if (h.rv <= Number(from) || h.resource !== r.resource) continue;
          if (r.namespace && h.obj.metadata.namespace !== r.namespace) continue;
          if (w.match(h.obj)) write(w, eventLine(h.type, h.obj));
        }
      }
      if (w.bookmarks) {
        const t = setInterval(() => {
          if (stalled()) return;
          bookmarksSent++;
          write(w, eventLine('BOOKMARK', { kind: info.kind, apiVersion: apiVersionOf(info), metadata: { resourceVersion: String(rv) } }));
        }, bookmarkMs);
        w.timers.push(t);
      }
      const timeout = Number(q.get('timeoutSeconds') ?? 0);
      if (timeout > 0) w.timers.push(setTimeout(() => endWatch(w), timeout * 1000));
    };
    // a stalled server does not even answer a new watch until the stall ends
    const wait = (): void => {
      pendingOpens.delete(wait);
      if (stalled()) {
        pendingOpens.add(wait);
        res.on('close', () => pendingOpens.delete(wait));
      } else if (slowMs > 0) setTimeout(open, slowMs);
      else open();
    };
    wait();
  }

  async function readBody(req: IncomingMessage): Promise<unknown> {
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    const text = Buffer.concat(parts).toString('utf8');
    try {
      return text ? JSON.parse(text) : undefined;
    } catch {
      throw httpError(400, 'BadRequest', 'the body is not JSON');
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse, rec: RequestRecord): Promise<void> {
    if (rec.auth === 'none') throw httpError(401, 'Unauthorized', 'Unauthorized');
    const path = rec.path;
    const method = req.method ?? 'GET';
    const q = new URLSearchParams(rec.query as Record<string, string>);
    if (method === 'GET') {
      const d = discovery(path);
      if (d !== undefined) return sendJson(res, 200, d);
    }
    const r = route(path);
    if (!r) throw httpError(404, 'NotFound', 'the server could not find the requested resource');
    requireInstalled(r.resource);
    const ns = r.namespace;
    if (method === 'GET' && !r.name) {
      if (q.get('watch') === 'true' || q.get('watch') === '1') return watch(r, q, req, res);
      return list(r, q, res);
    }
    if (method === 'GET') {
      const o = get(r.resource, r.name!, ns);
      if (!o) throw httpError(404, 'NotFound', `${r.resource} "${r.name}" not found`);
      return sendJson(res, 200, o);
    }
    if (method === 'POST' && !r.name) {
      const body = (await readBody(req)) as Obj;
      if (ns && body?.metadata) body.metadata.namespace = ns;
      return sendJson(res, 201, create(r.resource, body));
    }
    if ((method === 'PUT' || method === 'PATCH') && r.name) {
      const body = (await readBody(req)) as Record<string, unknown>;
      const prev = get(r.resource, r.name, ns);
      if (!prev) throw httpError(404, 'NotFound', `${r.resource} "${r.name}" not found`);
      let next: Obj;
      if (method === 'PUT') next = body as Obj;
      else if (r.sub === 'status') next = { ...prev, status: mergePatch(prev.status, body?.status) };
      else next = mergePatch(prev, body) as Obj;
      next.metadata = { ...next.metadata, name: r.name, ...(ns ? { namespace: ns } : {}) };
      return sendJson(res, 200, update(r.resource, next));
    }
    if (method === 'DELETE' && r.name) return sendJson(res, 200, remove(r.resource, r.name, ns));
    throw httpError(405, 'MethodNotAllowed', `${method} is not supported on ${path}`);
  }

  const server: Server = createServer({ key: tls.serverKeyPem, cert: tls.serverCertPem, ca: tls.caPem, requestCert: opts.clientCert ?? false, rejectUnauthorized: false }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const socket = req.socket as TLSSocket;
    const auth: RequestRecord['auth'] = bearer !== undefined && bearer === token ? 'token' : opts.clientCert && socket.authorized && socket.getPeerCertificate()?.subject ? 'cert' : 'none';
    const rec: RequestRecord = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), auth, status: 0 };
    requests.push(rec);
    const writeHead = res.writeHead.bind(res);
    res.writeHead = ((status: number, ...rest: unknown[]) => {
      rec.status = status;
      return (writeHead as (...a: unknown[]) => ServerResponse)(status, ...rest);
    }) as typeof res.writeHead;
    handle(req, res, rec).catch((e: unknown) => {
      if (e instanceof HttpError) sendJson(res, e.status, statusObject(e.status, e.reason, e.message));
      else sendJson(res, 500, statusObject(500, 'InternalError', (e as Error).message));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const url = `https://127.0.0.1:${port}`;

  return {
    url,
    caPem: tls.caPem,
    clientCertPem: tls.clientCertPem,
    clientKeyPem: tls.clientKeyPem,
    get token(): string {
      return token;
    },
    /** the current resourceVersion (the last write's) */
    get resourceVersion(): string {
      return String(rv);
    },
    /** BOOKMARK events written so far */
    get bookmarksSent(): number {
      return bookmarksSent;
    },
    /** open watch streams */
    get watchCount(): number {
      return watchers.size;
    },
    requests,
    /** A kubeconfig for this server in `dir`; returns its path. */
    writeKubeconfig(dir: string, k: KubeconfigOptions = {}): string {
      const caPem = k.caPem ?? tls.caPem;
      const cluster: Record<string, string> = { server: url };
      if (k.caFile) {
        writeFileSync(join(dir, 'ca.crt'), caPem);
        cluster['certificate-authority'] = 'ca.crt'; // relative: the library resolves it against the kubeconfig's folder
      } else cluster['certificate-authority-data'] = Buffer.from(caPem).toString('base64');
      const user: Record<string, string> = {};
      if (k.clientCert) {
        if (!tls.clientCertPem || !tls.clientKeyPem) throw new Error('start the server with clientCert: true');
        user['client-certificate-data'] = Buffer.from(tls.clientCertPem).toString('base64');
        user['client-key-data'] = Buffer.from(tls.clientKeyPem).toString('base64');
      } else if (k.tokenFile) {
        writeFileSync(join(dir, 'token'), token);
        user.tokenFile = join(dir, 'token');
      } else user.token = token;
      const doc = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'test', cluster }],
        users: [{ name: 'agent', user }],
        contexts: [{ name: 'test', context: { cluster: 'test', user: 'agent' } }],
        'current-context': 'test',
      };
      const path = join(dir, 'kubeconfig');
      writeFileSync(path, JSON.stringify(doc, null, 2)); // JSON is YAML
      return path;
    },
    create: (resource: ServedResource, obj: Obj) => create(resource, obj),
    update: (resource: ServedResource, obj: Obj) => update(resource, obj),
    remove: (resource: ServedResource, name: string, namespace?: string) => remove(resource, name, namespace),
    get: (resource: ServedResource, name: string, namespace?: string) => get(resource, name, namespace),
    /** every object of a resource (copies), e.g. the Events the agent posted */
    list: (resource: ServedResource): Obj[] => [...objects(resource).values()].map(clone),
    installResource(resource: ResourceName): void {
      installed.add(resource);
    },
    /**
     * Remove a CRD: by default as the real server does (its objects deleted, DELETED events, then
     * the storage and its watches gone); `abrupt` drops everything without events, so a client
     * learns it only from the 404 of its next request.
     */
    uninstallResource(resource: ResourceName, o: { abrupt?: boolean } = {}): void {
      if (!o.abrupt) for (const obj of [...objects(resource).values()]) remove(resource, obj.metadata.name, obj.metadata.namespace);
      objects(resource).clear();
      installed.delete(resource);
      for (const w of [...watchers]) if (w.resource === resource) endWatch(w);
    },
    faults: {
      closeWatches(): void {
        for (const w of [...watchers]) endWatch(w);
      },
      /** history and continue snapshots forgotten: older resourceVersions get 410; open watches an ERROR 410 */
      expireHistory(o: { keepWatches?: boolean } = {}): void {
        floorRv = rv;
        history.length = 0;
        snapshots.clear();
        if (o.keepWatches) return;
        for (const w of [...watchers]) {
          w.held = [];
          if (!w.res.writableEnded) w.res.write(eventLine('ERROR', statusObject(410, 'Expired', `too old resource version (history expired at ${floorRv})`)));
          endWatch(w);
        }
      },
      /** watch streams (open and new) silent for ms; events are held and sent when it ends; 0 ends it */
      stall(ms: number): void {
        clearTimeout(stallTimer);
        stalledUntil = performance.now() + ms;
        if (ms <= 0) flushHeld();
        else stallTimer = setTimeout(flushHeld, ms + 1);
      },
      slow(ms: number): void {
        slowMs = ms;
      },
      rotateToken(newToken: string): void {
        token = newToken;
      },
    },
    async close(): Promise<void> {
      clearTimeout(stallTimer);
      for (const w of [...watchers]) endWatch(w);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(tls.dir, { recursive: true, force: true });
    },
  };
}

function parseSelector(s: string): { key: string; op: '=' | '!=' | 'exists'; value: string }[] {
  if (!s) return [];
  return s.split(',').map((part) => {
    const m = /^([^!=]+?)\s*(==|!=|=)\s*(.*)$/.exec(part.trim());
    if (!m) return { key: part.trim(), op: 'exists' as const, value: '' };
    return { key: m[1]!, op: m[2] === '!=' ? ('!=' as const) : ('=' as const), value: m[3]! };
  });
}

function dig(o: unknown, path: string): unknown {
  let cur: unknown = o;
  for (const p of path.split('.')) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[p] : undefined;
  return cur;
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

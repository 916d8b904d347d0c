/**
 * One informer per watched resource: a paginated list, then a watch from the list's
 * resourceVersion, resumed for ever; what it delivers is a stream of event batches.
 *
 * Semantics (each is a test in test/kube/informer.test.ts against test/kube/apiserver.ts):
 * - List: `limit` (pageLimit, 500) and `continue`; a 410 on a continue token (the snapshot it
 *   pointed into is gone) restarts the list from the first page. Items get `apiVersion`/`kind`
 *   from the resource table (list items carry none on the wire).
 * - Watch: from the last resourceVersion with `allowWatchBookmarks=true` and `timeoutSeconds`.
 *   A BOOKMARK only advances the resourceVersion. A watch the server ends is resumed from the
 *   last resourceVersion (no list). An ERROR event with a 410 Status, or HTTP 410, means the
 *   resourceVersion is older than the server's history: relist.
 * - A relist is delivered as DELTAS against what this informer delivered before: upserts for
 *   keys that are new or whose resourceVersion changed, deletes for keys no longer listed,
 *   nothing for the unchanged, then `synced`. The informer keeps only key -> resourceVersion,
 *   never objects, so a delete it infers from a relist carries only apiVersion, kind and
 *   metadata name / namespace / resourceVersion. Deletes are not transformed (consumers key them
 *   by metadata.namespace/name); upserts are.
 * - A watch that delivers nothing (not even a bookmark) for silenceMs is aborted and restarted.
 * - Failures (transport, HTTP errors, silence, a watch the server ends at once with nothing)
 *   restart after an exponential backoff with jitter (50..100 % of min(maxMs, initialMs * 2^n)),
 *   reset by the next success.
 * - An optional resource (a CRD) whose list answers 404 is "not installed": the informer
 *   delivers `synced` (an empty full state; deletes first for whatever it had delivered, when
 *   the CRD disappears) and polls the list every crdPollMs until it appears.
 * - metadata.managedFields is stripped before `transform`. One batch = the events decoded from
 *   one socket read, or one list page, so the consumer can coalesce.
 * Cost: memory O(objects) for key -> resourceVersion strings only. One request in flight.
 * Thread-safety: single event loop; `onEvents` is called synchronously from the loop and an
 * exception it throws is logged, not propagated (the watch keeps going).
 */
import { KubeApiError, type KubeClient, type Query } from './client.js';
import { RESOURCES, apiVersionOf, collectionPath, type ResourceName, type WatchedResourceInfo } from './resources.js';

export type KubeObject = { apiVersion?: string; kind?: string; metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; labels?: Record<string, string>; [k: string]: unknown }; [k: string]: unknown };
export type WatchEvent =
  | { readonly type: 'upsert'; readonly resource: ResourceName; readonly object: KubeObject } // added or modified, after transform
  | { readonly type: 'delete'; readonly resource: ResourceName; readonly object: KubeObject }
  | { readonly type: 'synced'; readonly resource: ResourceName }; // a full list (first list or a relist) has been delivered
export interface InformerOptions {
  readonly client: KubeClient;
  readonly resource: ResourceName;
  readonly onEvents: (events: readonly WatchEvent[]) => void;
  readonly transform?: (o: KubeObject) => KubeObject;
  readonly pageLimit?: number /*500*/;
  readonly silenceMs?: number /*watch silent past this => restart; default 5 min*/;
  /** default 90 % of silenceMs with 10 % jitter, so the server ends a quiet watch before it counts as silent */
  readonly watchTimeoutSeconds?: number;
  /** default 500 ms .. 30 s */
  readonly backoff?: { initialMs: number; maxMs: number };
  /** default 10 s */
  readonly crdPollMs?: number;
  readonly log?: (rec: Record<string, unknown>) => void;
  readonly fieldSelector?: string;
}
export interface InformerStats {
  /** watches re-opened without a list (server end, failure, silence) */
  readonly restarts: number;
  /** lists after the first (410, a CRD that came back, a failed list retried) */
  readonly relists: number;
  /** upserts and deletes delivered */
  readonly events: number;
  /** Date.now() of the last delivered upsert or delete */
  readonly lastEventMs: number | undefined;
  readonly installed: boolean /*false while an optional CRD is absent*/;
  /** a full state has been delivered at least once */
  readonly synced: boolean;
}

type WatchEnd = 'closed' | 'closed-early' | 'expired' | 'gone';

export class Informer {
  private readonly info: WatchedResourceInfo;
  private readonly path: string;
  private readonly pageLimit: number;
  private readonly silenceMs: number;
  private readonly backoff: { initialMs: number; maxMs: number };
  private readonly crdPollMs: number;
  /** key (namespace/name) -> resourceVersion of what was delivered */
  private readonly known = new Map<string, string>();
  private rv: string | undefined;
  private needList = true;
  private listedOnce = false;
  private absentAnnounced = false;
  private failures = 0;
  private running: Promise<void> | undefined;
  private readonly stopper = new AbortController();
  private stopped = false;
  private lastContactMs = 0;
  private counts = { restarts: 0, relists: 0, events: 0, lastEventMs: undefined as number | undefined, installed: true, synced: false };

  constructor(private readonly o: InformerOptions) {
    this.info = RESOURCES[o.resource];
    if (!this.info) throw Object.assign(new Error(`no watched resource ${String(o.resource)}`), { code: 'ERR_PALISADE_KUBE_RESOURCE' });
    this.path = collectionPath(this.info);
    this.pageLimit = o.pageLimit ?? 500;
    this.silenceMs = o.silenceMs ?? 300_000;
    this.backoff = o.backoff ?? { initialMs: 500, maxMs: 30_000 };
    this.crdPollMs = o.crdPollMs ?? 10_000;
  }

  start(): void {
    if (this.running) throw Object.assign(new Error(`informer for ${this.o.resource} already started`), { code: 'ERR_PALISADE_KUBE_STATE' });
    this.lastContactMs = performance.now();
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopper.abort();
    await this.running;
  }

  stats(): InformerStats {
    return { ...this.counts };
  }

  /**
   * Started, not stopped, and the server answered (a list page, a watch chunk, a watch end, a
   * CRD's 404) within silenceMs + backoff.maxMs: a watch that is silent restarts within
   * silenceMs, and a failing one retries within maxMs.
   */
  healthy(): boolean {
    return this.running !== undefined && !this.stopped && performance.now() - this.lastContactMs <= this.silenceMs + this.backoff.maxMs;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (this.needList) {
          const present = await this.list();
          if (!present) {
            await this.sleep(this.crdPollMs);
            continue;
          }
        }
        const end = await this.watch();
        if (end === 'expired' || end === 'gone') {
          this.needList = true;
          this.log('info', end === 'expired' ? 'watch expired (410), relisting' : 'watch 404, relisting');
        } else {
          this.counts.restarts++;
          if (end === 'closed-early') await this.fail(new Error('the server ended the watch at once with nothing'));
          else this.failures = 0;
        }
      } catch (e) {
        if (this.stopped) break;
        if (!this.needList) this.counts.restarts++; // a watch failed; a failed list is retried as a relist
        await this.fail(e);
      }
    }
  }

  private async fail(e: unknown): Promise<void> {
    this.failures++;
    const cap = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** Math.min(this.failures - 1, 30));
    const delayMs = Math.round(cap * (0.5 + Math.random() * 0.5));
    const err = e as { code?: string; message?: string };
    this.log('warn', this.needList ? 'list failed' : 'watch failed', { error: err?.message ?? String(e), code: err?.code, failures: this.failures, retryMs: delayMs });
    await this.sleep(delayMs);
  }

  /** One full list; false when an optional resource is not installed. */
  private async list(): Promise<boolean> {
    if (this.listedOnce) this.counts.relists++;
    let cont: string | undefined;
    let seen = new Set<string>();
    for (;;) {
      const query: Query = { limit: this.pageLimit, continue: cont, fieldSelector: this.o.fieldSelector };
      const res = await this.o.client.request({ method: 'GET', path: this.path, query, signal: this.stopper.signal });
      this.contact();
      if (res.status === 404 && this.info.optional) {
        this.absent();
        return false;
      }
      if (res.status === 410 && cont !== undefined) {
        this.log('info', 'list continue token expired (410), restarting the list');
        cont = undefined;
        seen = new Set();
        continue;
      }
      if (res.status !== 200) throw new KubeApiError(res.status, this.path, res.body);
      const body = res.body as { metadata?: { resourceVersion?: string; continue?: string }; items?: unknown };
      if (!body || !Array.isArray(body.items)) throw Object.assign(new Error(`${this.path}: a list answer without items`), { code: 'ERR_PALISADE_KUBE_DECODE' });
      const events: WatchEvent[] = [];
      for (const item of body.items as KubeObject[]) {
        const key = keyOf(item);
        if (key === undefined) continue;
        seen.add(key);
        const rv = item.metadata.resourceVersion ?? '';
        if (this.known.get(key) === rv) continue;
        const ev = this.upsert(item, key, rv);
        if (ev) events.push(ev);
      }
      cont = body.metadata?.continue || undefined;
      if (cont === undefined) {
        for (const [key, rv] of this.known) {
          if (seen.has(key)) continue;
          this.known.delete(key);
          events.push({ type: 'delete', resource: this.o.resource, object: this.identity(key, rv) });
        }
        events.push({ type: 'synced', resource: this.o.resource });
        this.rv = body.metadata?.resourceVersion;
        this.needList = false;
        this.listedOnce = true;
        this.absentAnnounced = false;
        this.failures = 0;
        if (!this.counts.installed) this.log('info', 'resource installed');
        this.counts.installed = true;
        this.counts.synced = true;
        this.emit(events);
        return true;
      }
      this.emit(events);
    }
  }

  /** An optional resource answered 404: deliver the empty state once, then poll. */
  private absent(): void {
    this.needList = true;
    this.rv = undefined;
    if (this.absentAnnounced) return;
    this.absentAnnounced = true;
    const events: WatchEvent[] = [];
    for (const [key, rv] of this.known) events.push({ type: 'delete', resource: this.o.resource, object: this.identity(key, rv) });
    this.known.clear();
    events.push({ type: 'synced', resource: this.o.resource });
    this.counts.installed = false;
    this.counts.synced = true;
    this.log('info', 'resource not installed (404), polling for it', { pollMs: this.crdPollMs });
    this.emit(events);
  }

  private async watch(): Promise<WatchEnd> {
    const silence = new AbortController();
    const signal = AbortSignal.any([this.stopper.signal, silence.signal]);
    let silent = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        silent = true;
        silence.abort();
      }, this.silenceMs);
    };
    const timeoutSeconds = this.o.watchTimeoutSeconds ?? Math.max(1, Math.round((this.silenceMs / 1000) * (0.8 + Math.random() * 0.1)));
    const query: Query = { watch: 'true', resourceVersion: this.rv, allowWatchBookmarks: 'true', timeoutSeconds, fieldSelector: this.o.fieldSelector };
    const openedMs = performance.now();
    let chunks = 0;
    arm();
    try {
      for await (const chunk of this.o.client.watchChunks(this.path, query, signal)) {
        arm();
        this.contact();
        chunks++;
        const events: WatchEvent[] = [];
        for (const raw of chunk) {
          const ev = raw as { type?: string; object?: KubeObject & { code?: number } };
          const obj = ev.object;
          if (ev.type === 'ERROR') {
            this.emit(events);
            if (obj?.code === 410) return 'expired';
            throw new KubeApiError(typeof obj?.code === 'number' ? obj.code : 0, this.path, obj);
          }
          if (!obj || typeof obj !== 'object' || !obj.metadata) continue;
          const rv = obj.metadata.resourceVersion;
          if (ev.type === 'BOOKMARK') {
            if (rv) this.rv = rv;
            continue;
          }
          const key = keyOf(obj);
          if (key === undefined) continue;
          if (ev.type === 'ADDED' || ev.type === 'MODIFIED') {
            const up = this.upsert(obj, key, rv ?? '');
            if (up) events.push(up);
          } else if (ev.type === 'DELETED') {
            this.known.delete(key);
            events.push({ type: 'delete', resource: this.o.resource, object: this.complete(stripManagedFields(obj)) });
          } else {
            this.log('warn', 'unknown watch event type', { type: ev.type });
          }
          if (rv) this.rv = rv;
        }
        this.emit(events);
      }
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 410) return 'expired';
      if (e instanceof KubeApiError && e.status === 404) return 'gone';
      if (silent && !this.stopped) throw Object.assign(new Error(`the watch was silent for ${this.silenceMs} ms`), { code: 'ERR_PALISADE_KUBE_SILENT' });
      throw e;
    } finally {
      clearTimeout(timer);
    }
    this.contact();
    return chunks > 0 || performance.now() - openedMs > 1000 ? 'closed' : 'closed-early';
  }

  /** Record the key's resourceVersion and build its event; undefined when transform failed. */
  private upsert(obj: KubeObject, key: string, rv: string): WatchEvent | undefined {
    let out = this.complete(stripManagedFields(obj));
    if (this.o.transform) {
      try {
        out = this.o.transform(out);
      } catch (e) {
        // not recorded as known: the next relist offers it again
        this.known.delete(key);
        this.log('warn', 'transform failed; object skipped', { object: key, error: (e as Error).message });
        return undefined;
      }
    }
    this.known.set(key, rv);
    return { type: 'upsert', resource: this.o.resource, object: out };
  }

  private complete(o: KubeObject): KubeObject {
    return o.apiVersion && o.kind ? o : { ...o, apiVersion: o.apiVersion ?? apiVersionOf(this.info), kind: o.kind ?? this.info.kind };
  }

  /** What a delete inferred from a relist can say: the object's identity. */
  private identity(key: string, rv: string): KubeObject {
    const slash = key.indexOf('/');
    const metadata = slash >= 0 ? { namespace: key.slice(0, slash), name: key.slice(slash + 1), resourceVersion: rv } : { name: key, resourceVersion: rv };
    return { apiVersion: apiVersionOf(this.info), kind: this.info.kind, metadata };
  }

  private emit(events: WatchEvent[]): void {
    if (events.length === 0) return;
    let changes = 0;
    for (const e of events) if (e.type !== 'synced') changes++;
    if (changes > 0) {
      this.counts.events += changes;
      this.counts.lastEventMs = Date.now();
    }
    try {
      this.o.onEvents(events);
    } catch (e) {
      this.log('error', 'event consumer threw', { error: (e as Error).message });
    }
  }

  private contact(): void {
    this.lastContactMs = performance.now();
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.stopper.signal.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.stopper.signal.addEventListener('abort', done, { once: true });
    });
  }

  private log(level: string, msg: string, rec: Record<string, unknown> = {}): void {
    this.o.log?.({ level, msg, resource: this.o.resource, ...rec });
  }
}

function keyOf(o: KubeObject): string | undefined {
  const m = o?.metadata;
  if (!m || typeof m.name !== 'string') return undefined;
  return m.namespace ? `${m.namespace}/${m.name}` : m.name;
}

/** managedFields is most of a typical object's bytes and no consumer here reads it. */
function stripManagedFields(o: KubeObject): KubeObject {
  if (!('managedFields' in o.metadata)) return o;
  const { managedFields: _dropped, ...metadata } = o.metadata;
  return { ...o, metadata: metadata as KubeObject['metadata'] };
}

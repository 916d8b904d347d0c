/**
 * The node agent: watch events -> ClusterState (validated slim records) -> EngineChange[] -> ONE
 * `Enforcement.applyChanges` per batch. The first full picture (every informer has listed once)
 * goes in as `Enforcement.apply(cluster)`; after that only changes, so a pod event becomes
 * set-element deltas in the kernel and never a rebuild of unchanged rules.
 *
 * Batching: events are folded into the state as they arrive; their changes queue, and one flush
 * runs a tick later (setImmediate) or, while an apply is in the kernel, as soon as it finishes:
 * events arriving together go in one backend transaction.
 * Failure: a batch the backend refuses leaves the previous state in force (Enforcement rolls the
 * compiler back); the agent counts it, logs it, and retries with backoff as one full
 * `apply(state.cluster())`, which Enforcement turns back into deltas when the rules are the same.
 * Invalid objects: logged (kind, namespace/name, field path), counted, posted as a Kubernetes
 * Event (through `events`), and ignored (state.ts keeps the last valid version).
 * Readiness: `ready()` once the first full picture is in the kernel. Health: every watch alive
 * and the backend answering (no failed batch pending retry past `unhealthyAfterMs`).
 * Thread-safety: one owner; everything runs on the event loop.
 */
import { fqdnStarter, type FqdnStartOptions, type FqdnStarter } from '../fqdn/start.js';
import type { FqdnStats } from '../fqdn/node.js';
import { performance } from 'node:perf_hooks';
import type { Backend } from '../enforce/backend.js';
import { formatDenyLine, type DenyRecord } from '../enforce/deny-log.js';
import { Enforcement } from '../enforce/enforcement.js';
import type { EngineChange } from '../engine/changes.js';
import { formatObject } from '../model/problems.js';
import { UnsupportedRuleError } from '../rules/lower.js';
import { inForce, refusalOf } from './refusal.js';
import type { KnownKind } from '../model/kinds.js';
import { AgentCni } from './cni-agent.js';
import type { CniAgent } from './cni-types.js';
import type { JsonLog } from './log.js';
import { AgentMetrics } from './metrics.js';
import { CRD_RESOURCES, RESOURCE_KINDS, slimObject, type WatchedResource } from './objects.js';
import { ClusterState, type InvalidObject, type KindEvent } from './state.js';
import type { KubeObject, ResourceName, WatchEvent, WatchHandle, WatchSource, WatchStats } from './watch-source.js';

/** Where invalid objects are reported as Kubernetes Events (kube-source.ts posts them). */
export interface EventSink {
  invalidObject(report: InvalidObject, node: string): Promise<void>;
}

export interface AgentOptions {
  readonly backend: Backend;
  readonly nodeName: string;
  readonly source: WatchSource;
  readonly log: JsonLog;
  readonly events?: EventSink;
  /** poll Enforcement.drainDenied, print deny lines through `denyLine`, count them */
  readonly logDenied?: boolean;
  readonly denyLine?: (line: string) => void;
  readonly denyPollMs?: number;
  /** first retry after a refused batch (doubles up to 5 s) */
  readonly retryMs?: number;
  /** a refused batch pending retry for longer than this makes /healthz fail (default 30 s) */
  readonly unhealthyAfterMs?: number;
  /** FQDN learning (docs/fqdn.md; src/fqdn/start.ts), started once a domainNames policy and a resolver are in force; false: never */
  readonly fqdn?: false | FqdnStartOptions;
}

export interface AgentStatus {
  readonly ready: boolean;
  /** the generation of the policy in the kernel (Enforcement's report) */
  readonly generation: number | undefined;
  readonly pending: boolean;
  readonly pods: number;
  readonly invalid: readonly { kind: string; namespace?: string; name: string; resourceVersion?: string }[];
  /** resource -> resourceVersion of its last event in force */
  readonly resourceVersions: Readonly<Record<string, string>>;
}

interface Waiter {
  readonly seq: number;
  resolve(): void;
}

export class Agent {
  readonly enforcement: Enforcement;
  readonly state = new ClusterState();
  readonly metrics: AgentMetrics;
  readonly cni: CniAgent;
  private readonly watches = new Map<ResourceName, WatchHandle>();
  private readonly synced = new Set<ResourceName>();
  private pending: EngineChange[] = [];
  private pendingTimes: number[] = [];
  private servicesDirty = false;
  /** sequence of the last change folded into the state / put in force */
  private seq = 0;
  private appliedSeq = 0;
  private waiters: Waiter[] = [];
  private first = false;
  private readyAt: number | undefined;
  private readyResolve!: () => void;
  private readonly readyPromise = new Promise<void>((r) => (this.readyResolve = r));
  private flushing = false;
  private scheduled: NodeJS.Immediate | NodeJS.Timeout | undefined;
  /** set after a refused batch: the next flush is a full apply of the state */
  private needFull = false;
  private failingSince: number | undefined;
  private retryDelayMs: number;
  /** the message of the last refused policy reported by Event (one Event per refusal, not per retry) */
  private lastRefusal: string | undefined;
  private stopped = false;
  private denyTimer: NodeJS.Timeout | undefined;
  private readonly startedAt = performance.now();
  private readonly stateListeners = new Set<() => void>();
  /** per resource: resourceVersions seen, each with the sequence number that covers its effect */
  private readonly seenRv = new Map<ResourceName, { seq: number; rv: string }[]>();
  /** per resource: the resourceVersion of the last event whose effect (or its absence) is in the kernel */
  private readonly appliedRv = new Map<ResourceName, string>();
  private generation: number | undefined;
  private readonly fqdn: FqdnStarter | undefined;

  constructor(private readonly o: AgentOptions) {
    this.enforcement = new Enforcement(o.backend);
    this.retryDelayMs = o.retryMs ?? 200;
    this.metrics = new AgentMetrics({
      policy: () => this.enforcement.current(),
      watches: () => new Map([...this.watches].map(([r, w]) => [r as string, w.stats()])),
      fqdn: () => {
        const f = this.fqdn?.stats();
        if (!f) return undefined;
        return { learned: f.learned, evicted: f.evicted, expired: f.expired, untrusted: f.untrusted, held: f.held, released: f.released, addresses: f.addresses, hold_p99_us: f.holdP99Us };
      },
      invalidByKind: () => {
        const m = new Map<string, number>();
        for (const i of this.state.invalid()) m.set(i.ref.kind, (m.get(i.ref.kind) ?? 0) + 1);
        return m;
      },
    });
    this.cni = new AgentCni(this);
    this.fqdn = o.fqdn === false ? undefined : fqdnStarter(this.enforcement, o.fqdn ?? {}, (text) => o.log.log('info', text, {}));
  }

  /** learned names, addresses and TTLs (docs/fqdn.md §7), when learning runs */
  fqdnStats(): FqdnStats | undefined {
    return this.fqdn?.stats();
  }

  /** Start every watch (and the deny log). */
  start(): void {
    if (this.o.logDenied) {
      this.enforcement.drainDenied(); // binds the log now: a busy NFLOG group fails at start
      this.denyTimer = setInterval(() => this.drainDenied(), this.o.denyPollMs ?? 100);
    }
    for (const resource of this.o.source.resources) {
      const kind = kindOf(resource);
      if (!kind) throw Object.assign(new Error(`the agent does not know the resource ${String(resource)}`), { code: 'ERR_PALISADE_AGENT_RESOURCE' });
      const handle = this.o.source.watch(resource, (events) => this.onEvents(resource, kind, events), (obj: KubeObject) => slimObject(kind, obj) as KubeObject);
      this.watches.set(resource, handle);
    }
    this.o.log.log('info', 'watching', { node: this.o.nodeName, backend: this.o.backend.name, resources: [...this.watches.keys()] });
  }

  /** Resolves once the first full picture is in the kernel. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  isReady(): boolean {
    return this.readyAt !== undefined;
  }

  /** Watches alive and the backend answering. */
  healthy(): { ok: boolean; why?: string } {
    for (const [r, w] of this.watches) if (!w.healthy()) return { ok: false, why: `watch of ${String(r)} is not healthy` };
    const limit = this.o.unhealthyAfterMs ?? 30_000;
    if (this.failingSince !== undefined && performance.now() - this.failingSince > limit) return { ok: false, why: 'the backend has refused every batch for too long' };
    return { ok: true };
  }

  /**
   * What is in force, for `/status`: per resource the resourceVersion of the last watch event
   * whose effect is in the kernel (an ignored invalid object counts once it was judged), the
   * kernel generation, and whether changes are waiting.
   */
  status(): AgentStatus {
    return {
      ready: this.isReady(),
      generation: this.generation,
      pending: this.pending.length > 0 || this.flushing || this.servicesDirty,
      pods: this.state.podCount,
      invalid: this.state.invalid().map((i) => ({ kind: i.ref.kind, ...(i.ref.namespace !== undefined ? { namespace: i.ref.namespace } : {}), name: i.ref.name, ...(i.resourceVersion !== undefined ? { resourceVersion: i.resourceVersion } : {}) })),
      resourceVersions: Object.fromEntries(this.appliedRv),
    };
  }

  watchStats(): ReadonlyMap<ResourceName, WatchStats> {
    return new Map([...this.watches].map(([r, w]) => [r, w.stats()]));
  }

  /** ms from start to the first full picture in the kernel */
  readyMs(): number | undefined {
    return this.readyAt === undefined ? undefined : this.readyAt - this.startedAt;
  }

  /** Stop watching; leave what is in the kernel (or remove it) and close the backend. */
  async stop(opts: { readonly remove?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.denyTimer) clearInterval(this.denyTimer);
    if (this.scheduled) clearTimeout(this.scheduled as NodeJS.Timeout), clearImmediate(this.scheduled as NodeJS.Immediate);
    await Promise.all([...this.watches.values()].map((w) => w.stop()));
    while (this.flushing) await new Promise((r) => setTimeout(r, 5));
    await this.fqdn?.stop();
    if (this.o.logDenied) this.drainDenied();
    if (opts.remove) await this.enforcement.remove().catch((e: unknown) => this.o.log.log('error', 'removing the installed state', { error: describe(e) }));
    await this.o.backend.close();
    this.o.log.log('info', opts.remove ? 'stopped; removed what was installed' : 'stopped; the last state stays in force', {});
  }

  // ---- for cni-agent.ts --------------------------------------------------------------------

  /** Queue changes made outside a watch (CNI IPs); the sequence number that covers them. */
  queueChanges(changes: readonly EngineChange[]): number {
    if (changes.length > 0) {
      this.pending.push(...changes);
      this.pendingTimes.push(performance.now());
      this.seq++;
      this.schedule();
    }
    return this.seq;
  }

  /** Resolves once everything up to `seq` is in the kernel (or rejects when `signal` aborts). */
  whenApplied(seq: number, signal?: AbortSignal): Promise<void> {
    if (this.first && this.appliedSeq >= seq) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        seq,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(Object.assign(new Error('aborted before the policy was in the kernel'), { code: 'ERR_PALISADE_CNI_ABORTED' }));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(w);
    });
  }

  /** Resolves once every event folded in so far is in the kernel. */
  flushed(signal?: AbortSignal): Promise<void> {
    return this.whenApplied(this.seq, signal);
  }

  /** Call `f` after each batch folded into the state (the CNI waits for a pod to appear). */
  onStateChange(f: () => void): () => void {
    this.stateListeners.add(f);
    return () => this.stateListeners.delete(f);
  }

  // ---- events -> state -> kernel -------------------------------------------------------------

  private onEvents(resource: ResourceName, kind: KnownKind, events: readonly WatchEvent[]): void {
    if (this.stopped) return;
    const t = performance.now();
    const folded: KindEvent[] = [];
    let syncedNow = false;
    for (const e of events) {
      if (e.type === 'synced') syncedNow = true;
      else folded.push({ type: e.type, kind, object: e.object as Record<string, unknown> });
    }
    const r = this.state.apply(folded);
    for (const w of r.warnings) for (const p of w.problems) this.o.log.log('warn', 'object accepted with a warning', { kind: w.ref.kind, namespace: w.ref.namespace, name: w.ref.name, code: p.code, path: p.path, message: p.message });
    for (const inv of r.invalid) this.reportInvalid(inv);
    if (r.changes.length > 0 || r.servicesChanged) {
      this.pending.push(...r.changes);
      this.pendingTimes.push(t);
      this.servicesDirty ||= r.servicesChanged;
      this.seq++;
    }
    if (syncedNow) this.synced.add(resource);
    let lastRv: string | undefined;
    for (const e of folded) {
      const rv = (e.object.metadata as { resourceVersion?: unknown } | undefined)?.resourceVersion;
      if (typeof rv === 'string') lastRv = lastRv === undefined ? rv : laterRv(lastRv, rv);
    }
    if (lastRv !== undefined) {
      let list = this.seenRv.get(resource);
      if (!list) this.seenRv.set(resource, (list = []));
      const last = list[list.length - 1];
      if (last && last.seq === this.seq) last.rv = laterRv(last.rv, lastRv);
      else list.push({ seq: this.seq, rv: last ? laterRv(last.rv, lastRv) : lastRv });
      if (this.first && this.seq <= this.appliedSeq) this.settle(this.appliedSeq);
    }
    for (const f of this.stateListeners) f();
    if (!this.first) {
      if (this.allSynced()) this.schedule();
    } else if (this.pending.length > 0 || this.servicesDirty) this.schedule();
  }

  private allSynced(): boolean {
    for (const [r, w] of this.watches) {
      if (this.synced.has(r)) continue;
      // a custom resource whose CRD is not installed has nothing to list: it does not hold up ready
      const s = w.stats();
      if (CRD_RESOURCES.has(r as WatchedResource) && !s.installed && s.synced) continue;
      if (CRD_RESOURCES.has(r as WatchedResource) && !s.installed && s.relists + s.restarts + s.events === 0 && performance.now() - this.startedAt > 1000) continue;
      return false;
    }
    return true;
  }

  private schedule(delayMs = 0): void {
    if (this.stopped || this.flushing || this.scheduled) return;
    this.scheduled = delayMs > 0 ? setTimeout(() => void this.flush(), delayMs) : setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = undefined;
    if (this.stopped || this.flushing) return;
    if (!this.first && !this.allSynced()) {
      // a CRD that is not installed is known only after a moment: look again
      this.schedule(250);
      return;
    }
    const full = !this.first || this.needFull;
    const changes = this.pending;
    const times = this.pendingTimes;
    const services = this.servicesDirty;
    const seq = this.seq;
    this.pending = [];
    this.pendingTimes = [];
    this.servicesDirty = false;
    if (!full && changes.length === 0 && !services) return this.settle(seq);
    this.flushing = true;
    try {
      const report = full
        ? await this.enforcement.apply(this.state.cluster())
        : await this.enforcement.applyChanges(changes, services ? this.state.serviceState() : undefined);
      const now = performance.now();
      for (const t0 of times) this.metrics.eventToKernel.observe((now - t0) / 1000);
      this.metrics.applies.inc({ update: report.update });
      this.needFull = false;
      this.generation = report.generation;
      this.fqdn?.maybeStart();
      this.failingSince = undefined;
      this.lastRefusal = undefined;
      this.retryDelayMs = this.o.retryMs ?? 200;
      if (!this.first) {
        this.first = true;
        this.readyAt = now;
        this.o.log.log('info', 'ready: the first full state is in the kernel', { generation: report.generation, summary: report.summary, ms: Math.round(now - this.startedAt), pods: this.state.podCount });
        this.readyResolve();
      } else if (report.update === 'install') {
        this.o.log.log('info', 'installed', { generation: report.generation, summary: report.summary, ms: round(report.ms) });
      } else {
        this.o.log.log('debug', 'deltas', { generation: report.generation, summary: report.summary, ms: round(report.ms) });
      }
      this.settle(seq);
    } catch (e) {
      this.metrics.applyErrors.inc();
      this.failingSince ??= performance.now();
      // the compiler is back on what the kernel holds; the state is ahead: retry it whole
      if (this.first) this.needFull = true;
      this.pendingTimes.unshift(...times);
      this.flushing = false;
      if (this.holdBackRefused(e)) {
        // the rest of the picture goes in now, without the object that cannot be enforced
        this.retryDelayMs = this.o.retryMs ?? 200;
        this.schedule();
        return;
      }
      if (e instanceof UnsupportedRuleError && e.location) this.reportRefusal(e);
      else this.o.log.log('error', 'the backend refused the batch; the previous state stays in force', { error: describe(e), retryMs: this.retryDelayMs });
      const d = this.retryDelayMs;
      this.retryDelayMs = Math.min(5000, this.retryDelayMs * 2);
      this.schedule(d);
      return;
    }
    this.flushing = false;
    if (this.pending.length > 0 || this.servicesDirty || this.needFull) this.schedule();
  }

  private settle(seq: number): void {
    this.appliedSeq = Math.max(this.appliedSeq, seq);
    for (const [r, list] of this.seenRv) {
      let n = 0;
      while (n < list.length && list[n]!.seq <= this.appliedSeq) n++;
      if (n === 0) continue;
      const before = this.appliedRv.get(r);
      this.appliedRv.set(r, before === undefined ? list[n - 1]!.rv : laterRv(before, list[n - 1]!.rv));
      list.splice(0, n);
    }
    const done = this.waiters.filter((w) => w.seq <= this.appliedSeq);
    if (done.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.seq > this.appliedSeq);
    for (const w of done) w.resolve();
  }

  private reportInvalid(inv: InvalidObject): void {
    this.metrics.invalidReports.inc({ kind: inv.ref.kind });
    for (const p of inv.problems.filter((x) => x.severity === 'error')) {
      this.o.log.log('warn', 'invalid object ignored; the rest stays enforced', { kind: inv.ref.kind, namespace: inv.ref.namespace, name: inv.ref.name, code: p.code, path: p.path, message: p.message });
    }
    if (this.o.events) {
      this.o.events.invalidObject(inv, this.o.nodeName).catch((e: unknown) => this.o.log.log('warn', 'cannot post the Event', { object: formatObject(inv.ref), error: describe(e) }));
    }
  }

  /**
   * A batch refused because of one policy (a rule the compiler cannot lower, a Redirect the
   * backend cannot do): that policy goes back to its version in force (or out, when it is not in
   * force) and is reported like an invalid object; when it already is as in force, the Service its
   * refused Redirect rule sends to goes back instead. True when something was held back (the
   * caller retries the rest at once); false: the refusal stays whole (reportRefusal).
   */
  private holdBackRefused(e: unknown): boolean {
    const refusal = refusalOf(e, this.state.cluster());
    if (!refusal) return false;
    const enforced = this.enforcement.current()?.cluster();
    let held: InvalidObject | undefined;
    for (const o of [refusal.object, refusal.service]) {
      if (!o || held) continue;
      held = this.state.holdBack(o.kind, o.ref, inForce(enforced, o), o.problems);
    }
    if (!held) return false;
    this.o.log.log('error', 'an object cannot be enforced: held back at its version in force, the rest goes on', { kind: held.ref.kind, namespace: held.ref.namespace, name: held.ref.name, error: describe(e) });
    this.reportInvalid(held);
    return true;
  }

  /**
   * A policy the compiler refuses (UnsupportedRuleError, placed at its policy and field path):
   * nothing of the batch is used and the previous state stays in force until the policy or the
   * inventory it depends on changes. Logged on every retry; the Event is posted once per refusal.
   */
  private reportRefusal(e: UnsupportedRuleError): void {
    const p = e.problem();
    const ref = e.location!.object;
    this.o.log.log('error', 'a policy cannot be compiled; the previous state stays in force', { kind: ref.kind, namespace: ref.namespace, name: ref.name, code: p.code, path: p.path, message: p.message, retryMs: this.retryDelayMs });
    if (this.lastRefusal === e.message) return;
    this.lastRefusal = e.message;
    this.metrics.invalidReports.inc({ kind: ref.kind });
    if (this.o.events) {
      this.o.events.invalidObject({ ref, problems: [p] }, this.o.nodeName).catch((err: unknown) => this.o.log.log('warn', 'cannot post the Event', { object: formatObject(ref), error: describe(err) }));
    }
  }

  private drainDenied(): void {
    let records: DenyRecord[];
    try {
      records = this.enforcement.drainDenied();
    } catch (e) {
      this.o.log.log('error', 'reading the deny log', { error: describe(e) });
      return;
    }
    for (const r of records) {
      this.metrics.deniedFlow(r);
      this.o.denyLine?.(`${formatDenyLine(r)}\n`);
    }
  }
}

function kindOf(resource: ResourceName): KnownKind | undefined {
  return Object.prototype.hasOwnProperty.call(RESOURCE_KINDS, resource) ? RESOURCE_KINDS[resource as WatchedResource] : undefined;
}

/**
 * The later of two resourceVersions, for reporting only: etcd's are decimal integers (a list's
 * items come in key order, not version order); anything else is opaque and the newer one wins.
 */
function laterRv(a: string, b: string): string {
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) return b;
  return a.length !== b.length ? (a.length > b.length ? a : b) : a > b ? a : b;
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

export function describe(e: unknown): string {
  const err = e as { code?: string; message?: string };
  return `${err.code ? `${err.code}: ` : ''}${err.message ?? String(e)}`.trim();
}

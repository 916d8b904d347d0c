/**
 * Enforcement = one PolicyCompiler + one Backend: the only code that moves a policy into the
 * kernel. The file enforce loop (watch.ts), `palisade apply`, the agent and the tests all go
 * through it, so the compile-once / atomic-apply / rollback / deny-naming rules live here once.
 *
 * - `apply(cluster)`: stage the move to a whole cluster, refuse it when it needs what the backend
 *   cannot enforce (capabilities.ts: Redirect), hand it to the backend (install or applyDeltas), commit; on a throw, roll the compiler back and rethrow (the backend's own
 *   contract keeps the kernel and its memory on the previous state).
 * - `applyChanges(changes)`: the same for object-level changes (watch events), all of them as
 *   one update: one transaction in the backend.
 * - `drainDenied()`: the backend's raw events named by deny-record.ts, one per flow per window.
 * - `drainObserved()`: the backend's observed new flows named by observe.ts (staged and audit
 *   lines), one per flow and direction per window; `stats()` carries observe.ts's counters.
 * - `remove()`: the backend removes everything it installed and the compiler forgets the policy,
 *   so the next apply is a first install (not deltas against an empty kernel).
 * - `stats()`: the backend's counters, in turn with the applies (a stats timer never runs a
 *   backend call while an install is between two awaits).
 * Calls are serialized: an apply that arrives while another runs waits for it.
 * Thread-safety: one owner (JS is single-threaded; the serialization is over awaits).
 */
import type { EngineChange } from '../engine/changes.js';
import type { Cluster, EndpointSlice, Service } from '../model/types.js';
import type { LearnedKey } from '../resolve/index.js';
import { classifierFactory } from '../engine/default-classifier.js';
import type { ClassifierFactory } from '../engine/classifier.js';
import type { ApplyReport, Backend, BackendStats } from './backend.js';
import { PolicyCompiler, type CompiledPolicy, type CompilerOptions, type StagedUpdate } from './compiled.js';
import type { DenyRecord, ObservedRecord } from './deny-log.js';
import { denyRecord, FlowDedup } from './deny-record.js';
import { FlowObserver, type ObservedCounter } from './observe.js';
import { refuseUnsupported } from './capabilities.js';

export interface EnforcementOptions extends CompilerOptions {
  readonly dedupWindowMs?: number;
  /** classifiers for naming observed flows (default: classifierFactory('auto')) */
  readonly classifier?: ClassifierFactory;
  /** staged and audit lines per rule per second (default 10), and burst (default 20) */
  readonly observedRatePerSecond?: number;
  readonly observedBurst?: number;
}

export interface EnforcementReport extends ApplyReport {
  readonly generation: number;
  /** install (rule set changed or first) or deltas (same rules) */
  readonly update: 'install' | 'deltas';
}

export class Enforcement {
  readonly compiler: PolicyCompiler;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly dedup: FlowDedup;
  private readonly observedDedup: { readonly egress: FlowDedup; readonly ingress: FlowDedup };
  private readonly observer: FlowObserver;

  constructor(
    readonly backend: Backend,
    options: EnforcementOptions = {},
  ) {
    this.compiler = new PolicyCompiler(options);
    this.dedup = new FlowDedup(options.dedupWindowMs ?? 10_000);
    this.observedDedup = { egress: new FlowDedup(options.dedupWindowMs ?? 10_000), ingress: new FlowDedup(options.dedupWindowMs ?? 10_000) };
    this.observer = new FlowObserver({
      classifier: options.classifier ?? classifierFactory('auto'),
      ...(options.observedRatePerSecond !== undefined ? { ratePerSecond: options.observedRatePerSecond } : {}),
      ...(options.observedBurst !== undefined ? { burst: options.observedBurst } : {}),
    });
  }

  /** The policy in force (committed), if any. */
  current(): CompiledPolicy | undefined {
    return this.compiler.current();
  }

  apply(cluster: Cluster): Promise<EnforcementReport> {
    return this.serialize(() => this.run(this.compiler.stage(cluster)));
  }

  /** `services`: the Services and EndpointSlices now, when they changed (the compiler carries them). */
  applyChanges(changes: readonly EngineChange[], services?: { services: readonly Service[]; endpointSlices: readonly EndpointSlice[] }): Promise<EnforcementReport> {
    return this.serialize(() => this.run(this.compiler.stageChanges(changes, services)));
  }

  /**
   * Learned DNS addresses appeared or expired (docs/fqdn.md; the learner in src/fqdn calls this
   * before it releases the held answer): one `applyDeltas` of the `learned` sets.
   */
  learn(added: readonly LearnedKey[], removed: readonly LearnedKey[] = []): Promise<EnforcementReport> {
    return this.serialize(() => this.run(this.compiler.stageLearned(added, removed)));
  }

  /** Denied flows since the last call, named, at most one per flow per window. */
  drainDenied(max?: number): DenyRecord[] {
    const policy = this.compiler.current();
    const out: DenyRecord[] = [];
    for (const e of this.backend.drainDenied(max)) {
      if (!this.dedup.first(e)) continue;
      out.push(denyRecord(this.backend.name, e, policy));
    }
    return out;
  }

  /** Staged and audit lines for the observed new flows since the last call (observe.ts). */
  drainObserved(max?: number): ObservedRecord[] {
    const policy = this.compiler.current();
    const events = this.backend.drainObserved(max);
    if (!policy) return [];
    const out: ObservedRecord[] = [];
    for (const e of events) {
      if (!this.observedDedup[e.direction].first(e)) continue;
      out.push(...this.observer.observe(this.backend.name, e, policy));
    }
    return out;
  }

  /** Counters per staged and audited rule (also in `stats().observed`). */
  observedCounters(): ObservedCounter[] {
    return this.observer.counters();
  }

  /** Stop enforcing: remove what the backend installed; the next apply installs from scratch. */
  remove(): Promise<void> {
    return this.serialize(async () => {
      await this.backend.remove();
      this.compiler.reset();
    });
  }

  /** The backend's counters, serialized with the applies. */
  stats(): Promise<BackendStats> {
    return this.serialize(async () => {
      const s = await this.backend.stats();
      const observed = this.observer.counters();
      return observed.length > 0 ? { ...s, observed } : s;
    });
  }

  private async run(staged: StagedUpdate): Promise<EnforcementReport> {
    const u = staged.update;
    let report: ApplyReport;
    try {
      // a policy the backend cannot enforce as written is refused whole, before the kernel changes
      refuseUnsupported(this.backend.name, u.policy.policies);
      report = u.kind === 'install' ? await this.backend.install(u.policy) : await this.backend.applyDeltas(u.policy, u.deltas);
    } catch (e) {
      staged.rollback();
      throw e;
    }
    staged.commit();
    return { ...report, generation: u.policy.generation, update: u.kind };
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

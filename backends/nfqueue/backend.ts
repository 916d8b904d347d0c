/**
 * NfqueueBackend: the nfqueue implementation of the one Backend contract (src/enforce/backend.ts).
 * A native loop (native/loop.h) judges every NEW flow the steering (steer.ts) queues to it, with
 * an immutable classifier snapshot (native/engine_source.h) swapped in one atomic publish.
 *
 * It consumes the compiled policy (src/enforce/compiled.ts); it never resolves selectors or lowers
 * rules (policy.ts only packs what the compiler made).
 *   install(policy)          pack rules + members of the used sets, NfqLoop.publishEngine (both
 *                            classifiers are built natively, then swapped in). The first install
 *                            also binds the queues (loop start, before the publish) and, after
 *                            the publish, installs the steering: iptables-nft NFQUEUE in the node
 *                            namespace, so no packet is queued before a policy answers it.
 *   drainObserved()          loop records of reason Observed (new flows of the observed subjects,
 *                            published with NfqLoop.publishObserved on install and deltas) ->
 *                            RawFlowEvent; egress for an observed source, ingress for an observed
 *                            destination once egress allowed.
 *   applyDeltas(policy, d)   same rules in force: the deltas of the used sets as set edits (adds
 *                            and removes), NfqLoop.editMembership: one new snapshot whose
 *                            classifiers are copy-on-write forks of the current ones with the
 *                            edits applied (EngineSource::withEdits), so a learned answer costs
 *                            O(its addresses), not O(members). Learned members that expired (the
 *                            expiry queue, expiry.ts) are removed in the same batch; a refresh of
 *                            a member the snapshot still holds publishes nothing (it only moves
 *                            the member's expiry). Empty deltas publish nothing.
 *   expiry (timer)           at the earliest learned expiry, the members due are removed with one
 *                            edit batch (docs/fqdn.md §6: the backend enforces expiry itself).
 *   --strict (option)        after a successful publish that changed what is in force (not the
 *                            first), conntrack entries of flows the new snapshot denies are cut
 *                            (NfqLoop.cutDenied), then reverse entries that raced in are swept at
 *                            100 ms and 1 s (cutReverse; why: native/tombstones.h).
 *   drainDenied()            the loop's deny records (a packed Buffer per batch from the native
 *                            callback, records.ts) buffered as RawDenyEvent, each with the Rule of
 *                            the snapshot that decided it (by snapshot version).
 *   stats()                  denied packets per deciding rule (the loop only learns the rule of
 *                            what it denies; bytes are not counted: 0), loop and kernel queue
 *                            counters, steering, --strict cuts.
 *   remove()                 remove the steering this backend installed, stop the loop (unbinds
 *                            the queues). Steering it did not install (left by an enforcer that
 *                            crashed or kept it) stays: it holds new flows for the next enforcer.
 *   close()                  stop the loop; remove the steering unless `keepSteering`. Unlike a
 *                            kernel table, this policy cannot stay in force without this process:
 *                            kept steering means new flows wait for the next enforcer (fail-closed:
 *                            the kernel drops them; fail-open: --queue-bypass passes them).
 *
 * The failure rule: every publish is one native call that either swaps in a complete new snapshot
 * or throws having changed nothing (ERR_PALISADE_NFQUEUE_RULES, ERR_PALISADE_NATIVE_ARGUMENT), and this object's memory
 * (`inForce`, the rule sets by snapshot version) changes only after it returned. A failed FIRST
 * install undoes what it did: the loop is stopped (queues unbound) and the steering is put back as
 * it was before (steer.ts captureSteering/restoreSteering: removed, or a chain a previous enforcer
 * left with --keep-steering refilled as it was).
 * Invariant: `inForce` describes the loop's current snapshot (undefined before the first install
 * and after remove/close). Not thread-safe: one owner, calls serialized by the caller; deny
 * records arrive on the JS thread (ThreadSafeFunction) between calls.
 * Cost: install = packing O(rules + members) + the native build (~ms per 1k rules); applyDeltas =
 * O(edits + expiries due) in JS and natively (Classifier::fork + applySetEdits: O(edits + touched
 * shards)); a deny record = one decode and one map lookup.
 */
import { PalisadeError } from '../../src/model/errors.js';
import type { ApplyReport, Backend, BackendStats, RawDenyEvent, RawFlowEvent } from '../../src/enforce/backend.js';
import type { CompiledPolicy } from '../../src/enforce/compiled.js';
import { nativeNfqueue, packSetEdits, type NfqLoop, type NfqLoopStats, type SetEdit } from '../../src/native/binding.js';
import { NO_EXPIRY, type SetDelta, type SetId } from '../../src/resolve/index.js';
import type { Cidr } from '../../src/model/ip.js';
import type { RuleSet } from '../../src/rules/types.js';
import { ExpiryQueue, type ExpiryEntry, type LearnedMember } from './expiry.js';
import { memberEdit, packLoopPolicy, type PackedLoopPolicy } from './policy.js';
import { decodeDenyRecords, denyEvent } from './records.js';
import {
  captureSteering,
  DEFAULT_ACCEPT_MARK,
  detectSteering,
  installSteering,
  kernelQueueStats,
  removeSteering,
  restoreSteering,
  type KernelQueueStats,
  type SteerContext,
  type SteeringMethod,
  type SteeringPlan,
} from './steer.js';

export const DEFAULT_FIRST_QUEUE = 4200;

/**
 * Test hooks (failure injection). Production code never sets them.
 * - `beforePublish`: the set edits about to be published; what it returns is published instead
 *   (a malformed edit makes the native build refuse the whole publish), or it throws.
 * - `beforeSteering`: called before the steering of each family is installed (first install);
 *   a throw fails the install there, after the families before it were installed.
 */
export interface NfqueueFaults {
  readonly beforePublish?: (kind: 'engine' | 'membership', setEdits: Uint32Array) => Uint32Array;
  readonly beforeSteering?: (family: 4 | 6) => void;
}

export interface NfqueueOptions {
  /** network namespace of the node (e.g. /run/netns/NAME): queue sockets, conntrack and steering; default: the current one */
  readonly netnsPath?: string;
  /** buffer denied flows for drainDenied() (the per-rule counters run either way) */
  readonly logDenied?: boolean;
  /** kernel queues, one native thread each, CPU fanout (default 1) */
  readonly queues?: number;
  readonly firstQueue?: number;
  /** pass traffic when the enforcer is gone or the queue is full (default: drop) */
  readonly failOpen?: boolean;
  /** after a change, cut established flows the new policy denies */
  readonly strict?: boolean;
  /** close() leaves the steering in place */
  readonly keepSteering?: boolean;
  /** the accepted bit (steer.ts); default DEFAULT_ACCEPT_MARK */
  readonly acceptMark?: number;
  /**
   * false: a detached loop, not started, no steering: only decide() answers (tests and benches
   * that need no privileges). Default true.
   */
  readonly attach?: boolean;
  /** most deny events buffered between two drains (default 65,536; beyond, counted as dropped) */
  readonly maxBufferedDenies?: number;
  readonly faults?: NfqueueFaults;
}

interface InForce {
  readonly ruleSet: RuleSet;
  /** the compiled policy of the snapshot (the expiry timer asks its resolution for expiries) */
  readonly policy: CompiledPolicy;
  readonly version: number;
  readonly generation: number;
}

/** Rule sets kept by snapshot version, for deny records that arrive after a newer publish. */
const KEEP_VERSIONS = 16;
const STRICT_SWEEPS_MS = [100, 1000] as const;

export class NfqueueBackend implements Backend {
  readonly name = 'nfqueue' as const;
  private loop: NfqLoop | undefined;
  private inForce: InForce | undefined;
  private readonly ruleSets = new Map<number, RuleSet>();
  private steering: SteeringMethod | undefined;
  private readonly denied: RawDenyEvent[] = [];
  private readonly observedFlows: RawFlowEvent[] = [];
  /** Observation.key published to the loop; undefined: nothing published yet */
  private observedKey: string | undefined;
  private readonly deniedByRule = new Map<string, number>();
  private readonly deniedByReason = new Map<string, number>();
  /** the expiry timer (scheduleExpiry) */
  private expiryTimer: NodeJS.Timeout | undefined;
  /** when it fires (NO_EXPIRY: no timer) */
  private expiryAtMs = NO_EXPIRY;
  /** the learned members of the snapshot by expiry, and those it left out (expiry.ts) */
  private readonly expiry = new ExpiryQueue();
  /**
   * membershipPublishes: edit batches published (deltas and expiry); membershipEdits: set edits in
   * them (what the native side applies); lastMembershipEdits / lastMembershipChanged: the last
   * batch's edits and how many changed a membership
   */
  private readonly counts = {
    installs: 0,
    membershipPublishes: 0,
    membershipEdits: 0,
    lastMembershipEdits: 0,
    lastMembershipChanged: 0,
    expiryPublishes: 0,
    expiryErrors: 0,
    refused: 0,
    strictCuts: 0,
    strictReverseCuts: 0,
    strictErrors: 0,
    denyEventsDropped: 0,
  };
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly queueNumbers: readonly number[];
  private readonly ctx: SteerContext;
  private readonly parseStatus: readonly string[];

  constructor(private readonly opts: NfqueueOptions = {}) {
    const first = opts.firstQueue ?? DEFAULT_FIRST_QUEUE;
    const n = opts.queues ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new PalisadeError('ERR_PALISADE_BACKEND_OPTION', `nfqueue: queues must be 1..64, not ${n}`);
    if (!Number.isInteger(first) || first < 0 || first + n - 1 > 65535) throw new PalisadeError('ERR_PALISADE_BACKEND_OPTION', `nfqueue: queue numbers ${first}..${first + n - 1} are not all in 0..65535`);
    this.queueNumbers = Array.from({ length: n }, (_, i) => first + i);
    this.ctx = opts.netnsPath !== undefined ? { netnsPath: opts.netnsPath } : {};
    this.parseStatus = nativeNfqueue().nfqConstants.parseStatus;
  }

  private get attach(): boolean {
    return this.opts.attach ?? true;
  }

  /** The rule set in force (undefined before the first install). */
  get ruleSet(): RuleSet | undefined {
    return this.inForce?.ruleSet;
  }

  async install(policy: CompiledPolicy): Promise<ApplyReport> {
    const t0 = performance.now();
    const packed = packLoopPolicy(policy);
    const rules = policy.ruleSet.rules.length;
    if (!this.loop) {
      const version = await this.firstInstall(policy, packed);
      return { kind: 'full', summary: `snapshot v${version}: ${rules} rules; ${this.describe()}`, ms: performance.now() - t0 };
    }
    const version = this.publishEngine(this.loop, packed);
    this.counts.installs++;
    this.commit(policy, version);
    this.expiry.reset(packed.expiring, packed.omitted);
    this.scheduleExpiry();
    this.syncObserved(policy);
    return { kind: 'full', summary: `snapshot v${version}: ${rules} rules${this.strictCut()}`, ms: performance.now() - t0 };
  }

  async applyDeltas(policy: CompiledPolicy, deltas: readonly SetDelta[]): Promise<ApplyReport> {
    const t0 = performance.now();
    const loop = this.loop;
    if (!loop || !this.inForce) throw new PalisadeError('ERR_PALISADE_NOT_APPLIED', 'nfqueue: applyDeltas before a first install');
    if (policy.ruleSet !== this.inForce.ruleSet) throw new PalisadeError('ERR_PALISADE_RULES_CHANGED', 'nfqueue: applyDeltas with another rule set than the one in force (install it instead)');
    this.syncObserved(policy);
    const nowMs = Date.now();
    const expiryOf = (set: SetId, c: Cidr): number => policy.resolution.learnedExpiryMs(set, c);
    const edits: SetEdit[] = [];
    const pushes: ExpiryEntry[] = [];
    const lapses: { readonly m: LearnedMember; readonly lapsed: boolean }[] = [];
    let changes = 0;
    for (const d of deltas) {
      if (!policy.usedSets.has(d.set)) continue;
      changes += d.added.length + d.removed.length;
      if (policy.resolution.definition(d.set).kind !== 'learned') {
        for (const c of d.removed) edits.push(memberEdit('remove', d.set, c));
        for (const c of d.added) edits.push(memberEdit('add', d.set, c));
        continue;
      }
      for (const c of d.removed) {
        if (this.expiry.isLapsed(d.set, c)) lapses.push({ m: { set: d.set, cidr: c }, lapsed: false });
        else edits.push(memberEdit('remove', d.set, c));
      }
      d.added.forEach((c, i) => {
        const at = d.addedExpiresAtMs?.[i] ?? expiryOf(d.set, c);
        if (at <= nowMs) lapses.push({ m: { set: d.set, cidr: c }, lapsed: true });
        else {
          edits.push(memberEdit('add', d.set, c));
          pushes.push({ atMs: at, set: d.set, cidr: c });
        }
      });
      // a refresh moves the member's expiry; only a member the snapshot left out is edited back in
      for (const r of d.retimed ?? []) {
        const lapsed = this.expiry.isLapsed(d.set, r.cidr);
        if (r.expiresAtMs <= nowMs) {
          if (!lapsed) {
            edits.push(memberEdit('remove', d.set, r.cidr));
            lapses.push({ m: { set: d.set, cidr: r.cidr }, lapsed: true });
          }
          continue;
        }
        pushes.push({ atMs: r.expiresAtMs, set: d.set, cidr: r.cidr });
        if (lapsed) {
          edits.push(memberEdit('add', d.set, r.cidr));
          lapses.push({ m: { set: d.set, cidr: r.cidr }, lapsed: false });
          changes++;
        }
      }
    }
    // what expired meanwhile (a timer that failed, or one not yet fired) goes out in this batch
    const { due, popped } = this.expiry.takeDue(nowMs, expiryOf);
    for (const m of due) {
      edits.push(memberEdit('remove', m.set, m.cidr));
      lapses.push({ m, lapsed: true });
    }
    if (edits.length === 0) {
      this.inForce = { ...this.inForce, policy };
      this.settleExpiry(policy, pushes, lapses);
      return { kind: 'none', summary: 'no set member changed', ms: performance.now() - t0 };
    }
    let version: number;
    try {
      version = this.publishEdits(policy, edits);
    } catch (e) {
      this.expiry.restore(popped);
      throw e;
    }
    this.settleExpiry(policy, pushes, lapses);
    return { kind: 'deltas', summary: `snapshot v${version}: ${changes} member changes in ${deltas.length} sets (${edits.length} set edits), same ${policy.ruleSet.rules.length} rules${this.strictCut()}`, ms: performance.now() - t0 };
  }

  /** One edit batch to the loop (NfqLoop.editMembership: one new snapshot); the version. */
  private publishEdits(policy: CompiledPolicy, edits: readonly SetEdit[]): number {
    const loop = this.loop!;
    const packed = packSetEdits(edits);
    const setEdits = this.opts.faults?.beforePublish?.('membership', packed) ?? packed;
    let r: { version: number; changed: number };
    try {
      r = loop.editMembership(setEdits);
    } catch (e) {
      this.counts.refused++;
      throw e;
    }
    this.counts.membershipPublishes++;
    this.counts.membershipEdits += edits.length;
    this.counts.lastMembershipEdits = edits.length;
    this.counts.lastMembershipChanged = r.changed;
    this.commit(policy, r.version);
    return r.version;
  }

  /** After a publish (or none needed): the expiry queue follows the snapshot, the timer its head. */
  private settleExpiry(policy: CompiledPolicy, pushes: readonly ExpiryEntry[], lapses: readonly { readonly m: LearnedMember; readonly lapsed: boolean }[]): void {
    const expiryOf = (set: SetId, c: Cidr): number => policy.resolution.learnedExpiryMs(set, c);
    for (const l of lapses) this.expiry.setLapsed(l.m.set, l.m.cidr, l.lapsed);
    for (const e of pushes) this.expiry.push(e, expiryOf);
    this.scheduleExpiry();
  }

  /**
   * The backend's own expiry of learned members (docs/fqdn.md §6): at the earliest expiry in the
   * queue, remove the members due with one edit batch, so a learner that is late or stopped
   * cannot keep an address open. One timer (unref'd), moved whenever the queue's head moves; a
   * publish that fails is counted and retried at the next delta or install (the snapshot in
   * force stays, the members stay due).
   */
  private scheduleExpiry(): void {
    const atMs = this.expiry.nextMs;
    if (this.expiryTimer && atMs === this.expiryAtMs) return;
    if (this.expiryTimer) {
      clearTimeout(this.expiryTimer);
      this.timers.delete(this.expiryTimer);
      this.expiryTimer = undefined;
    }
    this.expiryAtMs = NO_EXPIRY;
    if (atMs === NO_EXPIRY || !this.loop) return;
    this.expiryAtMs = atMs;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.expiryTimer = undefined;
      this.expiryAtMs = NO_EXPIRY;
      const policy = this.inForce?.policy;
      if (!this.loop || !policy) return;
      const { due, popped } = this.expiry.takeDue(Date.now(), (set, c) => policy.resolution.learnedExpiryMs(set, c));
      if (due.length > 0) {
        try {
          this.publishEdits(policy, due.map((m) => memberEdit('remove', m.set, m.cidr)));
          this.counts.expiryPublishes++;
        } catch {
          this.expiry.restore(popped);
          this.counts.expiryErrors++;
          return;
        }
      }
      this.settleExpiry(policy, [], due.map((m) => ({ m, lapsed: true })));
    }, Math.max(0, atMs - Date.now()) + 1);
    t.unref();
    this.timers.add(t);
    this.expiryTimer = t;
  }

  drainDenied(max?: number): RawDenyEvent[] {
    return this.denied.splice(0, max ?? this.denied.length);
  }

  /** Observed new flows (loop records of reason Observed, loop.h); only with `logDenied`. */
  drainObserved(max?: number): RawFlowEvent[] {
    return this.observedFlows.splice(0, max ?? this.observedFlows.length);
  }

  /** The observed subjects to the loop when they changed (they change no verdict). */
  private syncObserved(policy: CompiledPolicy): void {
    const loop = this.loop;
    if (!loop) return;
    const o = policy.observation;
    const key = this.opts.logDenied ? o.key : '';
    if (key === this.observedKey) return;
    const subjects = this.opts.logDenied ? o.subjects : [];
    const keys = new Uint8Array(subjects.length * 17);
    subjects.forEach((c, i) => {
      keys[i * 17] = c.family;
      const n = c.family === 4 ? 4 : 16;
      let v = c.base;
      for (let b = n - 1; b >= 0; b--, v >>= 8n) keys[i * 17 + 1 + b] = Number(v & 0xffn);
    });
    loop.publishObserved(keys);
    this.observedKey = key;
  }

  async stats(): Promise<BackendStats> {
    const kernel: KernelQueueStats[] = this.attach ? (await kernelQueueStats(this.ctx)).filter((k) => this.queueNumbers.includes(k.queue)) : [];
    const loop: NfqLoopStats | undefined = this.loop?.stats();
    return {
      backend: 'nfqueue',
      rules: [...this.deniedByRule].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([rule, packets]) => ({ rule, packets, bytes: 0 })),
      details: {
        queues: this.queueNumbers,
        failOpen: this.opts.failOpen ?? false,
        strict: this.opts.strict ?? false,
        ...(this.steering !== undefined ? { steering: this.steering } : {}),
        ...(loop ? { loop } : {}),
        kernel,
        deniedByReason: Object.fromEntries(this.deniedByReason),
        ...this.counts,
      },
    };
  }

  async remove(): Promise<void> {
    this.clearTimers();
    // Only steering this backend installed: one a previous enforcer left (--keep-steering, or a
    // crash) holds new flows fail-closed, and a process that never enforced must not open it.
    if (this.attach && this.loop) await removeSteering(this.ctx);
    this.stopLoop();
  }

  async close(): Promise<void> {
    this.clearTimers();
    try {
      if (this.attach && this.loop && !this.opts.keepSteering) await removeSteering(this.ctx);
    } finally {
      this.stopLoop();
    }
  }

  /** The loop's decision for one packet under the current snapshot, without a queue (tests). */
  decide(packet: Uint8Array): ReturnType<NfqLoop['decide']> {
    if (!this.loop) throw new PalisadeError('ERR_PALISADE_NOT_APPLIED', 'nfqueue: decide before a first install');
    return this.loop.decide(packet);
  }

  /** The native loop's own counters (undefined before the first install). */
  loopStats(): NfqLoopStats | undefined {
    return this.loop?.stats();
  }

  private async firstInstall(policy: CompiledPolicy, packed: PackedLoopPolicy): Promise<number> {
    const { NfqLoop } = nativeNfqueue();
    const acceptMark = this.attach ? (this.opts.acceptMark ?? DEFAULT_ACCEPT_MARK) : 0;
    const loop = new NfqLoop(
      { queues: this.queueNumbers, acceptMark, failOpen: this.opts.failOpen ?? false, logDenied: true, ...(this.opts.netnsPath !== undefined ? { netnsPath: this.opts.netnsPath } : {}) },
      (buf) => this.onDenied(buf),
    );
    let saved: Awaited<ReturnType<typeof captureSteering>> | undefined;
    try {
      if (this.attach) loop.start();
      const version = this.publishEngine(loop, packed);
      if (this.attach) {
        const method = await detectSteering(this.ctx);
        saved = await captureSteering(this.ctx);
        await installSteering(this.plan(), this.ctx, this.opts.faults?.beforeSteering);
        this.steering = method;
      }
      this.loop = loop;
      this.counts.installs++;
      this.commit(policy, version);
      this.expiry.reset(packed.expiring, packed.omitted);
      this.scheduleExpiry();
      this.syncObserved(policy);
      return version;
    } catch (e) {
      if (saved) await restoreSteering(saved, this.ctx).catch(() => undefined);
      loop.stop();
      throw e;
    }
  }

  private publishEngine(loop: NfqLoop, p: PackedLoopPolicy): number {
    const setEdits = this.opts.faults?.beforePublish?.('engine', p.setEdits) ?? p.setEdits;
    try {
      return loop.publishEngine(p.egressRules, p.ingressRules, setEdits, p.egressNpTierStart, p.ingressNpTierStart);
    } catch (e) {
      this.counts.refused++;
      throw e;
    }
  }

  private commit(policy: CompiledPolicy, version: number): void {
    this.inForce = { ruleSet: policy.ruleSet, policy, version, generation: policy.generation };
    this.ruleSets.set(version, policy.ruleSet);
    for (const v of this.ruleSets.keys()) if (v <= version - KEEP_VERSIONS) this.ruleSets.delete(v);
  }

  /** --strict after a change: the summary's suffix ('' without --strict). */
  private strictCut(): string {
    const loop = this.loop;
    if (!this.opts.strict || !loop || !this.attach) return '';
    const r = loop.cutDenied();
    this.counts.strictCuts += r.cut;
    this.counts.strictErrors += r.errors;
    if (r.cut > 0) {
      for (const ms of STRICT_SWEEPS_MS) {
        const t = setTimeout(() => {
          this.timers.delete(t);
          if (this.loop !== loop) return;
          const rev = loop.cutReverse();
          this.counts.strictReverseCuts += rev.cut;
          this.counts.strictErrors += rev.errors;
        }, ms);
        t.unref();
        this.timers.add(t);
      }
    }
    return `, --strict: ${r.cut} of ${r.scanned} tracked flows cut${r.errors > 0 ? ` (${r.errors} conntrack deletes failed)` : ''}`;
  }

  private onDenied(buf: Uint8Array): void {
    const max = this.opts.maxBufferedDenies ?? 65_536;
    for (const d of decodeDenyRecords(buf)) {
      if (d.reason === 'observed') {
        if (this.opts.logDenied && d.direction !== undefined && this.observedFlows.length < max) {
          const { timeMs, family, proto, src, dst, srcPort, dstPort } = d;
          this.observedFlows.push({ timeMs, family, proto, src, dst, srcPort, dstPort, direction: d.direction });
        }
        continue;
      }
      const e = denyEvent(d, (v) => this.ruleSets.get(v), this.parseStatus);
      const key = e.rule ? e.rule.origin.stableId : e.reason === 'policy' ? 'palisade/unknown' : `palisade/${e.reason}`;
      this.deniedByRule.set(key, (this.deniedByRule.get(key) ?? 0) + 1);
      this.deniedByReason.set(d.reason, (this.deniedByReason.get(d.reason) ?? 0) + 1);
      if (!this.opts.logDenied) continue;
      if (this.denied.length >= max) this.counts.denyEventsDropped++;
      else this.denied.push(e);
    }
  }

  /** queues, fail mode and steering, for the first install's summary */
  private describe(): string {
    const q = this.queueNumbers;
    const queues = `nfqueue ${q[0]}${q.length > 1 ? `-${q[q.length - 1]}` : ''}`;
    const steering = !this.attach ? 'detached (no queue, no steering)' : this.steering === 'nft-queue' ? 'steering iptables-nft NFQUEUE (nft queue available but not used)' : 'steering iptables-nft NFQUEUE';
    return `${queues}, ${this.opts.failOpen ? 'fail-open' : 'fail-closed'}, ${steering}`;
  }

  private plan(): SteeringPlan {
    return {
      firstQueue: this.queueNumbers[0]!,
      queueCount: this.queueNumbers.length,
      failOpen: this.opts.failOpen ?? false,
      acceptMark: this.opts.acceptMark ?? DEFAULT_ACCEPT_MARK,
      hooks: ['FORWARD', 'INPUT', 'OUTPUT'],
      families: [4, 6],
    };
  }

  private stopLoop(): void {
    this.loop?.stop();
    this.loop = undefined;
    this.inForce = undefined;
    this.observedKey = undefined;
    this.ruleSets.clear();
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.expiryTimer = undefined;
    this.expiryAtMs = NO_EXPIRY;
  }
}

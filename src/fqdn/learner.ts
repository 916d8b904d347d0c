/**
 * The DNS learner (docs/fqdn.md §3-§6), written once above the backends: held DNS answer
 * packets in, learned-address changes out through `apply` (the Enforcement's `learn`, which
 * writes them into whichever backend is in force), and only then the packets are released.
 *
 * Per batch of held packets (`handle`): parse each (packet.ts); an answer counts only when its
 * source is a trusted resolver (`trustedResolvers()`), its source port 53 and its destination a
 * pod (`podOf`); UDP answers are parsed whole, TCP answers are reassembled per connection;
 * each message (dns.ts) teaches facts (the CNAME chain) into the cache (cache.ts); the batch's
 * additions and evictions go to `apply` in ONE call, awaited before `handle` resolves, so the
 * caller releases the packets after the kernel has the addresses. Expiry: a timer at the
 * earliest expiry removes what expired, through `apply` too.
 * Failure: a parse failure teaches nothing (counted); a throwing `apply` is counted and the
 * batch still resolves (the answers are released unlearned: connections to those addresses are
 * then denied, never wrongly allowed) and the cache rolls the batch's additions back.
 * Invariants: what `apply` was told (added minus removed, in order) equals `cache.entries()`.
 * Cost: O(packet bytes + facts x log(cache)) per batch plus one `apply`.
 * Thread-safety: one owner; `handle` calls are serialized by the caller (queue.ts).
 */
import type { LearnedAddress } from '../model/fqdn.js';
import type { IpAddr } from '../model/ip.js';
import { LearnedCache, type CacheOptions, type RefreshedEntry } from './cache.js';
import { learnedFacts, parseDnsResponse } from './dns.js';
import { parsePacket, TcpDnsStreams, type DnsPacket } from './packet.js';

export interface LearnerOptions {
  /** addresses (canonical text) whose answers count: kube-dns endpoints or --dns-server */
  readonly trustedResolvers: () => ReadonlySet<string>;
  /** the pod (`namespace/name`) owning an address, if any */
  readonly podOf: (ip: IpAddr) => string | undefined;
  /** put the change into the kernel; resolves once it is there */
  readonly apply: (added: readonly LearnedAddress[], removed: readonly LearnedAddress[]) => Promise<void>;
  readonly cache?: CacheOptions;
  readonly nowMs?: () => number;
  /** run expiry on a timer (default true; tests call `expireNow`) */
  readonly expiryTimer?: boolean;
}

/** When a batch's stages ended (CLOCK_MONOTONIC ns), filled by `handle` (queue.ts hold figures). */
export interface BatchMarks {
  startNs: number;
  learnedNs: number;
  writtenNs: number;
}

const monoNs = (): number => Number(process.hrtime.bigint());

export interface LearnerCounters {
  packets: number;
  answers: number;
  /** answers from a source that is not a trusted resolver (or not port 53): taught nothing */
  untrusted: number;
  /** answers to an address that is no pod */
  notForPod: number;
  unparsed: number;
  applyErrors: number;
}

export class DnsLearner {
  readonly cache: LearnedCache;
  readonly counters: LearnerCounters = { packets: 0, answers: 0, untrusted: 0, notForPod: 0, unparsed: 0, applyErrors: 0 };
  private readonly tcp = new TcpDnsStreams();
  private readonly now: () => number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Infinity;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly o: LearnerOptions) {
    this.cache = new LearnedCache(o.cache);
    this.now = o.nowMs ?? Date.now;
  }

  /**
   * Learn from a batch of held packets; resolves after the kernel has what they taught.
   * `marks`, when given, receives the CLOCK_MONOTONIC ns (process.hrtime) at which the batch
   * started, was parsed and learned (the kernel write starts), and was written (queue.ts).
   */
  handle(packets: readonly Uint8Array[], marks?: BatchMarks): Promise<void> {
    return this.serialize(() => this.learnBatch(packets, marks));
  }

  /** Put a persisted snapshot's live entries back (persist.ts); resolves once the kernel has them. */
  restore(entries: readonly LearnedAddress[]): Promise<void> {
    return this.serialize(async () => {
      const ch = this.cache.restore(entries, this.now());
      if (ch.added.length + ch.removed.length > 0) await this.push([...ch.added], [...ch.removed]);
    });
  }

  /** Remove what has expired by now (the timer calls this). */
  expireNow(): Promise<void> {
    return this.serialize(async () => {
      const removed = this.cache.expire(this.now());
      if (removed.length > 0) await this.push([], removed);
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  // ---- internals -------------------------------------------------------------------------

  private async learnBatch(packets: readonly Uint8Array[], marks?: BatchMarks): Promise<void> {
    if (marks) marks.startNs = monoNs();
    const now = this.now();
    const trusted = this.o.trustedResolvers();
    const added: LearnedAddress[] = [];
    const removed: LearnedAddress[] = [];
    const refreshed: RefreshedEntry[] = [];
    for (const bytes of packets) {
      this.counters.packets++;
      const p = parsePacket(bytes);
      if (!p) {
        this.counters.unparsed++;
        continue;
      }
      for (const message of this.messages(p)) {
        this.counters.answers++;
        if (p.srcPort !== 53 || !trusted.has(p.src.text)) {
          this.counters.untrusted++;
          continue;
        }
        const pod = this.o.podOf(p.dst);
        if (pod === undefined) {
          this.counters.notForPod++;
          continue;
        }
        const parsed = parseDnsResponse(message);
        if (!parsed.ok) {
          this.counters.unparsed++;
          continue;
        }
        const ch = this.cache.learn(pod, parsed.response.question, learnedFacts(parsed.response), now);
        added.push(...ch.added);
        removed.push(...ch.removed);
        refreshed.push(...ch.refreshed);
      }
    }
    if (marks) marks.learnedNs = monoNs();
    if (added.length + removed.length + refreshed.length > 0) await this.push(added, removed, refreshed);
    if (marks) marks.writtenNs = monoNs();
  }

  private messages(p: DnsPacket): Uint8Array[] {
    if (p.protocol === 'UDP') return [p.payload];
    return this.tcp.segment(p);
  }

  private async push(added: LearnedAddress[], removed: LearnedAddress[], refreshed: readonly RefreshedEntry[] = []): Promise<void> {
    // an entry both added and evicted within one batch never reaches the kernel
    const gone = new Set(removed.map(keyOf));
    const add = added.filter((e) => !gone.has(keyOf(e)));
    const addedKeys = new Set(added.map(keyOf));
    const rem = removed.filter((e) => !addedKeys.has(keyOf(e)));
    // a refresh goes as an `added` entry with its later expiry (the kernel re-times the element);
    // the last refresh of an entry in the batch carries its latest expiry
    const latest = new Map<string, RefreshedEntry>();
    for (const r of refreshed) {
      const k = keyOf(r.entry);
      if (gone.has(k) || addedKeys.has(k)) continue;
      const first = latest.get(k);
      latest.set(k, first ? { entry: r.entry, previousExpiresAtMs: first.previousExpiresAtMs } : r);
    }
    try {
      await this.o.apply([...add, ...[...latest.values()].map((r) => r.entry)], rem);
    } catch {
      this.counters.applyErrors++;
      // the kernel kept what it had: forget what it was not told, so cache = kernel again
      for (const e of add) this.cache.forget(e);
      for (const r of latest.values()) this.cache.unrefresh(r);
    }
    this.arm();
  }

  private arm(): void {
    if (this.stopped || this.o.expiryTimer === false) return;
    const at = this.cache.nextExpiryMs();
    if (at === undefined || at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      void this.expireNow();
    }, Math.max(0, at - this.now()) + 1);
    this.timer.unref?.();
  }

  private serialize(fn: () => Promise<void>): Promise<void> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }
}

const keyOf = (e: Pick<LearnedAddress, 'pod' | 'name' | 'address'>): string => `${e.pod}|${e.name}|${e.address.text}`;

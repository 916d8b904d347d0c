/**
 * The learned-address cache (docs/fqdn.md §4, §5): (pod, name, address) entries with an expiry,
 * bounded per (pod, name) and in total, and the changes the kernel must follow.
 *
 * Rules:
 * - expiry = received + max(ttl, minTtlS) seconds; no cap. A new answer for the same entry
 *   extends it to the later of the two expiries.
 * - bounds: `maxPerName` entries per (pod, name) (default 4,096: at least the 1,000 the issue
 *   asks for) and `maxEntries` in total (default 262,144). An insertion past a bound evicts the
 *   entry with the earliest expiry (of that (pod, name), or of the whole cache), ties by
 *   insertion order. An evicted entry is reported as removed, like an expired one.
 * Invariants: every held entry is live until `expire(now)` is called with now >= its expiry;
 * `learn` and `expire` return exactly the entries that entered and left (a kernel applying them
 * in order holds exactly `entries()`).
 * Cost: learn O(log n) per fact (plus O(maxPerName) when a (pod, name) is full); expire
 * O(k log n) for k expired; memory O(entries) (bench/fqdn.bench.mjs measures bytes per entry).
 * Thread-safety: none; one owner (the learner).
 */
import type { LearnedAddress, LearnedSnapshot } from '../model/fqdn.js';
import type { IpAddr } from '../model/ip.js';
import type { LearnedFact } from './dns.js';

export interface CacheOptions {
  readonly minTtlS?: number;
  readonly maxPerName?: number;
  readonly maxEntries?: number;
}

export const DEFAULT_MIN_TTL_S = 5;
export const DEFAULT_MAX_PER_NAME = 4096;
export const DEFAULT_MAX_ENTRIES = 262_144;

interface Entry {
  readonly pod: string;
  readonly name: string;
  readonly address: IpAddr;
  query: string;
  expiresAtMs: number;
  readonly seq: number;
}

export interface CacheChange {
  readonly added: readonly LearnedAddress[];
  readonly removed: readonly LearnedAddress[];
  /** held entries whose expiry grew (the kernel's element timeouts must follow: docs/fqdn.md §6) */
  readonly refreshed: readonly RefreshedEntry[];
}

export interface RefreshedEntry {
  readonly entry: LearnedAddress;
  readonly previousExpiresAtMs: number;
}

export interface CacheCounters {
  learned: number;
  refreshed: number;
  expired: number;
  evicted: number;
}

export class LearnedCache {
  readonly minTtlS: number;
  readonly maxPerName: number;
  readonly maxEntries: number;
  private readonly byKey = new Map<string, Entry>();
  /** per `pod|name`: the keys held */
  private readonly byName = new Map<string, Set<string>>();
  /** min-heap on (expiresAtMs, seq); stale items (entry gone or extended) are skipped */
  private readonly heap: { at: number; seq: number; key: string }[] = [];
  private seq = 0;
  readonly counters: CacheCounters = { learned: 0, refreshed: 0, expired: 0, evicted: 0 };

  constructor(options: CacheOptions = {}) {
    this.minTtlS = options.minTtlS ?? DEFAULT_MIN_TTL_S;
    this.maxPerName = options.maxPerName ?? DEFAULT_MAX_PER_NAME;
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    if (!(this.minTtlS >= 0) || !(this.maxPerName >= 1) || !(this.maxEntries >= 1)) throw new RangeError('LearnedCache: bad bounds');
  }

  get size(): number {
    return this.byKey.size;
  }

  /** What one answer to `pod` taught at `nowMs` (query: the name asked). */
  learn(pod: string, query: string, facts: readonly LearnedFact[], nowMs: number): CacheChange {
    const added: LearnedAddress[] = [];
    const removed: LearnedAddress[] = [];
    const refreshed: RefreshedEntry[] = [];
    for (const f of facts) {
      const expiresAtMs = nowMs + Math.max(f.ttlS, this.minTtlS) * 1000;
      const key = `${pod}|${f.name}|${f.address.text}`;
      const held = this.byKey.get(key);
      if (held) {
        if (expiresAtMs > held.expiresAtMs) {
          const previousExpiresAtMs = held.expiresAtMs;
          held.expiresAtMs = expiresAtMs;
          held.query = query;
          this.push(held, key);
          refreshed.push({ entry: view(held), previousExpiresAtMs });
        }
        this.counters.refreshed++;
        continue;
      }
      added.push(this.insert(key, { pod, name: f.name, address: f.address, query, expiresAtMs }, removed));
      this.counters.learned++;
    }
    return { added, removed, refreshed };
  }

  /**
   * Entries of a persisted snapshot (persist.ts), with their expiry as it was: those live at
   * `nowMs` and not held enter under the same bounds as `learn` (a held one keeps the later expiry).
   */
  restore(entries: readonly LearnedAddress[], nowMs: number): CacheChange {
    const added: LearnedAddress[] = [];
    const removed: LearnedAddress[] = [];
    for (const e of entries) {
      if (e.expiresAtMs <= nowMs) continue;
      const key = `${e.pod}|${e.name}|${e.address.text}`;
      if (this.byKey.has(key)) continue;
      added.push(this.insert(key, e, removed));
    }
    return { added, removed, refreshed: [] };
  }

  private insert(key: string, f: LearnedAddress, removed: LearnedAddress[]): LearnedAddress {
    const nameKey = `${f.pod}|${f.name}`;
    const full = this.byName.get(nameKey);
    if (full && full.size >= this.maxPerName) removed.push(this.evict(this.earliestOf(full)));
    if (this.byKey.size >= this.maxEntries) removed.push(this.evict(this.earliestOverall()));
    const e: Entry = { pod: f.pod, name: f.name, address: f.address, query: f.query, expiresAtMs: f.expiresAtMs, seq: this.seq++ };
    this.byKey.set(key, e);
    let names = this.byName.get(nameKey);
    if (!names) this.byName.set(nameKey, (names = new Set()));
    names.add(key);
    this.push(e, key);
    return view(e);
  }

  /** Remove every entry whose expiry is at or before `nowMs`. */
  expire(nowMs: number): LearnedAddress[] {
    const out: LearnedAddress[] = [];
    for (;;) {
      const top = this.heap[0];
      if (!top || top.at > nowMs) break;
      this.pop();
      const e = this.byKey.get(top.key);
      if (!e || e.seq !== top.seq || e.expiresAtMs !== top.at) continue;
      this.drop(top.key, e);
      this.counters.expired++;
      out.push(view(e));
    }
    return out;
  }

  /** The earliest expiry held (ms), or undefined when empty. */
  nextExpiryMs(): number | undefined {
    for (;;) {
      const top = this.heap[0];
      if (!top) return undefined;
      const e = this.byKey.get(top.key);
      if (e && e.seq === top.seq && e.expiresAtMs === top.at) return top.at;
      this.pop();
    }
  }

  /** Drop one entry without counting it (the kernel never got it: the learner's rollback). */
  forget(e: Pick<LearnedAddress, 'pod' | 'name' | 'address'>): void {
    const key = `${e.pod}|${e.name}|${e.address.text}`;
    const held = this.byKey.get(key);
    if (held) this.drop(key, held);
  }

  /** Put back an entry's earlier expiry (the kernel refused the refresh: the learner's rollback). */
  unrefresh(r: RefreshedEntry): void {
    const key = `${r.entry.pod}|${r.entry.name}|${r.entry.address.text}`;
    const held = this.byKey.get(key);
    if (!held || held.expiresAtMs !== r.entry.expiresAtMs) return;
    held.expiresAtMs = r.previousExpiresAtMs;
    this.push(held, key);
  }

  entries(): LearnedAddress[] {
    return [...this.byKey.values()].map(view);
  }

  snapshot(atMs: number): LearnedSnapshot {
    return { atMs, entries: this.entries() };
  }

  // ---- internals -------------------------------------------------------------------------

  private evict(key: string): LearnedAddress {
    const e = this.byKey.get(key)!;
    this.drop(key, e);
    this.counters.evicted++;
    return view(e);
  }

  private drop(key: string, e: Entry): void {
    this.byKey.delete(key);
    const nameKey = `${e.pod}|${e.name}`;
    const names = this.byName.get(nameKey);
    names?.delete(key);
    if (names?.size === 0) this.byName.delete(nameKey);
  }

  private earliestOf(keys: Set<string>): string {
    let best: string | undefined;
    let bestE: Entry | undefined;
    for (const k of keys) {
      const e = this.byKey.get(k)!;
      if (!bestE || e.expiresAtMs < bestE.expiresAtMs || (e.expiresAtMs === bestE.expiresAtMs && e.seq < bestE.seq)) {
        best = k;
        bestE = e;
      }
    }
    return best!;
  }

  private earliestOverall(): string {
    for (;;) {
      const top = this.heap[0]!;
      const e = this.byKey.get(top.key);
      if (e && e.seq === top.seq && e.expiresAtMs === top.at) return top.key;
      this.pop();
    }
  }

  private push(e: Entry, key: string): void {
    const h = this.heap;
    h.push({ at: e.expiresAtMs, seq: e.seq, key });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && less(h[l]!, h[m]!)) m = l;
      if (r < h.length && less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

const less = (a: { at: number; seq: number }, b: { at: number; seq: number }): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);

const view = (e: Entry): LearnedAddress => ({ pod: e.pod, name: e.name, address: e.address, expiresAtMs: e.expiresAtMs, query: e.query });

/**
 * The nfqueue backend's own expiry of learned members (docs/fqdn.md §6), as set edits: which
 * learned members the loop's snapshot holds, by expiry, and which it left out because they had
 * expired while the learner still holds them (a refresh must put those back).
 *
 * The classifier holds no per-member expiry, so the backend removes what expired itself: at the
 * earliest expiry it asks `takeDue` for the members due and publishes their removal as one edit
 * batch (NfqLoop.editMembership). Each learned member in the snapshot has an entry here at its
 * expiry; an entry whose member was retimed since (a later answer) or removed is stale and is
 * dropped when it comes due: `takeDue` checks the member's expiry now (`expiryOf`).
 *
 * Invariants: every learned member in the snapshot with an expiry has an entry at that expiry
 * (entries at older expiries may remain, stale); `lapsed` holds exactly the learned members the
 * resolution holds that the snapshot does not (expired there). Transactional use: the backend
 * applies pushes and lapses only after a publish succeeded, and `restore`s what `takeDue` popped
 * after one failed.
 * Cost: push O(log n); takeDue O(k log n) for k entries due; stale entries are compacted away
 * when the heap has doubled since the last compaction (amortized O(1) per push); O(n) memory for
 * n entries. Thread-safety: none; owned by one backend.
 */
import type { Cidr } from '../../src/model/ip.js';
import { NO_EXPIRY, type SetId } from '../../src/resolve/index.js';

export interface ExpiryEntry {
  readonly atMs: number;
  readonly set: SetId;
  readonly cidr: Cidr;
}

export interface LearnedMember {
  readonly set: SetId;
  readonly cidr: Cidr;
}

const memberKey = (set: SetId, c: Cidr): string => `${set} ${c.text}`;
/** heap entries below which no compaction runs */
const COMPACT_FLOOR = 1024;

export class ExpiryQueue {
  private heap: ExpiryEntry[] = [];
  private readonly lapsedMembers = new Map<string, LearnedMember>();
  private compactAt = COMPACT_FLOOR;

  /** After a full publish: the learned members in it with their expiries, and those it omitted. */
  reset(expiring: readonly ExpiryEntry[], omitted: readonly LearnedMember[]): void {
    this.heap = [];
    for (const e of expiring) this.push(e);
    this.lapsedMembers.clear();
    for (const m of omitted) this.lapsedMembers.set(memberKey(m.set, m.cidr), m);
    this.compactAt = Math.max(COMPACT_FLOOR, 2 * this.heap.length);
  }

  /** The earliest entry's expiry (NO_EXPIRY: none). It may be stale: takeDue then finds nothing. */
  get nextMs(): number {
    return this.heap[0]?.atMs ?? NO_EXPIRY;
  }

  get size(): number {
    return this.heap.length;
  }

  get lapsedCount(): number {
    return this.lapsedMembers.size;
  }

  isLapsed(set: SetId, c: Cidr): boolean {
    return this.lapsedMembers.has(memberKey(set, c));
  }

  /** The snapshot left the member out (true) or holds it / the resolution dropped it (false). */
  setLapsed(set: SetId, c: Cidr, lapsed: boolean): void {
    if (lapsed) this.lapsedMembers.set(memberKey(set, c), { set, cidr: c });
    else this.lapsedMembers.delete(memberKey(set, c));
  }

  /** An entry for a member in the snapshot at its (new) expiry. */
  push(e: ExpiryEntry, expiryOf?: (set: SetId, c: Cidr) => number): void {
    if (e.atMs === NO_EXPIRY) return;
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.atMs <= e.atMs) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
    if (expiryOf && h.length >= this.compactAt) this.compact(expiryOf);
  }

  /**
   * Pops every entry due at `nowMs`. `due`: the members whose expiry now (`expiryOf`) is still at
   * or before `nowMs` (each once): the ones to remove from the snapshot. `popped`: every entry
   * taken, for `restore` if the removal is not published.
   */
  takeDue(nowMs: number, expiryOf: (set: SetId, c: Cidr) => number): { due: LearnedMember[]; popped: ExpiryEntry[] } {
    const due: LearnedMember[] = [];
    const popped: ExpiryEntry[] = [];
    const seen = new Set<string>();
    while (this.heap.length > 0 && this.heap[0]!.atMs <= nowMs) {
      const e = this.pop();
      popped.push(e);
      const k = memberKey(e.set, e.cidr);
      if (seen.has(k) || this.lapsedMembers.has(k)) continue;
      const at = expiryOf(e.set, e.cidr);
      // -Infinity: no entry holds it any more (removed by a delta); later: retimed (a newer entry)
      if (at === Number.NEGATIVE_INFINITY || at > nowMs) continue;
      seen.add(k);
      due.push({ set: e.set, cidr: e.cidr });
    }
    return { due, popped };
  }

  restore(popped: readonly ExpiryEntry[]): void {
    for (const e of popped) this.push(e);
  }

  private pop(): ExpiryEntry {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const c = l + 1 < h.length && h[l + 1]!.atMs < h[l]!.atMs ? l + 1 : l;
        if (h[c]!.atMs >= last.atMs) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }

  /** Drop stale entries: keep one entry per member, at its expiry now. */
  private compact(expiryOf: (set: SetId, c: Cidr) => number): void {
    const keep = new Map<string, ExpiryEntry>();
    for (const e of this.heap) {
      const k = memberKey(e.set, e.cidr);
      if (keep.has(k) || this.lapsedMembers.has(k)) continue;
      const at = expiryOf(e.set, e.cidr);
      if (at === Number.NEGATIVE_INFINITY || at === NO_EXPIRY) continue;
      keep.set(k, at === e.atMs ? e : { atMs: at, set: e.set, cidr: e.cidr });
    }
    this.heap = [];
    for (const e of keep.values()) this.push(e);
    this.compactAt = Math.max(COMPACT_FLOOR, 2 * this.heap.length);
  }
}

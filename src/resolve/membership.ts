/**
 * The members of one address set as a reference-counted prefix multiset, and a collector that
 * turns count transitions (0 -> 1, 1 -> 0) into set deltas.
 *
 * Why counts: two contributors can give the same prefix (two pods of a set sharing an IP while
 * one is replaced, a node address listed twice); the prefix leaves the set only when the last
 * contributor goes. Cost: O(1) per contributed prefix. Not thread-safe (single owner).
 */
import type { Cidr } from '../model/ip.js';
import type { SetDelta } from './changes.js';
import type { SetId } from './set-def.js';
import { comparePrefixes } from './prefixes.js';

export class Membership {
  /** member prefixes by text */
  private readonly members = new Map<string, Cidr>();
  /** contributor counts above one (rare: kept apart so the common case allocates nothing) */
  private readonly extra = new Map<string, number>();

  add(c: Cidr, deltas?: DeltaCollector, set?: SetId): void {
    if (!this.members.has(c.text)) {
      this.members.set(c.text, c);
      if (deltas && set !== undefined) deltas.note(set, c, +1);
    } else this.extra.set(c.text, (this.extra.get(c.text) ?? 1) + 1);
  }

  remove(c: Cidr, deltas?: DeltaCollector, set?: SetId): void {
    const n = this.extra.get(c.text);
    if (n !== undefined) {
      if (n > 2) this.extra.set(c.text, n - 1);
      else this.extra.delete(c.text);
      return;
    }
    const member = this.members.get(c.text);
    if (!member) throw new Error(`internal: removing ${c.text}, which is not a member`);
    this.members.delete(c.text);
    if (deltas && set !== undefined) deltas.note(set, member, -1);
  }

  get size(): number {
    return this.members.size;
  }

  has(c: Cidr): boolean {
    return this.members.has(c.text);
  }

  /** Members in no particular order (for loading a classifier). */
  unordered(): Cidr[] {
    return [...this.members.values()];
  }

  /** Members, sorted by (family, base, prefixLen). */
  prefixes(): Cidr[] {
    return [...this.members.values()].sort(comparePrefixes);
  }
}

export class DeltaCollector {
  private readonly net = new Map<SetId, Map<string, { cidr: Cidr; n: number }>>();

  note(set: SetId, c: Cidr, sign: 1 | -1): void {
    let m = this.net.get(set);
    if (!m) this.net.set(set, (m = new Map()));
    const e = m.get(c.text);
    if (e) e.n += sign;
    else m.set(c.text, { cidr: c, n: sign });
  }

  /** Net deltas, by ascending set id; sets whose changes cancelled out are left out. */
  deltas(): SetDelta[] {
    const out: SetDelta[] = [];
    for (const set of [...this.net.keys()].sort((a, b) => a - b)) {
      const added: Cidr[] = [];
      const removed: Cidr[] = [];
      for (const { cidr, n } of (this.net.get(set) as Map<string, { cidr: Cidr; n: number }>).values()) {
        if (n > 0) added.push(cidr);
        else if (n < 0) removed.push(cidr);
      }
      if (added.length || removed.length) out.push({ set, added: added.sort(comparePrefixes), removed: removed.sort(comparePrefixes) });
    }
    return out;
  }
}

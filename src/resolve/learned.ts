/**
 * The learned-address store behind `learned` sets (docs/fqdn.md): the live (pod, name, address)
 * entries a DNS learner reported, and which `learned` set each one feeds.
 *
 * A `learned` set {pod P, names} holds the host prefix of every address A with a live entry
 * (P, N, A) where N matches one of `names` (model/fqdn.ts `domainNameMatches`). Expiry is the
 * learner's job: it removes an entry when it expires; this store holds what is live now, and
 * each entry's expiry, so a kernel can also time the element out by itself (docs/fqdn.md §6):
 * a set member's expiry is the LATEST of the entries that hold it in that set.
 *
 * Invariants: each (pod, name, address) is held at most once; the contributions to a set's
 * `Membership` are exactly the held entries that match it (so adding the same entry twice or
 * removing an absent one changes nothing); adding a held entry with a later expiry extends it
 * (never shortens it); `reported` is the expiry last put in a delta for each learned member.
 * Cost: add/remove O(learned sets of that pod x patterns); a member's expiry O(names holding
 * that address for that pod) (an index by address: usually one or two, never all the pod's
 * names, which made a publish of n members O(n x names)); a new set O(entries of its pod).
 * Thread-safety: none; owned by one Resolution.
 */
import { canonicalName, domainNameMatches, type LearnedAddress } from '../model/fqdn.js';
import { hostCidr, type Cidr, type IpAddr } from '../model/ip.js';
import type { RetimedMember, SetDelta } from './changes.js';
import type { DeltaCollector, Membership } from './membership.js';
import type { SetId } from './set-def.js';

/** One entry to add or remove (expiry is not part of the identity; absent = never expires). */
export type LearnedKey = Pick<LearnedAddress, 'pod' | 'name' | 'address'> & { readonly expiresAtMs?: number };

/** The expiry of an entry that has none (a kernel element without a timeout). */
export const NO_EXPIRY = Number.POSITIVE_INFINITY;

interface Held {
  readonly ip: IpAddr;
  expiresAtMs: number;
}

interface LearnedSetRef {
  readonly id: SetId;
  readonly names: readonly string[];
}

export class LearnedStore {
  /** per pod: per name: address text -> address and expiry */
  private readonly entries = new Map<string, Map<string, Map<string, Held>>>();
  /** the same entries per pod: per address text: name -> the same Held object */
  private readonly byAddress = new Map<string, Map<string, Map<string, Held>>>();
  /** per pod: the learned sets of that pod */
  private readonly setsOfPod = new Map<string, LearnedSetRef[]>();
  private readonly setById = new Map<SetId, { readonly pod: string; readonly names: readonly string[] }>();
  /** per learned set: member text -> the expiry last reported (in a delta or by `expiryOf`) */
  private readonly reported = new Map<SetId, Map<string, number>>();
  /** (set, address) pairs whose expiry may have changed since the last `expiries` */
  private touched = new Map<SetId, Map<string, IpAddr>>();

  constructor(private readonly membersOf: (id: SetId) => Membership) {}

  /** Register a new `learned` set and give it the entries already held. */
  addSet(id: SetId, pod: string, names: readonly string[]): void {
    const ref = { id, names };
    const list = this.setsOfPod.get(pod) ?? [];
    list.push(ref);
    this.setsOfPod.set(pod, list);
    this.setById.set(id, { pod, names });
    for (const [name, addrs] of this.entries.get(pod) ?? []) {
      if (!matchesAny(ref.names, name)) continue;
      for (const h of addrs.values()) this.membersOf(id).add(hostCidr(h.ip));
    }
  }

  add(e: LearnedKey, deltas: DeltaCollector): void {
    const name = canonicalName(e.name);
    const expiresAtMs = e.expiresAtMs ?? NO_EXPIRY;
    let byName = this.entries.get(e.pod);
    if (!byName) this.entries.set(e.pod, (byName = new Map()));
    let addrs = byName.get(name);
    if (!addrs) byName.set(name, (addrs = new Map()));
    const held = addrs.get(e.address.text);
    if (held) {
      if (expiresAtMs <= held.expiresAtMs) return;
      held.expiresAtMs = expiresAtMs; // a refresh: the members' expiry may grow
      this.each(e.pod, name, (id) => this.touch(id, e.address), e.address);
      return;
    }
    const fresh = { ip: e.address, expiresAtMs };
    addrs.set(e.address.text, fresh);
    let podAddrs = this.byAddress.get(e.pod);
    if (!podAddrs) this.byAddress.set(e.pod, (podAddrs = new Map()));
    let holders = podAddrs.get(e.address.text);
    if (!holders) podAddrs.set(e.address.text, (holders = new Map()));
    holders.set(name, fresh);
    this.each(e.pod, name, (id, c) => {
      this.membersOf(id).add(c, deltas, id);
      this.touch(id, e.address);
    }, e.address);
  }

  remove(e: LearnedKey, deltas: DeltaCollector): void {
    const name = canonicalName(e.name);
    const byName = this.entries.get(e.pod);
    const addrs = byName?.get(name);
    if (!byName || !addrs || !addrs.delete(e.address.text)) return;
    if (addrs.size === 0) byName.delete(name);
    if (byName.size === 0) this.entries.delete(e.pod);
    const podAddrs = this.byAddress.get(e.pod);
    const holders = podAddrs?.get(e.address.text);
    if (holders) {
      holders.delete(name);
      if (holders.size === 0) podAddrs!.delete(e.address.text);
      if (podAddrs!.size === 0) this.byAddress.delete(e.pod);
    }
    this.each(e.pod, name, (id, c) => {
      this.membersOf(id).remove(c, deltas, id);
      this.touch(id, e.address);
    }, e.address);
  }

  /**
   * `deltas` (of one learn call) with the expiries of the learned members they add, plus
   * `retimed` for members whose expiry changed without entering or leaving; resets the touched
   * pairs. Deltas of other sets pass through unchanged.
   */
  withExpiries(deltas: readonly SetDelta[]): SetDelta[] {
    const touched = this.touched;
    this.touched = new Map();
    const out: SetDelta[] = [];
    for (const d of deltas) {
      const pairs = touched.get(d.set);
      if (!pairs) {
        out.push(d);
        continue;
      }
      touched.delete(d.set);
      const rep = this.reportedOf(d.set);
      const addedText = new Set(d.added.map((c) => c.text));
      for (const c of d.removed) rep.delete(c.text);
      const addedExpiresAtMs = d.added.map((c) => {
        const at = this.expiryNow(d.set, c.text);
        rep.set(c.text, at);
        return at;
      });
      const retimed = this.retime(d.set, pairs, addedText, rep);
      out.push({ ...d, addedExpiresAtMs, ...(retimed.length > 0 ? { retimed } : {}) });
    }
    for (const [set, pairs] of [...touched].sort((a, b) => a[0] - b[0])) {
      const retimed = this.retime(set, pairs, new Set(), this.reportedOf(set));
      if (retimed.length > 0) out.push({ set, added: [], removed: [], retimed });
    }
    return out.sort((a, b) => a.set - b.set);
  }

  /** The expiry of a learned set's member (ms; NO_EXPIRY when an entry holding it has none). */
  expiryOf(set: SetId, member: Cidr): number {
    const at = this.expiryNow(set, member.text.replace(/\/(32|128)$/, ''));
    this.reportedOf(set).set(member.text, at);
    return at;
  }

  private retime(set: SetId, pairs: Map<string, IpAddr>, skip: ReadonlySet<string>, rep: Map<string, number>): RetimedMember[] {
    const out: RetimedMember[] = [];
    for (const ip of pairs.values()) {
      const c = hostCidr(ip);
      if (skip.has(c.text) || !this.membersOf(set).has(c)) continue;
      const at = this.expiryNow(set, ip.text);
      if (rep.get(c.text) === at) continue;
      rep.set(c.text, at);
      out.push({ cidr: c, expiresAtMs: at });
    }
    return out;
  }

  /** The latest expiry of the entries of the set's pod whose name matches it and that hold `addressText`. */
  private expiryNow(set: SetId, addressText: string): number {
    const ref = this.setById.get(set);
    const key = addressText.replace(/\/(32|128)$/, '');
    let at = -Infinity;
    for (const [name, h] of this.byAddress.get(ref?.pod ?? '')?.get(key) ?? []) if (h.expiresAtMs > at && matchesAny(ref!.names, name)) at = h.expiresAtMs;
    return at;
  }

  private reportedOf(set: SetId): Map<string, number> {
    let m = this.reported.get(set);
    if (!m) this.reported.set(set, (m = new Map()));
    return m;
  }

  private touch(set: SetId, ip: IpAddr): void {
    let m = this.touched.get(set);
    if (!m) this.touched.set(set, (m = new Map()));
    m.set(ip.text, ip);
  }

  /** How many entries are held (stats). */
  get size(): number {
    let n = 0;
    for (const byName of this.entries.values()) for (const a of byName.values()) n += a.size;
    return n;
  }

  private each(pod: string, name: string, f: (id: SetId, c: Cidr) => void, address: IpAddr): void {
    const c = hostCidr(address);
    for (const ref of this.setsOfPod.get(pod) ?? []) if (matchesAny(ref.names, name)) f(ref.id, c);
  }
}

const matchesAny = (patterns: readonly string[], name: string): boolean => patterns.some((p) => domainNameMatches(p, name));

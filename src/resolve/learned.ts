/**
 * The learned-address store behind `learned` sets (docs/fqdn.md): the live (pod, name, address)
 * entries a DNS learner reported, and which `learned` set each one feeds.
 *
 * A `learned` set {pod P, names} holds the host prefix of every address A with a live entry
 * (P, N, A) where N matches one of `names` (model/fqdn.ts `domainNameMatches`). Expiry is the
 * learner's job: it removes an entry when it expires; this store holds what is live now.
 *
 * Invariants: each (pod, name, address) is held at most once; the contributions to a set's
 * `Membership` are exactly the held entries that match it (so adding the same entry twice or
 * removing an absent one changes nothing).
 * Cost: add/remove O(learned sets of that pod x patterns); a new set O(entries of its pod).
 * Thread-safety: none; owned by one Resolution.
 */
import { canonicalName, domainNameMatches, type LearnedAddress } from '../model/fqdn.js';
import { hostCidr, type Cidr, type IpAddr } from '../model/ip.js';
import type { DeltaCollector, Membership } from './membership.js';
import type { SetId } from './set-def.js';

/** One entry to add or remove (expiry is not part of the identity). */
export type LearnedKey = Pick<LearnedAddress, 'pod' | 'name' | 'address'>;

interface LearnedSetRef {
  readonly id: SetId;
  readonly names: readonly string[];
}

export class LearnedStore {
  /** per pod: per name: address text -> address */
  private readonly entries = new Map<string, Map<string, Map<string, IpAddr>>>();
  /** per pod: the learned sets of that pod */
  private readonly setsOfPod = new Map<string, LearnedSetRef[]>();

  constructor(private readonly membersOf: (id: SetId) => Membership) {}

  /** Register a new `learned` set and give it the entries already held. */
  addSet(id: SetId, pod: string, names: readonly string[]): void {
    const ref = { id, names };
    const list = this.setsOfPod.get(pod) ?? [];
    list.push(ref);
    this.setsOfPod.set(pod, list);
    for (const [name, addrs] of this.entries.get(pod) ?? []) {
      if (!matchesAny(ref.names, name)) continue;
      for (const a of addrs.values()) this.membersOf(id).add(hostCidr(a));
    }
  }

  add(e: LearnedKey, deltas: DeltaCollector): void {
    const name = canonicalName(e.name);
    let byName = this.entries.get(e.pod);
    if (!byName) this.entries.set(e.pod, (byName = new Map()));
    let addrs = byName.get(name);
    if (!addrs) byName.set(name, (addrs = new Map()));
    if (addrs.has(e.address.text)) return;
    addrs.set(e.address.text, e.address);
    this.each(e.pod, name, (id, c) => this.membersOf(id).add(c, deltas, id), e.address);
  }

  remove(e: LearnedKey, deltas: DeltaCollector): void {
    const name = canonicalName(e.name);
    const byName = this.entries.get(e.pod);
    const addrs = byName?.get(name);
    if (!byName || !addrs || !addrs.delete(e.address.text)) return;
    if (addrs.size === 0) byName.delete(name);
    if (byName.size === 0) this.entries.delete(e.pod);
    this.each(e.pod, name, (id, c) => this.membersOf(id).remove(c, deltas, id), e.address);
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

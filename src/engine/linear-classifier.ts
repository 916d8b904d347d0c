/**
 * The TypeScript classifier: a plain linear first match over one direction's rules. Slow and
 * obviously right; it is the second oracle for the native classifier and the fallback when the
 * addon is not built.
 *
 * Membership: per family, host members (/32, /128) in a Map address -> set ids, shorter
 * prefixes in a list scanned per lookup.
 * Cost: lookup O(sets containing the addresses + rules from minPriority); edits O(1) each.
 * Thread-safety: none (single owner).
 */
import { familyBits, prefixMask, type Cidr, type Family } from '../model/ip.js';
import type { SetDelta } from '../resolve/changes.js';
import type { DirectionTable, Rule } from '../rules/types.js';
import { NO_RULE, type Classifier, type ClassifierFactory } from './classifier.js';
import { getV6, WORDS_PER_FLOW, type FlowBatch } from './flow-batch.js';
import { PROTOCOL_NUMBER } from './flow-batch.js';

interface FamilyMembers {
  readonly hosts: Map<bigint, Set<number>>;
  /** non-host prefixes: key `base/len` -> entry */
  readonly prefixes: Map<string, { base: bigint; mask: bigint; sets: Set<number> }>;
}

export class LinearClassifier implements Classifier {
  readonly kind = 'ts' as const;
  private rules: readonly Rule[] = [];
  /** IANA protocol number per rule (-1: any), index-aligned with `rules` */
  private protos: Int16Array = new Int16Array(0);
  private readonly members: Record<Family, FamilyMembers> = { 4: empty(), 6: empty() };
  private count = 0;

  get lookups(): number {
    return this.count;
  }

  loadSets(sets: ReadonlyMap<number, readonly Cidr[]>): void {
    this.members[4] = empty();
    this.members[6] = empty();
    for (const [id, cidrs] of sets) for (const c of cidrs) this.edit(id, c, true);
  }

  publishRules(table: DirectionTable): void {
    this.rules = [...table.rules].sort((a, b) => a.priority - b.priority);
    this.protos = Int16Array.from(this.rules, (r) => (r.protocol === null ? -1 : PROTOCOL_NUMBER[r.protocol]));
  }

  applySetEdits(deltas: readonly SetDelta[]): void {
    for (const d of deltas) {
      for (const c of d.removed) this.edit(d.set, c, false);
      for (const c of d.added) this.edit(d.set, c, true);
    }
  }

  lookup(family: Family, src: bigint, dst: bigint, protocol: number, srcPort: number, dstPort: number, minPriority: number): number {
    this.count++;
    const srcSets = this.setsOf(family, src);
    const dstSets = this.setsOf(family, dst);
    for (let i = minPriority; i < this.rules.length; i++) {
      const r = this.rules[i] as Rule;
      const proto = this.protos[i] as number;
      if (proto >= 0 && proto !== protocol) continue;
      if (dstPort < r.dstPorts.lo || dstPort > r.dstPorts.hi || srcPort < r.srcPorts.lo || srcPort > r.srcPorts.hi) continue;
      // egress: subject = source, peer = destination; ingress the other way round
      const egress = r.direction === 'egress';
      if (!(egress ? srcSets : dstSets).has(r.subject)) continue;
      if (r.peer !== null && !(egress ? dstSets : srcSets).has(r.peer)) continue;
      return r.id;
    }
    return NO_RULE;
  }

  lookupBatch(batch: FlowBatch, minPriority: number, out: Int32Array): void {
    const w = WORDS_PER_FLOW[batch.family];
    const words = batch.words;
    for (let i = 0; i < batch.count; i++) {
      const o = i * w;
      const src = batch.family === 4 ? BigInt(words[o] as number) : getV6(words, o);
      const dst = batch.family === 4 ? BigInt(words[o + 1] as number) : getV6(words, o + 4);
      const ports = words[o + w - 2] as number;
      out[i] = this.lookup(batch.family, src, dst, words[o + w - 1] as number, ports >>> 16, ports & 0xffff, minPriority);
    }
  }

  private setsOf(family: Family, addr: bigint): Set<number> {
    const m = this.members[family];
    const out = new Set<number>(m.hosts.get(addr));
    for (const p of m.prefixes.values()) if ((addr & p.mask) === p.base) for (const s of p.sets) out.add(s);
    return out;
  }

  private edit(set: number, c: Cidr, add: boolean): void {
    const m = this.members[c.family];
    if (c.prefixLen === familyBits(c.family)) {
      let s = m.hosts.get(c.base);
      if (!s) m.hosts.set(c.base, (s = new Set()));
      if (add) s.add(set);
      else {
        s.delete(set);
        if (s.size === 0) m.hosts.delete(c.base);
      }
      return;
    }
    let p = m.prefixes.get(c.text);
    if (!p) m.prefixes.set(c.text, (p = { base: c.base, mask: prefixMask(c.family, c.prefixLen), sets: new Set() }));
    if (add) p.sets.add(set);
    else {
      p.sets.delete(set);
      if (p.sets.size === 0) m.prefixes.delete(c.text);
    }
  }
}

const empty = (): FamilyMembers => ({ hosts: new Map(), prefixes: new Map() });

/** The linear classifier's factory: always available (no addon). */
export const linearClassifier: ClassifierFactory = { kind: 'ts', create: () => new LinearClassifier() };

/**
 * Pair rules: the per-pod `domainNames` rules (src/rules/lower.ts: one rule per subject pod P,
 * subject = P alone, peer = P's `learned` set) folded into ONE rule per group and family over a
 * concatenated set `ip saddr . ip daddr @c<k>v4` whose elements are (pod address . learned
 * address) pairs with the learned entry's timeout (docs/fqdn.md §6, backends/nftables/README.md).
 *
 * Why: at 5,000 pods such a rule is ~14k rules and ~4 sets per pod (subject and learned, v4 and
 * v6, created even while nothing is learned), and the kernel's commit is quadratic in the number
 * of sets (bench/RESULTS.md, nftables). The pair form is one set per group and family.
 *
 * When a rule folds (planPairs), numbered as applied:
 *   1. it is pairable: an `accept`/`allow` without a Redirect whose peer is a learned set and
 *      whose subject is a one-pod set (the caller's predicate; host addresses only, plain sets);
 *   2. its group is a RUN of consecutive rules of one direction with the same tier, action and
 *      origin (stableId): inside a run every rule has the same verdict (render.ts verdictOf
 *      depends on direction, tier and action only) and the same counter comment, so moving a rule
 *      within its run changes no packet's verdict and no rule's counter. Lowering emits one origin
 *      rule's rules consecutively, so in practice a run is the whole origin rule; a run broken by
 *      another rule only folds less, never wrongly;
 *   3. within a run, pairable rules with the same protocol, destination and source ports are one
 *      group; the group's pair rule stands where its first rule stood; the others are left out.
 * A packet matches some rule of a group iff (subject address, peer address) is in the union of
 * S_i x L_i over the group's rules, which is exactly the pair set's contents (same family).
 * Groups with the same (subject, learned) list (one origin rule's port entries) share one pair set.
 *
 * Deltas (pairDeltas): a change of a subject set (the pod's address) or a learned set (adds,
 * removes, retimes) touches the pairs that contain a changed member; each touched pair is
 * re-derived from the old and the new members of every source of its set (a pair can come from
 * two sources only when two pods share an address in passing): absent now -> destroy, present
 * now -> destroy (if it was present) + add with its timeout now (the longest of its sources).
 * A pair set of a family no source's subject holds an address of is not rendered (backend.ts:
 * the first pair it would need reinstalls the table).
 * Pure. Cost: plan O(rules); elements O(sum |S_i| x |L_i|); a delta O(touched pairs x sources
 * that hold the pair's subject address).
 */
import type { Cidr } from '../../src/model/ip.js';
import type { SetDelta, SetId } from '../../src/resolve/index.js';
import type { Rule, RuleSet } from '../../src/rules/types.js';
import type { Direction } from '../../src/model/types.js';

/** One folded rule's (subject set, learned set). */
export interface PairSource {
  readonly subject: SetId;
  readonly learned: SetId;
}

export interface PairPlan {
  /** per folded rule id: its pair set, and whether it is the group's first rule (the one rendered) */
  readonly folded: ReadonlyMap<number, { readonly set: number; readonly head: boolean }>;
  /** per pair set: its sources, distinct, sorted */
  readonly sets: readonly (readonly PairSource[])[];
}

export const EMPTY_PLAN: PairPlan = { folded: new Map(), sets: [] };

/** The name of pair set `k` in a family (render.ts setName's sibling: `c` for concatenation). */
export const pairSetName = (k: number, family: 4 | 6): string => `c${k}v${family}`;

const portsKey = (r: Rule): string => `${r.protocol ?? '*'}|${r.dstPorts.lo}-${r.dstPorts.hi}|${r.srcPorts.lo}-${r.srcPorts.hi}`;

/** Which rules fold into which pair sets (see the conditions above). */
export function planPairs(rs: RuleSet, pairable: (r: Rule) => boolean): PairPlan {
  const folded = new Map<number, { set: number; head: boolean }>();
  const sets: PairSource[][] = [];
  const byKey = new Map<string, number>();
  for (const d of ['egress', 'ingress'] as Direction[]) {
    const rules = rs[d].rules;
    let p = 0;
    while (p < rules.length) {
      const first = rules[p]!;
      let end = p + 1;
      while (end < rules.length && sameRun(first, rules[end]!)) end++;
      const groups = new Map<string, Rule[]>();
      for (let i = p; i < end; i++) {
        const r = rules[i]!;
        if (!pairable(r)) continue;
        const k = portsKey(r);
        const g = groups.get(k);
        if (g) g.push(r);
        else groups.set(k, [r]);
      }
      for (const g of groups.values()) {
        const seen = new Set<string>();
        const sources: PairSource[] = [];
        for (const r of g) {
          const key = `${r.subject}:${r.peer}`;
          if (seen.has(key)) continue;
          seen.add(key);
          sources.push({ subject: r.subject, learned: r.peer! });
        }
        sources.sort((a, b) => a.subject - b.subject || a.learned - b.learned);
        const setKey = sources.map((s) => `${s.subject}:${s.learned}`).join(',');
        let k = byKey.get(setKey);
        if (k === undefined) {
          k = sets.push(sources) - 1;
          byKey.set(setKey, k);
        }
        g.forEach((r, i) => folded.set(r.id, { set: k!, head: i === 0 }));
      }
      p = end;
    }
  }
  return { folded, sets };
}

function sameRun(a: Rule, b: Rule): boolean {
  return a.tier === b.tier && a.action === b.action && a.origin.stableId === b.origin.stableId && a.redirect === undefined && b.redirect === undefined;
}

/** The pairable predicate for a compiled policy's rules (see condition 1). */
export function isPairable(r: Rule, learned: (id: SetId) => boolean, onePod: (id: SetId) => boolean): boolean {
  return (r.action === 'accept' || r.action === 'allow') && r.redirect === undefined && r.peer !== null && learned(r.peer) && onePod(r.subject);
}

/** Sets only folded rules use (they are not rendered: their members live on as pairs). */
export function foldedOnlySets(rs: RuleSet, plan: PairPlan): Set<SetId> {
  const folded = new Set<SetId>();
  const kept = new Set<SetId>();
  for (const r of rs.rules) {
    const into = plan.folded.has(r.id) ? folded : kept;
    into.add(r.subject);
    if (r.peer !== null) into.add(r.peer);
  }
  for (const id of kept) folded.delete(id);
  return folded;
}

/** One element of a pair set: the two addresses and the expiry (ms since the epoch; Infinity: none). */
export interface PairElement {
  readonly subject: Cidr;
  readonly peer: Cidr;
  readonly expiresAtMs: number;
}

const keyOf = (a: Cidr, b: Cidr): string => `${a.text} ${b.text}`;
const expiryOf = (at: number): number => (Number.isFinite(at) ? at : Infinity);

/** The elements of pair set `k` in a family: distinct pairs, each with its longest expiry. */
export function pairElements(
  sources: readonly PairSource[],
  family: 4 | 6,
  members: (id: SetId) => readonly Cidr[],
  expiresAtMs: (learned: SetId, member: Cidr) => number,
): PairElement[] {
  const out = new Map<string, PairElement>();
  for (const s of sources) {
    const subj = members(s.subject).filter((c) => c.family === family);
    if (subj.length === 0) continue;
    const peers = members(s.learned).filter((c) => c.family === family);
    for (const a of subj) {
      for (const b of peers) {
        const k = keyOf(a, b);
        const at = expiryOf(expiresAtMs(s.learned, b));
        const had = out.get(k);
        if (!had || had.expiresAtMs < at) out.set(k, { subject: a, peer: b, expiresAtMs: at });
      }
    }
  }
  return [...out.values()];
}

/** What the pair sets need to know about the table in force (backend memory). */
export interface PairIndex {
  readonly plan: PairPlan;
  /** per set id (a subject or learned set of some source): the (pair set, source) pairs it feeds */
  readonly bySet: ReadonlyMap<SetId, readonly { readonly set: number; readonly source: PairSource }[]>;
  /** per subject address (Cidr.text): the subject sets that hold it in the kernel's pairs */
  readonly subjectsOf: ReadonlyMap<string, ReadonlySet<SetId>>;
}

export function pairIndex(plan: PairPlan, members: (id: SetId) => readonly Cidr[]): PairIndex {
  const bySet = new Map<SetId, { set: number; source: PairSource }[]>();
  const subjectsOf = new Map<string, Set<SetId>>();
  plan.sets.forEach((sources, k) => {
    for (const s of sources) {
      for (const id of s.subject === s.learned ? [s.subject] : [s.subject, s.learned]) {
        const l = bySet.get(id) ?? [];
        l.push({ set: k, source: s });
        bySet.set(id, l);
      }
      for (const c of members(s.subject)) {
        const l = subjectsOf.get(c.text) ?? new Set<SetId>();
        l.add(s.subject);
        subjectsOf.set(c.text, l);
      }
    }
  });
  return { plan, bySet, subjectsOf };
}

/**
 * Moves the index's subject addresses past `deltas`, in place: call it only once the kernel took
 * the change (memory follows the kernel). O(changed subject members).
 */
export function advanceIndex(index: PairIndex, deltas: readonly SetDelta[]): void {
  const subjectsOf = index.subjectsOf as Map<string, Set<SetId>>;
  for (const d of deltas) {
    if (d.added.length + d.removed.length === 0 || !index.bySet.get(d.set)?.some((x) => x.source.subject === d.set)) continue;
    for (const c of d.removed) {
      const l = subjectsOf.get(c.text);
      l?.delete(d.set);
      if (l?.size === 0) subjectsOf.delete(c.text);
    }
    for (const c of d.added) {
      const l = subjectsOf.get(c.text) ?? new Set<SetId>();
      l.add(d.set);
      subjectsOf.set(c.text, l);
    }
  }
}

/** A pair-set element change: destroy or add (with its expiry). Destroys come first. */
export interface PairChange {
  readonly op: 'destroy' | 'add';
  readonly set: number;
  readonly element: PairElement;
}

/**
 * The pair-set changes of set deltas, given the sets' members NOW (after the deltas) and the
 * learned expiries now. The old members are now - added + removed.
 */
export function pairDeltas(
  index: PairIndex,
  deltas: readonly SetDelta[],
  membersNow: (id: SetId) => readonly Cidr[],
  expiresAtMs: (learned: SetId, member: Cidr) => number,
): PairChange[] {
  const byId = new Map<SetId, SetDelta>();
  for (const d of deltas) if (index.bySet.has(d.set) && d.added.length + d.removed.length + (d.retimed?.length ?? 0) > 0) byId.set(d.set, d);
  if (byId.size === 0) return [];
  // members now and before, as maps by text, on demand (only sets a touched pair's sources name)
  const now = new Map<SetId, Map<string, Cidr>>();
  const before = new Map<SetId, Map<string, Cidr>>();
  const nowOf = (id: SetId): Map<string, Cidr> => {
    let m = now.get(id);
    if (!m) now.set(id, (m = new Map(membersNow(id).map((c) => [c.text, c]))));
    return m;
  };
  const beforeOf = (id: SetId): Map<string, Cidr> => {
    let m = before.get(id);
    if (!m) {
      m = new Map(nowOf(id));
      const d = byId.get(id);
      if (d) {
        for (const c of d.added) m.delete(c.text);
        for (const c of d.removed) m.set(c.text, c);
      }
      before.set(id, m);
    }
    return m;
  };
  // touched pairs per pair set: key -> (subject, peer)
  const touched = new Map<number, Map<string, [Cidr, Cidr]>>();
  const touch = (k: number, a: Cidr, b: Cidr): void => {
    if (a.family !== b.family) return;
    let m = touched.get(k);
    if (!m) touched.set(k, (m = new Map()));
    m.set(keyOf(a, b), [a, b]);
  };
  const both = (id: SetId): Cidr[] => [...new Map([...beforeOf(id), ...nowOf(id)]).values()];
  for (const [id, d] of byId) {
    const changed = [...d.added, ...d.removed, ...(d.retimed ?? []).map((r) => r.cidr)];
    for (const { set: k, source: s } of index.bySet.get(id)!) {
      if (s.subject === id) for (const a of changed) for (const b of both(s.learned)) touch(k, a, b);
      if (s.learned === id) for (const a of both(s.subject)) for (const b of changed) touch(k, a, b);
    }
  }
  // the subject sets that may hold an address, before or now
  const subjectSets = (a: Cidr): Set<SetId> => {
    const out = new Set(index.subjectsOf.get(a.text) ?? []);
    for (const [id, d] of byId) if (d.added.some((c) => c.text === a.text) && index.bySet.get(id)!.some((x) => x.source.subject === id)) out.add(id);
    return out;
  };
  const destroys: PairChange[] = [];
  const adds: PairChange[] = [];
  for (const [k, pairs] of touched) {
    for (const [a, b] of pairs.values()) {
      let was = false;
      let at = -Infinity;
      for (const subject of subjectSets(a)) {
        for (const { set, source: s } of index.bySet.get(subject) ?? []) {
          if (set !== k || s.subject !== subject) continue;
          if (beforeOf(s.subject).has(a.text) && beforeOf(s.learned).has(b.text)) was = true;
          if (nowOf(s.subject).has(a.text) && nowOf(s.learned).has(b.text)) at = Math.max(at, expiryOf(expiresAtMs(s.learned, b)));
        }
      }
      const element = { subject: a, peer: b, expiresAtMs: at };
      if (was) destroys.push({ op: 'destroy', set: k, element });
      if (at > -Infinity) adds.push({ op: 'add', set: k, element });
    }
  }
  return [...destroys, ...adds];
}

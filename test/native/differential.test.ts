/**
 * Differential test (every fast path has an oracle; after OVS tests/test-classifier.c): the native classifier
 * against a linear TypeScript scan written from the binding's documented semantics, on seeded
 * random rule sets mixing IPv4 prefix rules, IPv6 prefix rules and address-set rules (sets holding
 * IPv4 and IPv6 prefixes), random incremental set edits (compared with the oracle AND with a fresh
 * classifier built from scratch), random minPriority, batch and single lookups.
 */
import { describe, expect, it } from 'vitest';
import {
  ANY_SET,
  NativeClassifier,
  NO_RULE_ID,
  packRules,
  packSetEdits,
  writeHeader4,
  writeHeader6,
  HEADER4_WORDS,
  HEADER6_WORDS,
  type AddressField,
  type ClassifierRule,
  type SetEdit,
} from '../../src/native/binding.js';
import { requires } from '../harness/prerequisites.js';

// ---- a small deterministic PRNG -------------------------------------------------------------
function prng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}

// ---- the oracle -----------------------------------------------------------------------------
const mask4 = (len: number): number => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);
const mask6 = (len: number): bigint => (len === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - len)) - 1n));
const in4 = (a: number, p: number, len: number): boolean => ((a & mask4(len)) >>> 0) === ((p & mask4(len)) >>> 0);
const in6 = (a: bigint, p: bigint, len: number): boolean => (a & mask6(len)) === (p & mask6(len));

interface Member {
  family: 4 | 6;
  addr: number | bigint;
  prefixLen: number;
}
type Sets = Map<number, Map<string, Member>>;
const memberKey = (m: Member): string => `${m.family}|${String(m.addr)}|${m.prefixLen}`;

interface Packet {
  family: 4 | 6;
  src: number | bigint;
  dst: number | bigint;
  sport: number;
  dport: number;
  proto: number;
}

function fieldMatches(f: AddressField, p: Packet, addr: number | bigint, sets: Sets): boolean {
  switch (f.kind) {
    case 'any':
      return true;
    case 'prefix4':
      return p.family === 4 && in4(addr as number, f.addr, f.prefixLen);
    case 'prefix6':
      return p.family === 6 && in6(addr as bigint, f.addr, f.prefixLen);
    case 'set':
      for (const m of sets.get(f.setId)?.values() ?? []) {
        if (m.family !== p.family) continue;
        if (m.family === 4 ? in4(addr as number, m.addr as number, m.prefixLen) : in6(addr as bigint, m.addr as bigint, m.prefixLen)) return true;
      }
      return false;
  }
}

function oracle(rules: readonly ClassifierRule[], sets: Sets, p: Packet, minPriority: number): { ruleId: number; action: number } | null {
  let best: ClassifierRule | null = null;
  for (const r of rules) {
    if (r.priority < minPriority) continue;
    // a prefix rule of one family next to `any` means /0 of that family
    const fam = r.src.kind === 'prefix4' || r.dst.kind === 'prefix4' ? 4 : r.src.kind === 'prefix6' || r.dst.kind === 'prefix6' ? 6 : 0;
    if (fam !== 0 && fam !== p.family) continue;
    if (!fieldMatches(r.src, p, p.src, sets) || !fieldMatches(r.dst, p, p.dst, sets)) continue;
    const sp = r.srcPort ?? { lo: 0, hi: 65535 };
    const dp = r.dstPort ?? { lo: 0, hi: 65535 };
    if (p.sport < sp.lo || p.sport > sp.hi || p.dport < dp.lo || p.dport > dp.hi) continue;
    if (r.proto && ((p.proto ^ r.proto.value) & r.proto.mask) !== 0) continue;
    if (!best || r.priority < best.priority || (r.priority === best.priority && r.ruleId < best.ruleId)) best = r;
  }
  return best ? { ruleId: best.ruleId, action: best.action } : null;
}

// ---- random inputs --------------------------------------------------------------------------
// Addresses come from small pools inside 10.244.0.0/16 and fd00:10:244::/48 so that prefixes,
// set members and packets overlap often.
function generator(seed: number) {
  const U = prng(seed);
  const pool4 = Array.from({ length: 12 }, () => (0x0af40000 | U(65536)) >>> 0);
  const pool6 = Array.from({ length: 12 }, () => (0xfd000010024400000000000000000000n) | BigInt(U(65536)));
  const len4 = (): number => [0, 8, 16, 24, 28, 30, 32, 32][U(8)]!;
  const len6 = (): number => [0, 48, 64, 112, 120, 128, 128][U(7)]!;
  const pick = <T>(a: readonly T[]): T => a[U(a.length)]!;
  // wildcard, exact, short, across a multiple of 64 (the classifier's dport cells), long
  const ports = (): { lo: number; hi: number } | undefined => {
    const c = U(5);
    if (c === 0) return undefined;
    if (c === 3) {
      const lo = 60 + U(6);
      return { lo, hi: lo + 3 + U(8) };
    }
    if (c === 4) {
      const lo = U(100);
      return { lo, hi: lo + 60 + U(200) };
    }
    const lo = 78 + U(8);
    return c === 1 ? { lo, hi: lo } : { lo, hi: lo + U(6) };
  };
  const port = (): number => (U(4) === 0 ? U(400) : 60 + U(16) + (U(2) ? 16 : 0));
  const setField = (nSets: number): AddressField => (U(4) === 0 ? { kind: 'any' } : { kind: 'set', setId: U(nSets) });
  return {
    U,
    rules(n: number, nSets: number): ClassifierRule[] {
      const ids = new Set<number>();
      const out: ClassifierRule[] = [];
      for (let i = 0; i < n; i++) {
        let ruleId: number;
        do ruleId = U(1_000_000);
        while (ids.has(ruleId));
        ids.add(ruleId);
        const kind = U(3);
        let src: AddressField;
        let dst: AddressField;
        if (kind === 0) {
          src = U(6) === 0 ? { kind: 'any' } : { kind: 'prefix4', addr: pick(pool4), prefixLen: len4() };
          dst = { kind: 'prefix4', addr: pick(pool4), prefixLen: len4() };
        } else if (kind === 1) {
          src = { kind: 'prefix6', addr: pick(pool6), prefixLen: len6() };
          dst = U(6) === 0 ? { kind: 'any' } : { kind: 'prefix6', addr: pick(pool6), prefixLen: len6() };
        } else {
          src = setField(nSets);
          dst = setField(nSets);
        }
        const sp = ports();
        const dp = ports();
        // exact, any, or a partial mask (0x06/0x0F matches 6, 22, 38, ...)
        const proto = U(2) ? { value: U(2) ? 6 : 17, mask: 0xff } : U(4) === 0 ? { value: 6, mask: 0x0f } : undefined;
        out.push({ ruleId, priority: U(25), action: U(256), src, dst, ...(sp ? { srcPort: sp } : {}), ...(dp ? { dstPort: dp } : {}), ...(proto ? { proto } : {}) });
      }
      return out;
    },
    edits(n: number, nSets: number): SetEdit[] {
      return Array.from({ length: n }, (): SetEdit => {
        const family = U(2) ? 4 : 6;
        const prefixLen = family === 4 ? len4() : len6();
        const addr = family === 4 ? (pick(pool4) & mask4(prefixLen)) >>> 0 : pick(pool6) & mask6(prefixLen);
        return { op: U(3) ? 'add' : 'remove', setId: U(nSets), family, addr, prefixLen };
      });
    },
    packets(n: number): Packet[] {
      return Array.from({ length: n }, (): Packet => {
        const family = U(2) ? 4 : 6;
        const jitter = U(4) === 0;
        const src = family === 4 ? (pick(pool4) ^ (jitter ? U(256) : 0)) >>> 0 : pick(pool6) ^ (jitter ? BigInt(U(256)) : 0n);
        const dst = family === 4 ? (pick(pool4) ^ (U(4) === 0 ? U(1 << 20) : 0)) >>> 0 : pick(pool6);
        return { family, src, dst, sport: port(), dport: port(), proto: U(5) === 0 ? 22 : U(3) === 0 ? 17 : 6 };
      });
    },
  };
}

function applyEdits(sets: Sets, edits: readonly SetEdit[]): void {
  for (const e of edits) {
    const m: Member = { family: e.family, addr: e.addr, prefixLen: e.prefixLen };
    let s = sets.get(e.setId);
    if (!s) sets.set(e.setId, (s = new Map()));
    if (e.op === 'add') s.set(memberKey(m), m);
    else s.delete(memberKey(m));
  }
}

function nativeAnswers(cls: NativeClassifier, pkts: readonly Packet[], minPriority: number, scalar: boolean): Array<string> {
  const v4 = pkts.filter((p) => p.family === 4);
  const v6 = pkts.filter((p) => p.family === 6);
  const h4 = new Uint32Array(v4.length * HEADER4_WORDS);
  const h6 = new Uint32Array(v6.length * HEADER6_WORDS);
  v4.forEach((p, i) => writeHeader4(h4, i, p.src as number, p.dst as number, p.sport, p.dport, p.proto));
  v6.forEach((p, i) => writeHeader6(h6, i, p.src as bigint, p.dst as bigint, p.sport, p.dport, p.proto));
  const o4 = { ruleId: new Uint32Array(v4.length), action: new Uint8Array(v4.length) };
  const o6 = { ruleId: new Uint32Array(v6.length), action: new Uint8Array(v6.length) };
  cls.lookupBatch4(h4, o4, { minPriority, scalar });
  cls.lookupBatch6(h6, o6, { minPriority, scalar });
  let i4 = 0;
  let i6 = 0;
  return pkts.map((p) => {
    const o = p.family === 4 ? o4 : o6;
    const i = p.family === 4 ? i4++ : i6++;
    return o.ruleId[i] === NO_RULE_ID ? 'none' : `${o.ruleId[i]}/${o.action[i]}`;
  });
}

const show = (m: { ruleId: number; action: number } | null): string => (m ? `${m.ruleId}/${m.action}` : 'none');

describe.skipIf(requires('addon'))('native classifier = linear oracle (random rules, sets, edits)', () => {
  it('agrees on 60 seeded rule sets x 6 edit rounds x batch/scalar/single lookups, IPv4 and IPv6', async () => {
    let compared = 0;
    let matched = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const g = generator(seed);
      const nSets = 1 + g.U(10);
      const rules = g.rules(1 + g.U(200), nSets);
      const sets: Sets = new Map();
      const cls = new NativeClassifier();
      await cls.compile(packRules(rules));
      for (let round = 0; round < 6; round++) {
        const edits = g.edits(g.U(40), nSets);
        applyEdits(sets, edits);
        cls.updateSets(packSetEdits(edits));
        const pkts = g.packets(400);
        const minPriority = round === 5 ? g.U(25) : 0;
        const want = pkts.map((p) => show(oracle(rules, sets, p, minPriority)));
        matched += want.filter((w) => w !== 'none').length;
        for (const scalar of [false, true]) {
          const got = nativeAnswers(cls, pkts, minPriority, scalar);
          const bad = got.findIndex((v, i) => v !== want[i]);
          expect(bad < 0 ? 'ok' : `seed ${seed} round ${round} scalar ${scalar} pkt ${JSON.stringify(pkts[bad], (_, v) => (typeof v === 'bigint' ? v.toString(16) : v))}: got ${got[bad]} want ${want[bad]}`).toBe('ok');
          compared += got.length;
        }
        // single lookups
        for (const p of pkts.slice(0, 100)) {
          const m = p.family === 4 ? cls.lookup4(p.src as number, p.dst as number, p.sport, p.dport, p.proto, minPriority) : cls.lookup6(p.src as bigint, p.dst as bigint, p.sport, p.dport, p.proto, minPriority);
          expect(show(m)).toBe(show(oracle(rules, sets, p, minPriority)));
          compared++;
        }
        // incremental state == a fresh build with the same membership
        const fresh = new NativeClassifier();
        await fresh.compile(packRules(rules));
        const all: SetEdit[] = [];
        for (const [setId, ms] of sets) for (const m of ms.values()) all.push({ op: 'add', setId, ...m } as SetEdit);
        fresh.updateSets(packSetEdits(all));
        expect(nativeAnswers(fresh, pkts, minPriority, false)).toEqual(nativeAnswers(cls, pkts, minPriority, false));
      }
      expect(cls.stats().nativeLookups).toBeGreaterThan(0); // the native path ran
      if (rules.some((r) => r.src.kind === 'set' || r.dst.kind === 'set') && sets.size) expect(cls.stats().addressClasses).toBeGreaterThan(0);
    }
    expect(compared).toBeGreaterThan(250_000);
    // not vacuous: most packets hit some rule, and many different rules win
    expect(matched / (60 * 6 * 400)).toBeGreaterThan(0.3);
  });

  // The set rules' compiled form (addon/classifier/class_table.h) keeps one bit per set rule and a
  // summary bit per 64 rules: only rule sets past 4096 set rules have more than one summary word,
  // and only many rules on one subject make a lookup skip whole summary words. Here thousands of
  // set rules sit on 3 subjects (the nfqueue bench's single shape), with source- and destination-
  // port ranges, random minPriority (Pass) that starts inside any summary word, and set churn.
  it('agrees with thousands of set rules on few subjects (several summary words), source ports, minPriority, churn', { timeout: 120_000 }, () => {
    let compared = 0;
    let matched = 0;
    for (let seed = 101; seed <= 104; seed++) {
      const g = generator(seed);
      const nSets = 3;
      const n = 9000 + g.U(4000);
      const onSubject = (r: ClassifierRule, i: number): ClassifierRule =>
        i % 3 !== 0 ? r : { ...r, src: { kind: 'set', setId: i % nSets }, dst: r.dst.kind === 'set' ? r.dst : { kind: 'any' } };
      const rules = g.rules(n, nSets).map((r, i): ClassifierRule => ({ ...onSubject(r, i), priority: g.U(n) }));
      const isPrefix = (f: AddressField): boolean => f.kind === 'prefix4' || f.kind === 'prefix6';
      const setRules = rules.filter((r) => !isPrefix(r.src) && !isPrefix(r.dst)).length; // any/any is a set rule too
      expect(setRules).toBeGreaterThan(4096 + 64);
      const sets: Sets = new Map();
      const cls = new NativeClassifier();
      cls.compileSync(packRules(rules));
      for (let round = 0; round < 4; round++) {
        const edits = g.edits(20 + g.U(40), nSets);
        applyEdits(sets, edits);
        cls.updateSets(packSetEdits(edits));
        const pkts = g.packets(150);
        const minPriority = round === 0 ? 0 : g.U(n);
        const want = pkts.map((p) => show(oracle(rules, sets, p, minPriority)));
        matched += want.filter((w) => w !== 'none').length;
        const got = nativeAnswers(cls, pkts, minPriority, false);
        const bad = got.findIndex((v, i) => v !== want[i]);
        expect(bad < 0 ? 'ok' : `seed ${seed} round ${round} minPriority ${minPriority} pkt ${JSON.stringify(pkts[bad], (_, v) => (typeof v === 'bigint' ? v.toString(16) : v))}: got ${got[bad]} want ${want[bad]}`).toBe('ok');
        compared += got.length;
      }
      const st = cls.stats();
      expect(st.setRules).toBe(setRules);
      expect(st.namedClasses).toBeGreaterThan(0); // the class form answered: classes have bitmaps
      expect(st.nativeLookups).toBeGreaterThan(0);
    }
    expect(compared).toBe(4 * 4 * 150);
    expect(matched / compared).toBeGreaterThan(0.3);
  });

  // few set rules: few destination-port bounds, so the class form takes its small compare-and-count
  // port classes (at most 32 bounds); every packet's port sits on a range edge or next to one
  it('agrees on small set-rule sets with packets on every port-range edge (the small port-class form)', () => {
    let compared = 0;
    let matched = 0;
    for (let seed = 201; seed <= 230; seed++) {
      const g = generator(seed);
      const nSets = 4;
      const rules = g.rules(6 + g.U(10), nSets).map((r): ClassifierRule => ({
        ...r,
        src: r.src.kind === 'set' ? r.src : { kind: 'set', setId: g.U(nSets) },
        dst: r.dst.kind === 'set' || r.dst.kind === 'any' ? r.dst : { kind: 'any' },
      }));
      const edges = new Set<number>();
      for (const r of rules) {
        for (const q of r.dstPort ? [r.dstPort.lo, r.dstPort.hi] : []) for (const d of [-1, 0, 1]) if (q + d >= 0 && q + d <= 65535) edges.add(q + d);
      }
      const sets: Sets = new Map();
      const cls = new NativeClassifier();
      cls.compileSync(packRules(rules));
      const edits = g.edits(40, nSets);
      applyEdits(sets, edits);
      cls.updateSets(packSetEdits(edits));
      const base = g.packets(40);
      const pkts = [...edges].flatMap((dport) => base.map((p) => ({ ...p, dport })));
      const want = pkts.map((p) => show(oracle(rules, sets, p, 0)));
      matched += want.filter((w) => w !== 'none').length;
      const got = nativeAnswers(cls, pkts, 0, false);
      const bad = got.findIndex((v, i) => v !== want[i]);
      expect(bad < 0 ? 'ok' : `seed ${seed} pkt ${JSON.stringify(pkts[bad], (_, v) => (typeof v === 'bigint' ? v.toString(16) : v))}: got ${got[bad]} want ${want[bad]}`).toBe('ok');
      compared += got.length;
      expect(cls.stats().setRules).toBe(rules.length);
    }
    expect(compared).toBeGreaterThan(10_000);
    expect(matched / compared).toBeGreaterThan(0.05);
  });

  it('a lookup never sees half of a set-edit batch: versions advance by one per batch', () => {
    const cls = new NativeClassifier();
    const v0 = cls.stats().version;
    cls.compileSync(packRules([{ ruleId: 7, priority: 1, action: 3, src: { kind: 'set', setId: 1 }, dst: { kind: 'set', setId: 2 } }]));
    const a = (0x0af40001 >>> 0) as number;
    const b = (0x0af40002 >>> 0) as number;
    expect(cls.lookup4(a, b, 1, 2, 6)).toBeNull();
    const r = cls.updateSets(packSetEdits([
      { op: 'add', setId: 1, family: 4, addr: a, prefixLen: 32 },
      { op: 'add', setId: 2, family: 4, addr: b, prefixLen: 32 },
      { op: 'add', setId: 2, family: 4, addr: b, prefixLen: 32 }, // duplicate: no change
    ]));
    expect(r).toEqual({ version: v0 + 2, changed: 2 });
    expect(cls.lookup4(a, b, 1, 2, 6)).toEqual({ ruleId: 7, action: 3 });
    expect(cls.stats().members).toBe(2);
  });

  it('minPriority skips higher-precedence rules (Pass: continue below the tier)', () => {
    const cls = new NativeClassifier();
    cls.compileSync(packRules([
      { ruleId: 1, priority: 10, action: 1, src: { kind: 'any' }, dst: { kind: 'any' } },
      { ruleId: 2, priority: 20, action: 2, src: { kind: 'any' }, dst: { kind: 'any' } },
    ]));
    expect(cls.lookup4(1, 2, 3, 4, 6)).toEqual({ ruleId: 1, action: 1 });
    expect(cls.lookup4(1, 2, 3, 4, 6, 11)).toEqual({ ruleId: 2, action: 2 });
    expect(cls.lookup4(1, 2, 3, 4, 6, 21)).toBeNull();
    expect(cls.lookup6(1n, 2n, 3, 4, 6)).toEqual({ ruleId: 1, action: 1 }); // any/any: both families
  });

  it('bad input is refused with stable codes, before or at the native door', async () => {
    const cls = new NativeClassifier();
    const dup = packRules([
      { ruleId: 5, priority: 1, action: 0, src: { kind: 'any' }, dst: { kind: 'any' } },
      { ruleId: 5, priority: 2, action: 0, src: { kind: 'any' }, dst: { kind: 'any' } },
    ]);
    await expect(cls.compile(dup)).rejects.toMatchObject({ code: 'ERR_PALISADE_RULE_ID_DUPLICATE' });
    expect(() => packRules([{ ruleId: 1, priority: 1, action: 0, src: { kind: 'prefix4', addr: 1, prefixLen: 8 }, dst: { kind: 'set', setId: 1 } }])).toThrow(/ERR_PALISADE_NATIVE_ARGUMENT/);
    expect(() => packRules([{ ruleId: 1, priority: 1, action: 0, src: { kind: 'any' }, dst: { kind: 'any' }, dstPort: { lo: 9, hi: 8 } }])).toThrow(/ERR_PALISADE_NATIVE_ARGUMENT/);
    expect(() => packSetEdits([{ op: 'add', setId: ANY_SET, family: 4, addr: 1, prefixLen: 32 }])).toThrow(/ERR_PALISADE_NATIVE_ARGUMENT/);
    expect(() => cls.lookup4(-1, 0, 0, 0, 0)).toThrow(/ERR_PALISADE_NATIVE_ARGUMENT/);
    expect(() => cls.compileSync(new Uint32Array(5))).toThrow(/ERR_PALISADE_NATIVE_ARGUMENT/);
  });
});

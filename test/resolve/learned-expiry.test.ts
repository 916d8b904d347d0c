/**
 * Expiries on `learned` set deltas (src/resolve/learned.ts; docs/fqdn.md §6), and their
 * nftables element batch (backends/nftables/set-batch.ts): a member's expiry is the latest of the
 * entries holding it; a refresh, a second name and the longest-lived holder leaving each retime
 * the member; a timed set's delete is a destroy and a retime a destroy + add with the new timeout.
 */
import { describe, expect, it } from 'vitest';
import { packSetDeltas } from '../../backends/nftables/set-batch.js';
import { hostCidr, parseIp } from '../../src/model/ip.js';
import { LearnedStore, type LearnedKey } from '../../src/resolve/learned.js';
import { DeltaCollector, Membership } from '../../src/resolve/membership.js';
import type { SetDelta } from '../../src/resolve/changes.js';

const A = parseIp('192.0.2.7')!;
const SET = 3;

function store() {
  const m = new Membership();
  const s = new LearnedStore(() => m);
  s.addSet(SET, 'app/client', ['*.example.test']);
  const learn = (added: LearnedKey[], removed: LearnedKey[] = []): SetDelta[] => {
    const d = new DeltaCollector();
    for (const e of removed) s.remove(e, d);
    for (const e of added) s.add(e, d);
    return s.withExpiries(d.deltas());
  };
  return { s, learn };
}
const e = (name: string, expiresAtMs: number): LearnedKey => ({ pod: 'app/client', name, address: A, expiresAtMs });
const brief = (ds: SetDelta[]) => ds.map((d) => ({ added: d.added.map((c) => c.text), at: d.addedExpiresAtMs, removed: d.removed.map((c) => c.text), retimed: d.retimed?.map((r) => [r.cidr.text, r.expiresAtMs]) }));

describe('learned set deltas carry expiries', () => {
  it('an add carries the expiry; a refresh retimes; an equal or earlier one is no delta', () => {
    const { learn } = store();
    expect(brief(learn([e('db.example.test', 100)]))).toEqual([{ added: ['192.0.2.7/32'], at: [100], removed: [], retimed: undefined }]);
    expect(brief(learn([e('db.example.test', 200)]))).toEqual([{ added: [], at: undefined, removed: [], retimed: [['192.0.2.7/32', 200]] }]);
    expect(learn([e('db.example.test', 200)])).toEqual([]);
    expect(learn([e('db.example.test', 150)])).toEqual([]);
  });

  it('the latest holder decides: a second name extends, its removal shortens back, the last removal removes', () => {
    const { learn, s } = store();
    learn([e('db.example.test', 100)]);
    expect(brief(learn([e('www.example.test', 300)]))[0]!.retimed).toEqual([['192.0.2.7/32', 300]]);
    expect(s.expiryOf(SET, { family: 4, base: 0xc0000207n, prefixLen: 32, text: '192.0.2.7/32' })).toBe(300);
    expect(brief(learn([], [e('www.example.test', 300)]))[0]!.retimed).toEqual([['192.0.2.7/32', 100]]);
    expect(brief(learn([], [e('db.example.test', 100)]))).toEqual([{ added: [], at: [], removed: ['192.0.2.7/32'], retimed: undefined }]);
  });

  it('nftables: a timed set adds with the remaining life, deletes by destroy, retimes by destroy + add', () => {
    const { learn } = store();
    const now = 1_000;
    const add = packSetDeltas(learn([e('db.example.test', 3_500)]), new Set([SET]), () => false, () => true, now)!;
    expect([...add.ops]).toEqual([1]);
    expect([...add.timeoutMs]).toEqual([2_500]);
    expect(add.sets).toEqual(['t3v4']);
    const re = packSetDeltas(learn([e('db.example.test', 9_000)]), new Set([SET]), () => false, () => true, now)!;
    expect([...re.ops]).toEqual([2, 1]);
    expect([...re.timeoutMs]).toEqual([0, 8_000]);
    const gone = packSetDeltas(learn([], [e('db.example.test', 9_000)]), new Set([SET]), () => false, () => true, now)!;
    expect([...gone.ops]).toEqual([2]);
    // an untimed set: a plain delete, no timeout
    const plain = packSetDeltas(learn([e('db.example.test', 3_500)]), new Set([SET]), () => false, () => false, now)!;
    expect([...plain.ops, ...plain.timeoutMs]).toEqual([1, 0]);
    expect(plain.sets).toEqual(['h3v4']);
  });

  it('a member\'s expiry is the latest of its holders over random adds and removes (the address index against a scan)', () => {
    const m = new Membership();
    const s = new LearnedStore(() => m);
    s.addSet(SET, 'app/client', ['*.example.test']);
    const names = ['a.example.test', 'b.example.test', 'x.y.example.test', 'other.test'];
    const addrs = Array.from({ length: 5 }, (_, i) => parseIp(`192.0.2.${i + 1}`)!);
    const pods = ['app/client', 'app/other'];
    const held = new Map<string, number>(); // pod|name|address -> expiry (what the store must hold)
    let seed = 7;
    const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let step = 0; step < 3000; step++) {
      const pod = pods[rnd(2)]!;
      const name = names[rnd(names.length)]!;
      const address = addrs[rnd(addrs.length)]!;
      const k = `${pod}|${name}|${address.text}`;
      const d = new DeltaCollector();
      if (rnd(3) === 0) {
        s.remove({ pod, name, address }, d);
        held.delete(k);
      } else {
        const at = rnd(1000);
        s.add({ pod, name, address, expiresAtMs: at }, d);
        held.set(k, Math.max(held.get(k) ?? -Infinity, at));
      }
      s.withExpiries(d.deltas());
      for (const a of addrs) {
        let want = -Infinity;
        for (const [key, at] of held) {
          const [p, n, t] = key.split('|');
          if (p === 'app/client' && t === a.text && n !== 'other.test') want = Math.max(want, at);
        }
        expect(m.has(hostCidr(a))).toBe(want !== -Infinity);
        if (want !== -Infinity) expect(s.expiryOf(SET, hostCidr(a))).toBe(want);
      }
    }
  });
});

/**
 * backends/nftables/netlink-program.ts without the kernel: what it lowers and what it refuses.
 * Interval elements as nft's segtree writes them (sorted, merged, leading 0 interval end, no end
 * past the top), raw Cidr element lists equal to their JSON text, and every document outside the
 * subset refused whole (undefined), so the backend sends it through libnftables instead.
 * The kernel-side equivalence of the two paths is test/nftables/netlink-full.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { lowerDocument, type TableProgram } from '../../backends/nftables/netlink-program.js';
import { parseCidr } from '../../src/model/ip.js';

const tbl = { family: 'inet', table: 'palisade' };
const set = (name: string, type: string, interval = false): Record<string, unknown> => ({ add: { set: { ...tbl, name, type, ...(interval ? { flags: ['interval'] } : {}) } } });
const add = (name: string, elem: unknown[]): Record<string, unknown> => ({ add: { element: { ...tbl, name, elem } } });

/** The elements of a program as `hex/flags` (key bytes of keyLen). */
function elements(p: TableProgram, keyLen: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < p.elementFlags.length; i++) {
    out.push(`${Buffer.from(p.elementKeys.subarray(16 * i, 16 * i + keyLen)).toString('hex')}/${p.elementFlags[i]}`);
  }
  return out;
}

describe('netlink program lowering', () => {
  it('interval elements: sorted, merged when adjacent or covered, a leading 0 end, no end past the top', () => {
    const p = lowerDocument({ nftables: [set('p1v4', 'ipv4_addr', true), add('p1v4', [{ prefix: { addr: '10.1.0.0', len: 16 } }, '10.0.0.5', { prefix: { addr: '10.0.0.0', len: 24 } }, { prefix: { addr: '10.0.1.0', len: 24 } }])] })!;
    // 10.0.0.0/24 + 10.0.1.0/24 merge (adjacent), 10.0.0.5 is covered; 10.1.0.0/16 stays apart
    expect(elements(p, 4)).toEqual(['00000000/1', '0a000000/0', '0a000200/1', '0a010000/0', '0a020000/1']);
    const top = lowerDocument({ nftables: [set('p2v4', 'ipv4_addr', true), add('p2v4', [{ prefix: { addr: '0.0.0.0', len: 1 } }, { prefix: { addr: '255.0.0.0', len: 8 } }])] })!;
    expect(elements(top, 4)).toEqual(['00000000/0', '80000000/1', 'ff000000/0']);
  });

  it('raw Cidr element lists lower to the same bytes as their JSON text', () => {
    const texts = ['10.244.0.7/32', '10.244.3.1/32'];
    const v6 = ['fd00:10:244::9/128'];
    const json = lowerDocument({ nftables: [set('h1v4', 'ipv4_addr'), add('h1v4', texts.map((t) => t.split('/')[0])), set('h1v6', 'ipv6_addr'), add('h1v6', v6.map((t) => t.split('/')[0]))] })!;
    const raw = lowerDocument({ nftables: [set('h1v4', 'ipv4_addr'), add('h1v4', texts.map((t) => parseCidr(t)!)), set('h1v6', 'ipv6_addr'), add('h1v6', v6.map((t) => parseCidr(t)!))] })!;
    expect(raw).toEqual(json);
    expect(elements(json, 4).slice(0, 2)).toEqual(['0af40007/0', '0af40301/0']);
    expect(Buffer.from(json.elementKeys.subarray(32, 48)).toString('hex')).toBe('fd000010024400000000000000000009');
  });

  it('refuses whole anything outside the subset', () => {
    const ok = [{ add: { table: { family: 'inet', name: 'palisade' } } }];
    expect(lowerDocument({ nftables: ok })).toBeDefined();
    const outside: Record<string, unknown>[] = [
      { add: { table: { family: 'ip', name: 'palisade' } } }, // another table
      { add: { rule: { ...tbl, chain: 'c', expr: [{ reject: null }] } } }, // a statement we never emit
      { delete: { element: { ...tbl, name: 'p1v4', elem: ['10.0.0.1'] } } }, // interval delete: needs the kernel's ranges
      { add: { element: { ...tbl, name: 'unknown', elem: ['10.0.0.1'] } } }, // a set of no known kind
      { add: { rule: { ...tbl, chain: 'c', expr: [{ match: { op: '==', left: { meta: { key: 'mark' } }, right: 1 } }] } } },
    ];
    for (const c of outside) expect(lowerDocument({ nftables: [...ok, c] }), JSON.stringify(c)).toBeUndefined();
  });

  it('a rule: one native expression per step, names and comment as strings', () => {
    const p = lowerDocument({
      nftables: [
        {
          add: {
            rule: {
              ...tbl,
              chain: 'egress_np',
              comment: 'ns/policy#0',
              expr: [
                { match: { op: '==', left: { payload: { protocol: 'ip', field: 'saddr' } }, right: '@h3v4' } },
                { match: { op: '==', left: { meta: { key: 'l4proto' } }, right: 'tcp' } },
                { match: { op: '==', left: { payload: { protocol: 'th', field: 'dport' } }, right: { range: [1000, 2000] } } },
                { counter: null },
                { goto: { target: 'ingress_admin' } },
              ],
            },
          },
        },
      ],
    })!;
    expect(p.strings).toEqual(['h3v4', 'ingress_admin', 'egress_np', 'ns/policy#0']);
    // rule, chain, comment, 11 expressions: nfproto cmp payload lookup | meta cmp | payload cmp cmp | counter | verdict
    expect([...p.words.subarray(0, 4)]).toEqual([10, 2, 3, 11]);
  });
});

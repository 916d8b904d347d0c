/**
 * backends/nftables/set-batch.ts (pure, no root): which changes the netlink path takes and how an
 * element is packed. An interval set anywhere in the change sends the whole change to libnftables
 * (undefined), deletes come before adds, addresses are the big-endian bytes of the prefix.
 */
import { describe, expect, it } from 'vitest';
import { packSetDeltas, withElement } from '../../backends/nftables/set-batch.js';
import { parseCidr, type Cidr } from '../../src/model/ip.js';
import type { SetId } from '../../src/resolve/index.js';

const c = (t: string): Cidr => parseCidr(t)!;
const id = (n: number): SetId => n;

describe('set-element batches', () => {
  const inTable = new Set([id(1), id(2)]);
  it('packs plain-set deltas, deletes first, as bytes', () => {
    const b = packSetDeltas(
      [
        { set: id(1), added: [c('10.244.1.2/32')], removed: [c('fd00:10:244::5/128')] },
        { set: id(2), added: [], removed: [c('10.244.0.7/32')] },
        { set: id(3), added: [c('10.244.9.9/32')], removed: [] }, // not in the table: ignored
      ],
      inTable,
      () => false,
    )!;
    expect([...b.ops]).toEqual([0, 0, 1]);
    expect([...b.setIndex].map((i) => b.sets[i])).toEqual(['h1v6', 'h2v4', 'h1v4']);
    expect([...b.family]).toEqual([6, 4, 4]);
    expect([...b.addrs.subarray(0, 16)]).toEqual([0xfd, 0, 0, 0x10, 0x02, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]);
    expect([...b.addrs.subarray(16, 20)]).toEqual([10, 244, 0, 7]);
    expect([...b.addrs.subarray(32, 36)]).toEqual([10, 244, 1, 2]);
    const more = withElement(b, 'delete', 'h2v4', c('10.244.254.1/32'));
    expect([...more.ops]).toEqual([0, 0, 1, 0]);
    expect([...more.addrs.subarray(0, 48)]).toEqual([...b.addrs]);
    expect([...more.addrs.subarray(48, 52)]).toEqual([10, 244, 254, 1]);
  });
  it('sends the whole change to libnftables when any touched set is an interval set', () => {
    const deltas = [
      { set: id(1), added: [c('10.244.1.2/32')], removed: [] },
      { set: id(2), added: [c('10.0.0.0/8')], removed: [] },
    ];
    expect(packSetDeltas(deltas, inTable, (s) => s === id(2))).toBeUndefined();
    // an untouched interval set does not matter
    expect(packSetDeltas([deltas[0]!, { set: id(2), added: [], removed: [] }], inTable, (s) => s === id(2))).toBeDefined();
  });
});

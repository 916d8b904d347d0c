/**
 * Set elements from prefixes: host prefixes (/32, /128) as plain addresses, others as
 * `{"prefix":{"addr","len"}}`. An interval set refuses overlapping elements, so a full set is
 * first reduced to the prefixes no other member covers (same addresses, no overlap).
 * Pure. Cost: O(n) for host-only sets, O(n x m) with m non-host prefixes.
 */
import { cidrCovers, familyBits, type Cidr, type Family } from '../../src/model/ip.js';

export const isHost = (c: Cidr): boolean => c.prefixLen === familyBits(c.family);

export function elementOf(c: Cidr): unknown {
  const addr = c.text.slice(0, c.text.indexOf('/'));
  return isHost(c) ? addr : { prefix: { addr, len: c.prefixLen } };
}

/**
 * Members of one family, reduced to prefixes not covered by another member. Input prefixes are
 * distinct (a set's members); host-only input (every pod and node set) is returned as is.
 */
export function disjointMembers(prefixes: readonly Cidr[], family: Family): Cidr[] {
  const mine = prefixes.filter((c) => c.family === family);
  const wide = mine.filter((c) => !isHost(c)).sort((a, b) => a.prefixLen - b.prefixLen);
  if (wide.length === 0) return mine;
  const out: Cidr[] = [];
  const seen = new Set<string>();
  for (const c of mine) {
    if (seen.has(c.text)) continue;
    if (wide.some((w) => w !== c && w.text !== c.text && cidrCovers(w, c))) continue;
    seen.add(c.text);
    out.push(c);
  }
  return out;
}

/**
 * Prefix arithmetic for address sets: a CIDR minus its `except` entries as disjoint prefixes,
 * and a total order on prefixes for stable output.
 *
 * Invariants: `subtractPrefixes` returns disjoint prefixes of the input's family whose union is
 * exactly `cidr \ union(except)`, sorted by (family, base, prefixLen).
 * Cost: O(e * (maxLen - cidr.prefixLen)) for e excepts. Pure.
 */
import { cidrCovers, familyBits, makeCidr, type Cidr } from '../model/ip.js';

export function subtractPrefixes(cidr: Cidr, except: readonly Cidr[]): Cidr[] {
  const holes = except.filter((e) => e.family === cidr.family);
  const out: Cidr[] = [];
  const walk = (c: Cidr): void => {
    if (holes.some((h) => cidrCovers(h, c))) return;
    if (!holes.some((h) => cidrCovers(c, h))) {
      out.push(c);
      return;
    }
    // Some hole lies strictly inside c: split c in halves and carve each.
    const len = c.prefixLen + 1;
    const bit = 1n << BigInt(familyBits(c.family) - len);
    walk(makeCidr(c.family, c.base, len));
    walk(makeCidr(c.family, c.base | bit, len));
  };
  walk(cidr);
  return out.sort(comparePrefixes);
}

export function comparePrefixes(a: Cidr, b: Cidr): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.base !== b.base) return a.base < b.base ? -1 : 1;
  return a.prefixLen - b.prefixLen;
}

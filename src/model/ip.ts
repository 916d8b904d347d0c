/**
 * IP addresses and prefixes as plain values: family plus an unsigned integer (bigint), with a
 * canonical text form. Parsing is strict RFC 4291 / dotted-quad text (checked against ip-num's
 * validator by test/model/ip.test.ts); formatting is RFC 5952 for IPv6.
 *
 * CIDRs are parsed the way the Kubernetes API server's legacy ("sloppy") parser reads them: host
 * bits may be set and are masked off, so `10.244.0.10/4` is the prefix 0.0.0.0/4.
 * Addresses of one family never match prefixes of the other (an IPv4-mapped IPv6 address is
 * IPv6). Pure functions; no shared state.
 */

export type Family = 4 | 6;

export interface IpAddr {
  readonly family: Family;
  readonly value: bigint;
  /** canonical text: dotted quad, or RFC 5952 compressed IPv6 */
  readonly text: string;
}

export interface Cidr {
  readonly family: Family;
  /** the network address (host bits cleared) */
  readonly base: bigint;
  readonly prefixLen: number;
  /** canonical text of the masked prefix, e.g. `0.0.0.0/4` */
  readonly text: string;
}

export const familyBits = (f: Family): number => (f === 4 ? 32 : 128);

const V4_SHAPE = /^\d{1,3}(\.\d{1,3}){3}$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * A strict dotted quad: four decimal octets 0..255 without leading zeros (ambiguous: octal in
 * some parsers; the API server's strict parser rejects them). null when it is not one.
 */
function v4Value(text: string): bigint | null {
  if (!V4_SHAPE.test(text)) return null;
  let v = 0;
  for (const o of text.split('.')) {
    if (o.length > 1 && o.charCodeAt(0) === 48) return null;
    const n = Number(o);
    if (n > 255) return null;
    v = v * 256 + n;
  }
  return BigInt(v);
}

/**
 * RFC 4291 section 2.2 text forms: eight groups of 1-4 hex digits, one `::` standing for one or
 * more zero groups, the last 32 bits optionally as a dotted quad. No zone (`%eth0`), no brackets.
 * The same language ip-num's Validator.isValidIPv6String accepts (test/model/ip.test.ts compares
 * them), parsed without it: ip-num's parse was most of the agent's per-pod cost
 * (bench/RESULTS.md, "Agent").
 */
function v6Value(text: string): bigint | null {
  const dbl = text.indexOf('::');
  if (dbl >= 0 && text.indexOf('::', dbl + 1) >= 0) return null;
  const head = dbl >= 0 ? text.slice(0, dbl) : text;
  const tail = dbl >= 0 ? text.slice(dbl + 2) : '';
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  if (dbl < 0 && head === '') return null;
  const groups: number[] = [];
  const all = [...headGroups, ...(dbl >= 0 ? [null] : []), ...tailGroups];
  let zerosAt = -1;
  for (let i = 0; i < all.length; i++) {
    const g = all[i] as string | null;
    if (g === null) {
      zerosAt = groups.length;
      continue;
    }
    if (i === all.length - 1 && g.includes('.')) {
      const v4 = v4Value(g);
      if (v4 === null) return null;
      const n = Number(v4);
      groups.push(Math.floor(n / 65536), n % 65536);
      continue;
    }
    if (!HEX_GROUP.test(g)) return null;
    groups.push(parseInt(g, 16));
  }
  if (zerosAt >= 0) {
    if (groups.length > 7) return null;
    groups.splice(zerosAt, 0, ...new Array<number>(8 - groups.length).fill(0));
  } else if (groups.length !== 8) return null;
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  return v;
}

export function parseIp(text: string): IpAddr | null {
  if (typeof text !== 'string' || text.length === 0 || text.length > 45) return null;
  if (text.includes(':')) {
    const v = v6Value(text);
    return v === null ? null : { family: 6, value: v, text: formatV6(v) };
  }
  const v = v4Value(text);
  return v === null ? null : { family: 4, value: v, text: formatV4(v) };
}

export function parseCidr(text: string): Cidr | null {
  if (typeof text !== 'string') return null;
  const slash = text.indexOf('/');
  if (slash < 0 || slash !== text.lastIndexOf('/')) return null;
  const addr = parseIp(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (!addr || !/^\d{1,3}$/.test(lenText)) return null;
  const prefixLen = Number(lenText);
  if (prefixLen > familyBits(addr.family)) return null;
  return makeCidr(addr.family, addr.value, prefixLen);
}

export function makeCidr(family: Family, value: bigint, prefixLen: number): Cidr {
  const base = value & prefixMask(family, prefixLen);
  const text = `${family === 4 ? formatV4(base) : formatV6(base)}/${prefixLen}`;
  return { family, base, prefixLen, text };
}

/** The host prefix (/32 or /128) of an address. */
export const hostCidr = (ip: IpAddr): Cidr => makeCidr(ip.family, ip.value, familyBits(ip.family));

export function prefixMask(family: Family, prefixLen: number): bigint {
  const bits = BigInt(familyBits(family));
  const all = (1n << bits) - 1n;
  return prefixLen === 0 ? 0n : (all << (bits - BigInt(prefixLen))) & all;
}

export function cidrContains(c: Cidr, ip: IpAddr): boolean {
  return c.family === ip.family && (ip.value & prefixMask(c.family, c.prefixLen)) === c.base;
}

/** True when every address of `inner` lies in `outer`. */
export function cidrCovers(outer: Cidr, inner: Cidr): boolean {
  return (
    outer.family === inner.family &&
    inner.prefixLen >= outer.prefixLen &&
    (inner.base & prefixMask(outer.family, outer.prefixLen)) === outer.base
  );
}

export const sameIp = (a: IpAddr, b: IpAddr): boolean => a.family === b.family && a.value === b.value;

export function formatV4(v: bigint): string {
  const n = Number(v);
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** RFC 5952: lowercase, leading zeros dropped, the longest run (>= 2) of zero groups as `::`. */
export function formatV6(v: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

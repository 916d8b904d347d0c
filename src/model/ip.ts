/**
 * IP addresses and prefixes as plain values: family plus an unsigned integer (bigint), with a
 * canonical text form. Parsing goes through ip-num's validator; formatting is RFC 5952 for IPv6.
 *
 * CIDRs are parsed the way the Kubernetes API server's legacy ("sloppy") parser reads them: host
 * bits may be set and are masked off, so `10.244.0.10/4` is the prefix 0.0.0.0/4.
 * Addresses of one family never match prefixes of the other (an IPv4-mapped IPv6 address is
 * IPv6). Pure functions; no shared state.
 */
import { IPv4, IPv6, Validator } from 'ip-num';

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

const V6_CHARS = /^[0-9a-fA-F:.]+$/;

export function parseIp(text: string): IpAddr | null {
  if (typeof text !== 'string' || text.length === 0 || text.length > 45) return null;
  if (text.includes(':')) {
    if (!V6_CHARS.test(text) || !Validator.isValidIPv6String(text)[0]) return null;
    let v: bigint;
    try {
      v = IPv6.fromString(text).value;
    } catch {
      return null;
    }
    return { family: 6, value: v, text: formatV6(v) };
  }
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) return null;
  const octets = text.split('.');
  // Leading zeros are ambiguous (octal in some parsers); the API server's strict parser rejects them.
  if (octets.some((o) => o.length > 1 && o.startsWith('0'))) return null;
  if (!Validator.isValidIPv4String(text)[0]) return null;
  const v = IPv4.fromString(text).value;
  return { family: 4, value: v, text: formatV4(v) };
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

/**
 * CIDR syntax as the two API families accept it.
 *
 * - NetworkPolicy `ipBlock` (validation.go ValidateIPBlock / IsValidCIDRForLegacyField):
 *   the legacy "sloppy" parser, host bits allowed and masked off (`10.244.0.10/4` is 0.0.0.0/4).
 *   Palisade parses it like `networks` below (rejecting leading zeros in octets and prefix
 *   length, and IPv4-mapped IPv6, as StrictIPCIDRValidation does) but keeps host bits.
 * - network-policy-api `networks` (CEL `isCIDR(self)`, k8s.io/apiserver/pkg/cel/library/cidr.go):
 *   Go `netip.ParsePrefix`, which also accepts host bits (isCIDR does not check them), and
 *   rejects zones, IPv4-mapped IPv6 prefixes and a prefix length with a leading zero.
 *
 * In both, set host bits are accepted with a warning (CIDR_HOST_BITS_SET) naming the prefix
 * Palisade will use, as newer API servers warn. Pure.
 * Cost: one pass over the input, linear in its size. Thread-safety: pure functions, no shared
 * state; problems go only to the Reporter passed in.
 */
import type { Reporter } from './reporter.js';
import { parseCidr, type Cidr } from '../model/ip.js';

const hostBitsSet = (text: string, c: Cidr): boolean => {
  const addr = text.slice(0, text.indexOf('/'));
  const parsed = parseCidr(`${addr}/${c.family === 4 ? 32 : 128}`);
  return parsed !== null && parsed.base !== c.base;
};

function warnHostBits(r: Reporter, text: string, c: Cidr, path: string): void {
  if (hostBitsSet(text, c)) {
    r.warn('CIDR_HOST_BITS_SET', path, `${text} has host bits set; it is read as ${c.text}`);
  }
}

/** NetworkPolicy ipBlock cidr / except entry. Returns the parsed prefix, or undefined after CIDR_INVALID. */
export function checkSloppyCidr(r: Reporter, text: string, path: string): Cidr | undefined {
  // Host bits stay accepted (with a warning) so that older e2e-style `<podIP>/4` blocks load; a
  // prefix length with a leading zero and IPv4-mapped IPv6 are refused as strict validation does.
  const c = isCelCidr(text);
  if (!c) {
    r.error('CIDR_INVALID', path, `${JSON.stringify(text)} is not a valid IPv4 or IPv6 CIDR (e.g. 10.0.0.0/16 or fd00::/64)`);
    return undefined;
  }
  warnHostBits(r, text, c, path);
  return c;
}

/** CEL isCIDR(self): netip.ParsePrefix without zone or IPv4-mapped IPv6 address. */
export function isCelCidr(text: string): Cidr | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const bits = text.slice(slash + 1);
  if (bits.length > 1 && bits.startsWith('0')) return null;
  const c = parseCidr(text);
  if (!c) return null;
  // IPv4-mapped IPv6 (::ffff:a.b.c.d) is refused by the Kubernetes CEL library.
  if (c.family === 6) {
    const addr = parseCidr(`${text.slice(0, slash)}/128`);
    if (addr && addr.base >> 32n === 0xffffn) return null;
  }
  return c;
}

/** network-policy-api `networks` entry: maxLength 43 and isCIDR. */
export function checkCelCidr(r: Reporter, text: string, path: string): Cidr | undefined {
  if (text.length > 43) {
    r.error('CIDR_TOO_LONG', path, `must be no more than 43 characters (CRD maxLength), has ${text.length}`);
    return undefined;
  }
  const c = isCelCidr(text);
  if (!c) {
    r.error('CIDR_INVALID', path, `${JSON.stringify(text)} is not a valid CIDR (CEL isCIDR; e.g. 10.0.0.0/16 or fd00::/64)`);
    return undefined;
  }
  warnHostBits(r, text, c, path);
  return c;
}

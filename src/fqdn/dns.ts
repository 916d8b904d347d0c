/**
 * DNS response parsing for the FQDN learner (docs/fqdn.md §1, §3): a bounds-checked reader of
 * one DNS message (RFC 1035 §4) and the CNAME-chain walk that turns an answer into
 * (name, address, ttl) facts.
 *
 * Invariants: never reads outside `bytes`; a compression pointer must point strictly backwards
 * (so every name walk ends) and at most 127 are followed per name; a label is at most 63 bytes
 * and a name at most 255; a malformed message yields `{ ok: false, why }`, never a throw.
 * Only A (1), AAAA (28) and CNAME (5) records of class IN are kept; others are skipped by
 * RDLENGTH. Names come out canonical (lower case, no trailing dot).
 * Cost: O(message bytes) plus O(records x chain length) for the chain walk (chain <= 16 links).
 * Pure; no state, no I/O; safe on any thread.
 */
import { formatV4, formatV6, type IpAddr } from '../model/ip.js';

export const TYPE_A = 1;
export const TYPE_CNAME = 5;
export const TYPE_AAAA = 28;
const CLASS_IN = 1;
/** docs/fqdn.md §1: a chain is followed at most this many links */
export const MAX_CHAIN_LINKS = 16;

export type DnsRecord =
  | { readonly name: string; readonly type: 'A' | 'AAAA'; readonly ttlS: number; readonly address: IpAddr }
  | { readonly name: string; readonly type: 'CNAME'; readonly ttlS: number; readonly target: string };

export interface DnsResponse {
  readonly id: number;
  /** the one question's name (canonical) and type */
  readonly question: string;
  readonly qtype: number;
  /** the answer section's A, AAAA and CNAME records of class IN, in order */
  readonly answers: readonly DnsRecord[];
}

export type DnsParse = { readonly ok: true; readonly response: DnsResponse } | { readonly ok: false; readonly why: string };

/** What one answer teaches: `address` under every name of the chain that led to it. */
export interface LearnedFact {
  readonly name: string;
  readonly address: IpAddr;
  /** the smallest TTL on the chain to the address (seconds, as sent) */
  readonly ttlS: number;
}

class Malformed extends Error {}

/** Parse one DNS message that must be a successful response to exactly one question. */
export function parseDnsResponse(bytes: Uint8Array): DnsParse {
  try {
    if (bytes.length < 12) return { ok: false, why: 'shorter than a DNS header' };
    if (bytes.length > 65535) return { ok: false, why: 'longer than a DNS message' };
    const u16 = (o: number): number => {
      if (o + 2 > bytes.length) throw new Malformed('truncated');
      return ((bytes[o] as number) << 8) | (bytes[o + 1] as number);
    };
    const u32 = (o: number): number => u16(o) * 65536 + u16(o + 2);
    const id = u16(0);
    const flags = u16(2);
    if ((flags & 0x8000) === 0) return { ok: false, why: 'a query, not a response' };
    if ((flags & 0x0200) !== 0) return { ok: false, why: 'truncated (TC)' };
    if ((flags & 0x000f) !== 0) return { ok: false, why: `rcode ${flags & 0x000f}` };
    const qd = u16(4);
    const an = u16(6);
    if (qd !== 1) return { ok: false, why: `${qd} questions` };
    let off = 12;
    const q = readName(bytes, off);
    off = q.end;
    const qtype = u16(off);
    off += 4; // qtype, qclass
    const answers: DnsRecord[] = [];
    for (let i = 0; i < an; i++) {
      const n = readName(bytes, off);
      off = n.end;
      const type = u16(off);
      const klass = u16(off + 2);
      const ttl = u32(off + 4);
      const rdlen = u16(off + 8);
      off += 10;
      if (off + rdlen > bytes.length) throw new Malformed('record data past the end');
      // RFC 2181 §8: a TTL with the top bit set is treated as zero
      const ttlS = ttl >= 0x80000000 ? 0 : ttl;
      if (klass === CLASS_IN) {
        if (type === TYPE_A && rdlen === 4) answers.push({ name: n.name, type: 'A', ttlS, address: addressOf(bytes, off, 4) });
        else if (type === TYPE_AAAA && rdlen === 16) answers.push({ name: n.name, type: 'AAAA', ttlS, address: addressOf(bytes, off, 16) });
        else if (type === TYPE_CNAME) {
          const t = readName(bytes, off);
          if (t.end > off + rdlen) throw new Malformed('CNAME target past its record');
          answers.push({ name: n.name, type: 'CNAME', ttlS, target: t.name });
        }
      }
      off += rdlen;
    }
    return { ok: true, response: { id, question: q.name, qtype, answers } };
  } catch (e) {
    if (e instanceof Malformed) return { ok: false, why: e.message };
    throw e;
  }
}

/**
 * The CNAME chain from the question name through the answer section (docs/fqdn.md §1): every
 * A/AAAA record whose owner is on the chain teaches its address under every name of the chain
 * up to it, with the smallest TTL on the way. Records off the chain teach nothing.
 */
export function learnedFacts(r: DnsResponse): LearnedFact[] {
  const chain: string[] = [r.question];
  let ttlS = Number.MAX_SAFE_INTEGER;
  const ttlAt: number[] = [ttlS];
  for (let links = 0; links < MAX_CHAIN_LINKS; links++) {
    const last = chain[chain.length - 1] as string;
    const c = r.answers.find((a) => a.type === 'CNAME' && a.name === last);
    if (!c || c.type !== 'CNAME' || chain.includes(c.target)) break;
    ttlS = Math.min(ttlS, c.ttlS);
    chain.push(c.target);
    ttlAt.push(ttlS);
  }
  const out: LearnedFact[] = [];
  for (const a of r.answers) {
    if (a.type === 'CNAME') continue;
    const at = chain.indexOf(a.name);
    if (at < 0) continue;
    const ttl = Math.min(ttlAt[at] as number, a.ttlS);
    for (let i = 0; i <= at; i++) out.push({ name: chain[i] as string, address: a.address, ttlS: ttl });
  }
  return out;
}

function readName(bytes: Uint8Array, start: number): { name: string; end: number } {
  const labels: string[] = [];
  let off = start;
  let end = -1;
  let jumps = 0;
  let length = 0;
  for (;;) {
    if (off >= bytes.length) throw new Malformed('name past the end');
    const len = bytes[off] as number;
    if (len === 0) {
      if (end < 0) end = off + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (off + 1 >= bytes.length) throw new Malformed('pointer past the end');
      const target = ((len & 0x3f) << 8) | (bytes[off + 1] as number);
      if (target >= off) throw new Malformed('compression pointer forwards');
      if (++jumps > 127) throw new Malformed('too many compression pointers');
      if (end < 0) end = off + 2;
      off = target;
      continue;
    }
    if ((len & 0xc0) !== 0) throw new Malformed('reserved label type');
    if (off + 1 + len > bytes.length) throw new Malformed('label past the end');
    length += len + 1;
    if (length > 255) throw new Malformed('name longer than 255 bytes');
    let label = '';
    for (let i = 0; i < len; i++) {
      const c = bytes[off + 1 + i] as number;
      label += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 32 : c);
    }
    labels.push(label);
    off += 1 + len;
  }
  return { name: labels.join('.'), end };
}

function addressOf(bytes: Uint8Array, off: number, n: 4 | 16): IpAddr {
  let v = 0n;
  for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(bytes[off + i] as number);
  return n === 4 ? { family: 4, value: v, text: formatV4(v) } : { family: 6, value: v, text: formatV6(v) };
}

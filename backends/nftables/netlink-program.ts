/**
 * Netlink program: a libnftables JSON document of the subset render.ts emits -> the table program
 * backends/nftables/native/table.h sends as ONE nf_tables netlink batch (libnftnl, no libnftables:
 * no JSON parse in C, no cache load of every set, no nft text). The document stays the one source
 * of truth of what the table holds: this module only lowers it, command by command and in order,
 * into the same kernel objects and the same expression bytecode nft emits for it (checked by
 * test/nftables/netlink-full.test.ts against `list table` of the JSON path's table).
 *
 * Lowering (what nft 1.0.6 emits in an inet table, register 1 throughout):
 *   ip saddr @s            meta nfproto == ipv4; payload network+12 len 4; lookup @s   (ip6: +8 len 16, daddr +16 / +24)
 *   ip saddr . ip daddr @c meta nfproto == ipv4; payload +12 len 4 => reg 1; payload +16 len 4 => reg 9
 *                          (NFT_REG32_01); lookup reg 1 @c   (ip6: the second field => reg 2, NFT_REG_2)
 *                          -- nft's register allocation for a concatenation (netlink_put_register)
 *   set type a . b         key type (id(a) << 6) | id(b) (nft's concat_type_alloc, TYPE_BITS 6),
 *                          key length the fields' lengths each rounded up to 4 bytes
 *   meta l4proto tcp       meta l4proto; cmp == 6          `{ tcp, udp }`: an anonymous constant set + lookup
 *   th dport 80 / 1-2      payload transport+2 len 2; cmp == 80 (big endian) / cmp >= 1, cmp <= 2
 *   ct state a,b           ct state; bitwise & mask; cmp != 0
 *   icmpv6 type { .. }     payload transport+0 len 1; lookup of an anonymous set
 *   counter, limit rate N/second burst B packets, log prefix P group G, accept / drop / goto / jump
 *   comment "c"            rule userdata TLV (type 0, NUL-terminated), as nft writes it
 *   interval set elements  sorted, merged ranges: 0 as an interval end first (unless a range starts
 *                          at 0), then per range its start and (unless it ends at the top) end+1
 *                          flagged interval end, as nft's segtree writes them
 * Anything outside that subset (or a delete of interval-set elements, which needs the kernel's
 * current ranges) makes `lowerDocument` return undefined: the caller sends the document through
 * libnftables instead, never half of it each way.
 *
 * Element lists may hold the member Cidr objects themselves (render.ts RenderInput.rawElements)
 * instead of their JSON text: read as bytes directly.
 *
 * Invariants: names, prefixes and comments travel as strings in netlink attributes (never text
 * the kernel or a parser interprets); addresses as bytes. Element keys are 16 bytes each (the
 * first keyLen used; a 32-byte key, an IPv6 pair, takes two consecutive slots). Every element carries a timeout slot (ms, 0 = none) for sets with timeouts:
 * an element `{ elem: { val, timeout: SECONDS } }` (libnftables' JSON form; a fraction is kept as
 * ms) of a plain set fills it.
 * Pure. Cost: O(commands + elements); ~4 words per expression, 21 bytes per element.
 */
import { parseIp, type Cidr } from '../../src/model/ip.js';
import type { NftCommand, NftDocument, NftExpr } from './nft-json.js';
import { FAMILY, TABLE } from './nft-json.js';

export interface TableProgram {
  readonly words: Uint32Array;
  readonly strings: readonly string[];
  /** 16 bytes per element */
  readonly elementKeys: Uint8Array;
  /** per element: NFT_SET_ELEM_* flags (1 = interval end) */
  readonly elementFlags: Uint8Array;
  /** per element: timeout in ms, 0 = none */
  readonly elementTimeoutMs: Uint32Array;
}

// commands and expressions of native/table.h
const OP = { tableAdd: 1, tableDel: 2, chainAdd: 3, chainFlush: 4, chainDel: 5, setAdd: 6, setFlush: 7, setDel: 8, elements: 9, rule: 10 } as const;
const EX = { meta: 1, ct: 2, payload: 3, cmp: 4, bitwise: 5, lookup: 6, counter: 7, limit: 8, log: 9, verdict: 10, payloadTo: 11 } as const;
/** linux/netfilter/nf_tables.h: the register of a concatenation's second field, per family (see above) */
const SECOND_FIELD_REG = { ip: 9, ip6: 2 } as const;
/** nft's TYPE_BITS: a concatenated type's id is its fields' ids, shifted in */
const TYPE_BITS = 6;
const NONE = 0xffffffff;
// linux/netfilter/nf_tables.h, linux/netfilter.h
const META_NFPROTO = 15;
const META_L4PROTO = 16;
const CT_STATE = 0;
const PAYLOAD_NETWORK = 1;
const PAYLOAD_TRANSPORT = 2;
const CMP_EQ = 0;
const CMP_NEQ = 1;
const CMP_LTE = 3;
const CMP_GTE = 5;
const VERDICT = { accept: 1, drop: 0, jump: -3, goto: -4 } as const;
const NFPROTO = { ip: 2, ip6: 10 } as const;
const HOOK = { input: 1, forward: 2, output: 3 } as const;
const SET_ANONYMOUS = 0x1;
const SET_CONSTANT = 0x2;
const SET_INTERVAL = 0x4;
const SET_TIMEOUT = 0x10;
const ELEM_INTERVAL_END = 1;
/** nft's datatype ids (the set key type nft stores and lists by) and key lengths */
const KEY_TYPES: Readonly<Record<string, { readonly id: number; readonly len: number }>> = {
  ipv4_addr: { id: 7, len: 4 },
  ipv6_addr: { id: 8, len: 16 },
  inet_proto: { id: 12, len: 1 },
  icmpv6_type: { id: 29, len: 1 },
};
const L4PROTO: Readonly<Record<string, number>> = { tcp: 6, udp: 17, sctp: 132, 'ipv6-icmp': 58, icmp: 1 };
const ICMPV6_TYPE: Readonly<Record<string, number>> = {
  'mld-listener-query': 130,
  'mld-listener-report': 131,
  'nd-router-solicit': 133,
  'nd-router-advert': 134,
  'nd-neighbor-solicit': 135,
  'nd-neighbor-advert': 136,
  'nd-redirect': 137,
  'mld2-listener-report': 143,
};
const CT_STATE_BIT: Readonly<Record<string, number>> = { invalid: 1, established: 2, related: 4, new: 8, untracked: 64 };
const ADDR_OFFSET = { ip: { saddr: 12, daddr: 16, len: 4 }, ip6: { saddr: 8, daddr: 24, len: 16 } } as const;

/** Thrown inside the lowering for anything outside the subset; lowerDocument turns it into undefined. */
class Unsupported extends Error {}
const unsupported = (what: string): never => {
  throw new Unsupported(what);
};

interface SetInfo {
  readonly keyLen: number;
  readonly interval: boolean;
  /** a concatenation of two addresses (pairs.ts): elements `{ concat: [a, b] }` */
  readonly pair?: boolean;
  /** element value names (inet_proto, icmpv6_type) */
  readonly symbols?: Readonly<Record<string, number>>;
}

class Writer {
  private words = new Uint32Array(1024);
  private n = 0;
  readonly strings: string[] = [];
  private readonly interned = new Map<string, number>();
  /** anonymous sets of the rule being lowered (declared just before it) */
  anonymous: { idx: number; keyType: number; keyLen: number; elems: unknown[]; symbols: Readonly<Record<string, number>> | undefined }[] = [];
  keys = new Uint8Array(16 * 256);
  flags = new Uint8Array(256);
  timeouts = new Uint32Array(256);
  count = 0;

  word(...ws: number[]): void {
    if (this.n + ws.length > this.words.length) {
      const bigger = new Uint32Array(Math.max(this.words.length * 2, this.n + ws.length));
      bigger.set(this.words);
      this.words = bigger;
    }
    for (const w of ws) this.words[this.n++] = w >>> 0;
  }
  /** the index of `s`, shared by every use of the same name */
  str(s: string): number {
    let i = this.interned.get(s);
    if (i === undefined) {
      i = this.strings.push(s) - 1;
      this.interned.set(s, i);
    }
    return i;
  }
  /** a string index of its own (an anonymous set's "__set%d") */
  freshStr(s: string): number {
    return this.strings.push(s) - 1;
  }
  /** one element slot; returns the offset of its 16 key bytes in `keys` */
  element(flag: number): number {
    if (this.count === this.flags.length) {
      const k = new Uint8Array(this.keys.length * 2);
      k.set(this.keys);
      this.keys = k;
      const f = new Uint8Array(this.flags.length * 2);
      f.set(this.flags);
      this.flags = f;
      const t = new Uint32Array(this.timeouts.length * 2);
      t.set(this.timeouts);
      this.timeouts = t;
    }
    this.flags[this.count] = flag;
    return 16 * this.count++;
  }
  program(): TableProgram {
    return {
      words: this.words.slice(0, this.n),
      strings: this.strings,
      elementKeys: this.keys.slice(0, 16 * this.count),
      elementFlags: this.flags.slice(0, this.count),
      elementTimeoutMs: this.timeouts.slice(0, this.count),
    };
  }
}

/** Address text (no prefix length) -> big-endian bytes into `out`. */
function addressBytes(text: string, out: Uint8Array): 4 | 6 {
  const parts = text.split('.');
  if (parts.length === 4) {
    for (let i = 0; i < 4; i++) {
      const v = Number(parts[i]);
      if (!(v >= 0 && v <= 255) || parts[i] === '') unsupported(`address ${text}`);
      out[i] = v;
    }
    return 4;
  }
  const ip = parseIp(text);
  if (!ip || ip.family !== 6) return unsupported(`address ${text}`);
  let v = ip.value;
  for (let b = 15; b >= 0; b--) {
    out[b] = Number(v & 0xffn);
    v >>= 8n;
  }
  return 6;
}

/** A member prefix as render.ts puts it in a raw-element document (RenderInput.rawElements). */
const isCidr = (e: unknown): e is Cidr => typeof e === 'object' && e !== null && typeof (e as Cidr).base === 'bigint';

const toBig = (b: Uint8Array, len: number): bigint => {
  let v = 0n;
  for (let i = 0; i < len; i++) v = (v << 8n) | BigInt(b[i]!);
  return v;
};
const putBig = (v: bigint, out: Uint8Array, len: number, at = 0): void => {
  for (let i = len - 1; i >= 0; i--) {
    out[at + i] = Number(v & 0xffn);
    v >>= 8n;
  }
};

/** Elements of an interval set as sorted, merged [lo, hi] ranges. */
function ranges(elems: readonly unknown[], len: number): [bigint, bigint][] {
  const bits = BigInt(8 * len);
  const buf = new Uint8Array(16);
  const out: [bigint, bigint][] = [];
  for (const e of elems) {
    let addr: string;
    let plen: number;
    if (isCidr(e)) {
      if ((e.family === 4 ? 4 : 16) !== len) unsupported('interval element family');
      const host = (1n << (bits - BigInt(e.prefixLen))) - 1n;
      out.push([e.base & ~host, e.base | host]);
      continue;
    }
    if (typeof e === 'string') {
      addr = e;
      plen = 8 * len;
    } else {
      const p = (e as { prefix?: { addr?: unknown; len?: unknown } }).prefix;
      if (!p || typeof p.addr !== 'string' || typeof p.len !== 'number') return unsupported('interval element');
      addr = p.addr;
      plen = p.len;
    }
    const fam = addressBytes(addr, buf);
    if ((fam === 4 ? 4 : 16) !== len || !(plen >= 0 && plen <= 8 * len)) unsupported('interval element family');
    const host = (1n << (bits - BigInt(plen))) - 1n;
    const lo = toBig(buf, len) & ~host;
    out.push([lo, lo | host]);
  }
  out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const merged: [bigint, bigint][] = [];
  for (const r of out) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1] + 1n) {
      if (r[1] > last[1]) last[1] = r[1];
    } else merged.push([r[0], r[1]]);
  }
  return merged;
}

function lowerElements(w: Writer, name: string, op: 'add' | 'delete', elems: readonly unknown[], set: SetInfo | undefined, nameIndex: number): void {
  const info = set ?? setInfoFromName(name);
  const first = w.count;
  if (info.interval) {
    if (op === 'delete') unsupported('delete of interval set elements');
    const top = (1n << BigInt(8 * info.keyLen)) - 1n;
    const rs = ranges(elems, info.keyLen);
    const put = (v: bigint, flag: number): void => {
      const at = w.element(flag);
      putBig(v, w.keys, info.keyLen, at);
    };
    if (rs.length > 0 && rs[0]![0] !== 0n) put(0n, ELEM_INTERVAL_END);
    for (const [lo, hi] of rs) {
      put(lo, 0);
      if (hi !== top) put(hi + 1n, ELEM_INTERVAL_END);
    }
  } else if (info.pair) {
    const half = info.keyLen / 2;
    for (const item of elems) {
      const timed = typeof item === 'object' && item !== null && 'elem' in item ? (item as { elem: { val?: unknown; timeout?: unknown } }).elem : undefined;
      const val = (timed ? timed.val : item) as { concat?: unknown } | null;
      const parts = val !== null && typeof val === 'object' && Array.isArray(val.concat) ? (val.concat as unknown[]) : undefined;
      if (!parts || parts.length !== 2) return unsupported('pair element');
      const at = w.element(0);
      if (info.keyLen > 16) w.element(0); // the key's second slot
      if (timed) {
        if (op !== 'add' || typeof timed.timeout !== 'number' || !(timed.timeout > 0)) unsupported('timed element');
        w.timeouts[at / 16] = Math.min(0xffffffff, Math.round((timed.timeout as number) * 1000));
      }
      parts.forEach((e, i) => {
        const out = w.keys.subarray(at + i * half, at + (i + 1) * half);
        if (isCidr(e)) {
          if ((e.family === 4 ? 4 : 16) !== half || e.prefixLen !== 8 * half) unsupported('pair element family');
          putBig(e.base, out, half);
        } else if (typeof e !== 'string' || (addressBytes(e, out) === 4 ? 4 : 16) !== half) unsupported('pair element family');
      });
    }
  } else {
    for (const item of elems) {
      const at = w.element(0);
      const keys = w.keys;
      let e = item;
      const timed = typeof item === 'object' && item !== null && 'elem' in item ? (item as { elem: { val?: unknown; timeout?: unknown } }).elem : undefined;
      if (timed) {
        if (info.symbols || op !== 'add' || typeof timed.timeout !== 'number' || !(timed.timeout > 0)) unsupported('timed element');
        w.timeouts[at / 16] = Math.min(0xffffffff, Math.round((timed.timeout as number) * 1000));
        e = timed.val;
      }
      if (info.symbols) {
        const v = typeof e === 'string' ? info.symbols[e] : typeof e === 'number' ? e : undefined;
        if (v === undefined) unsupported(`element ${String(e)}`);
        keys[at] = v!;
      } else if (isCidr(e)) {
        if ((e.family === 4 ? 4 : 16) !== info.keyLen || e.prefixLen !== 8 * info.keyLen) unsupported('element family');
        if (e.family === 4) {
          const v = Number(e.base);
          keys[at] = v >>> 24;
          keys[at + 1] = (v >>> 16) & 0xff;
          keys[at + 2] = (v >>> 8) & 0xff;
          keys[at + 3] = v & 0xff;
        } else putBig(e.base, keys, 16, at);
      } else if (typeof e === 'string') {
        if ((addressBytes(e, keys.subarray(at, at + 16)) === 4 ? 4 : 16) !== info.keyLen) unsupported('element family');
      } else unsupported('element');
    }
  }
  if (w.count > first) w.word(OP.elements, nameIndex, op === 'add' ? 1 : 0, info.keyLen, first, w.count - first);
}

/** Sets the document did not declare (deltas): kind from the renderer's names (render.ts setName, OBSERVED_SETS). */
function setInfoFromName(name: string): SetInfo {
  const m = /^(?:([hptc])\d+|observed)v([46])$/.exec(name);
  if (!m) return unsupported(`set ${name}`);
  if (m[1] === 'c') return { keyLen: m[2] === '4' ? 8 : 32, interval: false, pair: true };
  return { keyLen: m[2] === '4' ? 4 : 16, interval: m[1] === 'p' };
}

function lowerMatch(w: Writer, m: Record<string, unknown>, out: number[]): void {
  const left = m.left as Record<string, Record<string, unknown>>;
  const right = m.right;
  const op = m.op;
  const lookupOrCmp = (key: Readonly<Record<string, number>> | undefined, keyLen: number, keyType: number): void => {
    if (typeof right === 'string' && right.startsWith('@')) {
      out.push(EX.lookup, w.str(right.slice(1)));
      return;
    }
    if (right !== null && typeof right === 'object' && Array.isArray((right as { set?: unknown }).set)) {
      // an anonymous constant set, declared just before the rule (as nft does)
      const idx = w.freshStr('__set%d');
      w.anonymous.push({ idx, keyType, keyLen, elems: (right as { set: unknown[] }).set, symbols: key });
      out.push(EX.lookup, idx);
      return;
    }
    const v = typeof right === 'string' && key ? key[right] : typeof right === 'number' && keyLen === 1 ? right : undefined;
    if (v === undefined || op !== '==') return unsupported(`match value ${JSON.stringify(right)}`);
    out.push(EX.cmp, CMP_EQ);
    pushBytes(out, Uint8Array.of(v));
  };
  if (left.meta) {
    if (op !== '==') unsupported('meta op');
    if (left.meta.key !== 'l4proto') unsupported(`meta ${String(left.meta.key)}`);
    out.push(EX.meta, META_L4PROTO);
    lookupOrCmp(L4PROTO, 1, KEY_TYPES.inet_proto!.id);
    return;
  }
  if (left.ct) {
    if (left.ct.key !== 'state' || op !== 'in' || !Array.isArray(right)) return unsupported('ct match');
    let mask = 0;
    for (const s of right as unknown[]) mask |= CT_STATE_BIT[String(s)] ?? unsupported(`ct state ${String(s)}`);
    out.push(EX.ct, CT_STATE, EX.bitwise);
    const mb = new Uint8Array(4);
    new DataView(mb.buffer).setUint32(0, mask, true); // ct state is host order (little endian here)
    pushBytes(out, mb);
    pushBytes(out, new Uint8Array(4), false);
    out.push(EX.cmp, CMP_NEQ);
    pushBytes(out, new Uint8Array(4));
    return;
  }
  if (Array.isArray((left as { concat?: unknown }).concat)) {
    // `ip saddr . ip daddr @c`: both fields of one family, into the registers nft allocates
    const fields = (left as unknown as { concat: { payload?: { protocol?: string; field?: string } }[] }).concat.map((f) => f.payload);
    const proto = fields[0]?.protocol;
    if (fields.length !== 2 || op !== '==' || (proto !== 'ip' && proto !== 'ip6') || typeof right !== 'string' || !right.startsWith('@')) return unsupported('concatenation');
    const at = ADDR_OFFSET[proto];
    const offsets = fields.map((f) => (f?.protocol === proto && (f.field === 'saddr' || f.field === 'daddr') ? at[f.field] : unsupported('concatenation field')));
    out.push(EX.meta, META_NFPROTO, EX.cmp, CMP_EQ);
    pushBytes(out, Uint8Array.of(NFPROTO[proto]));
    out.push(EX.payload, PAYLOAD_NETWORK, offsets[0]!, at.len);
    out.push(EX.payloadTo, PAYLOAD_NETWORK, offsets[1]!, at.len, SECOND_FIELD_REG[proto]);
    out.push(EX.lookup, w.str(right.slice(1)));
    return;
  }
  const p = left.payload as { protocol?: string; field?: string } | undefined;
  if (!p || op !== '==') return unsupported('match');
  if (p.protocol === 'ip' || p.protocol === 'ip6') {
    const at = ADDR_OFFSET[p.protocol];
    if (p.field !== 'saddr' && p.field !== 'daddr') return unsupported('address field');
    if (typeof right !== 'string' || !right.startsWith('@')) return unsupported('address match');
    out.push(EX.meta, META_NFPROTO, EX.cmp, CMP_EQ);
    pushBytes(out, Uint8Array.of(NFPROTO[p.protocol]));
    out.push(EX.payload, PAYLOAD_NETWORK, at[p.field], at.len, EX.lookup, w.str(right.slice(1)));
    return;
  }
  if (p.protocol === 'th') {
    if (p.field !== 'dport' && p.field !== 'sport') return unsupported('th field');
    out.push(EX.payload, PAYLOAD_TRANSPORT, p.field === 'sport' ? 0 : 2, 2);
    const be = (n: number): Uint8Array => Uint8Array.of((n >> 8) & 0xff, n & 0xff);
    if (typeof right === 'number') {
      out.push(EX.cmp, CMP_EQ);
      pushBytes(out, be(right));
      return;
    }
    const r = (right as { range?: unknown[] } | null)?.range;
    if (!Array.isArray(r) || typeof r[0] !== 'number' || typeof r[1] !== 'number') return unsupported('port match');
    out.push(EX.cmp, CMP_GTE);
    pushBytes(out, be(r[0]));
    out.push(EX.cmp, CMP_LTE);
    pushBytes(out, be(r[1]));
    return;
  }
  if (p.protocol === 'icmpv6' && p.field === 'type') {
    out.push(EX.payload, PAYLOAD_TRANSPORT, 0, 1);
    lookupOrCmp(ICMPV6_TYPE, 1, KEY_TYPES.icmpv6_type!.id);
    return;
  }
  unsupported(`payload ${String(p.protocol)} ${String(p.field)}`);
}

/** `len` bytes as the program's [len, words...] (withLen false: the words only, as bitwise's xor) */
function pushBytes(out: number[], b: Uint8Array, withLen = true): void {
  const padded = new Uint8Array(4 * Math.ceil(b.length / 4));
  padded.set(b);
  const dv = new DataView(padded.buffer);
  if (withLen) out.push(b.length);
  for (let i = 0; i < padded.length; i += 4) out.push(dv.getUint32(i, true));
}

function lowerRule(w: Writer, rule: Record<string, unknown>): void {
  const chain = rule.chain;
  const expr = rule.expr;
  if (typeof chain !== 'string' || !Array.isArray(expr)) return unsupported('rule');
  w.anonymous = [];
  const out: number[] = [];
  let count = 0;
  for (const e of expr as NftExpr[]) {
    const k = Object.keys(e);
    if (k.length !== 1) unsupported('expression');
    const kind = k[0]!;
    const v = e[kind] as Record<string, unknown> | null;
    count++;
    switch (kind) {
      case 'match': {
        const before = out.length;
        lowerMatch(w, v!, out);
        // a match is several native expressions: count them
        count += countExprs(out, before) - 1;
        break;
      }
      case 'counter':
        out.push(EX.counter);
        break;
      case 'accept':
      case 'drop':
        out.push(EX.verdict, VERDICT[kind], NONE);
        break;
      case 'goto':
      case 'jump': {
        const target = (v as { target?: unknown } | null)?.target;
        if (typeof target !== 'string') return unsupported('jump target');
        out.push(EX.verdict, VERDICT[kind], w.str(target));
        break;
      }
      case 'limit': {
        const l = v as { rate?: unknown; per?: unknown; burst?: unknown };
        if (typeof l.rate !== 'number' || l.per !== 'second' || typeof l.burst !== 'number') return unsupported('limit');
        out.push(EX.limit, l.rate, l.burst);
        break;
      }
      case 'log': {
        const l = v as { prefix?: unknown; group?: unknown };
        if (typeof l.prefix !== 'string' || typeof l.group !== 'number' || Object.keys(l).length !== 2) return unsupported('log');
        out.push(EX.log, w.str(l.prefix), l.group);
        break;
      }
      default:
        unsupported(`expression ${kind}`);
    }
  }
  for (const a of w.anonymous) {
    w.word(OP.setAdd, a.idx, a.keyType, a.keyLen, SET_ANONYMOUS | SET_CONSTANT);
    lowerElements(w, '__set%d', 'add', a.elems, { keyLen: a.keyLen, interval: false, ...(a.symbols ? { symbols: a.symbols } : {}) }, a.idx);
  }
  const comment = rule.comment;
  w.word(OP.rule, w.str(chain), typeof comment === 'string' ? w.str(comment) : NONE, count, ...out);
}

/** Number of native expressions in out[from..] (each starts with its code; operand counts per code). */
function countExprs(out: number[], from: number): number {
  let n = 0;
  for (let i = from; i < out.length; n++) {
    const code = out[i++]!;
    switch (code) {
      case EX.meta:
      case EX.ct:
      case EX.lookup:
        i += 1;
        break;
      case EX.payload:
        i += 3;
        break;
      case EX.payloadTo:
        i += 4;
        break;
      case EX.cmp:
        i += 1;
        i += 1 + Math.ceil(out[i]! / 4);
        break;
      case EX.bitwise: {
        const len = out[i]!;
        i += 1 + 2 * Math.ceil(len / 4);
        break;
      }
      default:
        throw new Error(`internal: expression code ${code} in a match`);
    }
  }
  return n;
}

function lowerCommand(w: Writer, c: NftCommand, sets: Map<string, SetInfo>): void {
  const verbs = Object.keys(c);
  if (verbs.length !== 1) unsupported('command');
  const verb = verbs[0]!;
  const body = c[verb] as Record<string, Record<string, unknown>>;
  const objs = Object.keys(body);
  if (objs.length !== 1) unsupported('command object');
  const kind = objs[0]!;
  const o = body[kind]!;
  const family = o.family;
  const table = kind === 'table' ? o.name : o.table;
  if (family !== FAMILY || table !== TABLE) unsupported('table');
  const name = o.name;
  switch (`${verb} ${kind}`) {
    case 'add table':
      return w.word(OP.tableAdd);
    case 'delete table':
      return w.word(OP.tableDel);
    case 'add chain': {
      if (typeof name !== 'string') return unsupported('chain name');
      if (o.hook === undefined) return w.word(OP.chainAdd, w.str(name), NONE, 0, 0);
      const hook = HOOK[o.hook as keyof typeof HOOK];
      if (hook === undefined || o.type !== 'filter' || typeof o.prio !== 'number' || (o.policy !== 'accept' && o.policy !== 'drop')) return unsupported('base chain');
      return w.word(OP.chainAdd, w.str(name), hook, o.prio, o.policy === 'accept' ? VERDICT.accept : VERDICT.drop);
    }
    case 'flush chain':
      return w.word(OP.chainFlush, w.str(String(name)));
    case 'delete chain':
      return w.word(OP.chainDel, w.str(String(name)));
    case 'add set': {
      if (Array.isArray(o.type)) {
        // a concatenation of two addresses (pairs.ts): `type ipv4_addr . ipv4_addr; flags timeout`
        const ts = (o.type as unknown[]).map((x) => KEY_TYPES[String(x)]);
        const flags = (o.flags as string[] | undefined) ?? [];
        if (typeof name !== 'string' || ts.length !== 2 || ts[0] !== ts[1] || (ts[0] !== KEY_TYPES.ipv4_addr && ts[0] !== KEY_TYPES.ipv6_addr)) return unsupported('concatenated set type');
        if (flags.length !== 1 || flags[0] !== 'timeout' || o.elem !== undefined || o.timeout !== undefined) return unsupported('concatenated set flags');
        const t = ts[0]!;
        const len = 2 * 4 * Math.ceil(t.len / 4);
        sets.set(name, { keyLen: len, interval: false, pair: true });
        return w.word(OP.setAdd, w.str(name), (t.id << TYPE_BITS) | t.id, len, SET_TIMEOUT);
      }
      const t = KEY_TYPES[String(o.type)];
      if (!t || typeof name !== 'string') return unsupported(`set type ${String(o.type)}`);
      const flags = (o.flags as string[] | undefined) ?? [];
      let f = 0;
      for (const fl of flags) f |= fl === 'interval' ? SET_INTERVAL : fl === 'timeout' ? SET_TIMEOUT : unsupported(`set flag ${fl}`);
      if ((f & SET_INTERVAL) !== 0 && t.len === 1) unsupported('interval set of symbols');
      if (o.elem !== undefined || o.timeout !== undefined) unsupported('set with inline elements or timeout');
      sets.set(name, { keyLen: t.len, interval: (f & SET_INTERVAL) !== 0 });
      return w.word(OP.setAdd, w.str(name), t.id, t.len, f);
    }
    case 'flush set':
      return w.word(OP.setFlush, w.str(String(name)));
    case 'delete set':
      sets.delete(String(name));
      return w.word(OP.setDel, w.str(String(name)));
    case 'add element':
    case 'delete element': {
      if (typeof name !== 'string' || !Array.isArray(o.elem)) return unsupported('element');
      return lowerElements(w, name, verb as 'add' | 'delete', o.elem as unknown[], sets.get(name), w.str(name));
    }
    case 'add rule':
      return lowerRule(w, o);
    default:
      unsupported(`${verb} ${kind}`);
  }
}

/**
 * The document as one table program, or undefined when any command is outside the subset (the
 * caller then runs the document through libnftables).
 */
export function lowerDocument(doc: NftDocument): TableProgram | undefined {
  const w = new Writer();
  const sets = new Map<string, SetInfo>();
  try {
    for (const c of doc.nftables) lowerCommand(w, c, sets);
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
  return w.program();
}

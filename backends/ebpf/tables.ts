/**
 * tables.ts: a RuleSet lowered to the eBPF maps' contents (one generation), as packed typed
 * arrays ready for the loader. Pure: no kernel, no I/O. The map layout is palisade_maps.h; this
 * file only produces its VALUES (the loader packs keys and structs in C++, from the header).
 *
 * The scheme is the aggregated bit-vector classifier (Lakshman & Stiliadis 1998, Baboescu &
 * Varghese 2001), specialised to Palisade's three dimensions per direction:
 *   address -> address class   every prefix of every set is inserted; the class of an address is
 *                              the set of address sets containing it (longest-prefix region), so
 *                              one LPM (or exact-hash) lookup answers both subject and peer
 *   (protocol, dstPort) -> port class   a flat table of 4 x 65536 entries (elementary intervals)
 *   (protocol, srcPort) -> port class   4 more tables of 65536 (S25 source ports), classes of the
 *                              same id space and DIM_PORT rows; all SPORT_ANY when no rule narrows
 *                              its source ports, and then the datapath ANDs three bitmaps, not four
 *   (dir, dimension, class) -> rule bitmap over the direction's first-match list, stored as a
 *                              64-bit chunk mask plus references to its non-zero 512-bit chunks;
 *                              equal chunks are stored once (a port class differs from its
 *                              neighbour in one rule, so most of its chunks repeat)
 * The datapath ANDs the three bitmaps chunk by chunk and takes the lowest set bit: the first
 * matching rule in the total order. Pass continues from `passTarget`.
 *
 * Invariants: class 0 is "member of no set" (its subject rows are empty, so a packet whose
 * subject is in class 0 needs no lookup beyond the class); rule bit r of direction d is the rule
 * with priority r; `firstRow` values are relative to the generation's row region.
 * Cost: O(prefixes x depth) for the trie walk, O(classes x sets-per-class x rules/32) for rows,
 * O(port boundaries x rules/32) for port classes. Build 10k rules: see bench/RESULTS.md.
 */
import type { Cidr, Family } from '../../src/model/ip.js';
import type { Direction, Protocol } from '../../src/model/types.js';
import type { SetId } from '../../src/resolve/set-def.js';
import type { Rule, RuleSet } from '../../src/rules/types.js';

// ---- constants mirrored from palisade_maps.h (checked against the addon's ebpfLayout() at load) --
export const MAX_RULES = 32768;
export const MAX_CLASSES = 65536;
export const ROWS_PER_GEN = 262144;
export const INDEX_PER_GEN = 1048576;
export const CHUNK_RULES = 512;
export const CHUNK_U32 = 16;
export const PORTS = 65536;
export const PROTO_CLASSES = 4; // TCP, UDP, SCTP, OTHER
/** destination-port tables (one per protocol class), then source-port tables */
export const PORT_TABLES = 2 * PROTO_CLASSES;
/** a source-port class: no rule of the generation narrows source ports (the row is not read) */
export const SPORT_ANY = 0xffff;
export const ACT_ALLOW = 1;
export const ACT_DENY = 2;
export const ACT_PASS = 3;
/** accept, rewritten to the rule's Redirect target (egress only; `BpfTables.redirects`) */
export const ACT_REDIRECT = 4;
export const TIER_CODE = { Admin: 0, NetworkPolicy: 1, Baseline: 2, Default: 3 } as const;
export const DIR_CODE: Record<Direction, number> = { ingress: 0, egress: 1 };
export const DIM_SUBJECT = 0;
export const DIM_PEER = 1;
export const DIM_PORT = 2;
const PROTO_INDEX: Record<Protocol, number> = { TCP: 0, UDP: 1, SCTP: 2 };
export const PROTO_OTHER = 3;

export interface AddressEntries {
  readonly families: Uint8Array;
  readonly prefixLens: Uint8Array;
  /** 16 bytes per entry, network order; IPv4 in the first 4 */
  readonly addrs: Uint8Array;
  readonly classIds: Uint32Array;
  /** per entry: the class once its expiry passed (= classIds[i] for an entry without expiry) */
  readonly expiredClassIds: Uint32Array;
  /** per entry: the expiry, ms since the epoch (NO_EXPIRY_MS = never; only host entries of `learned` sets have one) */
  readonly expiresAtMs: Float64Array;
}

/** An address entry that never expires. */
export const NO_EXPIRY_MS = Number.POSITIVE_INFINITY;

/** One (direction, dimension) of rule bitmaps: per class a chunk mask and its first index. */
export interface RowHeads {
  readonly masks: BigUint64Array;
  readonly firstIndexes: Uint32Array;
}

export interface DirectionVerdicts {
  readonly actions: Uint8Array;
  readonly tiers: Uint8Array;
  readonly passTargets: Uint32Array;
  readonly ruleIds: Uint32Array;
  /** the rules' stable ids, for counter slots and deny logs */
  readonly stableIds: readonly string[];
}

export interface BpfTables {
  readonly addresses: AddressEntries;
  readonly addrClassCount: number;
  /** PORT_TABLES x 65536: destination-port tables, then source-port tables */
  readonly portClasses: Uint32Array;
  readonly portClassCount: number;
  /** [dir][dim] */
  readonly heads: readonly (readonly RowHeads[])[];
  /** distinct chunks, CHUNK_U32 words each (little-endian u64 pairs) */
  readonly rows: Uint32Array;
  readonly rowCount: number;
  /** chunk references: row of each non-zero chunk, class after class */
  readonly index: Uint32Array;
  readonly indexCount: number;
  /** [dir] */
  readonly verdicts: readonly DirectionVerdicts[];
  /** the membership signature of each address class (sorted set ids), for incremental updates */
  readonly classSignatures: readonly string[];
  /** the egress Redirect rules' targets (S14), by rule position */
  readonly redirects: RedirectTargets;
}

/** Per egress Redirect rule: its position and per family the address and port packets are rewritten to. */
export interface RedirectTargets {
  readonly rules: Uint32Array;
  /** 32 bytes per rule: IPv4 (first 4 of 16), then IPv6; network order */
  readonly addrs: Uint8Array;
  /** 2 per rule: IPv4, IPv6 (host order) */
  readonly ports: Uint32Array;
  /** 2 per rule: has an IPv4 target, has an IPv6 target */
  readonly present: Uint8Array;
}

export type TablesProblem = { readonly code: string; readonly path: string; readonly message: string };

export interface TablesInput {
  readonly ruleSet: RuleSet;
  prefixesOf(set: SetId): readonly Cidr[];
  /** the expiry (ms since the epoch) of a host member of a `learned` set; NO_EXPIRY_MS (or absent) = never */
  expiresAtMs?(set: SetId, member: Cidr): number;
}

// ---- bitsets -------------------------------------------------------------------------------

const words32 = (bits: number): number => Math.max(CHUNK_U32, Math.ceil(bits / 512) * CHUNK_U32);

function orInto(dst: Uint32Array, src: Uint32Array): void {
  for (let i = 0; i < src.length; i++) dst[i]! |= src[i]!;
}

function setBit(b: Uint32Array, i: number): void {
  b[i >>> 5]! |= 1 << (i & 31);
}

/** Rule bitmaps as chunk references into a pool of distinct non-zero chunks. */
export class RowStore {
  private chunks: Uint32Array[] = [];
  private readonly byContent = new Map<string, number>();
  private refs: number[] = [];
  get count(): number {
    return this.chunks.length;
  }
  get indexCount(): number {
    return this.refs.length;
  }
  /** Add a bitmap; returns its chunk mask and the index of its first chunk reference. */
  add(bits: Uint32Array): { mask: bigint; firstIndex: number } {
    let mask = 0n;
    const first = this.refs.length;
    for (let c = 0; c * CHUNK_U32 < bits.length; c++) {
      const chunk = bits.subarray(c * CHUNK_U32, (c + 1) * CHUNK_U32);
      if (!chunk.some((w) => w !== 0)) continue;
      mask |= 1n << BigInt(c);
      const key = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
      let row = this.byContent.get(key);
      if (row === undefined) {
        row = this.chunks.length;
        this.byContent.set(key, row);
        this.chunks.push(chunk.slice());
      }
      this.refs.push(row);
    }
    return { mask, firstIndex: mask === 0n ? 0 : first };
  }
  pack(): { rows: Uint32Array; index: Uint32Array } {
    const rows = new Uint32Array(this.chunks.length * CHUNK_U32);
    this.chunks.forEach((c, i) => rows.set(c, i * CHUNK_U32));
    return { rows, index: Uint32Array.from(this.refs) };
  }
}

// ---- address classes -------------------------------------------------------------------------

interface PrefixNode {
  readonly cidr: Cidr;
  readonly owners: Set<SetId>;
}

export interface AddressClassing {
  /** prefix text -> the sets listing exactly that prefix */
  readonly prefixes: ReadonlyMap<string, PrefixNode>;
  /** per prefix text: its class */
  readonly classOf: ReadonlyMap<string, number>;
  /** class -> sorted set ids */
  readonly members: readonly (readonly SetId[])[];
  /** per host prefix with expiring owners: the class of its membership without them */
  readonly expiredClassOf: ReadonlyMap<string, number>;
}

const sigOf = (sets: Iterable<SetId>): string => [...sets].sort((a, b) => a - b).join(',');

/**
 * Classes of every inserted prefix: membership = union of the owners of every inserted prefix
 * that covers it (its ancestors and itself). The default routes are always inserted so that
 * every address finds a class.
 */
export function classifyAddresses(input: TablesInput, sets: Iterable<SetId>): AddressClassing {
  const expiring = input.expiresAtMs ?? (() => NO_EXPIRY_MS);
  const prefixes = new Map<string, PrefixNode>();
  const add = (c: Cidr, owner?: SetId): void => {
    let n = prefixes.get(c.text);
    if (!n) prefixes.set(c.text, (n = { cidr: c, owners: new Set() }));
    if (owner !== undefined) n.owners.add(owner);
  };
  add({ family: 4, base: 0n, prefixLen: 0, text: '0.0.0.0/0' });
  add({ family: 6, base: 0n, prefixLen: 0, text: '::/0' });
  for (const s of sets) for (const c of input.prefixesOf(s)) add(c, s);

  // Sort by (family, base, prefixLen): a prefix's ancestors come before it, and a stack walk
  // keeps exactly the chain of inserted prefixes covering the current one.
  const ordered = [...prefixes.values()].sort(
    (a, b) => a.cidr.family - b.cidr.family || (a.cidr.base < b.cidr.base ? -1 : a.cidr.base > b.cidr.base ? 1 : 0) || a.cidr.prefixLen - b.cidr.prefixLen,
  );
  const classOf = new Map<string, number>();
  const expiredClassOf = new Map<string, number>();
  const bySig = new Map<string, number>([['', 0]]);
  const members: SetId[][] = [[]];
  const stack: { node: PrefixNode; sets: Set<SetId> }[] = [];
  for (const node of ordered) {
    while (stack.length > 0 && !covers(stack[stack.length - 1]!.node.cidr, node.cidr)) stack.pop();
    const inherited = stack.length > 0 ? stack[stack.length - 1]!.sets : new Set<SetId>();
    const mine = new Set(inherited);
    for (const o of node.owners) mine.add(o);
    stack.push({ node, sets: mine });
    const sig = sigOf(mine);
    let cls = bySig.get(sig);
    if (cls === undefined) {
      cls = members.length;
      bySig.set(sig, cls);
      members.push([...mine].sort((a, b) => a - b));
    }
    classOf.set(node.cidr.text, cls);
    // a member whose own listing expires (a learned address) lapses to the rest of its membership
    const host = node.cidr.prefixLen === (node.cidr.family === 4 ? 32 : 128);
    const lapsing = host ? [...node.owners].filter((o) => expiring(o, node.cidr) !== NO_EXPIRY_MS) : [];
    if (lapsing.length > 0) {
      const rest = [...mine].filter((o) => !lapsing.includes(o)).sort((a, b) => a - b);
      const restSig = rest.join(',');
      let ec = bySig.get(restSig);
      if (ec === undefined) {
        ec = members.length;
        bySig.set(restSig, ec);
        members.push(rest);
      }
      expiredClassOf.set(node.cidr.text, ec);
    }
  }
  return { prefixes, classOf, members, expiredClassOf };
}

function covers(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family || inner.prefixLen < outer.prefixLen) return false;
  const bits = outer.family === 4 ? 32 : 128;
  const shift = BigInt(bits - outer.prefixLen);
  return outer.prefixLen === 0 || inner.base >> shift === outer.base >> shift;
}

export function addrBytes(family: Family, value: bigint): Uint8Array {
  const out = new Uint8Array(16);
  const n = family === 4 ? 4 : 16;
  for (let i = n - 1, v = value; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

// ---- the whole generation ---------------------------------------------------------------------

export function buildTables(input: TablesInput): { tables?: BpfTables; problems: TablesProblem[] } {
  const problems: TablesProblem[] = [];
  const rs = input.ruleSet;
  const dirs: Direction[] = ['ingress', 'egress'];
  for (const d of dirs) {
    const n = rs[d].rules.length;
    if (n > MAX_RULES)
      problems.push({ code: 'ebpf.too-many-rules', path: d, message: `${n} ${d} rules; the eBPF maps hold at most ${MAX_RULES} per direction` });
  }
  if (problems.length) return { problems };
  const narrowsSource = rs.rules.some((r) => r.srcPorts.lo !== 0 || r.srcPorts.hi !== PORTS - 1);

  const usedSets = new Set<SetId>();
  for (const r of rs.rules) {
    usedSets.add(r.subject);
    if (r.peer !== null) usedSets.add(r.peer);
  }
  const ac = classifyAddresses(input, usedSets);
  if (ac.members.length > MAX_CLASSES)
    return { problems: [{ code: 'ebpf.too-many-classes', path: '', message: `${ac.members.length} address classes; at most ${MAX_CLASSES}` }] };

  // address entries
  const n = ac.prefixes.size;
  const addresses: AddressEntries = {
    families: new Uint8Array(n),
    prefixLens: new Uint8Array(n),
    addrs: new Uint8Array(n * 16),
    classIds: new Uint32Array(n),
    expiredClassIds: new Uint32Array(n),
    expiresAtMs: new Float64Array(n).fill(NO_EXPIRY_MS),
  };
  const expiring = input.expiresAtMs ?? (() => NO_EXPIRY_MS);
  let i = 0;
  for (const [text, node] of ac.prefixes) {
    addresses.families[i] = node.cidr.family;
    addresses.prefixLens[i] = node.cidr.prefixLen;
    addresses.addrs.set(addrBytes(node.cidr.family, node.cidr.base), i * 16);
    addresses.classIds[i] = ac.classOf.get(text)!;
    const ec = ac.expiredClassOf.get(text);
    addresses.expiredClassIds[i] = ec ?? addresses.classIds[i]!;
    // the latest expiry of the listings that lapse (docs/fqdn.md §6: the learner retracts each
    // earlier one itself; the kernel's expiry is the bound when it does not)
    if (ec !== undefined) addresses.expiresAtMs[i] = Math.max(...[...node.owners].map((o) => expiring(o, node.cidr)).filter((t) => t !== NO_EXPIRY_MS));
    i++;
  }

  const rows = new RowStore();
  const heads: RowHeads[][] = [];
  const verdicts: DirectionVerdicts[] = [];

  // port classes: signature over both directions' rule bitmaps, per port table (protocol class,
  // destination or source port); one class id space for both kinds of table
  const portClasses = new Uint32Array(PORT_TABLES * PORTS);
  const portBits: Uint32Array[][] = [[], []]; // [dir][portClass]
  const portSig = new Map<string, number>();
  for (let table = 0; table < PORT_TABLES; table++) {
    const pc = table % PROTO_CLASSES;
    const source = table >= PROTO_CLASSES;
    if (source && !narrowsSource) {
      portClasses.fill(SPORT_ANY, table * PORTS, (table + 1) * PORTS);
      continue;
    }
    // sweep over port boundaries: at `lo` a rule's bit turns on, at `hi + 1` it turns off
    const cur = dirs.map((d) => new Uint32Array(words32(rs[d].rules.length)));
    const events = new Map<number, { di: number; bit: number }[]>();
    const at = (port: number, e: { di: number; bit: number }): void => {
      let l = events.get(port);
      if (!l) events.set(port, (l = []));
      l.push(e);
    };
    dirs.forEach((d, di) => {
      for (const r of rs[d].rules) {
        if (!protoMatches(r, pc)) continue;
        const range = source ? r.srcPorts : r.dstPorts;
        const lo = pc === PROTO_OTHER ? 0 : range.lo;
        const hi = pc === PROTO_OTHER ? PORTS - 1 : range.hi;
        at(lo, { di, bit: r.priority });
        if (hi + 1 < PORTS) at(hi + 1, { di, bit: r.priority });
      }
    });
    const bounds = [...new Set([0, ...events.keys()])].sort((x, y) => x - y);
    for (let k = 0; k < bounds.length; k++) {
      const lo = bounds[k]!;
      const end = k + 1 < bounds.length ? bounds[k + 1]! : PORTS;
      for (const e of events.get(lo) ?? []) cur[e.di]![e.bit >>> 5]! ^= 1 << (e.bit & 31);
      if (pc === PROTO_OTHER && lo > 0) break; // OTHER only uses port 0
      const sig = cur.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64')).join('|');
      let cls = portSig.get(sig);
      if (cls === undefined) {
        cls = portSig.size;
        portSig.set(sig, cls);
        portBits[0]!.push(cur[0]!.slice());
        portBits[1]!.push(cur[1]!.slice());
      }
      portClasses.fill(cls, table * PORTS + lo, table * PORTS + (pc === PROTO_OTHER ? 1 : end));
    }
  }
  // class ids must stay below SPORT_ANY (the datapath packs two 16-bit port classes in one word)
  if (portSig.size > SPORT_ANY)
    return { problems: [{ code: 'ebpf.too-many-port-classes', path: '', message: `${portSig.size} port classes; at most ${SPORT_ANY}` }] };

  for (const d of dirs) {
    const di = DIR_CODE[d];
    const rules = rs[d].rules;
    const W = words32(rules.length);
    // per set: the rules having it as subject / as peer
    const subjectOf = new Map<SetId, Uint32Array>();
    const peerOf = new Map<SetId, Uint32Array>();
    const anyPeer = new Uint32Array(W);
    for (const r of rules) {
      let b = subjectOf.get(r.subject);
      if (!b) subjectOf.set(r.subject, (b = new Uint32Array(W)));
      setBit(b, r.priority);
      if (r.peer === null) setBit(anyPeer, r.priority);
      else {
        let p = peerOf.get(r.peer);
        if (!p) peerOf.set(r.peer, (p = new Uint32Array(W)));
        setBit(p, r.priority);
      }
    }
    const dimHeads: RowHeads[] = [];
    for (const dim of [DIM_SUBJECT, DIM_PEER]) {
      const masks = new BigUint64Array(ac.members.length);
      const firstIndexes = new Uint32Array(ac.members.length);
      ac.members.forEach((sets, cls) => {
        const b = dim === DIM_PEER ? anyPeer.slice() : new Uint32Array(W);
        for (const s of sets) {
          const src = (dim === DIM_SUBJECT ? subjectOf : peerOf).get(s);
          if (src) orInto(b, src);
        }
        const h = rows.add(b);
        masks[cls] = h.mask;
        firstIndexes[cls] = h.firstIndex;
      });
      dimHeads[dim] = { masks, firstIndexes };
    }
    {
      const pcs = portBits[di]!;
      const masks = new BigUint64Array(pcs.length);
      const firstIndexes = new Uint32Array(pcs.length);
      pcs.forEach((b, cls) => {
        const h = rows.add(b);
        masks[cls] = h.mask;
        firstIndexes[cls] = h.firstIndex;
      });
      dimHeads[DIM_PORT] = { masks, firstIndexes };
    }
    heads[di] = dimHeads;

    const ts = rs[d].tierStart;
    const v: DirectionVerdicts = {
      actions: new Uint8Array(rules.length),
      tiers: new Uint8Array(rules.length),
      passTargets: new Uint32Array(rules.length),
      ruleIds: new Uint32Array(rules.length),
      stableIds: rules.map((r) => r.origin.stableId),
    };
    for (const r of rules) {
      const p = r.priority;
      v.actions[p] = r.action === 'pass' ? ACT_PASS : r.action === 'deny' || r.action === 'isolation-deny' ? ACT_DENY : r.redirect && d === 'egress' ? ACT_REDIRECT : ACT_ALLOW;
      v.tiers[p] = TIER_CODE[r.tier];
      v.passTargets[p] = r.tier === 'Admin' ? ts.NetworkPolicy : ts.end;
      v.ruleIds[p] = r.id;
    }
    verdicts[di] = v;
  }
  if (rows.count > ROWS_PER_GEN)
    return { problems: [{ code: 'ebpf.too-many-rows', path: '', message: `${rows.count} distinct bitmap chunks; at most ${ROWS_PER_GEN}` }] };
  if (rows.indexCount > INDEX_PER_GEN)
    return { problems: [{ code: 'ebpf.too-many-chunk-references', path: '', message: `${rows.indexCount} bitmap chunk references; at most ${INDEX_PER_GEN}` }] };
  const packed = rows.pack();

  return {
    tables: {
      addresses,
      addrClassCount: ac.members.length,
      portClasses,
      portClassCount: portSig.size,
      heads,
      rows: packed.rows,
      rowCount: rows.count,
      index: packed.index,
      indexCount: rows.indexCount,
      verdicts,
      classSignatures: ac.members.map((m) => sigOf(m)),
      redirects: redirectTargets(rs.egress.rules),
    },
    problems,
  };
}

/**
 * The targets of the egress Redirect rules (docs/extension-semantics.md, Redirect): per family the
 * endpoint (as nftables' DNAT), or the ClusterIP and Service port where the Service has no
 * endpoint. A family without a target stays absent: the datapath denies such a flow (fail closed).
 */
export function redirectTargets(rules: readonly Rule[]): RedirectTargets {
  const withTarget = rules.filter((r) => r.redirect !== undefined);
  const n = withTarget.length;
  const out = { rules: new Uint32Array(n), addrs: new Uint8Array(n * 32), ports: new Uint32Array(n * 2), present: new Uint8Array(n * 2) };
  withTarget.forEach((r, i) => {
    out.rules[i] = r.priority;
    ([4, 6] as const).forEach((family, f) => {
      const t = family === 4 ? r.redirect!.v4 : r.redirect!.v6;
      if (!t) return;
      const to = t.endpoint ?? { ip: t.clusterIP, port: t.port };
      out.addrs.set(addrBytes(to.ip.family, to.ip.value), i * 32 + f * 16);
      out.ports[i * 2 + f] = to.port;
      out.present[i * 2 + f] = 1;
    });
  });
  return out;
}

function protoMatches(r: Rule, pc: number): boolean {
  if (r.protocol === null) return true;
  return pc !== PROTO_OTHER && PROTO_INDEX[r.protocol] === pc;
}

/**
 * Rule bitmaps [dir][dim] (subject, peer) of an address class with the given set membership:
 * what pod churn needs to add one class in place. Cost: O(rules) per call.
 */
export function classBitmaps(rs: RuleSet, members: readonly SetId[]): Uint32Array[][] {
  const m = new Set(members);
  return (['ingress', 'egress'] as const).map((d) => {
    const W = words32(rs[d].rules.length);
    const subject = new Uint32Array(W);
    const peer = new Uint32Array(W);
    for (const r of rs[d].rules) {
      if (m.has(r.subject)) setBit(subject, r.priority);
      if (r.peer === null || m.has(r.peer)) setBit(peer, r.priority);
    }
    const out: Uint32Array[] = [];
    out[DIM_SUBJECT] = subject;
    out[DIM_PEER] = peer;
    return out;
  });
}

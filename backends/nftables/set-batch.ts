/**
 * Set-element batches: set-membership deltas -> the packed form the netlink path takes
 * (backends/nftables/native/setelem.h via `nftSetElements`): per element an op (0 delete, 1 add,
 * 2 destroy), a set-name index, a family, 16 address bytes and a timeout (ms, 0 = none). Never
 * text: addresses go as bytes from Cidr.base, set names are the renderer's (render.ts setName),
 * never user strings.
 *
 * Timed sets (`learned` sets, docs/fqdn.md §6; render.ts `timed`): an add carries the member's
 * remaining life (`expiresAtMs - nowMs`, at least 1 ms, at most 2^32-1 ms); a delete is a
 * destroy (the kernel may have timed the element out already); a retimed member is a destroy and
 * an add with its new timeout in the same batch (no kernel element timeout update needed, and
 * the batch is atomic: no packet sees it absent).
 *
 * Pair sets (pairs.ts, render.ts `c<k>v4`): a change of a folded rule's subject or learned set
 * is the pair elements it touches (pairs.ts pairDeltas): destroys, then adds with the pair's
 * timeout; a pair's key is its two addresses (family 44 / 66 in the batch, 8 / 32 bytes; a batch
 * with an IPv6 pair has 32-byte address slots).
 *
 * Invariants: deletes before adds (the same order as render.ts renderSetDeltas, so a member that
 * leaves and re-enters a set in one change ends present); only plain (non-interval) sets with host
 * members: `packSetDeltas` returns undefined when any touched set is an interval set (or, which
 * the compiler never produces, a plain set gets a non-host member), and the caller then sends the
 * whole change through libnftables instead: one transaction either way.
 * Pure. Cost: O(changed members).
 */
import type { Cidr } from '../../src/model/ip.js';
import { isEmptyDelta, type SetDelta, type SetId } from '../../src/resolve/index.js';
import { isHost } from './elements.js';
import { setName } from './render.js';
import { pairSetName, type PairChange } from './pairs.js';

export interface SetElementBatch {
  /** set names in table inet palisade */
  readonly sets: readonly string[];
  /** per element: 0 delete, 1 add */
  readonly ops: Uint8Array;
  /** per element: index into `sets` */
  readonly setIndex: Uint32Array;
  /** per element: 4 or 6; 44 or 66 for an address pair (the subject's address, then the peer's) */
  readonly family: Uint8Array;
  /** 16 bytes per element (32 when any element is an IPv6 pair), the key at its start */
  readonly addrs: Uint8Array;
  /** per element: timeout in ms for an add to a timed set, 0 = none */
  readonly timeoutMs: Uint32Array;
}

interface Entry {
  readonly op: 0 | 1 | 2;
  readonly set: string;
  readonly cidr: Cidr;
  /** a pair's second address (the peer) */
  readonly peer?: Cidr;
  readonly timeoutMs?: number;
}

/** The kernel timeout (ms) of an element that expires at `expiresAtMs`; 0 = none (never expires). */
export function timeoutMsOf(expiresAtMs: number | undefined, nowMs: number): number {
  if (expiresAtMs === undefined || !Number.isFinite(expiresAtMs)) return 0;
  return Math.min(0xffffffff, Math.max(1, Math.ceil(expiresAtMs - nowMs)));
}

function pack(entries: readonly Entry[]): SetElementBatch {
  const names: string[] = [];
  const index = new Map<string, number>();
  const n = entries.length;
  const stride = entries.some((e) => e.peer !== undefined && e.cidr.family === 6) ? 32 : 16;
  const batch = { sets: names, ops: new Uint8Array(n), setIndex: new Uint32Array(n), family: new Uint8Array(n), addrs: new Uint8Array(stride * n), timeoutMs: new Uint32Array(n) };
  entries.forEach((e, i) => {
    let k = index.get(e.set);
    if (k === undefined) {
      k = names.push(e.set) - 1;
      index.set(e.set, k);
    }
    batch.ops[i] = e.op;
    batch.setIndex[i] = k;
    batch.family[i] = e.peer !== undefined ? e.cidr.family * 11 : e.cidr.family;
    batch.timeoutMs[i] = e.timeoutMs ?? 0;
    const bytes = e.cidr.family === 4 ? 4 : 16;
    const put = (c: Cidr, at: number): void => {
      let v = c.base;
      for (let b = bytes - 1; b >= 0; b--) {
        batch.addrs[at + b] = Number(v & 0xffn);
        v >>= 8n;
      }
    };
    put(e.cidr, stride * i);
    if (e.peer !== undefined) put(e.peer, stride * i + bytes);
  });
  return batch;
}

/** The deltas of sets in the table as one batch (deletes, then adds); undefined when it must go through libnftables. */
export function packSetDeltas(
  deltas: readonly SetDelta[],
  inTable: ReadonlySet<SetId>,
  interval: (id: SetId) => boolean,
  timed: (id: SetId) => boolean = () => false,
  nowMs: number = Date.now(),
  pairs: readonly PairChange[] = [],
): SetElementBatch | undefined {
  const dels: Entry[] = [];
  const adds: Entry[] = [];
  for (const p of pairs) {
    const e = p.element;
    if (!isHost(e.subject) || !isHost(e.peer)) return undefined;
    const set = pairSetName(p.set, e.subject.family);
    if (p.op === 'destroy') dels.push({ op: 2, set, cidr: e.subject, peer: e.peer });
    else adds.push({ op: 1, set, cidr: e.subject, peer: e.peer, timeoutMs: timeoutMsOf(e.expiresAtMs, nowMs) });
  }
  for (const d of deltas) {
    if (!inTable.has(d.set) || isEmptyDelta(d)) continue;
    if (interval(d.set)) return undefined;
    const t = timed(d.set);
    for (const c of d.removed) {
      if (!isHost(c)) return undefined;
      dels.push({ op: t ? 2 : 0, set: setName(d.set, c.family, false, t), cidr: c });
    }
    d.added.forEach((c, i) => {
      adds.push({ op: 1, set: setName(d.set, c.family, false, t), cidr: c, ...(t ? { timeoutMs: timeoutMsOf(d.addedExpiresAtMs?.[i], nowMs) } : {}) });
    });
    if (!t) continue;
    for (const r of d.retimed ?? []) {
      const set = setName(d.set, r.cidr.family, false, true);
      dels.push({ op: 2, set, cidr: r.cidr });
      adds.push({ op: 1, set, cidr: r.cidr, timeoutMs: timeoutMsOf(r.expiresAtMs, nowMs) });
    }
  }
  if (adds.some((e) => !isHost(e.cidr))) return undefined;
  // (pair entries were checked above)
  return pack([...dels, ...adds]);
}

/** `batch` with one more element at its end (failure injection in tests: a delete the kernel must refuse). */
export function withElement(batch: SetElementBatch, op: 'add' | 'delete', set: string, cidr: Cidr): SetElementBatch {
  const entries: Entry[] = [];
  const stride = batch.ops.length > 0 ? batch.addrs.length / batch.ops.length : 16;
  for (let i = 0; i < batch.ops.length; i++) {
    const code = batch.family[i]!;
    const family = (code > 6 ? code / 11 : code) as 4 | 6;
    const bytes = family === 4 ? 4 : 16;
    const read = (at: number): Cidr => {
      let base = 0n;
      for (let b = 0; b < bytes; b++) base = (base << 8n) | BigInt(batch.addrs[at + b]!);
      return { family, base, prefixLen: bytes * 8, text: '' };
    };
    const pair = code > 6 ? { peer: read(stride * i + bytes) } : {};
    entries.push({ op: batch.ops[i] as 0 | 1 | 2, set: batch.sets[batch.setIndex[i]!]!, cidr: read(stride * i), ...pair, timeoutMs: batch.timeoutMs[i]! });
  }
  entries.push({ op: op === 'add' ? 1 : 0, set, cidr });
  return pack(entries);
}

/** Number of elements in a batch. */
export const batchSize = (b: SetElementBatch): number => b.ops.length;

/**
 * The `reference` engine: a linear first-match scan over ClassBench rules in TypeScript. It is the
 * oracle the native engines are checked against (every fast path has an oracle), so it is kept obviously right:
 * rules in priority order, every field compared, the first hit wins.
 * Cost: O(rules) per header, no allocation. Pure.
 */
import type { ClassBenchRules } from './files.js';

/** Index of the first rule matching the header, or -1. */
export function firstMatch(r: ClassBenchRules, src: number, dst: number, sport: number, dport: number, proto: number): number {
  for (let i = 0; i < r.count; i++) {
    const sl = r.srcLen[i]!;
    const dl = r.dstLen[i]!;
    // compare the top `len` bits; a shift by 32 is a no-op in JS, hence the len === 0 case
    if (sl !== 0 && (src ^ r.src[i]!) >>> (32 - sl) !== 0) continue;
    if (dl !== 0 && (dst ^ r.dst[i]!) >>> (32 - dl) !== 0) continue;
    if (sport < r.sportLo[i]! || sport > r.sportHi[i]!) continue;
    if (dport < r.dportLo[i]! || dport > r.dportHi[i]!) continue;
    if (((proto ^ r.proto[i]!) & r.protoMask[i]!) !== 0) continue;
    return i;
  }
  return -1;
}

/** Classifies every header of a packed trace (4 words per header) into `out`. */
export function classifyLinear(r: ClassBenchRules, headers: Uint32Array, out: Int32Array): void {
  const n = headers.length >>> 2;
  for (let i = 0; i < n; i++) {
    const o = i << 2;
    const ports = headers[o + 2]!;
    out[i] = firstMatch(r, headers[o]!, headers[o + 1]!, ports >>> 16, ports & 0xffff, headers[o + 3]!);
  }
}

/** Bytes the reference engine holds per rule (its typed arrays). */
export const referenceBytesPerRule = (): number => 4 + 1 + 4 + 1 + 2 * 4 + 1 + 1;

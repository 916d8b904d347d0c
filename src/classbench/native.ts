/**
 * ClassBench rules -> the native classifier's packed rule layout (src/native/binding.ts).
 * Rule i has priority i and rule id i, so the native answer is directly the ClassBench index.
 * Pure; writes straight into the wire array (no object per rule).
 */
import { RULE_KIND, RULE_WORDS } from '../native/binding.js';
import type { ClassBenchRules } from './files.js';

export function packClassBenchRules(r: ClassBenchRules): Uint32Array {
  const w = new Uint32Array(r.count * RULE_WORDS);
  for (let i = 0; i < r.count; i++) {
    const o = i * RULE_WORDS;
    w[o] = RULE_KIND.prefix4; // action 0
    w[o + 1] = i;
    w[o + 2] = i;
    w[o + 3] = r.srcLen[i]! | (r.dstLen[i]! << 8);
    w[o + 4] = r.src[i]!;
    w[o + 8] = r.dst[i]!;
    w[o + 12] = (r.sportLo[i]! | (r.sportHi[i]! << 16)) >>> 0;
    w[o + 13] = (r.dportLo[i]! | (r.dportHi[i]! << 16)) >>> 0;
    w[o + 14] = r.proto[i]! | (r.protoMask[i]! << 8);
  }
  return w;
}

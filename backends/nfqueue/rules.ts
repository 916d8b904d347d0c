/**
 * Packs LinearRuleTable rules (backends/nfqueue/native/rule_table.h) for NfqLoop.publishRules.
 * First match wins; this is the loop's test policy and oracle, not the production classifier.
 * Pure; addresses are parsed with the model's parser.
 */
import { parseCidr } from '../../src/model/ip.js';

export const RULE_BYTES = 48;

export interface LinearRule {
  /** 0 any (then both prefixes must be absent), 4 or 6 */
  readonly family?: 0 | 4 | 6;
  /** IP protocol number, 0 any */
  readonly proto?: number;
  readonly src?: string;
  readonly dst?: string;
  /** inclusive; absent: every port (and every protocol, with or without ports) */
  readonly dstPortLo?: number;
  readonly dstPortHi?: number;
  readonly action: 'allow' | 'deny';
  readonly direction?: 'egress' | 'ingress';
  readonly ruleId: number;
}

function putPrefix(out: Uint8Array, at: number, text: string | undefined, family: number): number {
  if (text === undefined) return 0;
  const c = parseCidr(text.includes('/') ? text : `${text}/${family === 6 ? 128 : 32}`);
  if (!c || c.family !== family) throw new Error(`bad prefix for family ${family}: ${text}`);
  const bytes = c.family === 4 ? 4 : 16;
  let v = c.base;
  for (let i = bytes - 1; i >= 0; i--) {
    out[at + i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return c.prefixLen;
}

export function packRules(rules: readonly LinearRule[]): Uint8Array {
  const out = new Uint8Array(rules.length * RULE_BYTES);
  const view = new DataView(out.buffer);
  rules.forEach((r, i) => {
    const at = i * RULE_BYTES;
    const family = r.family ?? 0;
    out[at] = family;
    out[at + 1] = r.proto ?? 0;
    out[at + 2] = putPrefix(out, at + 16, r.src, family);
    out[at + 3] = putPrefix(out, at + 32, r.dst, family);
    view.setUint16(at + 4, r.dstPortLo ?? 0, true);
    view.setUint16(at + 6, r.dstPortHi ?? (r.dstPortLo ?? 65535), true);
    out[at + 8] = r.action === 'allow' ? 1 : 0;
    out[at + 9] = r.direction === undefined ? 2 : r.direction === 'egress' ? 0 : 1;
    view.setUint32(at + 12, r.ruleId, true);
  });
  return out;
}

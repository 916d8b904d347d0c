/**
 * Decodes the loop's packed deny records (layout in backends/nfqueue/native/loop.h, kDenyRecordBytes
 * each, little-endian) into plain values. Pure; one object per denied packet, built only when JS
 * asked for deny logs.
 */
import { formatIpBytes } from './addr.js';

export const DENY_RECORD_BYTES = 64;
export const NO_RULE_ID = 0xffffffff;

export type DenyReason = 'policy' | 'unclassifiable' | 'no-policy' | 'strict-cut';
const REASONS: readonly DenyReason[] = ['policy', 'unclassifiable', 'no-policy', 'strict-cut'];

export interface RawDeny {
  /** wall-clock time the loop saw the packet, ms since the epoch */
  readonly timeMs: number;
  readonly family: 4 | 6;
  readonly proto: number;
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly icmpType: number;
  readonly direction: 'egress' | 'ingress' | undefined;
  readonly reason: DenyReason;
  /** deciding rule id, undefined for a default decision */
  readonly ruleId: number | undefined;
  readonly queue: number;
  /** index into nfqConstants.parseStatus */
  readonly parseStatus: number;
  readonly snapshotVersion: number;
}

export function decodeDenyRecords(buf: Uint8Array): RawDeny[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: RawDeny[] = [];
  for (let at = 0; at + DENY_RECORD_BYTES <= buf.byteLength; at += DENY_RECORD_BYTES) {
    const family = buf[at + 8] === 6 ? 6 : 4;
    const dir = buf[at + 10];
    const ruleId = view.getUint32(at + 16, true);
    out.push({
      timeMs: Number(view.getBigUint64(at, true) / 1_000_000n),
      family,
      proto: buf[at + 9]!,
      direction: dir === 0 ? 'egress' : dir === 1 ? 'ingress' : undefined,
      reason: REASONS[buf[at + 11]!] ?? 'policy',
      srcPort: view.getUint16(at + 12, true),
      dstPort: view.getUint16(at + 14, true),
      ruleId: ruleId === NO_RULE_ID ? undefined : ruleId,
      queue: view.getUint16(at + 20, true),
      icmpType: buf[at + 22]!,
      parseStatus: buf[at + 23]!,
      src: formatIpBytes(buf.subarray(at + 24, at + 40), family),
      dst: formatIpBytes(buf.subarray(at + 40, at + 56), family),
      snapshotVersion: Number(view.getBigUint64(at + 56, true)),
    });
  }
  return out;
}

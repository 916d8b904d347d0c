/**
 * Decodes the loop's packed deny records (layout in backends/nfqueue/native/loop.h, kDenyRecordBytes
 * each, little-endian) into plain values. Pure; one object per denied packet. backend.ts turns them
 * into the contract's RawDenyEvent (with the deciding Rule of the snapshot that decided).
 */
import type { RawDenyEvent } from '../../src/enforce/backend.js';
import type { DenyReason } from '../../src/enforce/deny-record.js';
import type { RuleSet } from '../../src/rules/types.js';
import { formatIpBytes } from './addr.js';

export const DENY_RECORD_BYTES = 64;
export const NO_RULE_ID = 0xffffffff;

/** DenyReason in loop.h */
export type LoopDenyReason = 'policy' | 'unclassifiable' | 'no-policy' | 'strict-cut' | 'observed';
const REASONS: readonly LoopDenyReason[] = ['policy', 'unclassifiable', 'no-policy', 'strict-cut', 'observed'];

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
  readonly reason: LoopDenyReason;
  /** deciding rule id, undefined for a default decision */
  readonly ruleId: number | undefined;
  readonly queue: number;
  /** index into nfqConstants.parseStatus (ParseStatus in packet.h) */
  readonly parseStatus: number;
  /** the snapshot that decided (the version publishEngine/editMembership returned) */
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

/**
 * One decoded record -> the contract's RawDenyEvent. `ruleSetOf(version)` is the rule set the
 * snapshot of that version was built from (rule ids index its `rules`); `parseStatus` the
 * native parse status names (nfqConstants.parseStatus). Pure.
 */
export function denyEvent(d: RawDeny, ruleSetOf: (snapshotVersion: number) => RuleSet | undefined, parseStatus: readonly string[]): RawDenyEvent {
  const rule = d.reason === 'policy' && d.ruleId !== undefined ? ruleSetOf(d.snapshotVersion)?.rules[d.ruleId] : undefined;
  return {
    timeMs: d.timeMs,
    family: d.family,
    proto: d.proto,
    src: d.src,
    dst: d.dst,
    srcPort: d.srcPort,
    dstPort: d.dstPort,
    ...(d.direction !== undefined ? { direction: d.direction } : {}),
    ...(rule ? { rule } : {}),
    reason: reason(d, parseStatus),
  };
}

function reason(d: RawDeny, parseStatus: readonly string[]): DenyReason {
  switch (d.reason) {
    case 'policy':
    case 'no-policy':
    case 'strict-cut':
      return d.reason;
    case 'observed': // not a drop: backend.ts turns these into RawFlowEvents before they get here
      return 'policy';
    case 'unclassifiable':
      return parseStatus[d.parseStatus] === 'non-first-fragment' ? 'unknown-fragment' : 'malformed-packet';
  }
}

/**
 * Flows as typed arrays: the batch layout every classifier reads (no JS object per
 * packet). It is the native classifier's wire layout (addon/classifier/classifier.h):
 *
 *   IPv4: 4 words per flow  [src, dst, srcPort << 16 | dstPort, protocol]
 *   IPv6: 10 words per flow [src0..src3, dst0..dst3, srcPort << 16 | dstPort, protocol]
 *
 * Words are host-order u32; addresses most significant word first (`10.0.0.1` is 0x0A000001;
 * src0 of `fd00::1` is 0xFD000000). Protocol is the IANA number (TCP 6, UDP 17, SCTP 132).
 * One batch holds one address family. Pure helpers.
 */
import { formatV4, formatV6, type Family, type IpAddr } from '../model/ip.js';
import type { Protocol } from '../model/types.js';
import { InvalidFlowError, type Flow } from '../model/flow.js';

export interface FlowBatch {
  readonly family: Family;
  /** number of flows */
  readonly count: number;
  /** 4 (IPv4) or 10 (IPv6) words per flow */
  readonly words: Uint32Array;
}

export const WORDS_PER_FLOW: Record<Family, number> = { 4: 4, 6: 10 };

export const PROTOCOL_NUMBER: Record<Protocol, number> = { TCP: 6, UDP: 17, SCTP: 132 };
export const PROTOCOL_OF_NUMBER: ReadonlyMap<number, Protocol> = new Map([
  [6, 'TCP'],
  [17, 'UDP'],
  [132, 'SCTP'],
]);

/** Encode flows of one family (throws ERR_PALISADE_INVALID_FLOW on a flow of the other family). */
export function encodeFlows(family: Family, flows: readonly Flow[]): FlowBatch {
  const w = WORDS_PER_FLOW[family];
  const words = new Uint32Array(flows.length * w);
  flows.forEach((f, i) => {
    if (f.src.family !== family || f.dst.family !== family) throw new InvalidFlowError(`flow ${i} is not IPv${family}`);
    const o = i * w;
    if (family === 4) {
      words[o] = Number(f.src.value);
      words[o + 1] = Number(f.dst.value);
    } else {
      putV6(words, o, f.src.value);
      putV6(words, o + 4, f.dst.value);
    }
    words[o + w - 2] = (((f.srcPort ?? 0) << 16) | f.dstPort) >>> 0;
    words[o + w - 1] = PROTOCOL_NUMBER[f.protocol];
  });
  return { family, count: flows.length, words };
}

/** The IpAddr values of flow `i` (slow path: explain, differential tests). */
export function decodeFlow(b: FlowBatch, i: number): Flow {
  const w = WORDS_PER_FLOW[b.family];
  const o = i * w;
  const src = b.family === 4 ? v4(b.words[o] as number) : v6(getV6(b.words, o));
  const dst = b.family === 4 ? v4(b.words[o + 1] as number) : v6(getV6(b.words, o + 4));
  const ports = b.words[o + w - 2] as number;
  const protocol = PROTOCOL_OF_NUMBER.get(b.words[o + w - 1] as number);
  if (!protocol) throw new InvalidFlowError(`flow ${i}: protocol ${String(b.words[o + w - 1])} is not TCP, UDP or SCTP`);
  const srcPort = ports >>> 16;
  return { src, dst, protocol, dstPort: ports & 0xffff, ...(srcPort !== 0 ? { srcPort } : {}) };
}

export function putV6(words: Uint32Array, o: number, v: bigint): void {
  for (let k = 0; k < 4; k++) words[o + k] = Number((v >> BigInt(96 - 32 * k)) & 0xffffffffn);
}
export function getV6(words: Uint32Array, o: number): bigint {
  let v = 0n;
  for (let k = 0; k < 4; k++) v = (v << 32n) | BigInt(words[o + k] as number);
  return v;
}
const v4 = (n: number): IpAddr => ({ family: 4, value: BigInt(n >>> 0), text: formatV4(BigInt(n >>> 0)) });
const v6 = (v: bigint): IpAddr => ({ family: 6, value: v, text: formatV6(v) });

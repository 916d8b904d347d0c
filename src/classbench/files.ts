/**
 * Reading ClassBench rule and trace files (the format of the ClassBench filter-set and trace generators, Taylor and Turner 2007), plain or
 * gzip (by `.gz` suffix or the gzip magic bytes). Pure parsing over a Buffer plus one thin reader.
 *
 * Rules: one per line, `@src/len <TAB> dst/len <TAB> sLo : sHi <TAB> dLo : dHi <TAB> 0xPP/0xMM ...`;
 * priority = line order (line 0 first). The 6th field (TCP flags) is ignored, as every 5-tuple
 * evaluation does. Traces: 7 integers per line; the first five are the header, the rest ignored.
 * Problems come back with the line number; the CLI turns them into one message.
 */
import { PalisadeError } from '../model/errors.js';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** Rules as parallel typed arrays (index = line = priority = rule id). Host-order addresses. */
export interface ClassBenchRules {
  readonly count: number;
  readonly src: Uint32Array;
  readonly srcLen: Uint8Array;
  readonly dst: Uint32Array;
  readonly dstLen: Uint8Array;
  readonly sportLo: Uint16Array;
  readonly sportHi: Uint16Array;
  readonly dportLo: Uint16Array;
  readonly dportHi: Uint16Array;
  readonly proto: Uint8Array;
  readonly protoMask: Uint8Array;
}

/** A trace: HEADER4_WORDS (4) words per header: [src, dst, sport << 16 | dport, proto]. */
export interface ClassBenchTrace {
  readonly count: number;
  readonly headers: Uint32Array;
}

export class ClassBenchParseError extends PalisadeError {
  constructor(
    code: 'ERR_PALISADE_CLASSBENCH_RULE' | 'ERR_PALISADE_CLASSBENCH_TRACE' | 'ERR_PALISADE_CLASSBENCH_FIRSTMATCH',
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(code, `${file}:${line}: ${message}`, { details: { file, line } });
  }
}

/** Reads a file, gunzipping it when it is gzip (suffix .gz or magic 1f 8b). */
export function readMaybeGz(path: string): string {
  const buf = readFileSync(path);
  const gz = path.endsWith('.gz') || (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b);
  return (gz ? gunzipSync(buf) : buf).toString('latin1');
}

function lines(text: string): string[] {
  const out = text.split('\n');
  if (out.length > 0 && out[out.length - 1]!.trim() === '') out.pop();
  return out;
}

const RULE_RE =
  /^@(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)\s+(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)\s+(\d+)\s*:\s*(\d+)\s+(\d+)\s*:\s*(\d+)\s+0x([0-9a-fA-F]+)\/0x([0-9a-fA-F]+)/;

export function parseRules(text: string, file = 'rules'): ClassBenchRules {
  const ls = lines(text);
  const n = ls.length;
  const r = {
    count: n,
    src: new Uint32Array(n),
    srcLen: new Uint8Array(n),
    dst: new Uint32Array(n),
    dstLen: new Uint8Array(n),
    sportLo: new Uint16Array(n),
    sportHi: new Uint16Array(n),
    dportLo: new Uint16Array(n),
    dportHi: new Uint16Array(n),
    proto: new Uint8Array(n),
    protoMask: new Uint8Array(n),
  };
  for (let i = 0; i < n; i++) {
    const m = RULE_RE.exec(ls[i]!);
    const bad = (why: string): never => {
      throw new ClassBenchParseError('ERR_PALISADE_CLASSBENCH_RULE', file, i + 1, why);
    };
    if (!m) bad('not a ClassBench rule line (@a.b.c.d/len a.b.c.d/len lo : hi lo : hi 0xPP/0xMM)');
    const g = m!.slice(1).map((x, k) => (k >= 14 ? parseInt(x, 16) : Number(x)));
    const octets = [...g.slice(0, 4), ...g.slice(5, 9)];
    if (octets.some((o) => o > 255)) bad('address octet > 255');
    const srcLen = g[4]!;
    const dstLen = g[9]!;
    if (srcLen > 32 || dstLen > 32) bad('prefix length > 32');
    const [sLo, sHi, dLo, dHi, proto, mask] = g.slice(10) as [number, number, number, number, number, number];
    if (sHi > 65535 || dHi > 65535 || sLo > sHi || dLo > dHi) bad('port range must be 0 <= lo <= hi <= 65535');
    if (proto > 255 || mask > 255) bad('protocol value/mask > 0xFF');
    const addr = (k: number): number => ((g[k]! << 24) | (g[k + 1]! << 16) | (g[k + 2]! << 8) | g[k + 3]!) >>> 0;
    const maskOf = (len: number): number => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);
    r.src[i] = (addr(0) & maskOf(srcLen)) >>> 0;
    r.srcLen[i] = srcLen;
    r.dst[i] = (addr(5) & maskOf(dstLen)) >>> 0;
    r.dstLen[i] = dstLen;
    r.sportLo[i] = sLo;
    r.sportHi[i] = sHi;
    r.dportLo[i] = dLo;
    r.dportHi[i] = dHi;
    r.proto[i] = proto & mask;
    r.protoMask[i] = mask;
  }
  return r;
}

export function parseTrace(text: string, file = 'trace'): ClassBenchTrace {
  const ls = lines(text);
  const headers = new Uint32Array(ls.length * 4);
  for (let i = 0; i < ls.length; i++) {
    const f = ls[i]!.trim().split(/\s+/);
    const v = f.slice(0, 5).map(Number);
    if (f.length < 5 || v.some((x) => !Number.isInteger(x) || x < 0))
      throw new ClassBenchParseError('ERR_PALISADE_CLASSBENCH_TRACE', file, i + 1, 'expected 5+ unsigned integers: src dst sport dport proto');
    const [src, dst, sport, dport, proto] = v as [number, number, number, number, number];
    if (src > 0xffffffff || dst > 0xffffffff || sport > 65535 || dport > 65535 || proto > 255)
      throw new ClassBenchParseError('ERR_PALISADE_CLASSBENCH_TRACE', file, i + 1, 'header field out of range');
    headers[i * 4] = src;
    headers[i * 4 + 1] = dst;
    headers[i * 4 + 2] = ((sport << 16) | dport) >>> 0;
    headers[i * 4 + 3] = proto;
  }
  return { count: ls.length, headers };
}

/** A `*.firstmatch` oracle file: one integer per line (-1 = no match). */
export function parseFirstMatch(text: string, file = 'firstmatch'): Int32Array {
  const ls = lines(text);
  const out = new Int32Array(ls.length);
  for (let i = 0; i < ls.length; i++) {
    const v = Number(ls[i]!.trim());
    if (!Number.isInteger(v) || v < -1) throw new ClassBenchParseError('ERR_PALISADE_CLASSBENCH_FIRSTMATCH', file, i + 1, 'expected an integer >= -1');
    out[i] = v;
  }
  return out;
}

export const readRules = (path: string): ClassBenchRules => parseRules(readMaybeGz(path), path);
export const readTrace = (path: string): ClassBenchTrace => parseTrace(readMaybeGz(path), path);
export const readFirstMatch = (path: string): Int32Array => parseFirstMatch(readMaybeGz(path), path);
